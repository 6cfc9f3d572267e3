/**
 * Records each request's audit events, at the stages kube-apiserver records them:
 *
 *   begin()        every request on the secure port: an Audit-ID (always generated here, never the
 *                  client's, which header-policy.ts strips) returned to the client as `Audit-Id` and sent
 *                  upstream as `Audit-ID`, so the API server's own events carry the same id;
 *   admitted() /   the admission decision is known: the policy is evaluated for the authenticated user and
 *   refused()      RequestReceived is emitted (refusals too: 400/401/403 are audited);
 *   ResponseStarted   long-running requests (watch, exec, attach, portforward, log, proxy), when the
 *                  response head is written;
 *   ResponseComplete  when the response (or the upgraded stream) ends.
 *
 * Without --audit-policy-file nothing is recorded (said once at startup), only the Audit-ID is assigned.
 */
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { RequestSlot } from '../common/request-slot.js';
import { PROXY_CONFIG, type ProxyConfig } from '../config/proxy-config.js';
import { MetricsService } from '../health/metrics.service.js';
import type { RequestInfo } from '../proxy/request-info.js';
import { type AuditEvent, type AuditUserInfo, auditableBody, eventAtStage, requestReceivedEvent, withoutManagedFields } from './audit-event.js';
import { type AuditBackend, AuditLogBackend } from './audit-log-backend.js';
import { type AuditStage, evaluatePolicy, type PolicyDecision } from './audit-policy.js';
import { kubeBackoff, type WebhookBackendHooks, WebhookBatchBackend, WebhookBlockingBackend } from './audit-webhook-backend.js';
import { httpsEventListSender } from './webhook-client.js';
import { BodyCapture, type BodySink, captureWrites, decodeBody } from './body-capture.js';

/**
 * The proxy's decision, as event annotations (kube-apiserver records its own as authorization.k8s.io/decision
 * and /reason). Values are fixed words or the refusal's Status message; never a token or header value.
 */
export const AUDIT_ANNOTATIONS = {
  authentication: 'authentication.kube-oidc-proxy.io/method',
  decision: 'authorization.kube-oidc-proxy.io/decision',
  reason: 'authorization.kube-oidc-proxy.io/reason',
  impersonation: 'impersonation.kube-oidc-proxy.io/decision',
} as const;

/** kube-apiserver records unauthenticated requests as this user (k8s.io/apiserver/pkg/authentication/user). */
const ANONYMOUS: AuditUserInfo = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

export interface AuditDecision {
  readonly info: RequestInfo;
  /** The authenticated identity (with system:authenticated), or undefined when authentication failed. */
  readonly user?: AuditUserInfo;
  /** The identity the request was forwarded as, when end-user impersonation (kubectl --as) was allowed. */
  readonly impersonatedUser?: AuditUserInfo;
  readonly sourceIPs: readonly string[];
  readonly annotations: Readonly<Record<string, string>>;
}

interface Tracked {
  readonly auditID: string;
  readonly receivedAt: Date;
  base?: AuditEvent;
  decision?: PolicyDecision;
  longRunning: boolean;
  completed: boolean;
  /** The client connection or response is gone (possibly before admission decided). */
  closed: boolean;
  /** The status so far: the response's, or the upgrade's once known. */
  code: () => number;
  /** Copies of the bodies, at the levels that record them (bodyTaps). */
  requestBody?: { readonly capture: BodyCapture; readonly contentType?: string; readonly contentEncoding?: string };
  responseBody?: { readonly capture: BodyCapture; contentType?: string; contentEncoding?: string };
}

