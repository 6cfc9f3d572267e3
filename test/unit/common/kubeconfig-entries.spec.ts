import { describe, expect, it } from '@jest/globals';
import type { Cluster, User } from '@kubernetes/client-node';
import { type PemReader, readCa, readClientCert, readClientKey } from '../../../src/common/kubeconfig-entries.js';

const cluster: Cluster = { name: 'sink', server: 'https://sink.example', skipTLSVerify: false, caData: Buffer.from('INLINE').toString('base64'), caFile: '/etc/ca.pem' };
const user: User = { name: 'proxy', certData: Buffer.from('INLINE').toString('base64'), certFile: '/etc/c.pem', keyData: Buffer.from('INLINE').toString('base64'), keyFile: '/etc/k.pem' };
const inline = (base64: string) => Buffer.from(base64, 'base64').toString('utf8');
const unreadable: PemReader<string> = {
  file: () => {
    throw Object.assign(new Error('denied'), { code: 'EACCES' });
  },
  inline,
};

describe('kubeconfig certificate entries', () => {
  it.each([
    ['certificate-authority-data', () => readCa(cluster, unreadable, fail)],
    ['client-certificate-data', () => readClientCert(user, unreadable, fail)],
    ['client-key-data', () => readClientKey(user, unreadable, fail)],
  ])('%s wins over the file also named, which is not read', (_field, read) => {
    expect(read()).toBe('INLINE');
  });

  it.each([
    ['certificate-authority', () => collect((report) => readCa({ ...cluster, caData: undefined }, unreadable, report)), 'cluster "sink" certificate-authority: cannot read /etc/ca.pem: EACCES'],
    ['client-certificate', () => collect((report) => readClientCert({ ...user, certData: undefined }, unreadable, report)), 'user "proxy" client-certificate: cannot read /etc/c.pem: EACCES'],
    ['client-key', () => collect((report) => readClientKey({ ...user, keyData: undefined }, unreadable, report)), 'user "proxy" client-key: cannot read /etc/k.pem: EACCES'],
  ])('an unreadable %s file is reported by entry, path and error code', (_field, read, problem) => {
    expect(read()).toEqual([problem]);
  });
});

function fail(problem: string): void {
  throw new Error(`unexpected problem: ${problem}`);
}

function collect(read: (report: (problem: string) => void) => unknown): string[] {
  const problems: string[] = [];
  expect(read((problem) => problems.push(problem))).toBeUndefined();
  return problems;
}
