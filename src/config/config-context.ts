/**
 * What every section of the configuration is built from: the parsed flags, a place to report problems
 * (all of them, not just the first), and file access that names the flag and the path on failure.
 * File paths are not secret; file contents never appear in a message.
 */
import { readFileSync } from 'node:fs';
import type { ParsedArgv } from './argv-parser.js';
import type { FlagName } from './flag-definitions.js';

/** Where the parser reads files named by flags; injectable so tests can simulate unreadable files. */
export interface ConfigEnvironment {
  /** Reads a UTF-8 file; throws a Node error (with `code`, e.g. ENOENT, EACCES) when it cannot. */
  readFile(path: string): string;
}

export const NODE_CONFIG_ENVIRONMENT: ConfigEnvironment = { readFile: (path) => readFileSync(path, 'utf8') };

export class ConfigContext {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];

  constructor(
    readonly flags: ParsedArgv,
    private readonly env: ConfigEnvironment,
  ) {}

  error(message: string): void {
    this.errors.push(message);
  }

  warn(message: string): void {
    this.warnings.push(message);
  }

  /** A file named inside another file (a kubeconfig's certificate paths): throws, the caller names the field. */
  readNamedFile(path: string): string {
    return this.env.readFile(path);
  }

  /** The contents of the file a flag names, or undefined after reporting why it cannot be read. */
  readFile(flag: FlagName, path: string): string | undefined {
    try {
      return this.env.readFile(path);
    } catch (err) {
      this.error(`--${flag}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return undefined;
    }
  }
}
