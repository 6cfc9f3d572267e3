import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    [[`--audit-policy-file=${GOOD}`], '--audit-policy-file is set but no audit backend is (--audit-log-path): no audit events are recorded'],
  ])('%j warns that no events will be recorded', (argv, warning) => {
    const result = parse(...argv);
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([warning]);
  });
});
