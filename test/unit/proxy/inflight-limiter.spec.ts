import { describe, expect, it } from '@jest/globals';
import { InflightLimiter, inflightPool } from '../../../src/proxy/inflight-limiter.js';
import { resolveRequestInfo } from '../../../src/proxy/request-info.js';

const info = (method: string, url: string) => resolveRequestInfo(method, url);

describe('inflightPool', () => {
  it.each([
    ['GET', '/api/v1/namespaces/default/pods/web', 'readOnly'],
    ['GET', '/api/v1/pods', 'readOnly'],
    ['POST', '/api/v1/namespaces/default/pods', 'mutating'],
    ['PUT', '/api/v1/namespaces/default/pods/web', 'mutating'],
    ['PATCH', '/api/v1/namespaces/default/pods/web', 'mutating'],
    ['DELETE', '/api/v1/namespaces/default/pods', 'mutating'],
    ['GET', '/healthz', 'readOnly'],
    // As in kube-apiserver: a non-resource verb is the lower-cased method, and only get/list/watch are read-only.
    ['HEAD', '/version', 'mutating'],
  ])('%s %s counts against the %s pool', (method, url, pool) => {
    expect(inflightPool(info(method, url))).toBe(pool);
  });
});

describe('InflightLimiter', () => {
  it('admits up to the limit of a pool, refuses the next, and admits again after a release', () => {
    const sut = new InflightLimiter(2, 1);
    const a = sut.acquire(info('GET', '/api/v1/pods'));
    const b = sut.acquire(info('GET', '/api/v1/pods'));
    expect([a.admitted, b.admitted]).toEqual([true, true]);
    expect(sut.acquire(info('GET', '/api/v1/pods'))).toEqual({ admitted: false, pool: 'readOnly' });
    if (a.admitted) a.release();
    expect(sut.acquire(info('GET', '/api/v1/pods')).admitted).toBe(true);
  });

  it('keeps the two pools apart, so reads cannot starve writes', () => {
    const sut = new InflightLimiter(1, 1);
    expect(sut.acquire(info('GET', '/api/v1/pods')).admitted).toBe(true);
    expect(sut.acquire(info('GET', '/api/v1/pods')).admitted).toBe(false);
    expect(sut.acquire(info('POST', '/api/v1/namespaces/a/pods')).admitted).toBe(true);
    expect(sut.acquire(info('DELETE', '/api/v1/namespaces/a/pods/x'))).toEqual({ admitted: false, pool: 'mutating' });
  });

  it.each([
    ['a watch', 'GET', '/api/v1/pods?watch=true'],
    ['an exec', 'POST', '/api/v1/namespaces/a/pods/p/exec'],
    ['a port-forward', 'POST', '/api/v1/namespaces/a/pods/p/portforward'],
    ['a log follow', 'GET', '/api/v1/namespaces/a/pods/p/log?follow=true'],
    ['a service proxy', 'GET', '/api/v1/namespaces/a/services/s/proxy/x'],
  ])('%s is long-running and never counted, even with both pools full', (_name, method, url) => {
    const sut = new InflightLimiter(1, 1);
    sut.acquire(info('GET', '/api/v1/pods'));
    sut.acquire(info('POST', '/api/v1/namespaces/a/pods'));
    expect(sut.acquire(info(method, url)).admitted).toBe(true);
    expect([sut.inFlight('readOnly'), sut.inFlight('mutating')]).toEqual([1, 1]);
  });

  it('a limit of 0 is unlimited', () => {
    const sut = new InflightLimiter(0, 0);
    for (let i = 0; i < 1000; i++) expect(sut.acquire(info(i % 2 ? 'GET' : 'POST', '/api/v1/namespaces/a/pods')).admitted).toBe(true);
  });

  it('a release called twice frees one slot only', () => {
    const sut = new InflightLimiter(2, 2);
    const a = sut.acquire(info('GET', '/api/v1/pods'));
    sut.acquire(info('GET', '/api/v1/pods'));
    if (a.admitted) {
      a.release();
      a.release();
    }
    expect(sut.inFlight('readOnly')).toBe(1);
  });
});
