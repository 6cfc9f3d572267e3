/** As an operator, a bad configuration stops startup with every problem listed by flag name, and no secret. */
import { expect, it } from '@jest/globals';
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
