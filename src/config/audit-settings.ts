/**
 * The --audit-* flags → AuditConfig, or undefined without --audit-policy-file (kube-apiserver: no policy,
 * no events, even with a backend set; the backend flags then only draw a warning). The policy is read and
 * checked here, so every problem in it is listed at startup with the others; its contents are never echoed
 * beyond the offending field.
 */
import { parseAuditPolicy } from '../audit/audit-policy.js';
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

  const policyFile = flags.string('audit-policy-file');
  if (policyFile === '') {
    if (logPath !== '') ctx.warn('--audit-log-path has no effect without --audit-policy-file: no audit events are recorded');
    return undefined;
  }
  const text = ctx.readFile('audit-policy-file', policyFile);
  if (text === undefined) return undefined;
  const parsed = parseAuditPolicy(text);
  if (!parsed.ok) {
    for (const problem of parsed.errors) ctx.error(`--audit-policy-file: ${policyFile}: ${problem}`);
    return undefined;
  }
  if (logPath === '') ctx.warn('--audit-policy-file is set but no audit backend is (--audit-log-path): no audit events are recorded');
  const [maxAgeDays, maxBackups, maxSizeMegabytes] = ints as [number, number, number];
  return {
    policyFile,
    policy: parsed.policy,
    ...(logPath !== '' ? { log: { path: logPath, maxAgeDays, maxBackups, maxSizeMegabytes } } : {}),
  };
}
