/**
 * One integration environment: a test CA, a real HTTPS OIDC issuer, a recording fake API server, and the
 * built proxy started as a real process against both, with a kubeconfig carrying the proxy's own token.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordingApiServer } from '../../fixtures/recording-apiserver.js';
import { TestIssuer } from '../../fixtures/test-issuer.js';
import { createTestCa, type TestCa } from '../../fixtures/tls.js';
import { type ProxyProcess, startProxy, type StartOptions } from './proxy-process.js';

export const CLIENT_ID = 'kube-oidc-proxy-test';
export const PROXY_SA_TOKEN = 'proxy-service-account-token-3f9a';

export interface Environment {
  readonly ca: TestCa;
  readonly issuer: TestIssuer;
  readonly upstream: RecordingApiServer;
  readonly proxy: ProxyProcess;
  readonly dir: string;
  readonly proxyCertFile: string;
  readonly proxyKeyFile: string;
  /** A token for the standard test user (email jane@example.com, groups dev and ops). */
  token(claims?: Record<string, unknown>, opts?: Parameters<TestIssuer['sign']>[1]): Promise<string>;
  stop(): Promise<void>;
}

export interface EnvironmentOptions extends Partial<Pick<StartOptions, 'waitReady' | 'env' | 'readyTimeoutMs'>> {
  /** Flags replacing the standard OIDC flags. */
  readonly oidcArgs?: readonly string[];
  readonly extraArgs?: readonly string[];
  /** Runs after the fakes start and before the proxy does (e.g. to make the fake API server fail from the outset). */
  readonly beforeStart?: (fakes: { readonly upstream: RecordingApiServer; readonly issuer: TestIssuer }) => void;
  /** A fake API server that speaks only HTTP/1.1 (the default one also speaks HTTP/2, as kube-apiserver does). */
  readonly upstreamHttp1Only?: boolean;
  /** A path on the API server URL in the proxy's kubeconfig (a cluster behind a path-routing gateway). */
  readonly upstreamPath?: string;
}

export function writeKubeconfig(dir: string, server: string, caPem: string, token: string): string {
  const path = join(dir, 'upstream.kubeconfig');
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'up', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
      users: [{ name: 'proxy', user: { token } }],
      contexts: [{ name: 'up', context: { cluster: 'up', user: 'proxy' } }],
      'current-context': 'up',
    }),
  );
  return path;
}

export async function startEnvironment(options: EnvironmentOptions = {}): Promise<Environment> {
  const ca = createTestCa();
  const dir = mkdtempSync(join(tmpdir(), 'kop-it-'));
  const issuer = await TestIssuer.start(ca);
  const upstream = await RecordingApiServer.start(ca, { http1Only: options.upstreamHttp1Only ?? false });
  const leaf = ca.issue('proxy');
  const kubeconfig = writeKubeconfig(dir, `${upstream.url}${options.upstreamPath ?? ''}`, ca.caPem, PROXY_SA_TOKEN);
  const oidcArgs = options.oidcArgs ?? [
    `--oidc-issuer-url=${issuer.url}`,
    `--oidc-client-id=${CLIENT_ID}`,
    `--oidc-ca-file=${ca.caCertFile}`,
    '--oidc-username-claim=email',
    '--oidc-groups-claim=groups',
  ];
  options.beforeStart?.({ upstream, issuer });
  let proxy: ProxyProcess;
  try {
    proxy = await startProxy({
      args: [...oidcArgs, `--tls-cert-file=${leaf.certFile}`, `--tls-private-key-file=${leaf.keyFile}`, `--kubeconfig=${kubeconfig}`, ...(options.extraArgs ?? [])],
      ...(options.env ? { env: options.env } : {}),
      ...(options.waitReady !== undefined ? { waitReady: options.waitReady } : {}),
      ...(options.readyTimeoutMs !== undefined ? { readyTimeoutMs: options.readyTimeoutMs } : {}),
    });
  } catch (err) {
    await Promise.all([issuer.stop(), upstream.stop()]);
    throw err;
  }
  return {
    ca,
    issuer,
    upstream,
    proxy,
    dir,
    proxyCertFile: leaf.certFile,
    proxyKeyFile: leaf.keyFile,
    token: (claims = {}, opts = {}) =>
      issuer.sign({ aud: CLIENT_ID, sub: 'user-1234', email: 'jane@example.com', groups: ['dev', 'ops'], ...claims }, opts),
    async stop() {
      await proxy.stop('SIGKILL');
      await Promise.all([issuer.stop(), upstream.stop()]);
    },
  };
}
