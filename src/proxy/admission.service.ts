/**
 * THE list of admission steps. Every request, plain HTTP (through AdmissionGuard) and Upgrade (through
 * UpgradeListener, which Node dispatches outside Nest's guards), runs exactly this function, so an
 * upgrade can never skip a step:
 *
 *   1. find the bearer token (missing, empty or non-bearer → 401)
 *   2. verify it like kube-apiserver's OIDC authenticator; if that fails and --token-passthrough is on,
 *      ask the API server with a TokenReview (any failure, or a review that cannot be made → 401)
 *   3. refuse reserved identities from the identity provider (`system:` user or group → 403)
 *   4. the outbound identity (empty username → 403): the authenticated user, or, for `kubectl --as`, the
 *      target once every SubjectAccessReview allowed it (malformed headers → 400, denied → 403)
 *   5. build the complete outbound header set: client headers sanitised FIRST, identity headers added after
 *
 * Two modes forward the client's own credential instead (`credentials: 'client'`, exactly one
 * Authorization, no identity headers added, no proxy credential):
 *   - a token accepted by TokenReview (steps 3–4 are the API server's business: it authenticates the token
 *     itself and authorizes the client's own Impersonate-* headers against it, which pass through as sent);
 *   - --disable-impersonation, for API servers that accept the OIDC token themselves (steps 1–3 as usual,
 *     then client Impersonate-* headers → 403, since the proxy cannot vouch for them).
 *
 * The proxy's own credentials are added later by the Upstream module, which re-checks the result.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { OutgoingHttpHeaders } from 'node:http';
import type { BlockList } from 'node:net';
import { OidcAuthenticatorService } from '../auth/oidc-authenticator.service.js';
import { TokenReviewService } from '../auth/token-review.service.js';
import type { UserInfo } from '../auth/user-info.js';
import { RequestSlot } from '../common/request-slot.js';
import { AccessLogService } from '../audit/access-log.service.js';
import { AUDIT_ANNOTATIONS, AuditService } from '../audit/audit.service.js';
import { PROXY_CONFIG, type ProxyConfig } from '../config/proxy-config.js';
import { MetricsService } from '../health/metrics.service.js';
import {
  clientImpersonationHeaders,
  impersonationHeaders,
  type OutboundIdentity,
  sanitizeInboundHeaders,
  withAuthenticatedGroup,
} from '../impersonation/header-policy.js';
import { ImpersonationService } from '../impersonation/impersonation.service.js';
import { AdmissionError, unauthenticated } from './admission-error.js';
import { type BearerLookup, bearerToken, withoutBearerProtocol } from './bearer-token.js';
import { type ClientAddress, parseTrustedProxies, resolveClientAddress } from './client-address.js';
import { toAdmissionError } from './kube-status.js';
import { type RequestInfo, requestInfoOf } from './request-info.js';

export interface AdmittedRequest {
  readonly user: UserInfo;
  readonly identity: OutboundIdentity;
  /** Complete outbound headers except the proxy's own credentials. */
  readonly headers: OutgoingHttpHeaders;
  /** 'client': the client's own Authorization goes upstream unchanged (token passthrough, --disable-impersonation). */
  readonly credentials: 'proxy' | 'client';
  readonly client: ClientAddress;
  readonly info: RequestInfo;
}

const admitted = new RequestSlot<IncomingMessage, AdmittedRequest>('admitted');
/** Who authenticated, for auditing a request refused after authentication (e.g. a denied --as). */
const authenticated = new RequestSlot<IncomingMessage, Authentication>('authenticated');

/** The admission result the guard stored for this request; absence is a bug and fails closed. */
export function admittedRequest(req: IncomingMessage): AdmittedRequest {
  const result = admitted.get(req);
  if (!result) throw new AdmissionError('Internal', 'Internal error occurred: request was not admitted', 'no admission result on request');
  return result;
}

type BearerToken = Extract<BearerLookup, { kind: 'token' }>;

/** Who the token belongs to, and who said so. */
interface Authentication {
  readonly user: UserInfo;
  readonly via: 'oidc' | 'token-review';
}

@Injectable()
export class AdmissionService {
  private readonly logger = new Logger('Admission');
  /** undefined: no --trusted-proxies, so X-Forwarded-For is never believed. */
  private readonly trustedProxies: BlockList | undefined;

