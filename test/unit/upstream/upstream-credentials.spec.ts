import { afterEach, expect, it } from '@jest/globals';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UpstreamCredentialsService } from '../../../src/upstream/upstream-credentials.service.js';

let sut: UpstreamCredentialsService | undefined;
afterEach(() => sut?.onModuleDestroy());

it('re-reads a rotated service-account token file without a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kop-token-'));
  const path = join(dir, 'token');
  writeFileSync(path, 'first-token\n');
  sut = new UpstreamCredentialsService({ url: new URL('https://k8s.example'), rejectUnauthorized: true, token: { kind: 'file', path }, requestTimeoutMs: 0, source: 'test' });
  expect(sut.authorization()).toBe('Bearer first-token');
  writeFileSync(path, 'second-token\n');
  const later = new Date(Date.now() + 5000);
  utimesSync(path, later, later);
  const deadline = Date.now() + 8000;
  while (sut.authorization() !== 'Bearer second-token' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(sut.authorization()).toBe('Bearer second-token');
}, 10_000);

it('keeps the previous token when the file is briefly empty mid-rotation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kop-token-'));
  const path = join(dir, 'token');
  writeFileSync(path, 'kept-token');
  sut = new UpstreamCredentialsService({ url: new URL('https://k8s.example'), rejectUnauthorized: true, token: { kind: 'file', path }, requestTimeoutMs: 0, source: 'test' });
  writeFileSync(path, '');
  (sut as unknown as { reloadToken(): void }).reloadToken();
  expect(sut.authorization()).toBe('Bearer kept-token');
});
