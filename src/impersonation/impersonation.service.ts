import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { UserInfo } from '../auth/user-info.js';
import { PROXY_CONFIG, type ProxyConfig } from '../config/proxy-config.js';
import { AdmissionError } from '../proxy/admission-error.js';
import type { ClientAddress } from '../proxy/client-address.js';
import { impersonationHeaderNames, type OutboundIdentity, withAuthenticatedGroup } from './header-policy.js';
import { type ImpersonationRequest, impersonatedGroups, impersonationChecks, parseImpersonationRequest } from './impersonation-request.js';
import { SubjectAccessReviewService } from './subject-access-review.service.js';

/** jetstack's exact text; kubectl prints it. */
export const IMPERSONATION_DISABLED_MESSAGE = 'Impersonation requests are disabled when using kube-oidc-proxy';
export const NO_USERNAME_MESSAGE = 'Username claim not available in OIDC Issuer response';
/** The extra jetstack adds for --extra-user-header-client-ip (`Impersonate-Extra-Remote-Client-Ip` on the wire). */
export const CLIENT_IP_EXTRA = 'Remote-Client-IP';

/** Tremolo's extras carrying who really acted, so API server audit logs show it (reference B.9). */
export const ORIGINAL_USER_EXTRA = 'originaluser.jetstack.io-user';
export const ORIGINAL_GROUPS_EXTRA = 'originaluser.jetstack.io-groups';
export const ORIGINAL_UID_EXTRA = 'originaluser.jetstack.io-uid';
export const ORIGINAL_EXTRA_EXTRA = 'originaluser.jetstack.io-extra';

/** The outbound identity, and the requested target when the client used `kubectl --as`. */
export interface ImpersonationDecision {
  readonly identity: OutboundIdentity;
  readonly impersonated: boolean;
}

/** The one reserved name or group that makes an identity refusable, if any. */
export function reservedIdentity(user: UserInfo): string | undefined {
  if (user.username.startsWith('system:')) return user.username;
  return user.groups.find((g) => g.startsWith('system:') && g !== 'system:authenticated');
}

@Injectable()
export class ImpersonationService {
  private readonly configuredExtras: Readonly<Record<string, readonly string[]>>;

  constructor(
    @Inject(PROXY_CONFIG) private readonly config: ProxyConfig,
    private readonly reviews: SubjectAccessReviewService,
  ) {
    const extras: Record<string, string[]> = {};
    for (const [key, value] of config.impersonation.extraUserHeaders) (extras[key] ??= []).push(value);
    this.configuredExtras = extras;
  }

  /**
   * An identity provider admin, or a misconfigured claim, must not be able to mint `system:masters` or a
   * node identity through the proxy: the API server would trust the impersonation headers as given.
   * Only the token's own identity is checked here; `--as` targets are RBAC-checked by SubjectAccessReview.
   */
  refuseReservedIdentity(user: UserInfo): void {
    if (this.config.impersonation.allowReservedIdentities) return;
    const reserved = reservedIdentity(user);
    if (reserved === undefined) return;
    throw new AdmissionError(
      'Forbidden',
      `kube-oidc-proxy refuses the reserved identity "${reserved}" from the identity provider; see --allow-reserved-identities`,
      `authenticated identity ${user.username} carries the reserved name or group ${reserved}`,
    );
  }

  /** 403 for any header that starts with `impersonate`, in any case, including Impersonate-Uid (which jetstack missed). */
  refuseClientImpersonation(req: IncomingMessage): void {
    const names = impersonationHeaderNames(req.rawHeaders);
    if (names.length > 0) {
      throw new AdmissionError('Forbidden', IMPERSONATION_DISABLED_MESSAGE, `refused client impersonation headers: ${names.join(', ')}`);
    }
  }

  /**
   * The identity the API server will authorize. Without Impersonate-* headers: the authenticated user plus
   * the configured extras. With them (`kubectl --as`): every check kube-apiserver would make, as
   * SubjectAccessReviews in its order, first denial wins; then the target, with the original user in extras.
   * A refusal is thrown before anything is forwarded.
   */
  async outboundIdentity(req: IncomingMessage, user: UserInfo, client: ClientAddress): Promise<ImpersonationDecision> {
    if (user.username === '') throw new AdmissionError('Forbidden', NO_USERNAME_MESSAGE, 'authenticated user has an empty username');
    if (this.config.impersonation.disableEndUserImpersonation) this.refuseClientImpersonation(req);
    const requested = parseImpersonationRequest(req.rawHeaders);
    if (!requested) {
      return {
        identity: {
          username: user.username,
          ...(user.uid ? { uid: user.uid } : {}),
          groups: withAuthenticatedGroup(user.groups),
          extra: this.withConfiguredExtras(user.extra, client),
        },
        impersonated: false,
      };
    }
    await this.authorize(user, requested);
    return {
      identity: {
        username: requested.username,
        ...(requested.uid ? { uid: requested.uid } : {}),
        groups: impersonatedGroups(requested),
        extra: { ...this.withConfiguredExtras(requested.extra, client), ...originalUserExtras(user) },
      },
      impersonated: true,
    };
  }

  private async authorize(user: UserInfo, requested: ImpersonationRequest): Promise<void> {
    for (const check of impersonationChecks(requested)) {
      const decision = await this.reviews.allowed(user, check);
      if (!decision.allowed) {
        throw new AdmissionError(
          'Forbidden',
          `${user.username} is not allowed to impersonate ${check.describe}`,
          `SubjectAccessReview denied impersonate on ${check.resource}${decision.reason ? `: ${decision.reason}` : ''}`,
        );
      }
    }
  }

  private withConfiguredExtras(base: Readonly<Record<string, readonly string[]>>, client: ClientAddress): Record<string, string[]> {
    const extra: Record<string, string[]> = {};
    for (const [key, values] of Object.entries(base)) extra[key] = [...values];
    if (this.config.impersonation.extraUserHeaderClientIp) (extra[CLIENT_IP_EXTRA] ??= []).push(client.ip);
    for (const [key, values] of Object.entries(this.configuredExtras)) (extra[key] ??= []).push(...values);
    return extra;
  }
}

/** Tremolo's originaluser.jetstack.io-* extras for the authenticated user (groups as the token gave them). */
export function originalUserExtras(user: UserInfo): Record<string, string[]> {
  const extra: Record<string, string[]> = { [ORIGINAL_USER_EXTRA]: [user.username] };
  if (user.groups.length > 0) extra[ORIGINAL_GROUPS_EXTRA] = [...user.groups];
  if (user.uid) extra[ORIGINAL_UID_EXTRA] = [user.uid];
  if (Object.keys(user.extra).length > 0) extra[ORIGINAL_EXTRA_EXTRA] = [JSON.stringify(user.extra)];
  return extra;
}