  constructor(
    @Inject(PROXY_CONFIG) private readonly config: ProxyConfig,
    private readonly auth: OidcAuthenticatorService,
    private readonly tokenReview: TokenReviewService,
    private readonly impersonation: ImpersonationService,
    private readonly accessLog: AccessLogService,
    private readonly metrics: MetricsService,
    private readonly audit: AuditService,
  ) {
    const cidrs = config.serving.trustedProxies;
    this.trustedProxies = cidrs.length > 0 ? parseTrustedProxies(cidrs).list : undefined;
  }

  clientAddress(req: IncomingMessage): ClientAddress {
    return resolveClientAddress(req.socket.remoteAddress, req.socket.remotePort, req.headers['x-forwarded-for'], this.trustedProxies);
  }

  async admit(req: IncomingMessage): Promise<AdmittedRequest> {
    const client = this.clientAddress(req);
    const info = requestInfoOf(req);

    const lookup = bearerToken(req.headers);
    if (lookup.kind === 'missing') throw unauthenticated('no bearer token in the request');
    if (lookup.kind === 'invalid') throw unauthenticated(lookup.reason);
    const { user, via } = await this.authenticate(lookup.token);
    authenticated.set(req, { user, via });

    if (via === 'token-review') {
      if (this.config.impersonation.disableEndUserImpersonation) this.impersonation.refuseClientImpersonation(req);
      return this.admitClientCredential(req, lookup, user, client, info, true);
    }
    this.impersonation.refuseReservedIdentity(user);
    if (this.config.impersonation.disableImpersonation) {
      this.impersonation.refuseClientImpersonation(req);
      return this.admitClientCredential(req, lookup, user, client, info, false);
    }
    const { identity, impersonated } = await this.impersonation.outboundIdentity(req, user, client);

    const headers: OutgoingHttpHeaders = {
      ...sanitizeInboundHeaders(req.headers),
      ...impersonationHeaders(identity),
      'x-forwarded-for': client.ip,
      ...this.auditIdHeader(req),
    };
    this.dropBearerProtocol(req, lookup, headers);

    const result: AdmittedRequest = { user, identity, headers, credentials: 'proxy', client, info };
    admitted.set(req, result);
    await this.recordAuditDecision(req, result, via, impersonated);
    this.accessLog.success({
      client,
      uri: req.url ?? '/',
      inbound: impersonated ? { ...user, groups: withAuthenticatedGroup(user.groups) } : { ...user, groups: identity.groups },
      ...(impersonated ? { outbound: identity } : {}),
    });
    return result;
  }

  /** OIDC first; with --token-passthrough, a token OIDC refused (for any reason) gets a TokenReview. */
  private async authenticate(token: string): Promise<Authentication> {
    try {
      const user = await this.auth.authenticate(token);
      this.metrics.observeAuthentication('success');
      return { user, via: 'oidc' };
    } catch (oidcError) {
      const refusedByOidc = oidcError instanceof AdmissionError && oidcError.kind === 'Unauthenticated';
      if (!this.config.impersonation.tokenPassthrough || !refusedByOidc) {
        this.metrics.observeAuthentication('failure');
        throw oidcError;
      }
      try {
        const user = await this.tokenReview.authenticate(token);
        this.metrics.observeAuthentication('success');
        return { user, via: 'token-review' };
      } catch (reviewError) {
        this.metrics.observeAuthentication('failure');
        const review = toAdmissionError(reviewError);
        throw unauthenticated(`OIDC: ${oidcError.detail ?? oidcError.message}; token passthrough: ${review.detail ?? review.message}`);
      }
    }
  }

