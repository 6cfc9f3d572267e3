import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { AuditEvent } from '../../../src/audit/audit-event.js';
import {
  DROP_LOG_INTERVAL_MS,
  type DropReason,
  kubeBackoff,
  sendWithBackoff,
  type WebhookBackendHooks,
  WebhookBatchBackend,
  WebhookBlockingBackend,
} from '../../../src/audit/audit-webhook-backend.js';
import { type EventListSender, WebhookSendError } from '../../../src/audit/webhook-client.js';

function event(n: number): AuditEvent {
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: `id-${n}`,
    stage: 'ResponseComplete',
    requestURI: '/api/v1/pods',
    verb: 'list',
    user: { username: 'alice' },
    sourceIPs: ['192.0.2.1'],
    requestReceivedTimestamp: '2026-11-23T05:00:00.000000Z',
    stageTimestamp: '2026-11-23T05:00:00.000000Z',
  };
}

/** A sender whose every call is recorded and answered as the test says: succeed, fail, or never. */
class FakeSender implements EventListSender {
  readonly batches: string[][] = [];
  readonly attemptsAt: number[] = [];
  answer: 'ok' | 'retryable' | 'fatal' | 'hang' = 'ok';
  closed = false;

  send(events: readonly AuditEvent[]): Promise<void> {
    this.batches.push(events.map((e) => e.auditID));
    this.attemptsAt.push(Date.now());
    switch (this.answer) {
      case 'ok':
        return Promise.resolve();
      case 'retryable':
        return Promise.reject(new WebhookSendError('the webhook answered 503', true));
      case 'fatal':
        return Promise.reject(new WebhookSendError('the webhook answered 400', false));
      case 'hang':
        return new Promise(() => undefined);
    }
  }

  close(): void {
    this.closed = true;
  }
}

function recordingHooks(): WebhookBackendHooks & { drops: Record<DropReason, number>; warnings: string[] } {
  const drops: Record<DropReason, number> = { buffer_full: 0, send_failed: 0 };
  const warnings: string[] = [];
  return {
    drops,
    warnings,
    dropped: (reason, count) => (drops[reason] += count),
    warn: (message) => warnings.push(message),
    now: () => Date.now(),
    random: () => 0.5, // no jitter: the backoff schedule is exact
  };
}

const ids = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => `id-${from + i}`);

beforeEach(() => {
  jest.useFakeTimers({ now: new Date('2026-11-23T07:00:00Z') });
});
afterEach(() => {
  jest.useRealTimers();
});

