/**
 * h2load (Debian `nghttp2-client`) output → the same shape as a wrk run. h2load drives HTTP/2 the way
 * client-go does (many streams over few connections); wrk speaks only HTTP/1.1. Its summary has no
 * percentiles, so they come from its --log-file (one line per request: start µs, status, elapsed µs).
 */
import { percentile } from './stats.js';
import type { WrkResult } from './wrk.js';

const PERCENTILES = [50, 75, 90, 99, 99.9];

export function parseH2load(output: string, requestLog: string): WrkResult {
  const finished = /finished in ([\d.]+)s, ([\d.]+) req\/s/.exec(output);
  const counts = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(output);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(output);
  if (!finished || !counts || !codes) throw new Error(`h2load printed no summary:\n${output}`);
  const elapsedMs: number[] = [];
  for (const line of requestLog.split('\n')) {
    const fields = line.split('\t');
    if (fields.length >= 3 && /^\d+$/.test(fields[2]!)) elapsedMs.push(Number(fields[2]) / 1000);
  }
  const latencyMs: Record<string, number> = {};
  if (elapsedMs.length > 0) for (const p of PERCENTILES) latencyMs[String(p)] = percentile(elapsedMs, p);
  return {
    requests: Number(counts[3]),
    durationS: Number(finished[1]),
    requestsPerSec: Number(finished[2]),
    latencyMs,
    // Requests that got no answer (h2load's "failed" also counts 4xx/5xx answers, which are counted below).
    socketErrors: Number(counts[6]) + Number(counts[7]),
    // As wrk counts them: answers outside 2xx and 3xx.
    non2xx: Number(codes[3]) + Number(codes[4]),
  };
}
