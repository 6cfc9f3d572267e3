/**
 * `npm run bench`: kube-oidc-proxy against the same upstream reached directly, on this machine, in one run.
 * Every figure is a ratio against its baseline measured in the same run (see README, "Performance").
 *
 *   npm run bench                                   all scenarios, 3 rounds
 *   npm run bench -- --only small-get,stream --rounds 1 --duration 5
 *   npm run bench -- --watches 5000 --stream-mib 256
 *
 * Starts bench/upstream.ts in its own process, a local OIDC issuer (test/fixtures/test-issuer.ts) and the
 * built proxy (dist/main.js), and for reference bench/reference-proxy.ts (a bare Node.js HTTPS proxy); wrk (Debian: `apt-get install wrk`) drives HTTP load over keep-alive TLS.
 * Writes bench/results/<date>.{json,md,svg}. Not part of CI's pass/fail: timing is a report, not a test.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { type ClientHttp2Session, connect as connectHttp2 } from 'node:http2';
import { Agent, request } from 'node:https';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { connect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { JwtAuthenticator } from '../src/auth/jwt-authenticator.js';
import { decodeCompact } from '../src/auth/token-claims.js';
import { TokenCache, tokenKey } from '../src/auth/token-cache.js';
import { TestIssuer } from '../test/fixtures/test-issuer.js';
import { createTestCa, type TestCa } from '../test/fixtures/tls.js';
import { type Comparison, type Report, renderMarkdown, renderSvg } from './lib/report.js';
import { median, medianRound, percentile } from './lib/stats.js';
import { parseH2load } from './lib/h2load.js';
import { parseWrk, type WrkResult } from './lib/wrk.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLIENT_ID = 'kube-oidc-proxy-bench';
const SCENARIOS = ['small-get', 'small-get-h2', 'large-list', 'stream', 'watches', 'upgrade', 'token', 'as', 'ready'] as const;
type Scenario = (typeof SCENARIOS)[number];

function options() {
  const argv = process.argv.slice(2);
  const value = (name: string, fallback: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
  };
  const only = value('only', SCENARIOS.join(',')).split(',') as Scenario[];
  for (const s of only) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}; one of ${SCENARIOS.join(', ')}`);
  return {
    only: new Set(only),
    rounds: Number(value('rounds', '3')),
    durationS: Number(value('duration', '10')),
    // Each proxied watch holds one socket in the proxy (its upstream side is an HTTP/2 stream).
    watches: Number(value('watches', '10000')),
    streamMiB: Number(value('stream-mib', '1024')),
    upgradeMiB: Number(value('upgrade-mib', '256')),
  };
}
const opts = options();

const log = (msg: string) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

function run(cmd: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { maxBuffer: 16 * 1024 * 1024, timeout: timeoutMs }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} failed: ${stderr || err.message}`)) : resolve(stdout),
    ),
  );
}

// ---------------------------------------------------------------------------------------------------------
// The processes under test

function startUpstream(ca: TestCa): Promise<{ port: number; child: ChildProcess }> {
  const leaf = ca.issue('bench-upstream');
  const child = spawn(process.execPath, ['--import', join(ROOT, 'scripts/register-ts.mjs'), join(ROOT, 'bench/upstream.ts'), leaf.certFile, leaf.keyFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /LISTENING (\d+)/.exec(out);
      if (m) resolve({ port: Number(m[1]), child });
    });
    child.once('exit', (code) => reject(new Error(`upstream exited (${code})`)));
  });
}

interface Proxy {
  readonly url: string;
  readonly child: ChildProcess;
  readonly readyMs: number;
  /** The ops listener (/ready, /metrics). */
  readonly opsPort: number;
}

