/**
 * THE list of admission steps. Every request, plain HTTP (through AdmissionGuard) and Upgrade (through
 * UpgradeListener, which Node dispatches outside Nest's guards), runs exactly this function, so an
 * upgrade can never skip a step:
 *
 *   1. find the bearer token (missing, empty or non-bearer → 401)
 *   2. verify it like kube-apiserver's OIDC authenticator (any failure → 401)
 *   3. refuse reserved identities from the identity provider (`system:` user or group → 403)
 *   4. the outbound identity (empty username → 403): the authenticated user, or, for `kubectl --as`, the
 *      target once every SubjectAccessReview allowed it (malformed headers → 400, denied → 403)
 *   5. build the complete outbound header set: client headers sanitised FIRST, identity headers added after
 *
 * The proxy's own credentials are added later by the Upstream module, which re-checks the result.
 */
import { Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { OutgoingHttpHeaders } from 'node:http';
import { OidcAuthenticatorService } from '../auth/oidc-authenticator.service.js';
import type { UserInfo } from '../auth/user-info.js';
import { AccessLogService } from '../audit/access-log.service.js';
import { MetricsService } from '../health/metrics.service.js';
import { impersonationHeaders, type OutboundIdentity, sanitizeInboundHeaders, withAuthenticatedGroup } from '../impersonation/header-policy.js';
import { ImpersonationService } from '../impersonation/impersonation.service.js';
import { AdmissionError, unauthenticated } from './admission-error.js';
import { bearerToken, withoutBearerProtocol } from './bearer-token.js';
import { type ClientAddress, resolveClientAddress } from './client-address.js';
import { toAdmissionError } from './kube-status.js';
import { type RequestInfo, resolveRequestInfo } from './request-info.js';

export interface AdmittedRequest {
  readonly user: UserInfo;
  readonly identity: OutboundIdentity;
  /** Complete outbound headers except the proxy's own credentials. */
  readonly headers: OutgoingHttpHeaders;
  readonly credentials: 'proxy' | 'client';
  readonly client: ClientAddress;
  readonly info: RequestInfo;
}

const admitted = new WeakMap<IncomingMessage, AdmittedRequest>();

/** The admission result for this request, if it was admitted (for bookkeeping such as metrics). */
export function peekAdmitted(req: IncomingMessage): AdmittedRequest | undefined {
  return admitted.get(req);
}

/** The admission result the guard stored for this request; absence is a bug and fails closed. */
export function admittedRequest(req: IncomingMessage): AdmittedRequest {
  const result = admitted.get(req);
  if (!result) throw new AdmissionError('Internal', 'Internal error occurred: request was not admitted', 'no admission result on request');
  return result;
}

@Injectable()
export class AdmissionService {
  private readonly logger = new Logger('Admission');

  constructor(
    private readonly auth: OidcAuthenticatorService,
    private readonly impersonation: ImpersonationService,
    private readonly accessLog: AccessLogService,
    private readonly metrics: MetricsService,
  ) {}

  clientAddress(req: IncomingMessage): ClientAddress {
    return resolveClientAddress(req.socket.remoteAddress, req.socket.remotePort, req.headers['x-forwarded-for']);
  }

  async admit(req: IncomingMessage): Promise<AdmittedRequest> {
    const client = this.clientAddress(req);
    const info = resolveRequestInfo(req.method ?? 'GET', req.url ?? '/');

    const lookup = bearerToken(req.headers);
    if (lookup.kind === 'missing') throw unauthenticated('no bearer token in the request');
    if (lookup.kind === 'invalid') throw unauthenticated(lookup.reason);
    let user: UserInfo;
    try {
      user = await this.auth.authenticate(lookup.token);
    } catch (err) {
      this.metrics.observeAuthentication('failure');
      throw err;
    }
    this.metrics.observeAuthentication('success');

    this.impersonation.refuseReservedIdentity(user);
    const { identity, impersonated } = await this.impersonation.outboundIdentity(req, user, client);

    const headers: OutgoingHttpHeaders = {
      ...sanitizeInboundHeaders(req.headers),
      ...impersonationHeaders(identity),
      'x-forwarded-for': client.ip,
    };
    if (lookup.source === 'websocket-protocol') {
      const protocols = withoutBearerProtocol(req.headers['sec-websocket-protocol']);
      if (protocols) headers['sec-websocket-protocol'] = protocols;
      else delete headers['sec-websocket-protocol'];
    }

    const result: AdmittedRequest = { user, identity, headers, credentials: 'proxy', client, info };
    admitted.set(req, result);
    this.accessLog.success({
      client,
      uri: req.url ?? '/',
      inbound: impersonated ? { ...user, groups: withAuthenticatedGroup(user.groups) } : { ...user, groups: identity.groups },
      ...(impersonated ? { outbound: identity } : {}),
    });
    return result;
  }

  /** The one place a refusal is recorded: SIEM AuFail line, a structured log line with the detail, metrics. */
  recordRefusal(req: IncomingMessage, error: unknown): AdmissionError {
    const err = toAdmissionError(error);
    const client = this.clientAddress(req);
    this.accessLog.failure(client, req.url ?? '/');
    const context = { kind: err.kind, detail: err.detail, method: req.method, uri: req.url, client: client.ip };
    if (err.kind === 'Internal') this.logger.error(context, err.message);
    else this.logger.warn(context, err.message);
    return err;
  }
}
