import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LUMBERJACK_DEFAULT_MAX_SIZE_BYTES, RotatingFileWriter, rotationFromFlags } from '../../../src/audit/rotating-file-writer.js';

describe('RotatingFileWriter', () => {
  let dir: string;
  let clock: Date;
  const now = (): Date => clock;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'audit-rotate-'));
    clock = new Date('2026-11-23T05:00:00.000Z');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('appends one line per write to an existing file, which is private to the owner when created', () => {
    const path = join(dir, 'audit.log');
    const sut = new RotatingFileWriter(path, { maxSizeBytes: 1000, maxBackups: 0, maxAgeDays: 0 }, now);
    sut.write('{"a":1}');
    sut.write('{"b":2}\n');
    sut.close();
    new RotatingFileWriter(path, { maxSizeBytes: 1000, maxBackups: 0, maxAgeDays: 0 }, now).write('{"c":3}');
    expect(readFileSync(path, 'utf8')).toBe('{"a":1}\n{"b":2}\n{"c":3}\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('rotates before a write that would pass the size, naming the backup by UTC time like lumberjack', () => {
    const path = join(dir, 'audit.log');
    const sut = new RotatingFileWriter(path, { maxSizeBytes: 10, maxBackups: 0, maxAgeDays: 0 }, now);
    sut.write('12345678'); // 9 bytes with the newline
    sut.write('abc');
    sut.close();
    expect(readFileSync(path, 'utf8')).toBe('abc\n');
    expect(readFileSync(join(dir, 'audit-2026-11-23T05-00-00.000.log'), 'utf8')).toBe('12345678\n');
  });

  it('a single line larger than the limit is still written whole', () => {
    const path = join(dir, 'audit.log');
    const sut = new RotatingFileWriter(path, { maxSizeBytes: 4, maxBackups: 0, maxAgeDays: 0 }, now);
    sut.write('a long line');
    sut.close();
    expect(readFileSync(path, 'utf8')).toBe('a long line\n');
  });

  it('keeps only the newest maxBackups rotated files', () => {
    const path = join(dir, 'audit.log');
    const sut = new RotatingFileWriter(path, { maxSizeBytes: 2, maxBackups: 2, maxAgeDays: 0 }, now);
    for (let i = 0; i < 5; i++) {
      clock = new Date(Date.UTC(2026, 10, 23, 5, 0, i));
      sut.write(String(i));
    }
    sut.close();
    // Each backup is named by the time it was rotated away: "2" at 05:00:03, "3" at 05:00:04.
    expect(readdirSync(dir).sort()).toEqual(['audit-2026-11-23T05-00-03.000.log', 'audit-2026-11-23T05-00-04.000.log', 'audit.log']);
    expect(sut.backups().map((f) => readFileSync(f, 'utf8'))).toEqual(['2\n', '3\n']);
    expect(readFileSync(path, 'utf8')).toBe('4\n');
  });

  it('deletes rotated files older than maxAge days, by the time in their name, and leaves unrelated files alone', () => {
    const path = join(dir, 'audit.log');
    writeFileSync(join(dir, 'audit-2026-11-01T00-00-00.000.log'), 'old\n');
    writeFileSync(join(dir, 'audit-2026-11-22T06-00-00.000.log'), 'recent\n');
    writeFileSync(join(dir, 'audit-notes.log'), 'not a backup\n');
    const sut = new RotatingFileWriter(path, { maxSizeBytes: 2, maxBackups: 0, maxAgeDays: 1 }, now);
    sut.write('x');
    sut.write('y');
    sut.close();
    expect(readdirSync(dir).sort()).toEqual(['audit-2026-11-22T06-00-00.000.log', 'audit-2026-11-23T05-00-00.000.log', 'audit-notes.log', 'audit.log']);
  });

  it('two rotations in the same millisecond keep both backups', () => {
    const path = join(dir, 'audit.log');
    const sut = new RotatingFileWriter(path, { maxSizeBytes: 2, maxBackups: 0, maxAgeDays: 0 }, now);
    sut.write('1');
    sut.write('2');
    sut.write('3');
    sut.close();
    expect(sut.backups().map((f) => readFileSync(f, 'utf8'))).toEqual(['1\n', '2\n']);
  });

  it('an unwritable path fails when opened, so startup can refuse it', () => {
    const sut = new RotatingFileWriter(join(dir, 'missing', 'audit.log'), rotationFromFlags(0, 0, 0), now);
    expect(() => sut.open()).toThrow(/ENOENT/);
  });

  it.each([
    [0, LUMBERJACK_DEFAULT_MAX_SIZE_BYTES],
    [1, 1024 * 1024],
    [250, 250 * 1024 * 1024],
  ])('--audit-log-maxsize %i means %i bytes', (megabytes, bytes) => {
    expect(rotationFromFlags(megabytes, 3, 7)).toEqual({ maxSizeBytes: bytes, maxBackups: 3, maxAgeDays: 7 });
  });
});