async function getStatus(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

// Below Linux's ephemeral range (32768-60999), which the bench's own tens of thousands of client sockets use.
let portSeed = 20000 + Math.floor(Math.random() * 10000);
/** kube-oidc-proxy as built, or bench/reference-proxy.ts: the fewest lines a Node.js HTTPS proxy can be. */
async function startProxy(args: readonly string[], which: 'kube-oidc-proxy' | 'reference' = 'kube-oidc-proxy'): Promise<Proxy> {
  const securePort = portSeed++;
  const opsPort = portSeed++;
  const started = performance.now();
  // BENCH_PROXY_NODE_ARGS: Node/V8 options for kube-oidc-proxy's process, e.g. "--max-semi-space-size=8".
  const nodeArgs = (process.env.BENCH_PROXY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const entry = which === 'reference' ? ['--import', join(ROOT, 'scripts/register-ts.mjs'), join(ROOT, 'bench/reference-proxy.ts')] : [...nodeArgs, join(ROOT, 'dist/main.js')];
  // Logs go to /dev/null: the proxy still formats every line (as in production), the bench does not read them.
  const child = spawn(process.execPath, [...entry, '--bind-address=127.0.0.1', `--secure-port=${securePort}`, `--readiness-probe-port=${opsPort}`, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  // A proxy that dies mid-scenario must say so (its clients' requests would only count as closed).
  child.once('exit', (code, signal) => {
    if (signal !== 'SIGKILL' && signal !== 'SIGTERM') log(`${which} exited unexpectedly (${code ?? signal}):\n${stderr}`);
  });
  for (;;) {
    if (child.exitCode !== null) throw new Error(`proxy exited at start:\n${stderr}`);
    if ((await getStatus(opsPort, '/ready')) === 200) break;
    if (performance.now() - started > 30_000) throw new Error(`proxy not ready after 30 s:\n${stderr}`);
    await sleep(5);
  }
  return { url: `https://127.0.0.1:${securePort}`, child, readyMs: performance.now() - started, opsPort };
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** Seconds kube-oidc-proxy has spent in GC pauses so far, from its own /metrics (prom-client's Node.js metrics). */
async function gcSeconds(p: Proxy): Promise<{ minor: number; full: number }> {
  const text = await (await fetch(`http://127.0.0.1:${p.opsPort}/metrics`)).text();
  // A renamed metric must fail the scenario, not report a proxy that never collects garbage. The TYPE line is
  // there from the start; the samples only once a collection has been observed, which a fresh proxy may not have.
  if (!text.includes('# TYPE kube_oidc_proxy_nodejs_gc_duration_seconds histogram')) throw new Error('the proxy exports no nodejs_gc_duration_seconds');
  const sum = (kind: string) => Number(new RegExp(`^kube_oidc_proxy_nodejs_gc_duration_seconds_sum\\{kind="${kind}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  // A full (mark-compact) collection runs as incremental marking steps and a final pause: both stop the proxy.
  return { minor: sum('minor'), full: sum('major') + sum('incremental') };
}

/** User plus system CPU time of a process so far, from /proc (Linux), in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ", utime and stime are fields 12 and 13 (0-based), in clock ticks.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Runs `measure` against a fresh bench/reference-proxy.ts, which is stopped afterwards whatever happens. */
async function withReferenceProxy<T>(args: readonly string[], measure: (reference: Proxy) => Promise<T>): Promise<T> {
  const reference = await startProxy(args, 'reference');
  try {
    return await measure(reference);
  } finally {
    await stopProxy(reference);
  }
}

async function stopProxy(p: Proxy): Promise<void> {
  if (p.child.exitCode !== null) return;
  const exited = new Promise((r) => p.child.once('exit', r));
  p.child.kill('SIGKILL');
  await exited;
}

// ---------------------------------------------------------------------------------------------------------
// Load generators

async function wrk(url: string, connections: number, headers: Record<string, string>): Promise<WrkResult> {
  const args = ['-t1', `-c${connections}`, `-d${opts.durationS}s`, '--latency', '-s', join(ROOT, 'bench/percentiles.lua')];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  return parseWrk(await run('wrk', [...args, url], (opts.durationS + 30) * 1000));
}

/** One wrk run (64 connections) through `p`, with the CPU time `p` spent per request, in µs. */
async function wrkWithCpu(p: Proxy, path: string, headers: Record<string, string>): Promise<{ result: WrkResult; cpuUs: number }> {
  const before = cpuSeconds(p.child.pid!);
  const result = await wrk(p.url + path, 64, headers);
  return { result, cpuUs: ((cpuSeconds(p.child.pid!) - before) * 1e6) / Math.max(1, result.requests) };
}

/**
 * `load` through kube-oidc-proxy, with the time its GC paused it per request (µs): young-generation
 * (minor) collections, and full ones. Full GCs set the tail latency, so this tells a p99 caused by
 * garbage from one caused by the shared machine.
 */
async function withGcPerRequest<T extends { result: WrkResult }>(p: Proxy, load: () => Promise<T>): Promise<T & { gcUs: { minor: number; full: number } }> {
  const before = await gcSeconds(p);
  const measured = await load();
  const after = await gcSeconds(p);
  const perRequest = (s: number) => (s * 1e6) / Math.max(1, measured.result.requests);
  return { ...measured, gcUs: { minor: perRequest(after.minor - before.minor), full: perRequest(after.full - before.full) } };
}

/**
 * h2load over HTTP/2: `connections` connections with `streams` requests in flight on each, as client-go
 * multiplexes a process's requests. With `pid`, also the CPU time that process spent per request, in µs.
 */
async function h2load(url: string, connections: number, streams: number, headers: Record<string, string>, pid?: number): Promise<{ result: WrkResult; cpuUs: number }> {
  const requestLog = join(ROOT, 'bench/.run', `h2load-${process.pid}.log`);
  const args = ['-t1', `-c${connections}`, `-m${streams}`, `-D${opts.durationS}`, '--warm-up-time=1', `--log-file=${requestLog}`];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  const before = pid ? cpuSeconds(pid) : 0;
  const output = await run('h2load', [...args, url], (opts.durationS + 30) * 1000);
  const cpu = pid ? cpuSeconds(pid) - before : 0;
  const result = parseH2load(output, readFileSync(requestLog, 'utf8'));
  rmSync(requestLog, { force: true });
  // The CPU counter also ran through the warm-up second, so divide by every request answered, not just the measured ones.
  const answered = result.requests * ((opts.durationS + 1) / opts.durationS);
  return { result, cpuUs: (cpu * 1e6) / Math.max(1, answered) };
}

/** Downloads `bytes` once; returns MB/s and the proxy's peak RSS growth while it ran (when `pid` is given). */
async function download(url: string, ca: string, token: string, pid?: number): Promise<{ mbps: number; rssGrowthMiB: number }> {
  const base = pid ? rssMiB(pid) : 0;
  let peak = base;
  const sampler = pid ? setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 25) : undefined;
  const started = performance.now();
  let received = 0;
  await new Promise<void>((resolve, reject) => {
    const req = request(url, { ca, agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`download: HTTP ${res.statusCode}`));
      res.on('data', (c: Buffer) => (received += c.length));
      res.on('end', resolve);
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  const seconds = (performance.now() - started) / 1000;
  if (sampler) clearInterval(sampler);
  return { mbps: received / 1e6 / seconds, rssGrowthMiB: peak - base };
}

/** Opens `n` watches (at most 256 handshakes at a time); resolves once every one has its first event. */
async function openWatches(base: string, ca: string, token: string, n: number): Promise<{ ms: number; close: () => void; open: () => number }> {
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity, ca });
  const live = new Set<import('node:http').ClientRequest>();
  let closed = 0;
  const started = performance.now();
  let next = 0;
  const one = () =>
    new Promise<void>((resolve, reject) => {
      let established = false;
      const req = request(`${base}/api/v1/namespaces/default/pods?watch=true`, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`watch: HTTP ${res.statusCode}`));
        res.once('data', () => {
          established = true;
          resolve();
        });
        res.on('close', () => (closed += 1));
      });
      // A watch that fails before its first event fails the scenario (it used to wait forever).
      req.on('error', (e) => (established ? (closed += 1) : reject(e)));
      live.add(req);
      req.end();
    });
  await Promise.all(
    Array.from({ length: 256 }, async () => {
      while (next < n) {
        next += 1;
        await one();
      }
    }),
  );
  const ms = performance.now() - started;
  return {
    ms,
    open: () => n - closed,
    close: () => {
      for (const r of live) r.destroy();
      agent.destroy();
    },
  };
}

/**
 * Opens `n` watches as HTTP/2 streams, `perConnection` to a connection, as client-go multiplexes a
 * process's watches; resolves once every one has its first event.
 */
async function openHttp2Watches(base: string, ca: string, token: string, n: number, perConnection: number): Promise<{ ms: number; close: () => void; open: () => number }> {
  const sessions: ClientHttp2Session[] = [];
  let closed = 0;
  const started = performance.now();
  for (let first = 0; first < n; first += perConnection) {
    const session = connectHttp2(base, { ca });
    sessions.push(session);
    await new Promise<void>((resolve, reject) => session.once('remoteSettings', () => resolve()).once('error', reject));
    const count = Math.min(perConnection, n - first);
    await Promise.all(
      Array.from(
        { length: count },
        () =>
          new Promise<void>((resolve, reject) => {
            const stream = session.request({ ':path': '/api/v1/namespaces/default/pods?watch=true', authorization: `Bearer ${token}` });
            stream.once('response', (headers) => headers[':status'] !== 200 && reject(new Error(`watch: HTTP ${headers[':status']}`)));
            stream.once('data', () => resolve());
            stream.once('close', () => (closed += 1));
            stream.once('error', reject);
          }),
      ),
    );
  }
  return { ms: performance.now() - started, open: () => n - closed, close: () => sessions.forEach((s) => s.destroy()) };
}

/** An exec-style upgraded stream: `mib` MiB written and the same read back through the echo. MB/s per direction. */
async function upgradeEcho(port: number, ca: string, token: string, mib: number): Promise<number> {
  const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' });
  await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  socket.write(
    [
      'POST /api/v1/namespaces/default/pods/web-1/exec?command=cat&stdin=true&stdout=true HTTP/1.1',
      'Host: localhost',
      'Connection: Upgrade',
      'Upgrade: SPDY/3.1',
      'X-Stream-Protocol-Version: v4.channel.k8s.io',
      `Authorization: Bearer ${token}`,
      '',
      '',
    ].join('\r\n'),
  );
  let head = Buffer.alloc(0);
  let extra = Buffer.alloc(0);
  await new Promise<void>((resolve, reject) => {
    const onData = (c: Buffer) => {
      head = Buffer.concat([head, c]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      if (!head.subarray(0, end).toString().startsWith('HTTP/1.1 101')) return reject(new Error(`upgrade refused: ${head.toString().slice(0, 200)}`));
      extra = head.subarray(end + 4);
      resolve();
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
  const total = mib * 1024 * 1024;
  const chunk = Buffer.alloc(64 * 1024, 'e');
  let received = extra.length;
  const started = performance.now();
  const done = new Promise<void>((resolve) => {
    socket.on('data', (c: Buffer) => {
      received += c.length;
      if (received >= total) resolve();
    });
  });
  let sent = 0;
  const pump = () => {
    while (sent < total) {
      sent += chunk.length;
      if (!socket.write(chunk)) return void socket.once('drain', pump);
    }
  };
  pump();
  await done;
  const seconds = (performance.now() - started) / 1000;
  socket.destroy();
  return total / 1e6 / seconds;
}

/** Sequential GETs through the proxy, one at a time on a keep-alive connection: per-request latency (ms). */
async function sequential(url: string, ca: string, headersFor: (i: number) => Record<string, string>, n: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca });
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      const req = request(url, { agent, headers: headersFor(i) }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}`));
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
    samples.push(performance.now() - started);
  }
  agent.destroy();
  return samples;
}

/** µs per call of `fn`, after a warm-up, median of 5 batches. */
async function perOp(fn: () => unknown | Promise<unknown>, batch: number): Promise<number> {
  for (let i = 0; i < Math.min(batch, 200); i++) await fn();
  const batches: number[] = [];
  for (let b = 0; b < 5; b++) {
    const started = performance.now();
    for (let i = 0; i < batch; i++) await fn();
    batches.push(((performance.now() - started) * 1000) / batch);
  }
  return median(batches);
}

// ---------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  await run('wrk', ['--version'], 5000).catch((err: Error) => {
    // wrk --version exits 1 after printing its version; only a missing binary is fatal.
    if (/ENOENT/.test(err.message)) throw new Error('wrk is not installed: apt-get install wrk (Debian/Ubuntu), then npm run bench again');
  });
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model.trim() ?? 'unknown', node: process.version, platform: `${process.platform} ${process.arch}` };
  const loadAtStart = loadavg()[0]!;
  log(`machine: ${machine.cpus} CPUs (${machine.cpuModel}), Node ${machine.node}; rounds ${opts.rounds}, wrk ${opts.durationS}s`);

  const ca = createTestCa();
  const issuer = await TestIssuer.start(ca);
  const upstream = await startUpstream(ca);
  const upstreamUrl = `https://127.0.0.1:${upstream.port}`;
  const dir = join(ROOT, 'bench/.run');
  mkdirSync(dir, { recursive: true });
  const kubeconfig = join(dir, 'upstream.kubeconfig');
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'up', cluster: { server: upstreamUrl, 'certificate-authority-data': Buffer.from(ca.caPem).toString('base64') } }],
      users: [{ name: 'proxy', user: { token: 'bench-proxy-service-account-token' } }],
      contexts: [{ name: 'up', context: { cluster: 'up', user: 'proxy' } }],
      'current-context': 'up',
    }),
  );
  const serving = ca.issue('bench-proxy');
  const proxyArgs = [
    `--oidc-issuer-url=${issuer.url}`,
    `--oidc-client-id=${CLIENT_ID}`,
    `--oidc-ca-file=${ca.caCertFile}`,
    '--oidc-username-claim=email',
    '--oidc-groups-claim=groups',
    '--oidc-signing-algs=RS256,ES256',
    `--tls-cert-file=${serving.certFile}`,
    `--tls-private-key-file=${serving.keyFile}`,
    `--kubeconfig=${kubeconfig}`,
    // Extra flags for experiments, e.g. BENCH_PROXY_ARGS="--log-level=error".
    ...(process.env.BENCH_PROXY_ARGS ?? '').split(' ').filter(Boolean),
  ];
  const token = await issuer.sign({ aud: CLIENT_ID, sub: 'bench-user', email: 'bench@example.com', groups: ['dev', 'ops'], exp: Math.floor(Date.now() / 1000) + 6 * 3600 });
  const auth = { authorization: `Bearer ${token}` };
  let proxy = await startProxy(proxyArgs);
  const comparisons: Comparison[] = [];
  const notes: string[] = [];
  let latency: Report['latency'] = { direct: {}, proxied: {} };

  try {
    // First, in a fresh heap: measured after 9,000 watches and a 1 GiB stream, the same code costs up to
    // twice as much (GC of the earlier scenarios' garbage), which is the bench, not the token path.
    if (opts.only.has('token')) {
      log('token verification cost');
      const authenticator = new JwtAuthenticator({
        issuer: { url: issuer.url, audiences: [CLIENT_ID], certificateAuthority: ca.caPem },
        claimValidationRules: [],
        claimMappings: { username: { claim: 'email', prefix: '' }, groups: { claim: 'groups', prefix: '' } },
        signingAlgs: ['RS256', 'ES256'],
      });
      await authenticator.start();
      const claims = { aud: CLIENT_ID, sub: 'bench-user', email: 'bench@example.com', groups: ['dev', 'ops'] };
      const rs = await issuer.sign(claims, { alg: 'RS256' });
      const es = await issuer.sign(claims, { alg: 'ES256' });
      // Cold: decode, claim checks, signature and mapping, as for a token not in the cache.
      const rsUs = await perOp(() => authenticator.verify(rs, decodeCompact(rs)!), 2000);
      const esUs = await perOp(() => authenticator.verify(es, decodeCompact(es)!), 1000);
      authenticator.stop();
      const cache = new TokenCache({ maxEntries: 10_000, ttlMs: 60_000 });
      cache.set(tokenKey(rs), { username: 'bench@example.com', groups: ['dev'], extra: {} } as never, Date.now() + 3_600_000);
      // Cached: what every request with a known token costs (SHA-256 of the token, then a map lookup).
      const cachedUs = await perOp(() => cache.get(tokenKey(rs)), 200_000);
      comparisons.push(
        { scenario: 'token', metric: 'cold verification RS256', unit: 'µs/op', proxied: rsUs, target: '≤ 200 µs', met: rsUs <= 200 },
        { scenario: 'token', metric: 'cold verification ES256', unit: 'µs/op', proxied: esUs },
        { scenario: 'token', metric: 'cached check', unit: 'µs/op', proxied: cachedUs, target: '≤ 5 µs', met: cachedUs <= 5 },
      );
    }

    if (opts.only.has('small-get')) {
      log('small GET, 64 connections');
      const path = '/api/v1/namespaces/default/pods/small';
      const rounds = { direct: [] as WrkResult[], proxied: [] as WrkResult[] };
      const cpuPerRequest: number[] = [];
      const gcPerRequest: { minor: number; full: number }[] = [];
      for (let r = 0; r < opts.rounds; r++) {
        rounds.direct.push(await wrk(upstreamUrl + path, 64, auth));
        const { result, cpuUs, gcUs } = await withGcPerRequest(proxy, () => wrkWithCpu(proxy, path, auth));
        cpuPerRequest.push(cpuUs);
        gcPerRequest.push(gcUs);
        rounds.proxied.push(result);
      }
      // The same load through bench/reference-proxy.ts: what Node's TLS and HTTP machinery alone costs here.
      const referenceRounds: WrkResult[] = [];
      const referenceCpu: number[] = [];
      await withReferenceProxy(proxyArgs, async (reference) => {
        for (let r = 0; r < opts.rounds; r++) {
          const { result, cpuUs } = await wrkWithCpu(reference, path, auth);
          referenceCpu.push(cpuUs);
          referenceRounds.push(result);
        }
      });
      const d = medianRound(rounds.direct, (x) => x.requestsPerSec);
      const p = medianRound(rounds.proxied, (x) => x.requestsPerSec);
      const ref = medianRound(referenceRounds, (x) => x.requestsPerSec);
      const errors = [...rounds.proxied].reduce((n, x) => n + x.socketErrors + x.non2xx, 0);
      latency = { direct: d.latencyMs, proxied: p.latencyMs };
      comparisons.push(
        { scenario: 'small GET ×64', metric: 'throughput', unit: 'req/s', direct: d.requestsPerSec, proxied: p.requestsPerSec, target: '≥ 0.30 × direct', met: p.requestsPerSec >= 0.3 * d.requestsPerSec },
        { scenario: 'small GET ×64', metric: 'p50', unit: 'ms', direct: d.latencyMs['50'], proxied: p.latencyMs['50']!, higherIsBetter: false },
        { scenario: 'small GET ×64', metric: 'p99', unit: 'ms', direct: d.latencyMs['99'], proxied: p.latencyMs['99']!, higherIsBetter: false, target: '≤ 30 ms', met: p.latencyMs['99']! <= 30 },
        { scenario: 'small GET ×64', metric: 'errors (all rounds)', unit: 'count', proxied: errors, target: '0', met: errors === 0 },
        // CPU the proxy process spent per request: steadier than req/s when other work shares the cores.
        { scenario: 'small GET ×64', metric: 'proxy CPU per request', unit: 'µs', proxied: median(cpuPerRequest) },
        { scenario: 'small GET ×64', metric: 'proxy paused by minor GC, per request', unit: 'µs', proxied: median(gcPerRequest.map((g) => g.minor)) },
        { scenario: 'small GET ×64', metric: 'proxy paused by full GC, per request', unit: 'µs', proxied: median(gcPerRequest.map((g) => g.full)) },
        { scenario: 'small GET ×64', metric: 'throughput, bare Node.js proxy (reference)', unit: 'req/s', direct: d.requestsPerSec, proxied: ref.requestsPerSec },
        { scenario: 'small GET ×64', metric: 'p99, bare Node.js proxy (reference)', unit: 'ms', direct: d.latencyMs['99'], proxied: ref.latencyMs['99']!, higherIsBetter: false },
        { scenario: 'small GET ×64', metric: 'CPU per request, bare Node.js proxy (reference)', unit: 'µs', proxied: median(referenceCpu) },
      );
    }

    if (opts.only.has('small-get-h2')) {
      log('small GET over HTTP/2, 8 connections × 8 streams');
      const path = '/api/v1/namespaces/default/pods/small';
      const direct: WrkResult[] = [];
      const proxied: WrkResult[] = [];
      const cpuPerRequest: number[] = [];
      const gcPerRequest: { minor: number; full: number }[] = [];
      for (let r = 0; r < opts.rounds; r++) {
        direct.push((await h2load(upstreamUrl + path, 8, 8, auth)).result);
        const { result, cpuUs, gcUs } = await withGcPerRequest(proxy, () => h2load(proxy.url + path, 8, 8, auth, proxy.child.pid));
        proxied.push(result);
        cpuPerRequest.push(cpuUs);
        gcPerRequest.push(gcUs);
      }
      const d = medianRound(direct, (x) => x.requestsPerSec);
      const p = medianRound(proxied, (x) => x.requestsPerSec);
      const errors = proxied.reduce((n, x) => n + x.socketErrors + x.non2xx, 0);
      comparisons.push(
        { scenario: 'small GET, HTTP/2 8×8', metric: 'throughput', unit: 'req/s', direct: d.requestsPerSec, proxied: p.requestsPerSec },
        { scenario: 'small GET, HTTP/2 8×8', metric: 'p99', unit: 'ms', direct: d.latencyMs['99'], proxied: p.latencyMs['99']!, higherIsBetter: false },
        { scenario: 'small GET, HTTP/2 8×8', metric: 'errors (all rounds)', unit: 'count', proxied: errors, target: '0', met: errors === 0 },
        { scenario: 'small GET, HTTP/2 8×8', metric: 'proxy CPU per request', unit: 'µs', proxied: median(cpuPerRequest) },
        { scenario: 'small GET, HTTP/2 8×8', metric: 'proxy paused by minor GC, per request', unit: 'µs', proxied: median(gcPerRequest.map((g) => g.minor)) },
        { scenario: 'small GET, HTTP/2 8×8', metric: 'proxy paused by full GC, per request', unit: 'µs', proxied: median(gcPerRequest.map((g) => g.full)) },
      );
    }

    if (opts.only.has('large-list')) {
      log('large list GET (500 pods), 8 connections');
      const path = '/api/v1/namespaces/default/pods';
      const d: number[] = [];
      const p: number[] = [];
      for (let r = 0; r < opts.rounds; r++) {
        d.push((await wrk(upstreamUrl + path, 8, auth)).requestsPerSec);
        p.push((await wrk(proxy.url + path, 8, auth)).requestsPerSec);
      }
      comparisons.push({ scenario: 'large list ×8', metric: 'throughput', unit: 'req/s', direct: median(d), proxied: median(p) });
    }

    if (opts.only.has('stream')) {
      log(`streamed response, ${opts.streamMiB} MiB`);
      const path = `/big?bytes=${opts.streamMiB * 1024 * 1024}`;
      const d: number[] = [];
      const p: { mbps: number; rssGrowthMiB: number }[] = [];
      for (let r = 0; r < opts.rounds; r++) {
        d.push((await download(upstreamUrl + path, ca.caPem, token)).mbps);
        p.push(await download(proxy.url + path, ca.caPem, token, proxy.child.pid));
        log(`  round ${r + 1}: direct ${d[r]!.toFixed(0)} MB/s, proxied ${p[r]!.mbps.toFixed(0)} MB/s, proxy RSS +${p[r]!.rssGrowthMiB.toFixed(1)} MiB`);
      }
      const growth = Math.max(...p.map((x) => x.rssGrowthMiB));
      const ref: number[] = [];
      await withReferenceProxy(proxyArgs, async (reference) => {
        for (let r = 0; r < opts.rounds; r++) ref.push((await download(reference.url + path, ca.caPem, token)).mbps);
      });
      comparisons.push(
        { scenario: `stream ${opts.streamMiB} MiB`, metric: 'throughput', unit: 'MB/s', direct: median(d), proxied: median(p.map((x) => x.mbps)), target: '≥ 0.7 × direct', met: median(p.map((x) => x.mbps)) >= 0.7 * median(d) },
        { scenario: `stream ${opts.streamMiB} MiB`, metric: 'proxy peak RSS growth (max of rounds)', unit: 'MiB', proxied: growth, target: '< 64 MiB', met: growth < 64 },
        { scenario: `stream ${opts.streamMiB} MiB`, metric: 'throughput, bare Node.js proxy (reference)', unit: 'MB/s', direct: median(d), proxied: median(ref) },
      );
    }

    if (opts.only.has('watches')) {
      log(`${opts.watches} idle watches`);
      // A fresh proxy, so earlier scenarios' heap does not count against the watches.
      await stopProxy(proxy);
      proxy = await startProxy(proxyArgs);
      await sleep(1000);
      const direct = await openWatches(upstreamUrl, ca.caPem, token, opts.watches);
      direct.close();
      await sleep(2000);
      const before = rssMiB(proxy.child.pid!);
      const proxied = await openWatches(proxy.url, ca.caPem, token, opts.watches);
      await sleep(3000);
      const after = rssMiB(proxy.child.pid!);
      const open = proxied.open();
      proxied.close();
      const perWatchKiB = ((after - before) * 1024) / opts.watches;
      // The same watches through bench/reference-proxy.ts: what two TLS sockets per watch cost in Node. It
      // holds both sockets of every watch, so the descriptor limit may allow it fewer watches.
      const fdLimit = Number(readFileSync('/proc/self/limits', 'utf8').match(/Max open files\s+\d+\s+(\d+)/)?.[1] ?? '20000');
      const referenceWatches = Math.min(opts.watches, Math.floor((fdLimit - 1000) / 2));
      await sleep(2000);
      const referenceKiB = await withReferenceProxy(proxyArgs, async (reference) => {
        await sleep(1000);
        const refBefore = rssMiB(reference.child.pid!);
        const refWatches = await openWatches(reference.url, ca.caPem, token, referenceWatches);
        await sleep(3000);
        const kiB = ((rssMiB(reference.child.pid!) - refBefore) * 1024) / referenceWatches;
        refWatches.close();
        return kiB;
      });
      comparisons.push(
        { scenario: `${opts.watches} idle watches`, metric: 'time to establish all', unit: 'ms', direct: direct.ms, proxied: proxied.ms, higherIsBetter: false },
        { scenario: `${opts.watches} idle watches`, metric: 'proxy RSS per watch, HTTP/1.1 clients (a connection each)', unit: 'KiB', proxied: perWatchKiB, target: '≤ 48 KiB', met: perWatchKiB <= 48 },
        { scenario: `${opts.watches} idle watches`, metric: 'still open after 3 s', unit: 'watches', proxied: open, target: `${opts.watches} (none dropped)`, met: open === opts.watches },
        { scenario: `${opts.watches} idle watches`, metric: 'RSS per watch, bare Node.js proxy (reference)', unit: 'KiB', proxied: referenceKiB },
      );
      // The same number of watches from HTTP/2 clients, 250 streams to a connection (the proxy's default
      // limit), as client-go sends a process's watches: the client side no longer costs a TLS connection each.
      await stopProxy(proxy);
      proxy = await startProxy(proxyArgs);
      await sleep(1000);
      const h2Before = rssMiB(proxy.child.pid!);
      const h2Watches = await openHttp2Watches(proxy.url, ca.caPem, token, opts.watches, 250);
      await sleep(3000);
      const h2KiB = ((rssMiB(proxy.child.pid!) - h2Before) * 1024) / opts.watches;
      const h2Open = h2Watches.open();
      h2Watches.close();
      comparisons.push(
        { scenario: `${opts.watches} idle watches`, metric: 'proxy RSS per watch, HTTP/2 clients (250 streams a connection)', unit: 'KiB', proxied: h2KiB, target: '≤ 48 KiB', met: h2KiB <= 48 },
        { scenario: `${opts.watches} idle watches`, metric: 'HTTP/2 clients: still open after 3 s', unit: 'watches', proxied: h2Open, target: `${opts.watches} (none dropped)`, met: h2Open === opts.watches },
        { scenario: `${opts.watches} idle watches`, metric: 'HTTP/2 clients: time to establish all', unit: 'ms', proxied: h2Watches.ms, higherIsBetter: false },
      );
      if (referenceWatches < opts.watches) notes.push(`The bare Node.js proxy was measured with ${referenceWatches} watches, not ${opts.watches}: it holds two sockets per watch and this machine's descriptor limit is ${fdLimit}.`);
      await sleep(2000);
    }

    if (opts.only.has('upgrade')) {
      log(`exec-style upgraded stream, ${opts.upgradeMiB} MiB each way`);
      const d: number[] = [];
      const p: number[] = [];
      for (let r = 0; r < opts.rounds; r++) {
        d.push(await upgradeEcho(upstream.port, ca.caPem, token, opts.upgradeMiB));
        p.push(await upgradeEcho(Number(new URL(proxy.url).port), ca.caPem, token, opts.upgradeMiB));
      }
      comparisons.push({ scenario: `upgrade echo ${opts.upgradeMiB} MiB`, metric: 'throughput each way', unit: 'MB/s', direct: median(d), proxied: median(p) });
    }


    if (opts.only.has('as')) {
      log('kubectl --as: SubjectAccessReview cache warm vs cold');
      const path = '/api/v1/namespaces/default/pods/small';
      const plain: number[] = [];
      const as: number[] = [];
      for (let r = 0; r < opts.rounds; r++) {
        plain.push((await wrk(proxy.url + path, 64, auth)).requestsPerSec);
        as.push((await wrk(proxy.url + path, 64, { ...auth, 'Impersonate-User': 'someone@example.com' })).requestsPerSec);
      }
      const run = Date.now();
      const cold = await sequential(proxy.url + path, ca.caPem, (i) => ({ ...auth, 'Impersonate-User': `cold-${run}-${i}@example.com` }), 300);
      const warm = await sequential(proxy.url + path, ca.caPem, () => ({ ...auth, 'Impersonate-User': 'someone@example.com' }), 300);
      comparisons.push(
        { scenario: '--as, SAR cache warm ×64', metric: 'throughput (baseline: no --as)', unit: 'req/s', direct: median(plain), proxied: median(as) },
        { scenario: '--as, one at a time', metric: 'p50, cold (SAR per request) vs warm', unit: 'ms', direct: percentile(warm, 50), proxied: percentile(cold, 50), higherIsBetter: false },
      );
    }

    if (opts.only.has('ready')) {
      log('start to ready');
      await stopProxy(proxy);
      // In a cluster the proxy finds the API server from its service account (no kubeconfig file); the
      // flags-only configuration loads the same code. A kubeconfig file also loads @kubernetes/client-node.
      const flagsArgs = proxyArgs.map((a) =>
        a.startsWith('--kubeconfig=') ? [`--server=${upstreamUrl}`, '--token=bench-proxy-service-account-token', `--certificate-authority=${ca.caCertFile}`] : [a],
      ).flat();
      const times = { flags: [] as number[], kubeconfig: [] as number[] };
      for (let r = 0; r < Math.max(3, opts.rounds); r++) {
        for (const [kind, args] of [['flags', flagsArgs], ['kubeconfig', proxyArgs]] as const) {
          const p = await startProxy(args);
          times[kind].push(p.readyMs);
          await stopProxy(p);
        }
      }
      proxy = await startProxy(proxyArgs);
      comparisons.push(
        { scenario: 'start', metric: 'time to ready, upstream from flags as in a cluster (issuer up)', unit: 'ms', proxied: median(times.flags), target: '≤ 1000 ms', met: median(times.flags) <= 1000 },
        { scenario: 'start', metric: 'time to ready, upstream from a kubeconfig file (issuer up)', unit: 'ms', proxied: median(times.kubeconfig) },
      );
    }
  } finally {
    await stopProxy(proxy);
    upstream.child.kill('SIGTERM');
    await issuer.stop();
  }

  const date = new Date().toISOString().slice(0, 10);
  // Other work on the machine moves req/s a lot; say how busy it was (1-minute load average at the start and end).
  notes.push(`Load average (1 min) at start ${loadAtStart.toFixed(2)}, at end ${loadavg()[0]!.toFixed(2)}, on ${machine.cpus} CPUs.`);
  const report: Report = { date, machine, rounds: opts.rounds, comparisons, latency, notes };
  const out = join(ROOT, 'bench/results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, `${date}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(out, `${date}.md`), renderMarkdown(report));
  writeFileSync(join(out, `${date}.svg`), renderSvg(report));
  process.stdout.write(`\n${renderMarkdown(report)}\nwritten: bench/results/${date}.{json,md,svg}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
