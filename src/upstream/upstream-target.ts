/**
 * Where the API server is and how the proxy proves who it is, resolved once at boot from the client flags.
 * The rule is jetstack's: if any client flag is set, kubeconfig semantics (the file named by --kubeconfig,
 * $KUBECONFIG or ~/.kube/config, with --context/--cluster/--user selection and flag overrides);
 * otherwise the in-cluster service account, whose projected token file is re-read as it rotates.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { clientNode } from '../common/client-node.js';
import { clusterServer, httpsUrl, notAKubeconfig, type PemReader, readCa, readClientCert, readClientKey, readOrReport, refusePlugins, refuseUnpaired, type Report } from '../common/kubeconfig-entries.js';
import type { UpstreamFlags } from '../config/proxy-config.js';

export const IN_CLUSTER_SECRETS_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export type TokenSource =
  | { readonly kind: 'none' }
  | { readonly kind: 'static'; readonly token: string }
  | { readonly kind: 'file'; readonly path: string };

export interface UpstreamTarget {
  readonly url: URL;
  readonly ca?: Buffer;
  readonly clientCert?: Buffer;
  readonly clientKey?: Buffer;
  readonly servername?: string;
  readonly rejectUnauthorized: boolean;
  readonly token: TokenSource;
  /** Milliseconds until the upstream must answer with headers; 0 = never cut. */
  readonly requestTimeoutMs: number;
  /** A short description for logs (never includes credentials). */
  readonly source: string;
}

export interface ResolveResult {
  readonly target?: UpstreamTarget;
  readonly errors: readonly string[];
}

const CLIENT_FLAG_KEYS: readonly (keyof UpstreamFlags)[] = [
  'kubeconfig', 'context', 'cluster', 'user', 'server', 'token', 'certificateAuthority', 'clientCertificate', 'clientKey',
];

/**
 * The path on the API server for a request: the server URL's own path (a cluster behind a path-routing
 * gateway, `https://gw/k8s/clusters/c-1`), then the request's, as http-proxy joins them (prependPath).
 */
export function upstreamPath(server: URL, requestPath: string): string {
  const base = server.pathname.replace(/\/+$/, '');
  return `${base}${requestPath.startsWith('/') ? requestPath : `/${requestPath}`}`;
}

export function usesInCluster(flags: UpstreamFlags): boolean {
  return !flags.insecureSkipTlsVerify && flags.requestTimeoutMs === 0 && CLIENT_FLAG_KEYS.every((k) => flags[k] === undefined);
}

const API_SERVER = 'the API server';
const BUFFERS: PemReader<Buffer> = { file: (path) => readFileSync(path), inline: (data) => Buffer.from(data, 'base64') };

function readOrError(path: string, what: string, errors: string[]): Buffer | undefined {
  return readOrReport(path, what, BUFFERS.file, (problem) => errors.push(problem));
}

export function resolveInCluster(env: NodeJS.ProcessEnv, secretsDir = IN_CLUSTER_SECRETS_DIR): ResolveResult {
  const errors: string[] = [];
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    errors.push(
      'no client flags were given, so the in-cluster service account is used, but KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set: run in a pod or pass --kubeconfig (or --server with credentials)',
    );
    return { errors };
  }
  const tokenPath = join(secretsDir, 'token');
  if (!existsSync(tokenPath)) errors.push(`in-cluster config: service-account token ${tokenPath} does not exist`);
  const ca = readOrError(join(secretsDir, 'ca.crt'), 'in-cluster config', errors);
  const hostPart = host.includes(':') ? `[${host}]` : host;
  if (errors.length) return { errors };
  return {
    errors,
    target: {
      url: new URL(`https://${hostPart}:${port}`),
      ...(ca ? { ca } : {}),
      rejectUnauthorized: true,
      token: { kind: 'file', path: tokenPath },
      requestTimeoutMs: 0,
      source: 'in-cluster service account',
    },
  };
}

