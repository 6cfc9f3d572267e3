/**
 * Asks the API server whether the authenticated user may impersonate something, exactly the question
 * kube-apiserver's impersonation filter asks its authorizer (verb `impersonate`, imp.go), as a
 * SubjectAccessReview posted with the proxy's own credentials.
 *
 * Why a direct HTTPS POST rather than @kubernetes/client-node's AuthorizationV1Api: the generated client
 * builds its own connections from a KubeConfig, so it would neither share the proxy's keep-alive agent nor
 * see the service-account token as it rotates without a custom authenticator, and it has no per-call
 * deadline. UpstreamCredentialsService already owns both; the body is client-node's V1SubjectAccessReview
 * type, so the wire shape is still checked by the compiler.
 *
 * Fails closed: any error (the proxy lacking `create` on subjectaccessreviews, a timeout, a garbled answer)
 * is a 403 for the client, never an allow, and is never cached.
 */
import { Injectable, Logger } from '@nestjs/common';
import type { V1SubjectAccessReview } from '@kubernetes/client-node';
import { request } from 'node:https';
import type { UserInfo } from '../auth/user-info.js';
import { AdmissionError } from '../proxy/admission-error.js';
import { UpstreamCredentialsService } from '../upstream/upstream-credentials.service.js';
import { withAuthenticatedGroup } from './header-policy.js';
import type { ImpersonationCheck } from './impersonation-request.js';
import { SarCache, type SarDecision, sarKey } from './sar-cache.js';

const SAR_PATH = '/apis/authorization.k8s.io/v1/subjectaccessreviews';
const SAR_TIMEOUT_MS = 5_000;
const MAX_RESPONSE_BYTES = 1024 * 1024;

export const SAR_PERMISSION_MESSAGE =
  'kube-oidc-proxy cannot check impersonation: its service account is not allowed to create ' +
  'subjectaccessreviews.authorization.k8s.io (grant "create" on "subjectaccessreviews" in API group "authorization.k8s.io")';

/** A failed review: the status code (if any) and a log-only detail. */
class ReviewFailure extends Error {
  constructor(
    readonly status: number | undefined,
    detail: string,
  ) {
    super(detail);
  }
}

/** The SubjectAccessReview the API server's impersonation filter would evaluate for this requester and check. */
export function subjectAccessReview(requester: UserInfo, check: ImpersonationCheck): V1SubjectAccessReview {
  return {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: requester.username,
      // As the API server sees the requester: authenticated_group_adder adds system:authenticated.
      groups: withAuthenticatedGroup(requester.groups),
      ...(requester.uid ? { uid: requester.uid } : {}),
      extra: Object.fromEntries(Object.entries(requester.extra).map(([k, v]) => [k, [...v]])),
      resourceAttributes: {
        verb: 'impersonate',
        group: check.group,
        resource: check.resource,
        ...(check.subresource ? { subresource: check.subresource } : {}),
        name: check.name,
        ...(check.namespace ? { namespace: check.namespace } : {}),
      },
    },
  };
}

@Injectable()
export class SubjectAccessReviewService {
  private readonly logger = new Logger('SubjectAccessReview');
  private readonly cache = new SarCache();

  constructor(private readonly credentials: UpstreamCredentialsService) {}

  async allowed(requester: UserInfo, check: ImpersonationCheck): Promise<SarDecision> {
    const key = sarKey(requester, check);
    const cached = this.cache.get(key);
    if (cached) return cached;
    let decision: SarDecision;
    try {
      decision = await this.post(subjectAccessReview(requester, check));
    } catch (err) {
      const failure = err instanceof ReviewFailure ? err : new ReviewFailure(undefined, (err as Error).message);
      const detail = `SubjectAccessReview for ${check.resource} failed${failure.status ? ` with HTTP ${failure.status}` : ''}: ${failure.message}`;
      this.logger.error({ resource: check.resource, status: failure.status }, detail);
      if (failure.status === 401 || failure.status === 403) throw new AdmissionError('Forbidden', SAR_PERMISSION_MESSAGE, detail);
      throw new AdmissionError(
        'Forbidden',
        `kube-oidc-proxy could not check whether ${requester.username} may impersonate ${check.describe}: the SubjectAccessReview to the API server failed`,
        detail,
      );
    }
    this.cache.set(key, decision);
    return decision;
  }

  private post(review: V1SubjectAccessReview): Promise<SarDecision> {
    const target = this.credentials.target;
    const body = JSON.stringify(review);
    const authorization = this.credentials.authorization();
    const url = new URL(SAR_PATH.replace(/^\//, ''), target.url.href.endsWith('/') ? target.url : `${target.url.href}/`);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          agent: this.credentials.agent,
          ...(target.servername ? { servername: target.servername } : {}),
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            'content-length': Buffer.byteLength(body),
            ...(authorization ? { authorization } : {}),
          },
          signal: AbortSignal.timeout(SAR_TIMEOUT_MS),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_RESPONSE_BYTES) res.destroy(new ReviewFailure(res.statusCode, 'response too large'));
            else chunks.push(c);
          });
          res.on('error', reject);
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString('utf8');
            if (status !== 200 && status !== 201) {
              let message = '';
              try {
                message = String((JSON.parse(text) as { message?: unknown }).message ?? '');
              } catch {
                // Not a Status body; the code alone says enough.
              }
              return reject(new ReviewFailure(status, message.slice(0, 500) || 'unexpected response'));
            }
            try {
              const parsed = JSON.parse(text) as V1SubjectAccessReview;
              const allowed = parsed.status?.allowed === true && parsed.status.denied !== true;
              resolve({ allowed, ...(parsed.status?.reason ? { reason: parsed.status.reason } : {}) });
            } catch {
              reject(new ReviewFailure(status, 'the response is not a SubjectAccessReview'));
            }
          });
        },
      );
      req.on('error', (err) => reject(err.name === 'AbortError' || err.name === 'TimeoutError' ? new ReviewFailure(undefined, `no answer within ${SAR_TIMEOUT_MS} ms`) : err));
      req.end(body);
    });
  }
}
