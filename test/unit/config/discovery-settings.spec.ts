import { describe, expect, it } from '@jest/globals';
import { parseConfig } from '../../../src/config/config-parser.js';
import { parseHostPort } from '../../../src/config/discovery-settings.js';
import { createTestCa } from '../../fixtures/tls.js';

const ca = createTestCa();
const serving = ca.issue('serving');
const minimal = ['--oidc-issuer-url=https://issuer.example.com', '--oidc-client-id=k8s', `--tls-cert-file=${serving.certFile}`, `--tls-private-key-file=${serving.keyFile}`];
const parse = (...argv: string[]) => parseConfig([...minimal, ...argv]);

describe('OIDC discovery flags', () => {
  it('leaves the feature off by default', () => {
    expect(parse().config!.discovery).toBeUndefined();
  });

  it('uses the documented defaults when turned on', () => {
    expect(parse('--oidc-discovery-bind-address=127.0.0.1:8443').config!.discovery).toEqual({
      host: '127.0.0.1', port: 8443, cacheTtlMs: 60_000, clientCacheTtlSeconds: 3600, upstreamTimeoutMs: 5_000, pretty: false,
    });
  });

  it('reads every setting', () => {
    const config = parse(
      '--oidc-discovery-bind-address=:9000', '--oidc-discovery-public-url=https://oidc.example.com/cluster-a/',
      '--oidc-discovery-cache-ttl=10s', '--oidc-discovery-client-cache-ttl=90s', '--oidc-discovery-upstream-timeout=2s', '--oidc-discovery-pretty',
      `--oidc-discovery-tls-cert-file=${serving.certFile}`, `--oidc-discovery-tls-private-key-file=${serving.keyFile}`,
    ).config!;
    expect(config.discovery).toEqual({
      host: '0.0.0.0', port: 9000, publicUrl: 'https://oidc.example.com/cluster-a', cacheTtlMs: 10_000, clientCacheTtlSeconds: 90,
      upstreamTimeoutMs: 2_000, pretty: true, tlsCertFile: serving.certFile, tlsKeyFile: serving.keyFile,
    });
  });

  it('reports every problem at once, by flag name', () => {
    const result = parse(
      '--oidc-discovery-bind-address=6443', '--oidc-discovery-public-url=ftp://x', '--oidc-discovery-upstream-timeout=0s',
      '--oidc-discovery-cache-ttl=-1s', `--oidc-discovery-tls-cert-file=${serving.certFile}`,
    );
    expect(result.errors).toEqual([
      '--oidc-discovery-bind-address: "6443" is not host:port with a port between 1 and 65535',
      '--oidc-discovery-tls-cert-file and --oidc-discovery-tls-private-key-file must be given together',
      '--oidc-discovery-cache-ttl must not be negative',
      '--oidc-discovery-upstream-timeout must be positive',
      '--oidc-discovery-public-url must be an http or https URL',
    ]);
  });

  it('refuses a port the secure port or readiness probe already uses', () => {
    expect(parse('--oidc-discovery-bind-address=0.0.0.0:8080').errors).toEqual([
      '--oidc-discovery-bind-address: port 8080 is already used by the secure port or the readiness probe',
    ]);
  });

  it('warns that the other discovery flags do nothing without a bind address', () => {
    const result = parse('--oidc-discovery-pretty');
    expect(result.errors).toEqual([]);
    expect(result.warnings).toContain('--oidc-discovery-pretty has no effect without --oidc-discovery-bind-address');
  });
});

describe('parseHostPort', () => {
  it.each([
    ['127.0.0.1:8443', { host: '127.0.0.1', port: 8443 }],
    [':8443', { host: '0.0.0.0', port: 8443 }],
    ['[::1]:8443', { host: '::1', port: 8443 }],
    ['localhost:1', { host: 'localhost', port: 1 }],
  ])('%s is %j', (text, expected) => {
    expect(parseHostPort(text)).toEqual(expected);
  });

  it.each(['8443', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:65536', '::1:8443', 'host:port'])('%s is refused', (text) => {
    expect(parseHostPort(text)).toBeUndefined();
  });
});
