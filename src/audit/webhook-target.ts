/**
 * --audit-webhook-config-file → where and how audit events are POSTed. The file is a kubeconfig, as for
 * kube-apiserver (k8s.io/apiserver/pkg/util/webhook): the current context's cluster gives the server URL and
 * CA, its user the client certificate and key or a bearer token. Relative paths are relative to the file.
 *
 * Every problem is returned (the caller prefixes the flag name); none quotes the file's contents, which hold
 * a token or a private key: a YAML error is reported by line only.
 */
import { dirname } from 'node:path';
import { clientNode } from '../common/client-node.js';
import { clusterServer, notAKubeconfig, type PemReader, readCa, readClientCert, readClientKey, refusePlugins, refuseUnpaired, type Report } from '../common/kubeconfig-entries.js';

export interface WebhookTarget {
  readonly url: URL;
  /** PEM text (not Buffers: the config object is deep-frozen). */
  readonly ca?: string;
  readonly clientCert?: string;
  readonly clientKey?: string;
  readonly token?: string;
  readonly servername?: string;
  readonly rejectUnauthorized: boolean;
}

export type WebhookTargetResult = { readonly ok: true; readonly target: WebhookTarget } | { readonly ok: false; readonly errors: readonly string[] };

/** Reads a file a kubeconfig field names (UTF-8); throws a Node error (with `code`) when it cannot. */
export type ReadText = (path: string) => string;

export function parseWebhookTarget(text: string, path: string, readText: ReadText): WebhookTargetResult {
  const kc = new (clientNode().KubeConfig)();
  try {
    kc.loadFromString(text);
    kc.makePathsAbsolute(dirname(path));
  } catch (err) {
    return { ok: false, errors: [notAKubeconfig(err)] };
  }
  const errors: string[] = [];
  const contextName = kc.getCurrentContext();
  const context = contextName ? kc.getContextObject(contextName) : null;
  // Without a usable current context, kube-apiserver's loader also takes the only cluster and user there are.
  const cluster = context ? kc.getCluster(context.cluster) : kc.getClusters().length === 1 ? kc.getClusters()[0]! : null;
  const user = context?.user ? kc.getUser(context.user) : context ? null : kc.getUsers().length === 1 ? kc.getUsers()[0]! : null;
  if (contextName && !context) errors.push(`current-context "${contextName}" is not defined`);
  if (!cluster) {
    errors.push('no cluster to send to: set current-context to a context whose cluster has a server');
    return { ok: false, errors };
  }
  const report: Report = (problem) => errors.push(problem);
  refusePlugins(user, report);
  const url = clusterServer(cluster, 'the webhook', report);

  const pem: PemReader<string> = { file: readText, inline: (data) => Buffer.from(data, 'base64').toString('utf8') };
  const ca = readCa(cluster, pem, report);
  const clientCert = user ? readClientCert(user, pem, report) : undefined;
  const clientKey = user ? readClientKey(user, pem, report) : undefined;
  if (user) refuseUnpaired(Boolean(user.certData || user.certFile), Boolean(user.keyData || user.keyFile), (problem) => errors.push(`user "${user.name}": ${problem}`));
  if (errors.length > 0 || !url) return { ok: false, errors };
  return {
    ok: true,
    target: {
      url,
      ...(ca ? { ca } : {}),
      ...(clientCert && clientKey ? { clientCert, clientKey } : {}),
      ...(user?.token ? { token: user.token } : {}),
      ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
      rejectUnauthorized: !cluster.skipTLSVerify,
    },
  };
}
