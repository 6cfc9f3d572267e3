import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseConfig } from '../../../src/config/config-parser.js';
import { createTestCa } from '../../fixtures/tls.js';

const ca = createTestCa();
const serving = ca.issue('serving');
const minimal = ['--oidc-issuer-url=https://issuer.example.com', '--oidc-client-id=k8s', '--oidc-username-prefix=-', `--tls-cert-file=${serving.certFile}`, `--tls-private-key-file=${serving.keyFile}`];
const parse = (...argv: string[]) => parseConfig([...minimal, ...argv]);
const dir = mkdtempSync(join(tmpdir(), 'audit-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function policyFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const GOOD = policyFile('good.yaml', 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n');

describe('audit flags', () => {
  it('audit is off without a policy file', () => {
    const result = parse();
    expect(result.config!.audit).toBeUndefined();
    expect(result.warnings).toEqual([]);
  });

  it('reads the policy and the log backend with kube-apiserver\'s defaults', () => {
    expect(parse(`--audit-policy-file=${GOOD}`, '--audit-log-path=-').config!.audit).toEqual({
      policyFile: GOOD,
      policy: { rules: [expect.objectContaining({ level: 'Metadata' })], omitStages: [], omitManagedFields: false },
      log: { path: '-', maxAgeDays: 0, maxBackups: 0, maxSizeMegabytes: 0 },
    });
  });

  it('reads the rotation flags', () => {
    const audit = parse(`--audit-policy-file=${GOOD}`, '--audit-log-path=/var/log/audit.log', '--audit-log-maxage=7', '--audit-log-maxbackup=3', '--audit-log-maxsize=50').config!.audit!;
    expect(audit.log).toEqual({ path: '/var/log/audit.log', maxAgeDays: 7, maxBackups: 3, maxSizeMegabytes: 50 });
  });

  it('lists every problem of the flags and of the policy at once, by flag name', () => {
    const bad = policyFile('bad.yaml', 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Loud\n- level: None\n  nonResourceURLs: [healthz]\n');
    expect(parse(`--audit-policy-file=${bad}`, '--audit-log-path=-', '--audit-log-format=legacy', '--audit-log-maxage=-1').errors).toEqual([
      '--audit-log-format: "legacy" is not supported; use json',
      '--audit-log-maxage must not be negative',
      `--audit-policy-file: ${bad}: rules[0].level: unsupported level "Loud", must be one of None, Metadata, Request, RequestResponse`,
      `--audit-policy-file: ${bad}: rules[1].nonResourceURLs[0]: "healthz" must start with "/"`,
    ]);
  });

  it('an unreadable policy file is refused by flag name', () => {
    expect(parse(`--audit-policy-file=${join(dir, 'missing.yaml')}`).errors).toEqual([`--audit-policy-file: cannot read ${join(dir, 'missing.yaml')}: ENOENT`]);
  });

  it.each([
    [['--audit-log-path=-'], '--audit-log-path has no effect without --audit-policy-file: no audit events are recorded'],
    [[`--audit-policy-file=${GOOD}`], '--audit-policy-file is set but no audit backend is (--audit-log-path, --audit-webhook-config-file): no audit events are recorded'],
    [[`--audit-webhook-config-file=${join(dir, 'any.kubeconfig')}`], '--audit-webhook-config-file has no effect without --audit-policy-file: no audit events are recorded'],
  ])('%j warns that no events will be recorded', (argv, warning) => {
    const result = parse(...argv);
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([warning]);
  });
});

const SINK_TOKEN = 'sink-token-7c1e-never-echoed';
const sinkLeaf = ca.issue('sink-client');

function kubeconfig(name: string, cluster: Record<string, unknown>, user: Record<string, unknown>): string {
  return policyFile(
    name,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'sink', cluster }],
      users: [{ name: 'proxy', user }],
      contexts: [{ name: 'sink', context: { cluster: 'sink', user: 'proxy' } }],
      'current-context': 'sink',
    }),
  );
}

