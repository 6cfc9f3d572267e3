/**
 * Asks the API server whether the authenticated user may impersonate something, exactly the question
 * kube-apiserver's impersonation filter asks its authorizer (verb `impersonate`, imp.go), as a
 * SubjectAccessReview posted with the proxy's own credentials.
 *
 * Posted with postReview (upstream/api-server-review.ts), which says why not client-node's generated API.
 *
 * Fails closed: any error (the proxy lacking `create` on subjectaccessreviews, a timeout, a garbled answer)
 * is a 403 for the client, never an allow, and is never cached.
 */
import { Injectable, Logger } from '@nestjs/common';
import type { V1SubjectAccessReview } from '@kubernetes/client-node';
import type { UserInfo } from '../auth/user-info.js';
import { AdmissionError } from '../proxy/admission-error.js';
import { postReview, ReviewFailure } from '../upstream/api-server-review.js';
import { UpstreamCredentialsService } from '../upstream/upstream-credentials.service.js';
import { withAuthenticatedGroup } from './header-policy.js';
import type { ImpersonationCheck } from './impersonation-request.js';
import { SarCache, type SarDecision, sarKey } from './sar-cache.js';

const SAR_PATH = '/apis/authorization.k8s.io/v1/subjectaccessreviews';
const SAR_TIMEOUT_MS = 5_000;

export const SAR_PERMISSION_MESSAGE =
  'kube-oidc-proxy cannot check impersonation: its service account is not allowed to create ' +
  'subjectaccessreviews.authorization.k8s.io (grant "create" on "subjectaccessreviews" in API group "authorization.k8s.io")';

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

  private async post(review: V1SubjectAccessReview): Promise<SarDecision> {
    const parsed = (await postReview(this.credentials, SAR_PATH, review, SAR_TIMEOUT_MS)) as V1SubjectAccessReview;
    if (typeof parsed?.status?.allowed !== 'boolean') throw new ReviewFailure(undefined, 'the response is not a SubjectAccessReview');
    const allowed = parsed.status.allowed === true && parsed.status.denied !== true;
    return { allowed, ...(parsed.status.reason ? { reason: parsed.status.reason } : {}) };
  }
}
