/**
 * Parses what `wrk --latency -s bench/percentiles.lua` prints. The Lua script adds one line
 * `PERCENTILES {"50":123,...}` (microseconds) so the report can draw the latency distribution.
 */
export interface WrkResult {
  readonly requests: number;
  readonly durationS: number;
  readonly requestsPerSec: number;
  /** Latency percentiles in milliseconds, keyed by percentile ("50", "99", "99.9", ...). */
  readonly latencyMs: Readonly<Record<string, number>>;
  readonly socketErrors: number;
  readonly non2xx: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

export function toMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!m) throw new Error(`not a wrk duration: ${JSON.stringify(text)}`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

export function parseWrk(output: string): WrkResult {
  const done = /(\d+) requests in ([\d.]+)(us|ms|s|m),/.exec(output);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(output);
  if (!done || !rps) throw new Error(`wrk printed no summary:\n${output}`);
  const latencyMs: Record<string, number> = {};
  for (const m of output.matchAll(/^\s+([\d.]+)%\s+([\d.]+(?:us|ms|s|m))\s*$/gm)) latencyMs[String(Number(m[1]))] = toMs(m[2]!);
  const lua = /^PERCENTILES (\{.*\})$/m.exec(output);
  if (lua) for (const [p, us] of Object.entries(JSON.parse(lua[1]!) as Record<string, number>)) latencyMs[String(Number(p))] = us / 1000;
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  return {
    requests: Number(done[1]),
    durationS: toMs(`${done[2]}${done[3]}`) / 1000,
    requestsPerSec: Number(rps[1]),
    latencyMs,
    socketErrors: sock ? sock.slice(1).reduce((n, v) => n + Number(v), 0) : 0,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
  };
}