export function resolveFromKubeconfig(flags: UpstreamFlags, env: NodeJS.ProcessEnv): ResolveResult {
  const errors: string[] = [];
  const path = flags.kubeconfig ?? env.KUBECONFIG?.split(':').find((p) => p && existsSync(p)) ?? join(homedir(), '.kube', 'config');
  const haveFile = existsSync(path);
  let kc: KubeConfig | undefined;
  if (haveFile) {
    try {
      kc = new (clientNode().KubeConfig)();
      kc.loadFromFile(path);
    } catch (err) {
      errors.push(`--kubeconfig: ${path}: ${notAKubeconfig(err)}`);
      return { errors };
    }
  } else if (flags.kubeconfig) {
    errors.push(`--kubeconfig: ${path} does not exist`);
    return { errors };
  } else if (!flags.server) {
    errors.push(`no kubeconfig found (${path}) and no --server given: cannot tell where the API server is`);
    return { errors };
  }

  const contextName = flags.context ?? kc?.getCurrentContext() ?? '';
  const context = contextName ? (kc?.getContextObject(contextName) ?? null) : null;
  if (flags.context && !context) errors.push(`--context: context "${flags.context}" is not in ${path}`);
  const clusterName = flags.cluster ?? context?.cluster;
  const userName = flags.user ?? context?.user;
  const cluster = clusterName ? (kc?.getCluster(clusterName) ?? null) : null;
  const user = userName ? (kc?.getUser(userName) ?? null) : null;
  if (flags.cluster && !cluster) errors.push(`--cluster: cluster "${flags.cluster}" is not in ${path}`);
  if (flags.user && !user) errors.push(`--user: user "${flags.user}" is not in ${path}`);
  const fromKubeconfig: Report = (problem) => errors.push(`kubeconfig ${problem}`);
  refusePlugins(user, fromKubeconfig);

  const server = flags.server ?? cluster?.server;
  let url: URL | undefined;
  if (!server) errors.push('no API server address: set --server or select a kubeconfig cluster with a server');
  else if (flags.server === undefined && cluster) url = clusterServer(cluster, API_SERVER, fromKubeconfig);
  else url = httpsUrl(server, '--server', API_SERVER, (problem) => errors.push(problem));

  let ca: Buffer | undefined;
  if (flags.certificateAuthority) ca = readOrError(flags.certificateAuthority, '--certificate-authority', errors);
  else if (cluster) ca = readCa(cluster, BUFFERS, fromKubeconfig);

  let clientCert: Buffer | undefined;
  let clientKey: Buffer | undefined;
  if (flags.clientCertificate) clientCert = readOrError(flags.clientCertificate, '--client-certificate', errors);
  else if (user) clientCert = readClientCert(user, BUFFERS, fromKubeconfig);
  if (flags.clientKey) clientKey = readOrError(flags.clientKey, '--client-key', errors);
  else if (user) clientKey = readClientKey(user, BUFFERS, fromKubeconfig);
  // Paired on what was read, from flags and kubeconfig alike: a certificate file that cannot be read leaves its key unpaired.
  refuseUnpaired(clientCert !== undefined, clientKey !== undefined, (problem) => errors.push(`${problem} (--client-certificate, --client-key)`));

  const token = flags.token ?? user?.token;
  const tokenSource: TokenSource = token ? { kind: 'static', token } : { kind: 'none' };
  if (tokenSource.kind === 'none' && !clientCert) {
    errors.push('the upstream configuration has no credentials (token or client certificate): the proxy cannot impersonate without its own identity');
  }
  const servername = flags.tlsServerName ?? cluster?.tlsServerName;
  if (errors.length || !url) return { errors };
  return {
    errors,
    target: {
      url,
      ...(ca ? { ca } : {}),
      ...(clientCert && clientKey ? { clientCert, clientKey } : {}),
      ...(servername ? { servername } : {}),
      rejectUnauthorized: !(flags.insecureSkipTlsVerify || cluster?.skipTLSVerify),
      token: tokenSource,
      requestTimeoutMs: flags.requestTimeoutMs,
      source: haveFile ? `kubeconfig ${path}${contextName ? ` (context ${contextName})` : ''}` : 'client flags',
    },
  };
}

export function resolveUpstreamTarget(flags: UpstreamFlags, env: NodeJS.ProcessEnv = process.env, secretsDir?: string): ResolveResult {
  return usesInCluster(flags) ? resolveInCluster(env, secretsDir) : resolveFromKubeconfig(flags, env);
}
