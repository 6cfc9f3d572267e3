/**
 * Reading a client's `kubectl --as` request exactly like kube-apiserver's impersonation filter
 * (k8s.io/apiserver/pkg/endpoints/filters/impersonation), with the safe tightenings the reference notes
 * recommend: more than one Impersonate-User or Impersonate-Uid is refused instead of silently using the
 * first, and an unknown Impersonate* header is refused instead of passed on (fail closed, like Pinniped).
 *
 * Raw header lines are used, not Node's joined values: a group name may legally contain a comma.
 */
import { AdmissionError } from '../proxy/admission-error.js';
import { unescapeExtraKey } from './header-policy.js';

export interface ImpersonationRequest {
  readonly username: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  /** Keys lowercased and percent-decoded, as the API server reads them. */
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

/** One authorization question kube-apiserver asks before honouring an impersonation header. */
export interface ImpersonationCheck {
  readonly resource: 'users' | 'serviceaccounts' | 'groups' | 'userextras' | 'uids';
  readonly group: '' | 'authentication.k8s.io';
  readonly name: string;
  readonly namespace?: string;
  readonly subresource?: string;
  /** What the refusal message names: `user 'x'`, `group 'g'`, `uid 'u'`, `extra info 'k'='v'`. */
  readonly describe: string;
}

const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';
/** apimachinery's DNS-1123 label (namespace) and subdomain (service account name) rules. */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function badRequest(message: string): AdmissionError {
  return new AdmissionError('BadRequest', message, message);
}

/** `system:serviceaccount:<ns>:<name>` with a valid namespace and name, as serviceaccount.SplitUsername accepts. */
export function splitServiceAccount(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SERVICE_ACCOUNT_PREFIX)) return undefined;
  const parts = username.slice(SERVICE_ACCOUNT_PREFIX.length).split(':');
  if (parts.length !== 2) return undefined;
  const [namespace, name] = parts as [string, string];
  if (namespace.length > 63 || !DNS1123_LABEL.test(namespace)) return undefined;
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) return undefined;
  return { namespace, name };
}

/** Parse the inbound Impersonate-* header lines. Returns undefined when the request impersonates nobody. */
export function parseImpersonationRequest(rawHeaders: readonly string[]): ImpersonationRequest | undefined {
  const users: string[] = [];
  const uids: string[] = [];
  const groups: string[] = [];
  const extra: Record<string, string[]> = {};
  const seen: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const lower = name.toLowerCase();
    if (!lower.startsWith('impersonate')) continue;
    const value = rawHeaders[i + 1] ?? '';
    seen.push(name);
    if (lower === 'impersonate-user') users.push(value);
    else if (lower === 'impersonate-uid') uids.push(value);
    else if (lower === 'impersonate-group') groups.push(value);
    else if (lower.startsWith('impersonate-extra-') && lower.length > 'impersonate-extra-'.length) {
      (extra[unescapeExtraKey(name.slice('impersonate-extra-'.length))] ??= []).push(value);
    } else throw badRequest(`unknown impersonation header '${name}'`);
  }
  if (seen.length === 0) return undefined;
  if (users.length > 1) throw badRequest('only one Impersonate-User header is allowed');
  if (uids.length > 1) throw badRequest('only one Impersonate-Uid header is allowed');
  const username = users[0] ?? '';
  const uid = uids[0] ?? '';
  if (username === '') {
    // kube-apiserver: "requested [...] without impersonating a user" (imp.go), a 400.
    const refs = [...groups.map((g) => `group '${g}'`), ...Object.keys(extra).map((k) => `extra '${k}'`), ...(uid ? [`uid '${uid}'`] : [])];
    throw badRequest(`requested [${refs.join(', ') || 'impersonation'}] without impersonating a user`);
  }
  return { username, ...(uid ? { uid } : {}), groups, extra };
}

/**
 * The authorization checks, in kube-apiserver's order (user or service account, each group, each extra
 * value, the uid). The first denial wins.
 */
export function impersonationChecks(request: ImpersonationRequest): ImpersonationCheck[] {
  const checks: ImpersonationCheck[] = [];
  const sa = splitServiceAccount(request.username);
  checks.push(
    sa
      ? { resource: 'serviceaccounts', group: '', name: sa.name, namespace: sa.namespace, describe: `user '${request.username}'` }
      : { resource: 'users', group: '', name: request.username, describe: `user '${request.username}'` },
  );
  for (const group of request.groups) checks.push({ resource: 'groups', group: '', name: group, describe: `group '${group}'` });
  for (const [key, values] of Object.entries(request.extra)) {
    for (const value of values) {
      checks.push({ resource: 'userextras', group: 'authentication.k8s.io', subresource: key, name: value, describe: `extra info '${key}'='${value}'` });
    }
  }
  if (request.uid) checks.push({ resource: 'uids', group: 'authentication.k8s.io', name: request.uid, describe: `uid '${request.uid}'` });
  return checks;
}

/**
 * The identity the API server would build: a service account with no requested groups gets its fixed
 * groups; then `system:authenticated` (or `system:unauthenticated` for `system:anonymous`) is added unless
 * either is already present.
 */
export function impersonatedGroups(request: ImpersonationRequest): string[] {
  let groups = [...request.groups];
  const sa = splitServiceAccount(request.username);
  if (sa && groups.length === 0) groups = ['system:serviceaccounts', `system:serviceaccounts:${sa.namespace}`];
  if (groups.includes('system:authenticated') || groups.includes('system:unauthenticated')) return groups;
  return [...groups, request.username === 'system:anonymous' ? 'system:unauthenticated' : 'system:authenticated'];
}
