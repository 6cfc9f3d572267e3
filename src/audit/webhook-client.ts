/**
 * One POST of an `audit.k8s.io/v1` EventList to the audit webhook, as kube-apiserver's webhook backend sends
 * it. Errors say whether a retry can help (kube's DefaultShouldRetry: connection failures, timeouts, 429 and
 * 5xx; never another 4xx, which a retry would only repeat). No message carries the token or a response body.
 */
import { Agent, request } from 'node:https';
import type { AuditEvent } from './audit-event.js';
import type { WebhookTarget } from './webhook-target.js';

/** kube-apiserver's webhook client timeout (k8s.io/apiserver/pkg/util/webhook DefaultRequestTimeout). */
export const WEBHOOK_REQUEST_TIMEOUT_MS = 30_000;

export class WebhookSendError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'WebhookSendError';
  }
}

export interface EventListSender {
  send(events: readonly AuditEvent[]): Promise<void>;
  close(): void;
}

export function eventListBody(events: readonly AuditEvent[]): string {
  return JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items: events });
}

export function httpsEventListSender(target: WebhookTarget, timeoutMs = WEBHOOK_REQUEST_TIMEOUT_MS): EventListSender {
  const agent = new Agent({
    keepAlive: true,
    ...(target.ca ? { ca: target.ca } : {}),
    ...(target.clientCert && target.clientKey ? { cert: target.clientCert, key: target.clientKey } : {}),
    ...(target.servername ? { servername: target.servername } : {}),
    rejectUnauthorized: target.rejectUnauthorized,
  });
  return {
    send: (events) =>
      new Promise<void>((resolve, reject) => {
        const body = Buffer.from(eventListBody(events), 'utf8');
        const req = request(target.url, {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            'content-length': body.length,
            'user-agent': 'kube-oidc-proxy',
            ...(target.token ? { authorization: `Bearer ${target.token}` } : {}),
          },
        });
        req.setTimeout(timeoutMs, () => req.destroy(new WebhookSendError(`no answer within ${timeoutMs} ms`, true)));
        req.on('error', (err) => reject(err instanceof WebhookSendError ? err : new WebhookSendError(describe(err), true)));
        req.on('response', (res) => {
          res.resume(); // the body is not needed, and never logged
          res.on('error', (err) => reject(new WebhookSendError(describe(err), true)));
          res.on('end', () => {
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) resolve();
            else reject(new WebhookSendError(`the webhook answered ${code}`, code === 429 || code >= 500));
          });
        });
        req.end(body);
      }),
    close: () => agent.destroy(),
  };
}

function describe(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code ? `${code}: ${err.message}` : err.message;
}
