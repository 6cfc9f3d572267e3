/**
 * Child processes for the e2e control plane: output goes to a log file (kept when a run fails), an
 * unexpected exit is recorded so the harness can say which component died, and every child is killed
 * when the test process exits, even after a crash, so no apiserver or etcd outlives its test run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { freePort } from '../../fixtures/free-port.js';

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class ManagedProcess {
  private exitInfo: ExitInfo | undefined;
  private stopping = false;
  readonly exited: Promise<ExitInfo>;

  private constructor(
    readonly name: string,
    readonly logFile: string,
    private readonly child: ChildProcess,
  ) {
    running.add(child);
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        running.delete(child);
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
      child.on('error', () => {
        running.delete(child);
        this.exitInfo = { code: null, signal: null };
        resolve(this.exitInfo);
      });
    });
  }

  static start(name: string, command: string, args: readonly string[], opts: { logFile: string; env?: NodeJS.ProcessEnv; cwd?: string }): ManagedProcess {
    const log = openSync(opts.logFile, 'a');
    try {
      const child = spawn(command, args, { stdio: ['ignore', log, log], env: opts.env ?? process.env, cwd: opts.cwd });
      return new ManagedProcess(name, opts.logFile, child);
    } finally {
      closeSync(log);
    }
  }

  /** True when the process ended without being asked to: the harness treats that as a failed run. */
  get diedUnexpectedly(): boolean {
    return this.exitInfo !== undefined && !this.stopping;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  describeExit(opts: { tailLines?: number } = {}): string {
    if (!this.exitInfo) return `${this.name} is running`;
    const how = this.exitInfo.signal ? `signal ${this.exitInfo.signal}` : `code ${this.exitInfo.code}`;
    const lines = opts.tailLines ?? 8;
    if (lines === 0) return `${this.name} exited with ${how} (log: ${this.logFile})`;
    return `${this.name} exited with ${how}; last log lines (${this.logFile}):\n${this.tail(lines)}`;
  }

  tail(lines: number): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`. Safe to call more than once or after the process died. */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopping = this.stopping || this.exitInfo === undefined;
    if (this.exitInfo) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Polls `check` until it returns true; fails fast if one of `watch` dies meanwhile. */
export async function waitFor(what: string, check: () => Promise<boolean>, opts: { timeoutMs: number; watch?: readonly ManagedProcess[] }): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  for (;;) {
    const dead = opts.watch?.find((p) => p.diedUnexpectedly);
    if (dead) throw new Error(`${what}: ${dead.describeExit()}`);
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${what}${reason}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export { freePort };
