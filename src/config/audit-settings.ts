/**
 * The --audit-* flags → AuditConfig, or undefined without --audit-policy-file (kube-apiserver: no policy,
 * no events, even with a backend set; the backend flags then only draw a warning). The policy is read and
 * checked here, so every problem in it is listed at startup with the others; its contents are never echoed
 * beyond the offending field.
 */
import { parseAuditPolicy } from '../audit/audit-policy.js';
import { parseWebhookTarget } from '../audit/webhook-target.js';
import type { ConfigContext } from './config-context.js';
import type { AuditConfig } from './proxy-config.js';

const LOG_INT_FLAGS = ['audit-log-maxage', 'audit-log-maxbackup', 'audit-log-maxsize'] as const;

export function auditConfigFromFlags(ctx: ConfigContext): AuditConfig | undefined {
  const { flags } = ctx;
  const format = flags.string('audit-log-format');
  if (format !== 'json') ctx.error(`--audit-log-format: ${JSON.stringify(format)} is not supported; use json`);
  const ints = LOG_INT_FLAGS.map((flag) => {
    const value = flags.int(flag);
    if (value < 0) ctx.error(`--${flag} must not be negative`);
    return Math.max(0, value);
  });
  const logPath = flags.string('audit-log-path');
  const webhook = webhookFromFlags(ctx, flags.string('audit-policy-file') !== '');

  const policyFile = flags.string('audit-policy-file');
  if (policyFile === '') {
    if (logPath !== '') ctx.warn('--audit-log-path has no effect without --audit-policy-file: no audit events are recorded');
    if (flags.string('audit-webhook-config-file') !== '') ctx.warn('--audit-webhook-config-file has no effect without --audit-policy-file: no audit events are recorded');
    return undefined;
  }
  const text = ctx.readFile('audit-policy-file', policyFile);
  if (text === undefined) return undefined;
  const parsed = parseAuditPolicy(text);
  if (!parsed.ok) {
    for (const problem of parsed.errors) ctx.error(`--audit-policy-file: ${policyFile}: ${problem}`);
    return undefined;
  }
  if (logPath === '' && flags.string('audit-webhook-config-file') === '') {
    ctx.warn('--audit-policy-file is set but no audit backend is (--audit-log-path, --audit-webhook-config-file): no audit events are recorded');
  }
  const [maxAgeDays, maxBackups, maxSizeMegabytes] = ints as [number, number, number];
  return {
    policyFile,
    policy: parsed.policy,
    ...(logPath !== '' ? { log: { path: logPath, maxAgeDays, maxBackups, maxSizeMegabytes } } : {}),
    ...(webhook ? { webhook } : {}),
  };
}

const WEBHOOK_MODES = ['batch', 'blocking'] as const;

/** The webhook flags, each checked by name whether or not a config file is given (a typo should not wait for one). */
function webhookFromFlags(ctx: ConfigContext, withPolicy: boolean): AuditConfig['webhook'] {
  const { flags } = ctx;
  const mode = flags.string('audit-webhook-mode');
  if (mode === 'blocking-strict') ctx.error('--audit-webhook-mode: "blocking-strict" is not supported; use batch or blocking');
  else if (!(WEBHOOK_MODES as readonly string[]).includes(mode)) ctx.error(`--audit-webhook-mode: ${JSON.stringify(mode)} is not one of batch, blocking`);
  const initialBackoffMs = flags.duration('audit-webhook-initial-backoff');
  if (initialBackoffMs <= 0) ctx.error('--audit-webhook-initial-backoff must be greater than 0');
  const positive = (flag: 'audit-webhook-batch-buffer-size' | 'audit-webhook-batch-max-size' | 'audit-webhook-batch-throttle-burst'): number => {
    const value = flags.int(flag);
    if (value <= 0) ctx.error(`--${flag} must be greater than 0`);
    return value;
  };
  const bufferSize = positive('audit-webhook-batch-buffer-size');
  const maxSize = positive('audit-webhook-batch-max-size');
  const maxWaitMs = flags.duration('audit-webhook-batch-max-wait');
  if (maxWaitMs <= 0) ctx.error('--audit-webhook-batch-max-wait must be greater than 0');
  const throttleEnabled = flags.bool('audit-webhook-batch-throttle-enable');
  const qps = flags.float('audit-webhook-batch-throttle-qps');
  const burst = throttleEnabled ? positive('audit-webhook-batch-throttle-burst') : 0;
  if (throttleEnabled && qps <= 0) ctx.error('--audit-webhook-batch-throttle-qps must be greater than 0 when throttling is enabled');

  const configFile = flags.string('audit-webhook-config-file');
  if (configFile === '' || !withPolicy) return undefined;
  const text = ctx.readFile('audit-webhook-config-file', configFile);
  if (text === undefined) return undefined;
  const parsed = parseWebhookTarget(text, configFile, (path) => ctx.readNamedFile(path));
  if (!parsed.ok) {
    for (const problem of parsed.errors) ctx.error(`--audit-webhook-config-file: ${configFile}: ${problem}`);
    return undefined;
  }
  return {
    configFile,
    target: parsed.target,
    mode: mode as (typeof WEBHOOK_MODES)[number],
    initialBackoffMs,
    batch: { bufferSize, maxSize, maxWaitMs, ...(throttleEnabled ? { throttle: { qps, burst } } : {}) },
  };
}
