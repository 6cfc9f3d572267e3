/**
 * The --audit-webhook-* backend, in kube-apiserver's two modes (k8s.io/apiserver/plugin/pkg/audit/buffered
 * and .../webhook):
 *
 *   batch     process() only appends to a bounded buffer and returns: a request never waits for the
 *             webhook. A batch goes out when it reaches --audit-webhook-batch-max-size or its oldest event
 *             has waited --audit-webhook-batch-max-wait, at most --audit-webhook-batch-throttle-qps batches a
 *             second (bursts of -burst). Unlike kube, whose buffer counts only unsent events, events being
 *             sent or retried count against --audit-webhook-batch-buffer-size too, so memory stays bounded
 *             when the webhook is down; an event that does not fit is dropped, counted and logged (at most
 *             one line per interval, with the count).
 *   blocking  process() returns a promise settled once the event is delivered (or given up on); the
 *             caller awaits it for RequestReceived, so the request goes upstream only after its event left.
 *
 * A failed send is retried with exponential backoff from --audit-webhook-initial-backoff (×1.5, ±20% jitter,
 * 5 attempts: kube's DefaultRetryBackoffWithInitialDelay), only when a retry can help. Events still failing
 * are dropped and counted. shutdown() (after the SIGTERM drain) sends what is buffered, gives every batch
 * waiting for a retry one immediate last attempt, and waits at most a bounded time for them.
 */
import type { AuditEvent } from './audit-event.js';
import type { AuditBackend } from './audit-log-backend.js';
import { type EventListSender, WebhookSendError } from './webhook-client.js';

export type WebhookMode = 'batch' | 'blocking';
export type DropReason = 'buffer_full' | 'send_failed';

export interface WebhookBatchSettings {
  readonly bufferSize: number;
  readonly maxSize: number;
  readonly maxWaitMs: number;
  /** Absent: no throttling (--audit-webhook-batch-throttle-enable=false). */
  readonly throttle?: { readonly qps: number; readonly burst: number };
}

export interface WebhookBackendHooks {
  /** Events lost, with why (the metric). */
  dropped(reason: DropReason, count: number): void;
  /** A problem worth a log line; already rate-limited for drops. */
  warn(message: string): void;
  /** Clock and randomness, replaceable in unit tests. */
  readonly now?: () => number;
  readonly random?: () => number;
}

export interface Backoff {
  readonly initialMs: number;
  readonly factor: number;
  readonly jitter: number;
  readonly steps: number;
}

export function kubeBackoff(initialMs: number): Backoff {
  return { initialMs, factor: 1.5, jitter: 0.2, steps: 5 };
}

/** How long shutdown() waits for the last attempts before counting what is left as dropped. */
export const SHUTDOWN_FLUSH_LIMIT_MS = 15_000;
/** At most one "events dropped" line per this interval. */
export const DROP_LOG_INTERVAL_MS = 10_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Sends with retries. Once `stop` is aborted, a sleeping retry wakes and makes one last attempt, so a
 * shutdown never waits out a long backoff.
 */
export async function sendWithBackoff(send: () => Promise<void>, backoff: Backoff, stop: AbortSignal, random: () => number = Math.random): Promise<void> {
  let delay = backoff.initialMs;
  for (let attempt = 1; ; attempt++) {
    const lastChance = stop.aborted;
    try {
      await send();
      return;
    } catch (err) {
      const retryable = err instanceof WebhookSendError ? err.retryable : true;
      if (!retryable || attempt >= backoff.steps || lastChance) throw err;
    }
    await sleep(delay * (1 + backoff.jitter * (2 * random() - 1)), stop);
    delay *= backoff.factor;
  }
}

/** Counts drops and logs them at most once per interval, with the count since the last line. */
class DropReporter {
  private pending = 0;
  private lastLog = -Infinity;

  constructor(
    private readonly hooks: WebhookBackendHooks,
    private readonly now: () => number,
  ) {}

  drop(reason: DropReason, count: number, why: string): void {
    this.hooks.dropped(reason, count);
    this.pending += count;
    const now = this.now();
    if (now - this.lastLog < DROP_LOG_INTERVAL_MS) return;
    this.hooks.warn(`audit webhook: ${this.pending} event(s) dropped since the last report (latest: ${why})`);
    this.pending = 0;
    this.lastLog = now;
  }
}

export class WebhookBatchBackend implements AuditBackend {
  private buffer: AuditEvent[] = [];
  private inFlight = 0;
  private readonly sends = new Set<Promise<void>>();
  private waitTimer: NodeJS.Timeout | undefined;
  private throttleTimer: NodeJS.Timeout | undefined;
  private tokens: number;
  private refilledAt: number;
  private stopping = false;
  private readonly stop = new AbortController();
  private readonly now: () => number;
  private readonly drops: DropReporter;

