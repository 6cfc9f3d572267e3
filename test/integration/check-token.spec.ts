/**
 * As an operator, `kube-oidc-proxy check-token` tells me which identity a token maps to under my
 * configuration, or every reason it is refused, against the real issuer and without starting a server.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { TestIssuer } from '../fixtures/test-issuer.js';
import { createTestCa, type TestCa } from '../fixtures/tls.js';
import { MAIN_JS } from './support/proxy-process.js';

let ca: TestCa;
let issuer: TestIssuer;
let dir: string;
let configFile: string;

beforeAll(async () => {
  ca = createTestCa();
  issuer = await TestIssuer.start(ca);
  dir = mkdtempSync(join(tmpdir(), 'kop-check-token-'));
  configFile = join(dir, 'authentication.yaml');
  writeFileSync(
    configFile,
    stringify({
      apiVersion: 'apiserver.config.k8s.io/v1beta1',
      kind: 'AuthenticationConfiguration',
      jwt: [
        {
          issuer: { url: issuer.url, audiences: ['cluster'], certificateAuthority: ca.caPem },
          claimMappings: { username: { claim: 'sub', prefix: 'oidc:' }, groups: { expression: 'claims.groups' }, extra: [{ key: 'example.org/tenant', valueExpression: 'claims.tid' }] },
        },
      ],
    }),
  );
});
afterAll(async () => issuer?.stop());

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN_JS, 'check-token', ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function tokenFile(token: string): string {
  const path = join(dir, `token-${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, `${token}\n`);
  return path;
}

it('prints the identity an accepted token maps to, and exits 0', async () => {
  const token = await issuer.sign({ aud: 'cluster', sub: 'jane', groups: ['dev'], tid: 't-1', jti: 'j-1' });
  const result = await run([`--authentication-config=${configFile}`, `--token-file=${tokenFile(token)}`]);
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout)).toEqual({
    accepted: true,
    issuer: issuer.url,
    user: { username: 'oidc:jane', groups: ['dev'], extra: { 'example.org/tenant': ['t-1'], 'authentication.kubernetes.io/credential-id': ['JTI=j-1'] } },
  });
  expect(result.stdout + result.stderr).not.toContain(token);
}, 30_000);

it('lists every reason a token is refused, and exits 1', async () => {
  const now = Math.floor(Date.now() / 1000);
  const token = await issuer.sign({ aud: 'someone-else', sub: 'jane', groups: ['dev'], exp: now - 60 });
  const result = await run([`--authentication-config=${configFile}`, `--token-file=${tokenFile(token)}`]);
  expect(result.code).toBe(1);
  const body = JSON.parse(result.stdout) as { accepted: boolean; reasons: string[] };
  expect(body.accepted).toBe(false);
  expect(body.reasons).toEqual([
    'oidc: verify token: oidc: expected audience "cluster" got ["someone-else"]',
    expect.stringMatching(/^oidc: verify token: oidc: token is expired \(Token Expiry: /),
    "oidc: error evaluating extra claim expression: expression 'claims.tid' resulted in error: no such key: tid",
  ]);
  expect(result.stdout).not.toContain(token);
}, 30_000);

it('works with the legacy --oidc-* flags too (one code path)', async () => {
  const token = await issuer.sign({ aud: 'cluster', sub: 'jane' });
  const result = await run([`--oidc-issuer-url=${issuer.url}`, '--oidc-client-id=cluster', `--oidc-ca-file=${ca.caCertFile}`, `--token-file=${tokenFile(token)}`]);
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout).user).toEqual({ username: `${issuer.url}#jane`, groups: [], extra: {} });
}, 30_000);

it('names a token from an unconfigured issuer', async () => {
  const stranger = await issuer.sign({ iss: 'https://stranger.example', aud: 'cluster', sub: 'x' });
  const refused = await run([`--authentication-config=${configFile}`, `--token-file=${tokenFile(stranger)}`]);
  expect(refused.code).toBe(1);
  expect(JSON.parse(refused.stdout).reasons).toEqual([`token issuer "https://stranger.example" is not a configured issuer (configured: ${issuer.url})`]);
}, 30_000);

it('reports a bad configuration and a missing token with exit 2', async () => {
  const bad = await run([`--authentication-config=${join(dir, 'missing.yaml')}`]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('--authentication-config: cannot read');
  expect(bad.stderr).toContain('a token is required');
}, 30_000);

it('prints configuration warnings, and never echoes the token read from a file in a configuration error', async () => {
  const token = await issuer.sign({ aud: 'cluster', sub: 'alice' });
  const withEgress = join(dir, 'egress.yaml');
  writeFileSync(
    withEgress,
    stringify({
      apiVersion: 'apiserver.config.k8s.io/v1',
      kind: 'AuthenticationConfiguration',
      jwt: [{ issuer: { url: issuer.url, audiences: ['cluster'], certificateAuthority: ca.caPem, egressSelectorType: 'cluster' }, claimMappings: { username: { claim: 'sub', prefix: '' } } }],
    }),
  );
  const warned = await run([`--authentication-config=${withEgress}`, `--token-file=${tokenFile(token)}`]);
  expect(warned.code).toBe(0);
  expect(warned.stderr).toContain('warning: --authentication-config: ');
  expect(warned.stderr).toContain('jwt[0].issuer.egressSelectorType is ignored');

  // A token pasted in the wrong place: the --oidc-signing-algs error names the value, the token file holds the same text.
  const misplaced = await run([`--oidc-issuer-url=${issuer.url}`, '--oidc-client-id=cluster', `--oidc-signing-algs=${token}`, `--token-file=${tokenFile(token)}`]);
  expect(misplaced.code).toBe(2);
  expect(misplaced.stderr).toContain('--oidc-signing-algs: oidc: unsupported signing alg: "[redacted]"');
  expect(misplaced.stderr).toContain('[redacted]');
  expect(misplaced.stderr).not.toContain(token);
}, 30_000);
