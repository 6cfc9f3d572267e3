/**
 * Frees the memory of streamed chunks with young-generation collections instead of full ones.
 *
 * Every chunk of a body passing through the proxy is a Buffer whose bytes live outside V8's heap. The Buffer
 * objects die young, but a scavenge runs only when the young generation fills with objects (16 MiB
 * semi-spaces once Nest has started), and a long download fills it slowly while its chunks' bytes pile up
 * fast. V8 answers the external memory with full mark-compacts instead: 20–24 per GiB streamed, each
 * marking the whole heap (`--trace-gc`, `--trace-incremental-marking`: "external memory pressure").
 *
 * So every 20 ms the proxy compares the Buffer memory (`external_memory`, a sub-microsecond read) with its
 * low point since the last collection; once it has grown by --stream-buffer-gc-mib, one scavenge runs
 * (0.5–1 ms here), which frees every chunk already written. Three interleaved 1 GiB downloads each: proxy CPU
 * per GiB 2.66–2.76 s with it off, 1.71–2.25 s on. Small requests never grow Buffer memory that far between
 * ordinary scavenges, so they never trigger it (none in the small-GET bench). Shrinking the young generation
 * instead (`--max-semi-space-size=2`) frees chunks as fast, but small GETs then pay 3–4× more in scavenges.
 */
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PROXY_CONFIG, type ProxyConfig } from '../config/proxy-config.js';
import { MetricsService } from './metrics.service.js';

const CHECK_INTERVAL_MS = 20;

/** Decides when Buffer memory has grown enough since the last collection to be worth one. */
export class BufferGrowthTrigger {
  private low: number;

  constructor(
    private readonly thresholdBytes: number,
    private readonly readBufferBytes: () => number,
  ) {
    this.low = readBufferBytes();
  }

  /** True when a collection should run now; call `collected()` after it has. */
  due(): boolean {
    const now = this.readBufferBytes();
    if (now < this.low) this.low = now; // something else (a full GC, a closed stream) freed memory
    return now - this.low >= this.thresholdBytes;
  }

  collected(): void {
    this.low = this.readBufferBytes();
  }
}

type GcFunction = (options: { type: 'minor' }) => void;

/**
 * V8's `gc()` in a private context. V8 gives `gc` to contexts created while --expose-gc is set, so the flag
 * is set for the one context made here and cleared again: the app's own global never gets `gc`. A process
 * started with --expose-gc already has it.
 */
export function youngGenerationGc(): () => void {
  const existing = (globalThis as { gc?: GcFunction }).gc;
  if (typeof existing === 'function') return () => existing({ type: 'minor' });
  setFlagsFromString('--expose-gc');
  try {
    const gc = runInNewContext('gc') as GcFunction;
    return () => gc({ type: 'minor' });
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

@Injectable()
export class BufferReclaimerService implements OnModuleInit, OnModuleDestroy {
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(PROXY_CONFIG) private readonly config: ProxyConfig,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    const thresholdMiB = this.config.ops.streamBufferGcMiB;
    if (thresholdMiB === 0) return;
    const trigger = new BufferGrowthTrigger(thresholdMiB * 1024 * 1024, () => getHeapStatistics().external_memory);
    // Made on first use: the context costs ~2 ms and some heap, which a proxy that never streams need not pay.
    let gc: (() => void) | undefined;
    this.timer = setInterval(() => {
      if (!trigger.due()) return;
      (gc ??= youngGenerationGc())();
      trigger.collected();
      this.metrics.observeBufferReclaim();
    }, CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }
}
