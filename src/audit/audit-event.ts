/**
 * `audit.k8s.io/v1` Event construction, as kube-apiserver's audit filter builds it
 * (k8s.io/apiserver/pkg/audit/request.go): one base event per request at RequestReceived, copied per stage
 * with a new stageTimestamp and, from ResponseStarted on, the response status.
 *
 * What never enters an event: the bearer token, any Authorization or Impersonate-* header value (headers are
 * not part of an Event at all; the impersonation decision is recorded as `impersonatedUser` and annotations).
 * Bodies enter only at level Request/RequestResponse, only as parsed JSON objects within the caller's cap.
 */
import type { RequestInfo } from '../proxy/request-info.js';
import type { AuditLevel, AuditStage } from './audit-policy.js';

export interface AuditUserInfo {
  readonly username: string;
  readonly uid?: string;
  readonly groups?: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

export interface ObjectReference {
  readonly resource?: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly apiGroup?: string;
  readonly apiVersion?: string;
  readonly subresource?: string;
}

export interface ResponseStatus {
  readonly code: number;
  readonly status?: 'Success' | 'Failure';
  readonly message?: string;
  readonly reason?: string;
}

export interface AuditEvent {
  readonly kind: 'Event';
  readonly apiVersion: 'audit.k8s.io/v1';
  readonly level: Exclude<AuditLevel, 'None'>;
  readonly auditID: string;
  readonly stage: AuditStage;
  readonly requestURI: string;
  readonly verb: string;
  readonly user: AuditUserInfo;
  readonly impersonatedUser?: AuditUserInfo;
  readonly sourceIPs: readonly string[];
  readonly userAgent?: string;
  readonly objectRef?: ObjectReference;
  readonly responseStatus?: ResponseStatus;
  readonly requestObject?: unknown;
  readonly responseObject?: unknown;
  readonly requestReceivedTimestamp: string;
  readonly stageTimestamp: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface RequestFacts {
  readonly auditID: string;
  readonly level: Exclude<AuditLevel, 'None'>;
  /** The path and query as the client sent them. */
  readonly requestURI: string;
  readonly info: RequestInfo;
  /** The authenticated identity; for refused, unauthenticated requests kube records `system:anonymous`. */
  readonly user: AuditUserInfo;
  readonly impersonatedUser?: AuditUserInfo;
  readonly sourceIPs: readonly string[];
  readonly userAgent?: string;
  readonly receivedAt: Date;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** Kubernetes' metav1.MicroTime: RFC 3339 with microseconds (we have milliseconds, padded). */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** objectRef exists only for resource requests, with exactly the fields kube-apiserver fills. */
export function objectRefFor(info: RequestInfo): ObjectReference | undefined {
  if (!info.isResourceRequest) return undefined;
  return {
    ...(info.resource ? { resource: info.resource } : {}),
    ...(info.namespace ? { namespace: info.namespace } : {}),
    ...(info.name ? { name: info.name } : {}),
    ...(info.apiGroup ? { apiGroup: info.apiGroup } : {}),
    ...(info.apiVersion ? { apiVersion: info.apiVersion } : {}),
    ...(info.subresource ? { subresource: info.subresource } : {}),
  };
}

function cleanUser(user: AuditUserInfo): AuditUserInfo {
  return {
    username: user.username,
    ...(user.uid ? { uid: user.uid } : {}),
    ...(user.groups && user.groups.length > 0 ? { groups: [...user.groups] } : {}),
    ...(user.extra && Object.keys(user.extra).length > 0 ? { extra: Object.fromEntries(Object.entries(user.extra).map(([k, v]) => [k, [...v]])) } : {}),
  };
}

export function requestReceivedEvent(facts: RequestFacts): AuditEvent {
  const objectRef = objectRefFor(facts.info);
  const at = microTime(facts.receivedAt);
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: facts.level,
    auditID: facts.auditID,
    stage: 'RequestReceived',
    requestURI: facts.requestURI,
    verb: facts.info.verb,
    user: cleanUser(facts.user),
    ...(facts.impersonatedUser ? { impersonatedUser: cleanUser(facts.impersonatedUser) } : {}),
    sourceIPs: [...facts.sourceIPs],
    ...(facts.userAgent ? { userAgent: facts.userAgent } : {}),
    ...(objectRef ? { objectRef } : {}),
    requestReceivedTimestamp: at,
    stageTimestamp: at,
    ...(facts.annotations && Object.keys(facts.annotations).length > 0 ? { annotations: { ...facts.annotations } } : {}),
  };
}

export interface StageUpdate {
  readonly stage: Exclude<AuditStage, 'RequestReceived'>;
  readonly at: Date;
  readonly status: ResponseStatus;
  readonly requestObject?: unknown;
  readonly responseObject?: unknown;
}

/** The same request at a later stage. Bodies are kept only at the levels that record them. */
export function eventAtStage(base: AuditEvent, update: StageUpdate): AuditEvent {
  const withRequest = base.level === 'Request' || base.level === 'RequestResponse';
  const withResponse = base.level === 'RequestResponse' && update.stage === 'ResponseComplete';
  return {
    ...base,
    stage: update.stage,
    stageTimestamp: microTime(update.at),
    responseStatus: { ...update.status },
    ...(withRequest && update.requestObject !== undefined ? { requestObject: update.requestObject } : {}),
    ...(withResponse && update.responseObject !== undefined ? { responseObject: update.responseObject } : {}),
  };
}

/** `omitManagedFields`: drop metadata.managedFields from an object and from each item of a list. */
export function withoutManagedFields(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  const record = body as Record<string, unknown>;
  let result: Record<string, unknown> = record;
  const metadata = record['metadata'];
  if (typeof metadata === 'object' && metadata !== null && 'managedFields' in metadata) {
    const { managedFields: _dropped, ...rest } = metadata as Record<string, unknown>;
    result = { ...result, metadata: rest };
  }
  if (Array.isArray(record['items'])) result = { ...result, items: (record['items'] as unknown[]).map(withoutManagedFields) };
  return result;
}

/**
 * A captured body → what the event may carry: parsed JSON only, only if it was captured whole (within the
 * cap). Anything else (protobuf, YAML, a truncated capture, invalid JSON) is left out rather than guessed at.
 */
export function auditableBody(bytes: Buffer | undefined, contentType: string | undefined, complete: boolean): unknown {
  if (!bytes || bytes.length === 0 || !complete) return undefined;
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json' && !type.endsWith('+json')) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
