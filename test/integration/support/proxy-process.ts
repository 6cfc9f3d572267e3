/**
 * Starts the real, built proxy (`node dist/main.js`) as a child process on real sockets, exactly as an
 * operator would run it, and collects what it prints. Shared by integration and e2e suites.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { freePort } from '../../fixtures/free-port.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const MAIN_JS = join(REPO_ROOT, 'dist', 'main.js');

/** Every proxy a test started, killed when the test process exits, so a failed setup never leaves one running. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface ProxyProcess {
  readonly securePort: number;
  readonly opsPort: number;
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal name). */
  readonly exited: Promise<number | string>;
  waitForOutput(pattern: RegExp | string, timeoutMs?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

export interface StartOptions {
  /** Flags after the generated --secure-port/--readiness-probe-port/--bind-address. */
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Wait for /ready to answer 200 (default true). */
  readonly waitReady?: boolean;
  readonly readyTimeoutMs?: number;
}

export async function opsGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'GET', timeout: 2000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
}

/**
 * Start the built proxy on fresh ports. freePort() can only promise a port was free a moment ago: when
 * another process (a parallel test run, the bench) takes it first, the proxy exits with EADDRINUSE and is
 * started again on new ports, up to three times.
 */
export async function startProxy(options: StartOptions): Promise<ProxyProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startProxyOnce(options);
    } catch (err) {
      if (!(err instanceof PortTaken) || attempt >= 3) throw err;
    }
  }
}

class PortTaken extends Error {}

async function startProxyOnce(options: StartOptions): Promise<ProxyProcess> {
  const securePort = await freePort();
  const opsPort = await freePort();
  const child = spawn(
    process.execPath,
    [MAIN_JS, '--bind-address=127.0.0.1', `--secure-port=${securePort}`, `--readiness-probe-port=${opsPort}`, ...options.args],
    { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  child.once('exit', () => running.delete(child));
  let out = '';
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    stdout += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    out += c.toString();
    stderr += c.toString();
  });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const proc: ProxyProcess = {
    securePort,
    opsPort,
    url: `https://127.0.0.1:${securePort}`,
    child,
    output: () => out,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async waitForOutput(pattern, timeoutMs = 10_000) {
      const matches = () => (typeof pattern === 'string' ? out.includes(pattern) : pattern.test(out));
      await waitFor(async () => (matches() ? true : undefined), timeoutMs, `output ${String(pattern)}\n--- output so far ---\n${out}`);
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  if (options.waitReady ?? true) {
    let exitedEarly = false;
    void exited.then(() => (exitedEarly = true));
    const portTaken = exited.then(() => (/EADDRINUSE/.test(out) && !options.args.some((a) => /EADDRINUSE/.test(a)) ? 'taken' : 'other'));
    const ready = waitFor(
      async () => {
        if (exitedEarly) throw new Error(`proxy exited before becoming ready:\n${out}`);
        const r = await opsGet(opsPort, '/ready');
        return r.status === 200 ? true : undefined;
      },
      options.readyTimeoutMs ?? 15_000,
      `proxy /ready\n--- output so far ---\n${out}`,
    );
    // A port taken between freePort() and the proxy's listen: no need to wait out the ready timeout.
    const outcome = await Promise.race([ready.then(() => 'ready' as const), portTaken.then((p) => (p === 'taken' ? p : ready.then(() => 'ready' as const)))]).catch(
      async (err: unknown) => {
        child.kill('SIGKILL');
        throw err;
      },
    );
    if (outcome === 'taken') {
      void ready.catch(() => undefined);
      throw new PortTaken(`a port was taken before the proxy could listen:\n${out}`);
    }
  }
  return proc;
}

export interface OidcProxySetup {
  readonly issuerUrl: string;
  readonly clientId: string;
  /** CA of the issuer's TLS certificate. */
  readonly issuerCaFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** The proxy's own upstream kubeconfig. */
  readonly kubeconfig: string;
}

/** The flags every suite and the demo start the proxy with: email usernames, groups from `groups`. */
export function oidcProxyArgs(s: OidcProxySetup): string[] {
  return [
    `--oidc-issuer-url=${s.issuerUrl}`,
    `--oidc-client-id=${s.clientId}`,
    `--oidc-ca-file=${s.issuerCaFile}`,
    '--oidc-username-claim=email',
    '--oidc-groups-claim=groups',
    `--tls-cert-file=${s.certFile}`,
    `--tls-private-key-file=${s.keyFile}`,
    `--kubeconfig=${s.kubeconfig}`,
  ];
}

export { freePort };
