/**
 * Runs real kubectl binaries. A non-zero exit is a result, not an exception: e2e cases assert on
 * kubectl's exit code and on the message it prints (Unauthorized, Forbidden, …).
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface KubectlResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly stdin?: string;
  readonly timeoutMs: number;
}

export function runToCompletion(binary: string, args: readonly string[], opts: RunOptions): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { env: opts.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kubectl ${args.join(' ')} did not finish within ${opts.timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined); // kubectl may exit before reading stdin
    child.stdin.end(opts.stdin ?? '');
  });
}

/** A long-running kubectl (`--watch`, `logs -f`, `port-forward`, interactive `exec -i`). */
export function startInBackground(binary: string, args: readonly string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(binary, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
}

/**
 * Resolves with the first match of `pattern` in the child's stdout accumulated from this call on, or rejects
 * on timeout/exit. Output printed while nobody waits is not kept: start waiting BEFORE the action that
 * causes the output (e.g. a patch a watch will print).
 */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    let errors = '';
    const finish = (outcome: () => void): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onError);
      child.off('exit', onExit);
      outcome();
    };
    const onData = (chunk: Buffer | string): void => {
      seen += chunk.toString();
      const match = seen.match(pattern);
      if (match) finish(() => resolve(match));
    };
    const onError = (chunk: Buffer | string): void => {
      errors += chunk.toString();
    };
    const onExit = (code: number | null): void =>
      finish(() => reject(new Error(`kubectl exited (${code}) before printing ${pattern}\nstdout: ${seen}\nstderr: ${errors}`)));
    const timer = setTimeout(
      () => finish(() => reject(new Error(`no ${pattern} from kubectl within ${timeoutMs} ms\nstdout: ${seen}\nstderr: ${errors}`))),
      timeoutMs,
    );
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onError);
    child.on('exit', onExit);
  });
}
