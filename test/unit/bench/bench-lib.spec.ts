// The benchmark's pure parts, so `npm run bench` cannot rot unnoticed: parsing, statistics, rendering.
import { describe, expect, it } from '@jest/globals';
import { median, medianRound, percentile } from '../../../bench/lib/stats.js';
import { parseWrk, toMs } from '../../../bench/lib/wrk.js';
import { parseH2load } from '../../../bench/lib/h2load.js';
import { type Report, ratio, renderMarkdown, renderSvg } from '../../../bench/lib/report.js';

const WRK_OUTPUT = `Running 10s test @ https://127.0.0.1:40000/api/v1/namespaces/default/pods/small
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.12ms    1.20ms  30.00ms   80.00%
    Req/Sec    12.50k     1.00k   14.00k    70.00%
  Latency Distribution
     50%  850.00us
     75%    5.50ms
     90%    6.50ms
     99%    1.20s
  125000 requests in 10.00s, 50.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 5
Requests/sec:  12500.37
Transfer/sec:      5.00MB
PERCENTILES {"50":850,"99.9":2500000}
`;

describe('wrk output', () => {
  it('reads requests, rate, errors and every percentile in milliseconds', () => {
    const sut = parseWrk(WRK_OUTPUT);
    expect(sut).toMatchObject({ requests: 125000, durationS: 10, requestsPerSec: 12500.37, socketErrors: 3, non2xx: 5 });
    expect(sut.latencyMs).toEqual({ '50': 0.85, '75': 5.5, '90': 6.5, '99': 1200, '99.9': 2500 });
  });

  it('refuses output without a summary instead of reporting zeros', () => {
    expect(() => parseWrk('unable to connect to 127.0.0.1:1 Connection refused')).toThrow(/no summary/);
  });

  it.each([
    ['12us', 0.012],
    ['3.5ms', 3.5],
    ['2s', 2000],
    ['1m', 60000],
  ])('converts %s to %d ms', (text, ms) => {
    expect(toMs(text)).toBeCloseTo(ms);
  });
});

const H2LOAD_OUTPUT = `starting benchmark...
Application protocol: h2
finished in 8.01s, 2404.00 req/s, 1.16MB/s
requests: 19232 total, 19296 started, 19232 done, 19200 succeeded, 32 failed, 2 errored, 1 timeout
status codes: 19200 2xx, 0 3xx, 20 4xx, 9 5xx
traffic: 9.24MB (9689351) total, 708.92KB (725933) headers (space savings 71.41%), 8.05MB (8443726) data
                     min         max         mean         sd        +/- sd
time for request:     4.27ms    400.64ms     26.44ms     21.26ms    89.79%
`;

describe('h2load output', () => {
  it('reads requests, rate and errors from the summary and percentiles from the request log', () => {
    const log = Array.from({ length: 100 }, (_, i) => `1795445745055000\t200\t${(i + 1) * 1000}`).join('\n');
    const sut = parseH2load(H2LOAD_OUTPUT, `${log}\n`);
    expect(sut).toMatchObject({ requests: 19232, durationS: 8.01, requestsPerSec: 2404, socketErrors: 3, non2xx: 29 });
    expect(sut.latencyMs).toEqual({ '50': 50, '75': 75, '90': 90, '99': 99, '99.9': 100 });
  });

  it('refuses output without a summary instead of reporting zeros', () => {
    expect(() => parseH2load('connect error: Connection refused', '')).toThrow(/no summary/);
  });
});

describe('statistics', () => {
  it('median of odd and even sample counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('nearest-rank percentiles', () => {
    const samples = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(samples, 50)).toBe(50);
    expect(percentile(samples, 99)).toBe(99);
    expect(percentile(samples, 100)).toBe(100);
    expect(percentile([7], 1)).toBe(7);
  });

  it('the median round keeps its own figures together', () => {
    const rounds = [{ rps: 10, p99: 1 }, { rps: 30, p99: 3 }, { rps: 20, p99: 2 }];
    expect(medianRound(rounds, (r) => r.rps)).toEqual({ rps: 20, p99: 2 });
  });
});

describe('report', () => {
  const report: Report = {
    date: '2026-11-23',
    machine: { cpus: 2, cpuModel: 'Test CPU', node: 'v24.0.0', platform: 'linux x64' },
    rounds: 3,
    comparisons: [
      { scenario: 'small GET', metric: 'throughput', unit: 'req/s', direct: 10000, proxied: 4000, target: '≥ 0.30 × direct', met: true },
      { scenario: 'small GET', metric: 'p99', unit: 'ms', direct: 5, proxied: 20, higherIsBetter: false, target: '≤ 30 ms', met: true },
      { scenario: 'start', metric: 'time to ready', unit: 'ms', proxied: 400, target: '≤ 1000 ms', met: true },
    ],
    latency: { direct: { '50': 1, '99': 5 }, proxied: { '50': 4, '99': 20 } },
    notes: ['a note & <markup>'],
  };

  it('ratios are oriented so that 1 means as fast as direct', () => {
    expect(ratio(report.comparisons[0]!)).toBeCloseTo(0.4);
    expect(ratio(report.comparisons[1]!)).toBeCloseTo(0.25);
    expect(ratio(report.comparisons[2]!)).toBeUndefined();
  });

  it('renders one Markdown row per comparison with ratio and verdict', () => {
    const md = renderMarkdown(report);
    expect(md).toContain('| small GET | throughput (req/s) | 10,000 | 4,000 | 0.40 | ≥ 0.30 × direct | yes |');
    expect(md).toContain('| start | time to ready (ms) | – | 400 | – | ≤ 1000 ms | yes |');
    expect(md).toContain('2 × Test CPU');
  });

  it('renders a well-formed SVG with one bar per ratio and both latency series, escaping text', () => {
    const svg = renderSvg(report);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<rect x=/g)).toHaveLength(2);
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg).not.toContain('<markup>');
  });
});
