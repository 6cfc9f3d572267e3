/**
 * The --audit-log-path backend: one JSON Event per line, to a rotating file or ('-') standard out.
 * Synchronous on purpose: an event handed to it is in the kernel when write() returns, so nothing is
 * lost when the process exits after the SIGTERM drain, and no buffer can grow under load.
 */
import { writeSync } from 'node:fs';
import type { AuditEvent } from './audit-event.js';
import { RotatingFileWriter, rotationFromFlags } from './rotating-file-writer.js';

export interface AuditBackend {
  /** A promise means the backend is blocking: it settles (never rejects) once the event is delivered or given up on. */
  process(event: AuditEvent): void | Promise<void>;
  /** Deliver whatever is pending and release resources (the SIGTERM path). */
  shutdown(): Promise<void>;
}

export interface AuditLogSettings {
  readonly path: string;
  readonly maxAgeDays: number;
  readonly maxBackups: number;
  readonly maxSizeMegabytes: number;
}

export class AuditLogBackend implements AuditBackend {
  private readonly file: RotatingFileWriter | undefined;

  constructor(settings: AuditLogSettings) {
    this.file = settings.path === '-' ? undefined : new RotatingFileWriter(settings.path, rotationFromFlags(settings.maxSizeMegabytes, settings.maxBackups, settings.maxAgeDays));
    // Fail at startup, not at the first request, when the path cannot be written.
    this.file?.open();
  }

  process(event: AuditEvent): void {
    const line = `${JSON.stringify(event)}\n`;
    if (this.file) this.file.write(line);
    else writeStdout(line);
  }

  async shutdown(): Promise<void> {
    this.file?.close();
  }
}

function writeStdout(line: string): void {
  const bytes = Buffer.from(line, 'utf8');
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(1, bytes, offset);
    } catch (err) {
      // A non-blocking stdout pipe may be momentarily full; retry rather than drop or interleave the event.
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
  }
}