describe('WebhookBatchBackend', () => {
  const unthrottled = { bufferSize: 100, maxSize: 3, maxWaitMs: 1000 };

  it('a full batch goes out at once; a partial batch waits max-wait from its first event', async () => {
    const sender = new FakeSender();
    const sut = new WebhookBatchBackend(sender, unthrottled, kubeBackoff(10_000), recordingHooks());
    for (let n = 1; n <= 4; n++) sut.process(event(n));
    expect(sender.batches).toEqual([ids(1, 3)]);
    await jest.advanceTimersByTimeAsync(999);
    expect(sender.batches).toEqual([ids(1, 3)]);
    await jest.advanceTimersByTimeAsync(1);
    expect(sender.batches).toEqual([ids(1, 3), ['id-4']]);
  });

  it('process() returns at once even when the webhook never answers, and drops what does not fit, counting sent events too', async () => {
    const sender = new FakeSender();
    sender.answer = 'hang';
    const hooks = recordingHooks();
    const sut = new WebhookBatchBackend(sender, { bufferSize: 5, maxSize: 3, maxWaitMs: 1000 }, kubeBackoff(10_000), hooks);
    for (let n = 1; n <= 8; n++) expect(sut.process(event(n))).toBeUndefined();
    expect(sender.batches).toEqual([ids(1, 3)]); // in flight, unanswered
    expect(sut.held).toBe(5);
    expect(hooks.drops).toEqual({ buffer_full: 3, send_failed: 0 });
  });

  it('logs drops at most once per interval, with the count since the last line', async () => {
    const sender = new FakeSender();
    sender.answer = 'hang';
    const hooks = recordingHooks();
    const sut = new WebhookBatchBackend(sender, { bufferSize: 1, maxSize: 1, maxWaitMs: 1000 }, kubeBackoff(10_000), hooks);
    for (let n = 1; n <= 4; n++) sut.process(event(n));
    expect(hooks.warnings).toEqual(['audit webhook: 1 event(s) dropped since the last report (latest: the buffer of 1 events is full)']);
    await jest.advanceTimersByTimeAsync(DROP_LOG_INTERVAL_MS);
    sut.process(event(5));
    expect(hooks.warnings).toHaveLength(2);
    expect(hooks.warnings[1]).toBe('audit webhook: 3 event(s) dropped since the last report (latest: the buffer of 1 events is full)');
    expect(hooks.drops.buffer_full).toBe(4);
  });

  it('throttles batches to qps after the burst; events wait in the buffer meanwhile', async () => {
    const sender = new FakeSender();
    const sut = new WebhookBatchBackend(sender, { bufferSize: 100, maxSize: 2, maxWaitMs: 60_000, throttle: { qps: 1, burst: 1 } }, kubeBackoff(10_000), recordingHooks());
    for (let n = 1; n <= 6; n++) sut.process(event(n));
    expect(sender.batches).toEqual([ids(1, 2)]);
    await jest.advanceTimersByTimeAsync(1000);
    expect(sender.batches).toEqual([ids(1, 2), ids(3, 4)]);
    await jest.advanceTimersByTimeAsync(1000);
    expect(sender.batches).toEqual([ids(1, 2), ids(3, 4), ids(5, 6)]);
    expect(sender.attemptsAt.map((t) => t - sender.attemptsAt[0]!)).toEqual([0, 1000, 2000]);
  });

  it('retries a failed batch with exponential backoff from the initial backoff, then drops it after 5 attempts', async () => {
    const sender = new FakeSender();
    sender.answer = 'retryable';
    const hooks = recordingHooks();
    const sut = new WebhookBatchBackend(sender, unthrottled, kubeBackoff(1000), hooks);
    for (let n = 1; n <= 3; n++) sut.process(event(n));
    await jest.advanceTimersByTimeAsync(60_000);
    expect(sender.attemptsAt.map((t) => t - sender.attemptsAt[0]!)).toEqual([0, 1000, 2500, 4750, 8125]);
    expect(hooks.drops).toEqual({ buffer_full: 0, send_failed: 3 });
    expect(hooks.warnings).toEqual(['audit webhook: 3 event(s) dropped since the last report (latest: the webhook answered 503)']);
    expect(sut.held).toBe(0);
  });

  it('a batch that succeeds on a retry is not dropped', async () => {
    const sender = new FakeSender();
    sender.answer = 'retryable';
    const hooks = recordingHooks();
    const sut = new WebhookBatchBackend(sender, unthrottled, kubeBackoff(1000), hooks);
    for (let n = 1; n <= 3; n++) sut.process(event(n));
    sender.answer = 'ok';
    await jest.advanceTimersByTimeAsync(1000);
    expect(sender.batches).toEqual([ids(1, 3), ids(1, 3)]);
    expect(hooks.drops.send_failed).toBe(0);
    expect(sut.held).toBe(0);
  });

  it('an answer a retry cannot fix (4xx) is not retried', async () => {
    const sender = new FakeSender();
    sender.answer = 'fatal';
    const hooks = recordingHooks();
    const sut = new WebhookBatchBackend(sender, unthrottled, kubeBackoff(1000), hooks);
    for (let n = 1; n <= 3; n++) sut.process(event(n));
    await jest.advanceTimersByTimeAsync(60_000);
    expect(sender.batches).toHaveLength(1);
    expect(hooks.drops.send_failed).toBe(3);
  });

  it('shutdown sends what is buffered, unthrottled, and gives a batch waiting for a retry one immediate last attempt', async () => {
    const sender = new FakeSender();
    sender.answer = 'retryable';
    const hooks = recordingHooks();
    const sut = new WebhookBatchBackend(sender, { bufferSize: 100, maxSize: 2, maxWaitMs: 60_000, throttle: { qps: 0.001, burst: 1 } }, kubeBackoff(60_000), hooks);
    for (let n = 1; n <= 5; n++) sut.process(event(n));
    await jest.advanceTimersByTimeAsync(0);
    expect(sender.batches).toEqual([ids(1, 2)]); // 3..5 held back by the throttle
    sender.answer = 'ok';
    await sut.shutdown();
    expect(sender.batches).toEqual([ids(1, 2), ids(3, 4), ['id-5'], ids(1, 2)]);
    expect(hooks.drops).toEqual({ buffer_full: 0, send_failed: 0 });
    expect(sender.closed).toBe(true);
    sut.process(event(6));
    expect(hooks.drops.buffer_full).toBe(1);
  });

  it('shutdown waits for a webhook that never answers only up to its limit, and counts those events as dropped', async () => {
    const sender = new FakeSender();
    sender.answer = 'hang';
    const hooks = recordingHooks();
    const sut = new WebhookBatchBackend(sender, unthrottled, kubeBackoff(1000), hooks, 5000);
    for (let n = 1; n <= 4; n++) sut.process(event(n));
    const stopped = sut.shutdown();
    await jest.advanceTimersByTimeAsync(5000);
    await stopped;
    expect(sender.batches).toEqual([ids(1, 3), ['id-4']]);
    expect(hooks.drops.send_failed).toBe(4);
  });
});

describe('WebhookBlockingBackend', () => {
  it('each event is its own request, and process() settles only once it is delivered', async () => {
    const sender = new FakeSender();
    sender.answer = 'retryable';
    const sut = new WebhookBlockingBackend(sender, kubeBackoff(1000), recordingHooks());
    let settled = false;
    void sut.process(event(1)).then(() => (settled = true));
    await jest.advanceTimersByTimeAsync(999);
    expect(settled).toBe(false);
    sender.answer = 'ok';
    await jest.advanceTimersByTimeAsync(1);
    expect(settled).toBe(true);
    expect(sender.batches).toEqual([['id-1'], ['id-1']]);
  });

  it('an event that cannot be delivered is dropped and counted; the promise still resolves', async () => {
    const sender = new FakeSender();
    sender.answer = 'fatal';
    const hooks = recordingHooks();
    const sut = new WebhookBlockingBackend(sender, kubeBackoff(1000), hooks);
    await expect(sut.process(event(1))).resolves.toBeUndefined();
    expect(hooks.drops.send_failed).toBe(1);
  });
});

describe('sendWithBackoff', () => {
  it('jitters each wait by up to ±20%', async () => {
    const at: number[] = [];
    const send = (): Promise<void> => {
      at.push(Date.now());
      return Promise.reject(new WebhookSendError('down', true));
    };
    const done = sendWithBackoff(send, kubeBackoff(1000), new AbortController().signal, () => 1).catch(() => 'gave up');
    await jest.advanceTimersByTimeAsync(60_000);
    await expect(done).resolves.toBe('gave up');
    expect(at.map((t, i) => (i === 0 ? 0 : t - at[i - 1]!))).toEqual([0, 1200, 1800, 2700, 4050]);
  });
});