  /**
   * Forward with the client's own credential: exactly one Authorization (the original header line, or the
   * WebSocket subprotocol's token moved into one), no identity headers of the proxy's. The client's own
   * Impersonate-* headers go along only for a TokenReview-accepted token (the API server checks them
   * against that token); with --disable-impersonation they were refused before this point.
   */
  private async admitClientCredential(
    req: IncomingMessage,
    lookup: BearerToken,
    user: UserInfo,
    client: ClientAddress,
    info: RequestInfo,
    passClientImpersonation: boolean,
  ): Promise<AdmittedRequest> {
    const headers: OutgoingHttpHeaders = {
      ...sanitizeInboundHeaders(req.headers),
      ...(passClientImpersonation ? clientImpersonationHeaders(req.headers, req.rawHeaders) : {}),
      authorization: lookup.source === 'authorization' ? req.headers.authorization : `Bearer ${lookup.token}`,
      'x-forwarded-for': client.ip,
      ...this.auditIdHeader(req),
    };
    this.dropBearerProtocol(req, lookup, headers);
    const identity: OutboundIdentity = { ...user, groups: withAuthenticatedGroup(user.groups) };
    const result: AdmittedRequest = { user, identity, headers, credentials: 'client', client, info };
    admitted.set(req, result);
    await this.recordAuditDecision(req, result, passClientImpersonation ? 'token-review' : 'oidc', false);
    this.accessLog.success({ client, uri: req.url ?? '/', inbound: identity });
    return result;
  }

  /** The Audit-ID this proxy assigned (never the client's: header-policy.ts strips it), so the API server's events join ours. */
  private auditIdHeader(req: IncomingMessage): OutgoingHttpHeaders {
    const id = this.audit.auditID(req);
    return id ? { 'audit-id': id } : {};
  }

  /**
   * The admission decision, for the audit events (never a token or header value). Awaited: with a blocking
   * audit webhook the request goes upstream only once its RequestReceived event was delivered.
   */
  private async recordAuditDecision(req: IncomingMessage, result: AdmittedRequest, via: Authentication['via'], impersonated: boolean): Promise<void> {
    await this.audit.decided(req, {
      info: result.info,
      user: { ...result.user, groups: withAuthenticatedGroup(result.user.groups) },
      ...(impersonated ? { impersonatedUser: result.identity } : {}),
      sourceIPs: [result.client.ip],
      annotations: {
        [AUDIT_ANNOTATIONS.authentication]: via,
        [AUDIT_ANNOTATIONS.decision]: 'allow',
        ...(impersonated ? { [AUDIT_ANNOTATIONS.impersonation]: 'allowed by SubjectAccessReview' } : {}),
      },
    });
  }

  /** The credential-carrying WebSocket subprotocol never goes upstream as such. */
  private dropBearerProtocol(req: IncomingMessage, lookup: BearerToken, headers: OutgoingHttpHeaders): void {
    if (lookup.source !== 'websocket-protocol') return;
    const protocols = withoutBearerProtocol(req.headers['sec-websocket-protocol']);
    if (protocols) headers['sec-websocket-protocol'] = protocols;
    else delete headers['sec-websocket-protocol'];
  }

  /** The one place a refusal is recorded: SIEM AuFail line, a structured log line with the detail, metrics. */
  recordRefusal(req: IncomingMessage, error: unknown): AdmissionError {
    const err = toAdmissionError(error);
    const client = this.clientAddress(req);
    this.accessLog.failure(client, req.url ?? '/');
    const who = authenticated.get(req);
    // Not awaited: a refusal is answered at once; a blocking webhook still gets the event.
    this.audit
      .decided(req, {
        info: requestInfoOf(req),
        ...(who ? { user: { ...who.user, groups: withAuthenticatedGroup(who.user.groups) } } : {}),
        sourceIPs: [client.ip],
        annotations: who
          ? { [AUDIT_ANNOTATIONS.authentication]: who.via, [AUDIT_ANNOTATIONS.decision]: 'forbid', [AUDIT_ANNOTATIONS.reason]: err.message }
          : { [AUDIT_ANNOTATIONS.authentication]: 'failed', [AUDIT_ANNOTATIONS.decision]: 'forbid', [AUDIT_ANNOTATIONS.reason]: err.message },
      })
      // Never an unhandled rejection: a failure to audit a refusal is logged, the refusal still answered.
      .catch((auditError: unknown) => this.logger.error({ uri: req.url }, `audit of a refused request failed: ${(auditError as Error).message}`));
    const context = { kind: err.kind, detail: err.detail, method: req.method, uri: req.url, client: client.ip };
    if (err.kind === 'Internal') this.logger.error(context, err.message);
    else this.logger.warn(context, err.message);
    return err;
  }
}