  constructor(
    private readonly sender: EventListSender,
    private readonly settings: WebhookBatchSettings,
    private readonly backoff: Backoff,
    private readonly hooks: WebhookBackendHooks,
    private readonly flushLimitMs = SHUTDOWN_FLUSH_LIMIT_MS,
  ) {
    this.now = hooks.now ?? Date.now;
    this.drops = new DropReporter(hooks, this.now);
    this.tokens = settings.throttle?.burst ?? 0;
    this.refilledAt = this.now();
  }

  /** Events buffered or being sent: what counts against the buffer size. */
  get held(): number {
    return this.buffer.length + this.inFlight;
  }

  process(event: AuditEvent): void {
    if (this.stopping) {
      this.drops.drop('buffer_full', 1, 'the proxy is shutting down');
      return;
    }
    if (this.held >= this.settings.bufferSize) {
      this.drops.drop('buffer_full', 1, `the buffer of ${this.settings.bufferSize} events is full`);
      return;
    }
    this.buffer.push(event);
    if (this.buffer.length >= this.settings.maxSize) this.dispatch();
    else this.waitTimer ??= unref(setTimeout(() => this.dispatchDue(), this.settings.maxWaitMs));
  }

  async shutdown(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.waitTimer);
    clearTimeout(this.throttleTimer);
    this.stop.abort();
    while (this.buffer.length > 0) this.startSend(this.buffer.splice(0, this.settings.maxSize));
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<'limit'>((resolve) => (timer = setTimeout(() => resolve('limit'), this.flushLimitMs)));
    const outcome = await Promise.race([Promise.all([...this.sends]).then(() => 'done' as const), limit]);
    clearTimeout(timer);
    if (outcome === 'limit' && this.inFlight > 0) this.drops.drop('send_failed', this.inFlight, `not delivered within ${this.flushLimitMs} ms of shutdown`);
    this.sender.close();
  }

  /** The max-wait timer fired: send what is there, full or not. */
  private dispatchDue(): void {
    this.waitTimer = undefined;
    this.dispatch();
  }

  private dispatch(): void {
    if (this.stopping || this.throttleTimer) return; // a throttled dispatch is already scheduled
    while (this.buffer.length > 0) {
      const wait = this.takeToken();
      if (wait > 0) {
        this.throttleTimer = unref(
          setTimeout(() => {
            this.throttleTimer = undefined;
            this.dispatch();
          }, wait),
        );
        return;
      }
      clearTimeout(this.waitTimer);
      this.waitTimer = undefined;
      this.startSend(this.buffer.splice(0, this.settings.maxSize));
      // What is left is a partial batch: it waits for more events or for max-wait.
      if (this.buffer.length < this.settings.maxSize) break;
    }
    if (this.buffer.length > 0) this.waitTimer ??= unref(setTimeout(() => this.dispatchDue(), this.settings.maxWaitMs));
  }

  /** Token bucket (client-go's flowcontrol): 0 when a batch may go now, else the milliseconds until it may. */
  private takeToken(): number {
    const throttle = this.settings.throttle;
    if (!throttle) return 0;
    const now = this.now();
    this.tokens = Math.min(throttle.burst, this.tokens + ((now - this.refilledAt) / 1000) * throttle.qps);
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) / throttle.qps) * 1000);
  }

  private startSend(batch: AuditEvent[]): void {
    this.inFlight += batch.length;
    const sending = sendWithBackoff(() => this.sender.send(batch), this.backoff, this.stop.signal, this.hooks.random)
      .catch((err: Error) => this.drops.drop('send_failed', batch.length, err.message))
      .finally(() => {
        this.inFlight -= batch.length;
        this.sends.delete(sending);
      });
    this.sends.add(sending);
  }
}

export class WebhookBlockingBackend implements AuditBackend {
  private readonly sends = new Set<Promise<void>>();
  private readonly stop = new AbortController();
  private readonly drops: DropReporter;

  constructor(
    private readonly sender: EventListSender,
    private readonly backoff: Backoff,
    private readonly hooks: WebhookBackendHooks,
    private readonly flushLimitMs = SHUTDOWN_FLUSH_LIMIT_MS,
  ) {
    this.drops = new DropReporter(hooks, hooks.now ?? Date.now);
  }

  /** Settles (never rejects) once the event is delivered or given up on. */
  process(event: AuditEvent): Promise<void> {
    const sending = sendWithBackoff(() => this.sender.send([event]), this.backoff, this.stop.signal, this.hooks.random)
      .catch((err: Error) => this.drops.drop('send_failed', 1, err.message))
      .finally(() => this.sends.delete(sending));
    this.sends.add(sending);
    return sending;
  }

  async shutdown(): Promise<void> {
    this.stop.abort();
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.flushLimitMs)));
    await Promise.race([Promise.all([...this.sends]), limit]);
    clearTimeout(timer);
    if (this.sends.size > 0) this.drops.drop('send_failed', this.sends.size, `not delivered within ${this.flushLimitMs} ms of shutdown`);
    this.sender.close();
  }
}

function unref(timer: NodeJS.Timeout): NodeJS.Timeout {
  timer.unref();
  return timer;
}