describe('audit webhook flags', () => {
  const tokenConfig = kubeconfig('token.kubeconfig', { server: 'https://sink.example.com:8443/events', 'certificate-authority': ca.caCertFile }, { token: SINK_TOKEN });

  it('reads the kubeconfig and kube-apiserver\'s defaults: batch mode, 10s backoff, 10000/400/30s, throttled 10 qps burst 15', () => {
    const webhook = parse(`--audit-policy-file=${GOOD}`, `--audit-webhook-config-file=${tokenConfig}`).config!.audit!.webhook!;
    expect(webhook.target.url.href).toBe('https://sink.example.com:8443/events');
    expect(webhook.target.token).toBe(SINK_TOKEN);
    expect(webhook.target.ca).toBe(ca.caPem);
    expect(webhook.target.rejectUnauthorized).toBe(true);
    expect(webhook).toMatchObject({ mode: 'batch', initialBackoffMs: 10_000, batch: { bufferSize: 10_000, maxSize: 400, maxWaitMs: 30_000, throttle: { qps: 10, burst: 15 } } });
  });

  it('reads a client certificate and key, relative paths from the kubeconfig\'s directory, and every batch flag', () => {
    // Written next to the certificate and naming it relatively: resolved from the kubeconfig's directory, not the working directory.
    const config = join(ca.dir, 'mtls.kubeconfig');
    writeFileSync(
      config,
      JSON.stringify({
        clusters: [{ name: 'sink', cluster: { server: 'https://127.0.0.1:9443', 'certificate-authority-data': Buffer.from(ca.caPem).toString('base64') } }],
        users: [{ name: 'proxy', user: { 'client-certificate': basename(sinkLeaf.certFile), 'client-key': basename(sinkLeaf.keyFile) } }],
        contexts: [{ name: 'sink', context: { cluster: 'sink', user: 'proxy' } }],
        'current-context': 'sink',
      }),
    );
    const webhook = parse(
      `--audit-policy-file=${GOOD}`,
      `--audit-webhook-config-file=${config}`,
      '--audit-webhook-mode=blocking',
      '--audit-webhook-initial-backoff=1s',
      '--audit-webhook-batch-buffer-size=5',
      '--audit-webhook-batch-max-size=2',
      '--audit-webhook-batch-max-wait=100ms',
      '--audit-webhook-batch-throttle-qps=0.5',
      '--audit-webhook-batch-throttle-burst=1',
    ).config!.audit!.webhook!;
    expect(webhook.target.clientCert).toBe(sinkLeaf.certPem);
    expect(webhook.target.clientKey).toBe(sinkLeaf.keyPem);
    expect(webhook.target.token).toBeUndefined();
    expect(webhook).toMatchObject({ mode: 'blocking', initialBackoffMs: 1000, batch: { bufferSize: 5, maxSize: 2, maxWaitMs: 100, throttle: { qps: 0.5, burst: 1 } } });
  });

  it('--audit-webhook-batch-throttle-enable=false turns throttling off', () => {
    const webhook = parse(`--audit-policy-file=${GOOD}`, `--audit-webhook-config-file=${tokenConfig}`, '--audit-webhook-batch-throttle-enable=false').config!.audit!.webhook!;
    expect(webhook.batch.throttle).toBeUndefined();
  });

  it('lists every bad webhook flag by name', () => {
    expect(
      parse(
        `--audit-policy-file=${GOOD}`,
        `--audit-webhook-config-file=${tokenConfig}`,
        '--audit-webhook-mode=blocking-strict',
        '--audit-webhook-initial-backoff=0s',
        '--audit-webhook-batch-buffer-size=0',
        '--audit-webhook-batch-max-size=-1',
        '--audit-webhook-batch-max-wait=0s',
        '--audit-webhook-batch-throttle-qps=0',
        '--audit-webhook-batch-throttle-burst=0',
      ).errors,
    ).toEqual([
      '--audit-webhook-mode: "blocking-strict" is not supported; use batch or blocking',
      '--audit-webhook-initial-backoff must be greater than 0',
      '--audit-webhook-batch-buffer-size must be greater than 0',
      '--audit-webhook-batch-max-size must be greater than 0',
      '--audit-webhook-batch-max-wait must be greater than 0',
      '--audit-webhook-batch-throttle-burst must be greater than 0',
      '--audit-webhook-batch-throttle-qps must be greater than 0 when throttling is enabled',
    ]);
    expect(parse('--audit-webhook-mode=async').errors).toEqual(['--audit-webhook-mode: "async" is not one of batch, blocking']);
    expect(parse('--audit-webhook-batch-throttle-qps=fast').errors).toEqual([expect.stringContaining('--audit-webhook-batch-throttle-qps')]);
  });

  it.each([
    ['http server', { server: 'http://sink.example.com' }, { token: SINK_TOKEN }, ['cluster "sink": the webhook must be reached over https, got http']],
    ['credentials in the URL', { server: `https://user:${SINK_TOKEN}@sink.example.com` }, {}, ['cluster "sink": the server URL must not carry credentials']],
    ['a missing CA file', { server: 'https://sink.example.com', 'certificate-authority': '/nonexistent/ca.crt' }, { token: SINK_TOKEN }, ['cluster "sink" certificate-authority: cannot read /nonexistent/ca.crt: ENOENT']],
    ['a certificate without its key', { server: 'https://sink.example.com' }, { 'client-certificate': sinkLeaf.certFile }, ['user "proxy": a client certificate needs its key']],
    ['an exec plugin', { server: 'https://sink.example.com' }, { exec: { command: 'get-token', apiVersion: 'client.authentication.k8s.io/v1' } }, ['user "proxy" uses an exec or auth-provider plugin, which kube-oidc-proxy does not run: give it a token or a client certificate']],
  ])('a kubeconfig with %s is refused by flag name, never echoing the token', (_name, cluster, user, problems) => {
    const file = kubeconfig(`bad-${_name.replaceAll(' ', '-')}.kubeconfig`, cluster, user);
    const result = parse(`--audit-policy-file=${GOOD}`, `--audit-webhook-config-file=${file}`);
    expect(result.errors).toEqual(problems.map((p) => `--audit-webhook-config-file: ${file}: ${p}`));
    expect(JSON.stringify(result)).not.toContain(SINK_TOKEN);
  });

  it('a kubeconfig that is not YAML is refused by line, without quoting it', () => {
    const file = policyFile('broken.kubeconfig', `users:\n- name: proxy\n  user:\n    token: ${SINK_TOKEN}\n   bad: [\n`);
    const result = parse(`--audit-policy-file=${GOOD}`, `--audit-webhook-config-file=${file}`);
    expect(result.errors).toEqual([expect.stringMatching(new RegExp(`^--audit-webhook-config-file: ${file}: not a valid kubeconfig \\(YAML error at line \\d+\\)$`))]);
    expect(result.errors.join('\n')).not.toContain(SINK_TOKEN);
  });

  it('an unreadable webhook config file is refused by flag name', () => {
    expect(parse(`--audit-policy-file=${GOOD}`, `--audit-webhook-config-file=${join(dir, 'missing.kubeconfig')}`).errors).toEqual([`--audit-webhook-config-file: cannot read ${join(dir, 'missing.kubeconfig')}: ENOENT`]);
  });
});
