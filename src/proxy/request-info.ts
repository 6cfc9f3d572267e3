/**
 * method + URL → Kubernetes request attributes, as kube-apiserver's RequestInfoFactory computes them
 * (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go), with `/api` as the groupless legacy prefix.
 * The reference implementations got this wrong for the core group (jetstack#161, Tremolo#91/#93):
 * every `/api/...` path was a non-resource request with the HTTP method as verb.
 */
import type { IncomingMessage } from 'node:http';
import { RequestSlot } from '../common/request-slot.js';

export interface RequestInfo {
  readonly isResourceRequest: boolean;
  readonly path: string;
  readonly verb: string;
  readonly apiPrefix?: string;
  readonly apiGroup?: string;
  readonly apiVersion?: string;
  readonly namespace?: string;
  readonly resource?: string;
  readonly subresource?: string;
  readonly name?: string;
  readonly longRunning: boolean;
}

const METHOD_VERBS: Readonly<Record<string, string>> = {
  POST: 'create',
  GET: 'get',
  HEAD: 'get',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);
const LONG_RUNNING_VERBS = new Set(['watch', 'proxy']);
const LONG_RUNNING_SUBRESOURCES = new Set(['attach', 'exec', 'proxy', 'log', 'portforward']);

/** metainternalversion bool conversion: absent → false; `false`/`0` → false; anything else (even empty) → true. */
function queryBool(query: URLSearchParams, key: string): boolean {
  const value = query.get(key);
  if (value === null) return false;
  const v = value.toLowerCase();
  return v !== 'false' && v !== '0';
}

/** `fieldSelector=metadata.name=foo` (or `==`) names a single object: kube records that name. */
function nameFromFieldSelector(query: URLSearchParams): string | undefined {
  const selector = query.get('fieldSelector');
  if (!selector) return undefined;
  for (const term of selector.split(',')) {
    const m = /^\s*metadata\.name\s*==?\s*([^=!\s][^\s]*)\s*$/.exec(term);
    if (m && m[1] !== '.' && m[1] !== '..' && !m[1]!.includes('/') && !m[1]!.includes('%')) return m[1];
  }
  return undefined;
}

export function resolveRequestInfo(method: string, rawUrl: string): RequestInfo {
  const upper = method.toUpperCase();
  let pathname = rawUrl;
  let query = new URLSearchParams();
  const q = rawUrl.indexOf('?');
  if (q >= 0) {
    pathname = rawUrl.slice(0, q);
    query = new URLSearchParams(rawUrl.slice(q + 1));
  }
  const nonResource: RequestInfo = { isResourceRequest: false, path: pathname, verb: upper.toLowerCase(), longRunning: false };

  let parts = pathname.replace(/^\/+|\/+$/g, '').split('/');
  if (parts.length === 1 && parts[0] === '') parts = [];
  const prefix = parts[0];
  if (prefix !== 'api' && prefix !== 'apis') return nonResource;
  parts = parts.slice(1);

  let apiGroup = '';
  if (prefix === 'apis') {
    if (parts.length < 2) return nonResource; // /apis or /apis/<group>: discovery
    apiGroup = parts[0]!;
    parts = parts.slice(1);
  } else if (parts.length < 1) {
    return nonResource; // /api: discovery
  }
  const apiVersion = parts[0]!;
  parts = parts.slice(1);
  if (parts.length === 0) return nonResource; // /api/v1, /apis/g/v: discovery

  let verb = METHOD_VERBS[upper] ?? upper.toLowerCase();
  const special = parts[0];
  if (special === 'watch' || special === 'proxy') {
    if (parts.length < 2) return nonResource;
    verb = special;
    parts = parts.slice(1);
  }

  let namespace = '';
  if (parts[0] === 'namespaces') {
    if (parts.length > 1) {
      namespace = parts[1]!;
      // /namespaces/<ns>/status and /finalize are subresources of the namespace itself.
      if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2]!)) parts = parts.slice(2);
    }
  }

  const resource = parts[0];
  let name = parts.length >= 2 ? parts[1] : undefined;
  const subresource = parts.length >= 3 ? parts[2] : undefined;

  if (!name && verb === 'get') {
    verb = queryBool(query, 'watch') ? 'watch' : 'list';
    name = nameFromFieldSelector(query);
  }
  if (!name && verb === 'delete') verb = 'deletecollection';

  const longRunning = LONG_RUNNING_VERBS.has(verb) || (subresource !== undefined && LONG_RUNNING_SUBRESOURCES.has(subresource));
  return {
    isResourceRequest: true,
    path: pathname,
    verb,
    apiPrefix: prefix,
    apiGroup,
    apiVersion,
    ...(namespace ? { namespace } : {}),
    ...(resource ? { resource } : {}),
    ...(subresource ? { subresource } : {}),
    ...(name ? { name } : {}),
    longRunning,
  };
}

const resolved = new RequestSlot<IncomingMessage, RequestInfo>('requestInfo');

/**
 * The request's attributes, resolved once per request: the in-flight limiter, admission, audit and metrics
 * all read the same object (and the same answer, even if something later rewrote req.url).
 */
export function requestInfoOf(req: IncomingMessage): RequestInfo {
  let info = resolved.get(req);
  if (!info) {
    info = resolveRequestInfo(req.method ?? 'GET', req.url ?? '/');
    resolved.set(req, info);
  }
  return info;
}