@Injectable()
export class AuditService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Audit');
  private readonly tracked = new RequestSlot<IncomingMessage, Tracked>('audit');
  /** Requests with RequestReceived written and ResponseComplete not yet: completed at shutdown if still open. */
  private readonly open = new Set<IncomingMessage>();
  private backends: AuditBackend[] = [];

  constructor(
    @Inject(PROXY_CONFIG) private readonly config: ProxyConfig,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  onModuleInit(): void {
    const audit = this.config.audit;
    if (!audit) {
      this.logger.log('no --audit-policy-file: no audit events are recorded');
      return;
    }
    if (audit.log) this.backends.push(new AuditLogBackend(audit.log));
    const webhook = audit.webhook;
    if (webhook) {
      const sender = httpsEventListSender(webhook.target);
      const hooks: WebhookBackendHooks = {
        dropped: (reason, count) => this.metrics?.observeAuditDropped('webhook', reason, count),
        warn: (message) => this.logger.warn(message),
      };
      // Both series exist from the start (at 0), so a dashboard or alert sees them before the first drop.
      for (const reason of ['buffer_full', 'send_failed'] as const) this.metrics?.observeAuditDropped('webhook', reason, 0);
      const backoff = kubeBackoff(webhook.initialBackoffMs);
      this.backends.push(webhook.mode === 'batch' ? new WebhookBatchBackend(sender, webhook.batch, backoff, hooks) : new WebhookBlockingBackend(sender, backoff, hooks));
    }
    const log = audit.log ? (audit.log.path === '-' ? 'stdout' : audit.log.path) : 'none';
    const hook = webhook ? `${webhook.target.url.origin}${webhook.target.url.pathname} (${webhook.mode} mode)` : 'none';
    this.logger.log(`audit policy ${audit.policyFile} (${audit.policy.rules.length} rules); log backend: ${log}; webhook backend: ${hook}`);
  }

  /** Every request on the secure port, before anything else: assigns its Audit-ID. */
  begin(req: IncomingMessage, res?: ServerResponse, upgradeSocket?: Duplex): string {
    const existing = this.tracked.get(req);
    if (existing) return existing.auditID;
    const tracked: Tracked = { auditID: randomUUID(), receivedAt: new Date(), longRunning: false, completed: false, closed: false, code: () => (res ? res.statusCode : 0) };
    this.tracked.set(req, tracked);
    res?.setHeader('Audit-Id', tracked.auditID);
    // Without a backend there is no event to start or complete: the Audit-ID is all a request needs.
    if (this.backends.length === 0) return tracked.auditID;
    // A safety net for upgrades: the tunnel hooks report the real outcome first; this only catches a client gone early.
    upgradeSocket?.once('close', () => {
      tracked.closed = true;
      this.complete(req, tracked.code());
    });
    if (res) {
      // Every response head goes through writeHead (ServerResponse's implicit header calls it too).
      const writeHead = res.writeHead;
      const service = this;
      res.writeHead = function (this: ServerResponse, ...args: Parameters<ServerResponse['writeHead']>) {
        const result = writeHead.apply(this, args);
        service.responseStarted(req, this.statusCode);
        return result;
      } as ServerResponse['writeHead'];
      res.once('close', () => {
        tracked.closed = true;
        this.complete(req, res.statusCode);
      });
    }
    return tracked.auditID;
  }

  auditID(req: IncomingMessage): string | undefined {
    return this.tracked.get(req)?.auditID;
  }

  /**
   * The admission decision (admitted or refused) is known: emit RequestReceived if the policy audits it.
   * Settles (never rejects) once blocking backends have delivered the event.
   */
  async decided(req: IncomingMessage, decision: AuditDecision): Promise<void> {
    const tracked = this.tracked.get(req);
    const policy = this.config.audit?.policy;
    if (!tracked || tracked.base || !policy || this.backends.length === 0) return;
    const user = decision.user ?? ANONYMOUS;
    const verdict = evaluatePolicy(policy, { user: { username: user.username, groups: user.groups ?? [] }, info: decision.info });
    if (verdict.level === 'None') return;
    tracked.decision = verdict;
    tracked.longRunning = decision.info.longRunning;
    tracked.base = requestReceivedEvent({
      auditID: tracked.auditID,
      level: verdict.level,
      requestURI: req.url ?? '/',
      info: decision.info,
      user,
      ...(decision.impersonatedUser ? { impersonatedUser: decision.impersonatedUser } : {}),
      sourceIPs: decision.sourceIPs,
      ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'] } : {}),
      receivedAt: tracked.receivedAt,
      annotations: decision.annotations,
    });
    this.open.add(req);
    const delivered = this.emit(tracked.base, verdict);
    // The client left while admission was still deciding: nothing else will complete this request.
    if (tracked.closed) this.complete(req, tracked.code());
    await delivered;
  }

  /**
   * Observers for the forwarded exchange, when the policy records bodies: at Request and RequestResponse the
   * request body, at RequestResponse also the response body, except for long-running requests (watch, log,
   * exec, proxy), whose response is a stream and is never copied. Undefined when nothing is recorded.
   */
  bodyTaps(req: IncomingMessage): { onUpstreamRequest(body: BodySink): void; onUpstreamResponse(body: Readable, headers: IncomingHttpHeaders): void } | undefined {
    const tracked = this.tracked.get(req);
    const level = tracked?.decision?.level;
    if (!tracked || (level !== 'Request' && level !== 'RequestResponse')) return undefined;
    const withResponse = level === 'RequestResponse' && !tracked.longRunning;
    return {
      onUpstreamRequest: (body) => {
        const capture = new BodyCapture();
        tracked.requestBody = { capture, ...headerFields(req.headers['content-type'], req.headers['content-encoding']) };
        captureWrites(body, capture);
      },
      onUpstreamResponse: (body, headers) => {
        if (!withResponse) return;
        const capture = new BodyCapture();
        tracked.responseBody = { capture, ...headerFields(headers['content-type'], headers['content-encoding']) };
        // A second 'data' listener beside the pipe to the client: same chunks, same pace, nothing held back.
        body.on('data', (chunk: Buffer) => capture.add(chunk));
        body.once('end', () => capture.end());
      },
    };
  }

  /** The response head (HTTP) or the 101 (upgrade) went out: long-running requests record ResponseStarted. */
  responseStarted(req: IncomingMessage, code: number): void {
    const tracked = this.tracked.get(req);
    if (!tracked?.base || !tracked.decision || !tracked.longRunning || tracked.completed) return;
    tracked.code = () => code;
    this.emit(eventAtStage(tracked.base, { stage: 'ResponseStarted', at: new Date(), status: responseStatus(code) }), tracked.decision);
  }

  /** The response or stream ended (also when the client went away, or at the end of the shutdown grace). */
  complete(req: IncomingMessage, code: number): void {
    const tracked = this.tracked.get(req);
    if (!tracked?.base || !tracked.decision || tracked.completed) return;
    tracked.completed = true;
    this.open.delete(req);
    const requestObject = bodyObject(tracked.requestBody, tracked.decision.omitManagedFields);
    const responseObject = bodyObject(tracked.responseBody, tracked.decision.omitManagedFields);
    this.emit(
      eventAtStage(tracked.base, {
        stage: 'ResponseComplete',
        at: new Date(),
        status: responseStatus(code),
        ...(requestObject !== undefined ? { requestObject } : {}),
        ...(responseObject !== undefined ? { responseObject } : {}),
      }),
      tracked.decision,
    );
  }

  /** app.close() runs after the SIGTERM drain: every backend delivers what it holds before the process exits. */
  async onModuleDestroy(): Promise<void> {
    // Streams cut at the end of the grace period may not have reported their close yet: complete them now.
    for (const req of [...this.open]) this.complete(req, this.tracked.get(req)?.code() ?? 0);
    await Promise.all(this.backends.map((b) => b.shutdown()));
  }

  /** Hands the event to every backend; the promise settles when the blocking ones are done with it. */
  private emit(event: AuditEvent, decision: PolicyDecision): Promise<void> {
    if (decision.omitStages.has(event.stage as AuditStage)) return Promise.resolve();
    const pending: Promise<void>[] = [];
    for (const backend of this.backends) {
      try {
        const result = backend.process(event);
        if (result) pending.push(result);
      } catch (err) {
        this.logger.error({ auditID: event.auditID, stage: event.stage }, `audit event not written: ${(err as Error).message}`);
      }
    }
    return pending.length === 0 ? Promise.resolve() : Promise.all(pending).then(() => undefined);
  }
}

function headerFields(contentType: string | string[] | undefined, contentEncoding: string | string[] | undefined): { contentType?: string; contentEncoding?: string } {
  const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
  const type = first(contentType);
  const encoding = first(contentEncoding);
  return { ...(type ? { contentType: type } : {}), ...(encoding ? { contentEncoding: encoding } : {}) };
}

/** A captured body as the event records it: whole JSON only, decoded, managedFields dropped when the rule says so. */
function bodyObject(body: Tracked['requestBody'], omitManagedFields: boolean): unknown {
  const whole = body?.capture.whole();
  if (!body || !whole) return undefined;
  const decoded = decodeBody(whole, body.contentEncoding);
  const parsed = auditableBody(decoded, body.contentType, decoded !== undefined);
  return omitManagedFields && parsed !== undefined ? withoutManagedFields(parsed) : parsed;
}

function responseStatus(code: number): { code: number; status?: 'Success' | 'Failure' } {
  // kube-apiserver fills status/message/reason only from a Status it produced itself; the code is what counts.
  return { code };
}
