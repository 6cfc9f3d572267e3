import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { runInNewContext } from 'node:vm';
import type { ProxyConfig } from '../../../src/config/proxy-config.js';
import { BufferGrowthTrigger, BufferReclaimerService, youngGenerationGc } from '../../../src/health/buffer-reclaimer.service.js';
import { MetricsService } from '../../../src/health/metrics.service.js';

const MiB = 1024 * 1024;

describe('BufferGrowthTrigger', () => {
  it.each([
    ['Buffer memory has not grown', [10 * MiB], false],
    ['it grew by less than the threshold', [10 * MiB + 16 * MiB - 1], false],
    ['it grew by the threshold', [10 * MiB + 16 * MiB], true],
    ['it fell and then grew by the threshold from its low point', [2 * MiB, 18 * MiB], true],
    ['it fell, then grew by less than the threshold from its low point', [2 * MiB, 17 * MiB], false],
  ])('when %s, a collection is due: %s', (_case, readings, expected) => {
    const values = [10 * MiB, ...readings];
    const sut = new BufferGrowthTrigger(16 * MiB, () => values.shift()!);
    let due = false;
    for (let i = 0; i < readings.length; i++) due = sut.due();
    expect(due).toBe(expected);
  });

  it('counts growth from what is left after the collection', () => {
    let bytes = 0;
    const sut = new BufferGrowthTrigger(16 * MiB, () => bytes);
    bytes = 40 * MiB;
    expect(sut.due()).toBe(true);
    bytes = 30 * MiB; // chunks still being written survive the collection
    sut.collected();
    bytes = 40 * MiB;
    expect(sut.due()).toBe(false);
    bytes = 46 * MiB;
    expect(sut.due()).toBe(true);
  });
});

describe('youngGenerationGc', () => {
  it('runs a real young-generation collection, and no other context gets gc()', async () => {
    const collections: { kind: number; startTime: number }[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) collections.push({ kind: (e as unknown as { detail: { kind: number } }).detail.kind, startTime: e.startTime });
    });
    observer.observe({ entryTypes: ['gc'] });
    const gc = youngGenerationGc();
    const before = performance.now();
    gc();
    const after = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
    observer.disconnect();
    // Other tests' garbage is collected too while this runs: only what started during the call counts.
    const during = collections.filter((c) => c.startTime >= before && c.startTime <= after).map((c) => c.kind);
    expect(during).toEqual([constants.NODE_PERFORMANCE_GC_MINOR]);
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
    expect(runInNewContext('typeof gc')).toBe('undefined');
  });
});

describe('BufferReclaimerService', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  function serviceWith(streamBufferGcMiB: number): { sut: BufferReclaimerService; reclaims: () => number } {
    let count = 0;
    const metrics = { observeBufferReclaim: () => (count += 1) } as unknown as MetricsService;
    const config = { ops: { streamBufferGcMiB } } as unknown as ProxyConfig;
    return { sut: new BufferReclaimerService(config, metrics), reclaims: () => count };
  }

  it('collects and counts once Buffers grow by the threshold, checking every 20 ms', () => {
    jest.useFakeTimers();
    const { sut, reclaims } = serviceWith(1);
    sut.onModuleInit();
    // Far past the threshold, so garbage freed meanwhile by an unrelated collection cannot hide it.
    const held = [Buffer.allocUnsafeSlow(32 * MiB)];
    jest.advanceTimersByTime(20);
    sut.onModuleDestroy();
    held.length = 0;
    expect(reclaims()).toBe(1);
  });

  it('does nothing with --stream-buffer-gc-mib=0', () => {
    jest.useFakeTimers();
    const { sut, reclaims } = serviceWith(0);
    sut.onModuleInit();
    const held = [Buffer.allocUnsafeSlow(64 * MiB)];
    jest.advanceTimersByTime(1000);
    expect(jest.getTimerCount()).toBe(0); // no timer was started, rather than one that found nothing to do
    sut.onModuleDestroy();
    held.length = 0;
    expect(reclaims()).toBe(0);
  });

  it('stops checking when the module is destroyed', () => {
    jest.useFakeTimers();
    const { sut } = serviceWith(16);
    sut.onModuleInit();
    expect(jest.getTimerCount()).toBe(1);
    sut.onModuleDestroy();
    expect(jest.getTimerCount()).toBe(0);
  });
});
