import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { UserInfo } from '../auth/user-info.js';
import { PROXY_CONFIG, type ProxyConfig } from '../config/proxy-config.js';
import { AdmissionError } from '../proxy/admission-error.js';
import type { ClientAddress } from '../proxy/client-address.js';
import { impersonationHeaderNames, type OutboundIdentity, withAuthenticatedGroup } from './header-policy.js';

/** jetstack's exact text; kubectl prints it. */
export const IMPERSONATION_DISABLED_MESSAGE = 'Impersonation requests are disabled when using kube-oidc-proxy';
export const NO_USERNAME_MESSAGE = 'Username claim not available in OIDC Issuer response';
/** The extra jetstack adds for --extra-user-header-client-ip (`Impersonate-Extra-Remote-Client-Ip` on the wire). */
export const CLIENT_IP_EXTRA = 'Remote-Client-IP';

@Injectable()
export class ImpersonationService {
  private readonly configuredExtras: Readonly<Record<string, readonly string[]>>;

  constructor(@Inject(PROXY_CONFIG) private readonly config: ProxyConfig) {
    const extras: Record<string, string[]> = {};
    for (const [key, value] of config.impersonation.extraUserHeaders) (extras[key] ??= []).push(value);
    this.configuredExtras = extras;
  }

  /**
   * End-user impersonation (`kubectl --as`): refused until SubjectAccessReview checks exist. Any header
   * that starts with `impersonate` counts, in any case, including `Impersonate-Uid` (which jetstack missed).
   */
  refuseEndUserImpersonation(req: IncomingMessage): void {
    const names = impersonationHeaderNames(req.rawHeaders);
    if (names.length > 0) {
      throw new AdmissionError('Forbidden', IMPERSONATION_DISABLED_MESSAGE, `refused client impersonation headers: ${names.join(', ')}`);
    }
  }

  /** The identity the API server will authorize: the authenticated user plus the configured extras. */
  outboundIdentity(user: UserInfo, client: ClientAddress): OutboundIdentity {
    if (user.username === '') throw new AdmissionError('Forbidden', NO_USERNAME_MESSAGE, 'authenticated user has an empty username');
    const extra: Record<string, string[]> = {};
    for (const [key, values] of Object.entries(user.extra)) extra[key] = [...values];
    if (this.config.impersonation.extraUserHeaderClientIp) (extra[CLIENT_IP_EXTRA] ??= []).push(client.ip);
    for (const [key, values] of Object.entries(this.configuredExtras)) (extra[key] ??= []).push(...values);
    return {
      username: user.username,
      ...(user.uid ? { uid: user.uid } : {}),
      groups: withAuthenticatedGroup(user.groups),
      extra,
    };
  }
}
