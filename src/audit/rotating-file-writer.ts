/**
 * An append-only line writer with lumberjack's rotation (gopkg.in/natefinch/lumberjack.v2, which
 * kube-apiserver uses for --audit-log-path): when a write would take the file past maxSize, the file is
 * renamed to `<name>-<UTC time>.<ext>` and a new one started; then backups beyond maxBackups, or older
 * than maxAge days, are deleted (0 = keep). Written here rather than as a dependency because it is
 * this small and audit delivery must not depend on a package's buffering.
 *
 * Writes are synchronous: when write() returns, the line is in the kernel, so an exit right after loses
 * nothing (the SIGTERM guarantee) and lines are never interleaved.
 */
import { closeSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';

export interface RotationSettings {
  /** Bytes; lumberjack's MaxSize 0 means 100 MB. */
  readonly maxSizeBytes: number;
  /** Rotated files to keep; 0 keeps all (subject to maxAgeDays). */
  readonly maxBackups: number;
  /** Days to keep rotated files, by the time in their name; 0 keeps all. */
  readonly maxAgeDays: number;
}

export const LUMBERJACK_DEFAULT_MAX_SIZE_BYTES = 100 * 1024 * 1024;

/** `--audit-log-maxsize` is in megabytes, as in kube-apiserver. */
export function rotationFromFlags(maxSizeMegabytes: number, maxBackups: number, maxAgeDays: number): RotationSettings {
  return {
    maxSizeBytes: maxSizeMegabytes > 0 ? maxSizeMegabytes * 1024 * 1024 : LUMBERJACK_DEFAULT_MAX_SIZE_BYTES,
    maxBackups,
    maxAgeDays,
  };
}

/** lumberjack's backup time format, 2006-01-02T15-04-05.000, in UTC. */
function backupStamp(now: Date): string {
  return now.toISOString().replace(/Z$/, '').replace(/:/g, '-');
}

function parseBackupStamp(stamp: string): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})\.(\d{3})$/.exec(stamp);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}T${m[2]}:${m[3]}:${m[4]}.${m[5]}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

export class RotatingFileWriter {
  private fd: number | undefined;
  private size = 0;
  private readonly prefix: string;
  private readonly ext: string;

  constructor(
    private readonly path: string,
    private readonly settings: RotationSettings,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.ext = extname(path);
    this.prefix = `${basename(path, this.ext)}-`;
  }

  /** Opens (creating if needed, mode 0600: events name users and resources) so a bad path fails at startup. */
  open(): void {
    if (this.fd !== undefined) return;
    this.fd = openSync(this.path, 'a', 0o600);
    this.size = statSync(this.path).size;
  }

  write(line: string): void {
    const bytes = Buffer.from(line.endsWith('\n') ? line : `${line}\n`, 'utf8');
    this.open();
    if (this.size > 0 && this.size + bytes.length > this.settings.maxSizeBytes) this.rotate();
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(this.fd!, bytes, offset);
    this.size += bytes.length;
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }

  /** The rotated files, oldest first. */
  backups(): string[] {
    const dir = dirname(this.path);
    return readdirSync(dir)
      .filter((f) => f.startsWith(this.prefix) && f.endsWith(this.ext) && parseBackupStamp(f.slice(this.prefix.length, f.length - this.ext.length)) !== undefined)
      .sort()
      .map((f) => join(dir, f));
  }

  private rotate(): void {
    this.close();
    let target = join(dirname(this.path), `${this.prefix}${backupStamp(this.now())}${this.ext}`);
    // Two rotations in the same millisecond must not overwrite each other.
    for (let n = 1; existsQuietly(target); n++) target = join(dirname(this.path), `${this.prefix}${backupStamp(new Date(this.now().getTime() + n))}${this.ext}`);
    renameSync(this.path, target);
    this.open();
    this.prune();
  }

  private prune(): void {
    const backups = this.backups();
    const doomed = new Set<string>();
    if (this.settings.maxBackups > 0) backups.slice(0, Math.max(0, backups.length - this.settings.maxBackups)).forEach((f) => doomed.add(f));
    if (this.settings.maxAgeDays > 0) {
      const cutoff = this.now().getTime() - this.settings.maxAgeDays * 24 * 60 * 60 * 1000;
      for (const f of backups) {
        const name = basename(f);
        const at = parseBackupStamp(name.slice(this.prefix.length, name.length - this.ext.length));
        if (at !== undefined && at < cutoff) doomed.add(f);
      }
    }
    for (const f of doomed) unlinkSync(f);
  }
}

function existsQuietly(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
