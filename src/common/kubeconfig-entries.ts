/**
 * The kubeconfig entries kube-oidc-proxy reads, checked by the same rules in the same words wherever a
 * kubeconfig is read: the proxy's own (--kubeconfig, upstream/) and the audit webhook's (audit/).
 * Callers pick the cluster and user, apply their own overrides and say where a problem comes from;
 * a problem names the cluster or user, the field and the file, never a value (entries hold keys and tokens).
 */
import type { Cluster, User } from '@kubernetes/client-node';

export type Report = (problem: string) => void;

/** Certificate and key material in the form the caller keeps it (Buffers, PEM text). */
export interface PemReader<T> {
  /** Throws a Node error (with `code`) when the file cannot be read. */
  readonly file: (path: string) => T;
  /** Decodes a `*-data` entry (base64). */
  readonly inline: (base64: string) => T;
}

/**
 * Why a kubeconfig did not load, without its text: a YAML error's message quotes the lines around the
 * fault, which can hold a token or a key, so only the line number is kept.
 */
export function notAKubeconfig(err: unknown): string {
  const mark = (err as { mark?: { line?: number } }).mark;
  if (mark?.line !== undefined) return `not a valid kubeconfig (YAML error at line ${mark.line + 1})`;
  return (err as Error).name === 'YAMLException' ? 'not a valid kubeconfig' : `not a valid kubeconfig: ${(err as Error).message}`;
}

/** The path and the error code, never the contents. */
export function cannotRead(path: string, err: unknown): string {
  return `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
}

export function readOrReport<T>(path: string, what: string, read: (path: string) => T, report: Report): T | undefined {
  try {
    return read(path);
  } catch (err) {
    report(`${what}: ${cannotRead(path, err)}`);
    return undefined;
  }
}

/** client-go runs a command or an auth provider for such a user; the proxy runs neither. */
export function refusePlugins(user: User | null | undefined, report: Report): void {
  if (user?.exec || user?.authProvider) report(`user "${user.name}" uses an exec or auth-provider plugin, which kube-oidc-proxy does not run: give it a token or a client certificate`);
}

/** `peer` is what is reached there ("the API server"). The URL is returned even when not https, so the caller can check it further. */
export function httpsUrl(server: string, where: string, peer: string, report: Report): URL | undefined {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    report(`${where}: the server is not a valid URL`);
    return undefined;
  }
  if (url.protocol !== 'https:') report(`${where}: ${peer} must be reached over https, got ${url.protocol.replace(':', '')}`);
  // A password in the URL would travel with every request and end up wherever the URL is printed.
  if (url.username || url.password) report(`${where}: the server URL must not carry credentials`);
  return url;
}

export function clusterServer(cluster: Cluster, peer: string, report: Report): URL | undefined {
  return httpsUrl(cluster.server, `cluster "${cluster.name}"`, peer, report);
}

// Inline data wins over a file, as in client-go.
function material<T>(data: string | undefined, file: string | undefined, what: string, reader: PemReader<T>, report: Report): T | undefined {
  if (data) return reader.inline(data);
  return file ? readOrReport(file, what, reader.file, report) : undefined;
}

export function readCa<T>(cluster: Cluster, reader: PemReader<T>, report: Report): T | undefined {
  return material(cluster.caData, cluster.caFile, `cluster "${cluster.name}" certificate-authority`, reader, report);
}

export function readClientCert<T>(user: User, reader: PemReader<T>, report: Report): T | undefined {
  return material(user.certData, user.certFile, `user "${user.name}" client-certificate`, reader, report);
}

export function readClientKey<T>(user: User, reader: PemReader<T>, report: Report): T | undefined {
  return material(user.keyData, user.keyFile, `user "${user.name}" client-key`, reader, report);
}

/** A TLS client certificate is useless without its key, and the other way round. */
export function refuseUnpaired(hasCert: boolean, hasKey: boolean, report: Report): void {
  if (hasCert && !hasKey) report('a client certificate needs its key');
  if (hasKey && !hasCert) report('a client key needs its certificate');
}
