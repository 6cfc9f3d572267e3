/**
 * The two documents, what makes a copy fit to cache, and the bytes actually served. Pure functions, so the
 * rules (validation, jwks_uri rewriting, pretty printing, the strong ETag) have table tests.
 */
import { createHash } from 'node:crypto';

export type DiscoveryDocument = 'openid-configuration' | 'jwks';

export interface DocumentSpec {
  readonly path: string;
  readonly contentType: string;
}

/** kube-apiserver serves both at these fixed paths (pkg/serviceaccount, KEP-1393). */
export const DOCUMENTS: Readonly<Record<DiscoveryDocument, DocumentSpec>> = {
  'openid-configuration': { path: '/.well-known/openid-configuration', contentType: 'application/json' },
  // RFC 7517 §8.5: the JWK Set media type, which kube-apiserver also uses (kube-oidc-gateway overrode it).
  jwks: { path: '/openid/v1/jwks', contentType: 'application/jwk-set+json' },
};

export const JWKS_PATH = DOCUMENTS.jwks.path;

/** The document served at a path, exactly (no trailing slash, no prefix match). */
export function documentForPath(path: string): DiscoveryDocument | undefined {
  if (path === DOCUMENTS['openid-configuration'].path) return 'openid-configuration';
  if (path === DOCUMENTS.jwks.path) return 'jwks';
  return undefined;
}

/** Caps what is read from the API server; a bigger answer is refused, never truncated. */
export const MAX_DOCUMENT_BYTES = 1024 * 1024;

export class InvalidDocumentError extends Error {}

export interface ServeOptions {
  /** Base URL of this listener as clients reach it; rewrites jwks_uri. */
  readonly publicUrl?: string;
  readonly pretty: boolean;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses and checks an upstream body: the discovery document must be an object with string `issuer` and
 * `jwks_uri` (OpenID Connect Discovery 1.0 §3), the JWKS an object with a `keys` array (RFC 7517 §5).
 * Anything else is refused before it can replace a good cached copy.
 */
export function parseDocument(kind: DiscoveryDocument, body: Buffer): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new InvalidDocumentError('the body is not JSON');
  }
  if (!isObject(parsed)) throw new InvalidDocumentError('the body is not a JSON object');
  if (kind === 'openid-configuration') {
    if (typeof parsed.issuer !== 'string' || parsed.issuer === '') throw new InvalidDocumentError('the discovery document has no issuer');
    if (typeof parsed.jwks_uri !== 'string' || parsed.jwks_uri === '') throw new InvalidDocumentError('the discovery document has no jwks_uri');
  } else if (!Array.isArray(parsed.keys) || !parsed.keys.every(isObject)) {
    throw new InvalidDocumentError('the JWKS has no keys array of objects');
  }
  return parsed;
}

/** The bytes served for a validated document: jwks_uri rewritten if asked (the issuer never), optionally indented. */
export function renderDocument(kind: DiscoveryDocument, document: Record<string, unknown>, options: ServeOptions): Buffer {
  const served = kind === 'openid-configuration' && options.publicUrl ? { ...document, jwks_uri: `${options.publicUrl}${JWKS_PATH}` } : document;
  return Buffer.from(options.pretty ? `${JSON.stringify(served, null, 2)}\n` : JSON.stringify(served));
}

/** A strong validator (RFC 9110 §8.8.3): the quoted SHA-256 of exactly the bytes served. */
export function strongEtag(bytes: Buffer): string {
  return `"${createHash('sha256').update(bytes).digest('hex')}"`;
}
