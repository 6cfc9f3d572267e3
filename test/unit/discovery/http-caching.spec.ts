import { describe, expect, it } from '@jest/globals';
import { cacheHeaders, isNotModified } from '../../../src/discovery/http-caching.js';

const rep = { etag: '"abc"', lastModified: new Date('2026-01-02T03:04:05.678Z') };

describe('isNotModified', () => {
  it.each([
    ['no conditional header gives the body', undefined, undefined, false],
    ['the current tag gives 304', '"abc"', undefined, true],
    ['the current tag in a list gives 304', '"old", "abc"', undefined, true],
    ['a weak form of the tag gives 304 (weak comparison)', 'W/"abc"', undefined, true],
    ['* gives 304', '*', undefined, true],
    ['another tag gives the body', '"old"', undefined, false],
    ['an unquoted tag gives the body', 'abc', undefined, false],
    ['If-None-Match wins over a matching If-Modified-Since', '"old"', 'Fri, 02 Jan 2026 03:04:05 GMT', false],
    ['If-Modified-Since at Last-Modified gives 304', undefined, 'Fri, 02 Jan 2026 03:04:05 GMT', true],
    ['If-Modified-Since after Last-Modified gives 304', undefined, 'Sat, 03 Jan 2026 00:00:00 GMT', true],
    ['If-Modified-Since before Last-Modified gives the body', undefined, 'Fri, 02 Jan 2026 03:04:04 GMT', false],
    ['an invalid If-Modified-Since gives the body', undefined, 'yesterday', false],
  ])('%s', (_name, ifNoneMatch, ifModifiedSince, expected) => {
    expect(isNotModified(rep, ifNoneMatch, ifModifiedSince)).toBe(expected);
  });
});

describe('cacheHeaders', () => {
  it('carries the validators and a public max-age', () => {
    expect(cacheHeaders(rep, 3600)).toEqual({ etag: '"abc"', 'last-modified': 'Fri, 02 Jan 2026 03:04:05 GMT', 'cache-control': 'public, max-age=3600' });
  });
});
