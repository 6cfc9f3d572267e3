/**
 * Pure header rules for what crosses the proxy.
 *
 * Order is the security property (GHSA-pvxj-25m6-7vqr, Go CVE-2021-33197): first strip everything the
 * client must not control (its credentials, every Impersonate-* and X-Remote-* header, hop-by-hop headers
 * and every header the client *names* in `Connection`), and only then add the proxy's own identity
 * headers. A client can therefore never remove, replace or pre-set an identity header.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** RFC 9110 §7.6.1 hop-by-hop headers, plus the legacy ones proxies still see. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

/**
 * Client-supplied headers that carry identity or claims of the client's address. kube-apiserver deletes
 * Authorization and the front-proxy X-Remote-* headers after authentication; Impersonate-* is handled by
 * the admission steps and must never pass through as sent. Forwarded-for headers are replaced with the
 * address the proxy resolved itself (the client cannot choose its own sourceIPs). Audit-ID likewise: the
 * proxy generates each request's id and sends that upstream (src/audit/audit.service.ts), so a client cannot
 * pick an id that collides with, or hides behind, another request's audit events.
 */
function isClientIdentityHeader(lowerName: string): boolean {
  return (
    lowerName === 'authorization' ||
    lowerName.startsWith('impersonate') ||
    lowerName.startsWith('x-remote-') ||
    lowerName === 'x-forwarded-for' ||
    lowerName === 'x-real-ip' ||
    lowerName === 'forwarded' ||
    lowerName === 'audit-id'
  );
}

/** Header names listed in every `Connection` header line, lowercased and trimmed (RFC 9110 §7.6.1). */
export function connectionNamedHeaders(headers: IncomingHttpHeaders): Set<string> {
  const raw = headers.connection;
  const named = new Set<string>();
  if (raw === undefined) return named;
  // Node joins repeated Connection lines with ", ", so one split covers both spellings.
  for (const token of String(raw).split(',')) {
    const name = token.trim().toLowerCase();
    if (name) named.add(name);
  }
  return named;
}

/**
 * The API server's response headers an HTTP/2 client must not get (RFC 9113 §8.2.2): the hop-by-hop
 * headers and every header named in `Connection`. Node refuses to send them on an HTTP/2 stream.
 */
export function connectionSpecificHeaders(headers: IncomingHttpHeaders): string[] {
  const named = connectionNamedHeaders(headers);
  return Object.keys(headers).filter((name) => HOP_BY_HOP.has(name) || named.has(name));
}

/**
 * Copy the inbound headers the API server may see. `host` is dropped too: the upstream request gets the
 * API server's own host.
 */
export function sanitizeInboundHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = connectionNamedHeaders(headers);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    // IncomingHttpHeaders keys are already lowercase.
    if (name === 'host' || HOP_BY_HOP.has(name) || named.has(name) || isClientIdentityHeader(name)) continue;
    out[name] = value;
  }
  // Node de-chunks the inbound body; a chunked body must go upstream chunked again, whatever the method
  // (Node only chunks POST/PUT/PATCH bodies on its own, and DELETE can carry DeleteOptions).
  if (headers['transfer-encoding'] !== undefined && headers['content-length'] === undefined) out['transfer-encoding'] = 'chunked';
  return out;
}

/**
 * The client's own Impersonate-* header lines, one value per line as sent, for requests forwarded with the
 * client's credential (token passthrough): the API server authorizes them against that credential's
 * identity, exactly as if the client had called it directly. Headers the client names in `Connection` are
 * hop-by-hop and stay behind, like every other such header.
 */
export function clientImpersonationHeaders(headers: IncomingHttpHeaders, rawHeaders: readonly string[]): OutgoingHttpHeaders {
  const named = connectionNamedHeaders(headers);
  const out: Record<string, string[]> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (!name.startsWith('impersonate') || named.has(name)) continue;
    (out[name] ??= []).push(rawHeaders[i + 1]!);
  }
  return out;
}

/** Every inbound header whose name starts with `impersonate` (case-insensitive), as sent. */
export function impersonationHeaderNames(rawHeaders: readonly string[]): string[] {
  const names: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length >= 11 && name.slice(0, 11).toLowerCase() === 'impersonate') names.push(name);
  }
  return names;
}

/** RFC 7230 tchar, minus `%`, which client-go escapes too (`headerKeyEscape` in client-go/transport). */
const TOKEN_CHARS = /^[!#$&'*+\-.^_`|~0-9A-Za-z]$/;

/** Percent-encode an extra key the way client-go does, so the API server's unescape restores it exactly. */
export function escapeExtraKey(key: string): string {
  let out = '';
  for (const byte of Buffer.from(key, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && TOKEN_CHARS.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The API server's reading of an inbound extra key: lowercase, then unescape; an invalid escape keeps the raw key. */
export function unescapeExtraKey(headerSuffix: string): string {
  const lower = headerSuffix.toLowerCase();
  try {
    return decodeURIComponent(lower);
  } catch {
    return lower;
  }
}

export interface OutboundIdentity {
  readonly username: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

/** Kubernetes impersonation headers for one identity: one header line per group and per extra value. */
export function impersonationHeaders(identity: OutboundIdentity): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { 'Impersonate-User': identity.username };
  if (identity.uid) out['Impersonate-Uid'] = identity.uid;
  if (identity.groups.length > 0) out['Impersonate-Group'] = [...identity.groups];
  for (const [key, values] of Object.entries(identity.extra)) {
    if (values.length > 0) out[`Impersonate-Extra-${escapeExtraKey(key)}`] = [...values];
  }
  return out;
}

/**
 * Group finalisation exactly as kube-apiserver (authenticated_group_adder.go, impersonation.go):
 * `system:authenticated` is appended unless it or `system:unauthenticated` is already present.
 */
export function withAuthenticatedGroup(groups: readonly string[]): string[] {
  if (groups.includes('system:authenticated') || groups.includes('system:unauthenticated')) return [...groups];
  return [...groups, 'system:authenticated'];
}
