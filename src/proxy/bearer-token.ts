/**
 * Where a client's credential is, read exactly like kube-apiserver's bearer-token authenticator
 * (k8s.io/apiserver/pkg/authentication/request/bearertoken): the first Authorization value, trimmed,
 * split on single spaces, scheme `bearer` case-insensitive, the second part is the token and it must be
 * non-empty (an empty token is never a credential: CVE-2023-48312).
 *
 * WebSocket clients that cannot set headers (browsers) send the token as the subprotocol
 * `base64url.bearer.authorization.k8s.io.<base64url token>`, as kube-apiserver accepts
 * (request/websocket/protocol.go); that subprotocol is removed before forwarding.
 */
import type { IncomingHttpHeaders } from 'node:http';

export const WEBSOCKET_BEARER_PREFIX = 'base64url.bearer.authorization.k8s.io.';

export type BearerLookup =
  | { readonly kind: 'token'; readonly token: string; readonly source: 'authorization' | 'websocket-protocol' }
  | { readonly kind: 'missing' }
  | { readonly kind: 'invalid'; readonly reason: string };

export function bearerToken(headers: IncomingHttpHeaders): BearerLookup {
  const auth = headers.authorization?.trim();
  if (auth) {
    const parts = auth.split(' ');
    if (parts.length < 2 || parts[0]!.toLowerCase() !== 'bearer') return { kind: 'invalid', reason: 'Authorization is not a bearer token' };
    const token = parts[1]!;
    if (token.length === 0) return { kind: 'invalid', reason: 'empty bearer token' };
    return { kind: 'token', token, source: 'authorization' };
  }
  const fromProtocol = websocketProtocolToken(headers['sec-websocket-protocol']);
  return fromProtocol ?? { kind: 'missing' };
}

function websocketProtocolToken(header: string | undefined): BearerLookup | undefined {
  if (!header) return undefined;
  for (const protocol of header.split(',')) {
    const p = protocol.trim();
    if (!p.startsWith(WEBSOCKET_BEARER_PREFIX)) continue;
    const encoded = p.slice(WEBSOCKET_BEARER_PREFIX.length);
    if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return { kind: 'invalid', reason: 'malformed websocket bearer protocol' };
    const token = Buffer.from(encoded, 'base64url').toString('utf8');
    return token ? { kind: 'token', token, source: 'websocket-protocol' } : { kind: 'invalid', reason: 'empty bearer token' };
  }
  return undefined;
}

/** The Sec-WebSocket-Protocol value to forward: the credential-carrying entry removed. */
export function withoutBearerProtocol(header: string | string[] | number | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const kept = header
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p && !p.startsWith(WEBSOCKET_BEARER_PREFIX));
  return kept.length ? kept.join(', ') : undefined;
}
