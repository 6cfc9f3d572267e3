/** As an operator, a bad configuration stops startup with every problem listed by flag name, and no secret. */
import { expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProxy } from './support/proxy-process.js';

it('lists every problem, names the flags, never echoes the token, and exits 1', async () => {
  const proxy = await startProxy({
    waitReady: false,
    args: ['--oidc-issuer-url=http://issuer.example', '--token=s3cr3t-upstream-token', '--oidc-signing-algs=HS256', '--bogus', '--extra-user-headers=novalue'],
  });
  expect(await proxy.exited).toBe(1);
  const err = proxy.stderr();
  for (const expected of [
    'unknown flag: --bogus',
    'oidc-issuer-url and oidc-client-id should be specified together',
    '--oidc-issuer-url: URL scheme must be https',
    'oidc: unsupported signing alg: "HS256"',
    '--tls-cert-file is required',
    'invalid argument "novalue" for "--extra-user-headers" flag: novalue must be formatted as key=value',
  ]) {
    expect(err).toContain(expected);
  }
  expect(proxy.output()).not.toContain('s3cr3t-upstream-token');
});

it('prints help with every flag and its default, and the version', async () => {
  const help = await startProxy({ waitReady: false, args: ['--help'] });
  expect(await help.exited).toBe(0);
  expect(help.stdout()).toContain('-P, --readiness-probe-port int');
  expect(help.stdout()).toContain('(default "sub")');
  expect(help.stdout()).toContain('(default 6443)');
  const version = await startProxy({ waitReady: false, args: ['--version'] });
  expect(await version.exited).toBe(0);
  expect(version.stdout()).toMatch(/^kube-oidc-proxy version: \d+\.\d+\.\d+/);
});

it('a bad audit webhook configuration is listed by flag name, without quoting the kubeconfig or its token', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kop-config-audit-'));
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n');
  const kubeconfig = join(dir, 'webhook.kubeconfig');
  writeFileSync(kubeconfig, 'clusters:\n- name: sink\n  cluster:\n    server: http://sink.example\nusers:\n- name: p\n  user:\n    token: s3cr3t-webhook-token\ncontexts:\n- name: c\n  context: {cluster: sink, user: p}\ncurrent-context: c\n');
  const proxy = await startProxy({
    waitReady: false,
    args: [`--audit-policy-file=${policy}`, `--audit-webhook-config-file=${kubeconfig}`, '--audit-webhook-mode=blocking-strict', '--audit-webhook-batch-throttle-qps=0'],
  });
  expect(await proxy.exited).toBe(1);
  const err = proxy.stderr();
  for (const expected of [
    '--audit-webhook-mode: "blocking-strict" is not supported; use batch or blocking',
    '--audit-webhook-batch-throttle-qps must be greater than 0 when throttling is enabled',
    `--audit-webhook-config-file: ${kubeconfig}: cluster "sink": the webhook must be reached over https, got http`,
  ]) {
    expect(err).toContain(expected);
  }
  expect(proxy.output()).not.toContain('s3cr3t-webhook-token');
});
