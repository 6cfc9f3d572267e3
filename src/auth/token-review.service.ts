/**
 * `--token-passthrough`: a bearer token that is not a valid OIDC token may still be a Kubernetes credential
 * (a service-account token, a token another authenticator accepts). The API server is asked, with an
 * authentication.k8s.io/v1 TokenReview posted with the proxy's own credentials; if it says `authenticated`,
 * the request is forwarded with the client's own Authorization and no impersonation headers.
 *
 * Fails closed: a refusal, a `status.error`, an audience mismatch, or no usable answer at all (the proxy
 * lacking `create` on tokenreviews, a timeout, a garbled body) is a 401 for the client, never an accept.
 * Errors are not cached. The token never appears in a log line or an error detail.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { V1TokenReview } from '@kubernetes/client-node';
import { PROXY_CONFIG, type ProxyConfig } from '../config/proxy-config.js';
import { AdmissionError, unauthenticated } from '../proxy/admission-error.js';
import { postReview, ReviewFailure } from '../upstream/api-server-review.js';
import { UpstreamCredentialsService } from '../upstream/upstream-credentials.service.js';
import { decodeCompact } from './token-claims.js';
import { TokenReviewCache, type TokenReviewResult, tokenReviewKey } from './token-review-cache.js';
import type { UserInfo } from './user-info.js';

const TOKEN_REVIEW_PATH = '/apis/authentication.k8s.io/v1/tokenreviews';
/** jetstack used 10 s; a client waiting on a review it will not get should hear 401 sooner. */
const TOKEN_REVIEW_TIMEOUT_MS = 5_000;

/** What the API server answered, read strictly: anything but a clear, audience-matching yes is a no. */
export function tokenReviewResult(review: V1TokenReview, audiences: readonly string[]): TokenReviewResult {
  const status = review.status;
  if (!status || typeof status.authenticated !== 'boolean') throw new ReviewFailure(undefined, 'the response is not a TokenReview');
  if (status.error) return { authenticated: false, reason: `error authenticating using token review: ${status.error.slice(0, 300)}` };
  if (!status.authenticated) return { authenticated: false, reason: 'the TokenReview did not authenticate the token' };
  // As kube-apiserver's webhook token authenticator: the answer must be for one of the audiences asked for.
  if (audiences.length > 0 && !(status.audiences ?? []).some((a) => audiences.includes(a))) {
    return { authenticated: false, reason: 'the TokenReview answer is for none of the requested audiences' };
  }
  const user = status.user;
  if (!user?.username) return { authenticated: false, reason: 'the TokenReview authenticated a user without a name' };
  const extra: Record<string, string[]> = {};
  for (const [key, values] of Object.entries(user.extra ?? {})) if (Array.isArray(values) && values.length > 0) extra[key] = [...values];
  const info: UserInfo = { username: user.username, ...(user.uid ? { uid: user.uid } : {}), groups: [...(user.groups ?? [])], extra };
  return { authenticated: true, user: info };
}

@Injectable()
export class TokenReviewService {
  private readonly logger = new Logger('TokenReview');
  private readonly cache = new TokenReviewCache();
  private readonly audiences: readonly string[];

  constructor(
    @Inject(PROXY_CONFIG) config: ProxyConfig,
    private readonly credentials: UpstreamCredentialsService,
  ) {
    this.audiences = config.impersonation.tokenPassthroughAudiences;
  }

  /** The user the API server authenticates this token as; otherwise a 401. */
  async authenticate(token: string): Promise<UserInfo> {
    const key = tokenReviewKey(token, this.audiences);
    let result = this.cache.get(key);
    if (!result) {
      result = await this.review(token);
      const exp = Number(decodeCompact(token)?.claims.exp);
      this.cache.set(key, result, Number.isFinite(exp) && exp > 0 ? exp * 1000 : undefined);
    }
    if (!result.authenticated) throw unauthenticated(result.reason);
    return result.user;
  }

  private async review(token: string): Promise<TokenReviewResult> {
    const body: V1TokenReview = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token, ...(this.audiences.length > 0 ? { audiences: [...this.audiences] } : {}) },
    };
    try {
      return tokenReviewResult((await postReview(this.credentials, TOKEN_REVIEW_PATH, body, TOKEN_REVIEW_TIMEOUT_MS)) as V1TokenReview, this.audiences);
    } catch (err) {
      const failure = err instanceof ReviewFailure ? err : new ReviewFailure(undefined, (err as Error).name);
      const detail = `TokenReview failed${failure.status ? ` with HTTP ${failure.status}` : ''}: ${failure.message}`;
      this.logger.error({ status: failure.status }, detail);
      throw new AdmissionError('Unauthenticated', 'Unauthorized', detail);
    }
  }
}
