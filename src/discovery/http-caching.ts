/**
 * Conditional requests and cache headers for the discovery listener (RFC 9110 §13, RFC 9111 §5.2).
 * Pure, so the 200/304 decision has a table test.
 */

export interface Representation {
  readonly etag: string;
  /** When these bytes were first fetched; kept across refreshes that return the same bytes. */
  readonly lastModified: Date;
}

/**
 * RFC 9110 §13.1.2: If-None-Match uses the weak comparison (W/ ignored) and `*` matches any current
 * representation. If-Modified-Since is only considered without If-None-Match (§13.1.3).
 */
export function isNotModified(rep: Representation, ifNoneMatch: string | undefined, ifModifiedSince: string | undefined): boolean {
  if (ifNoneMatch !== undefined) {
    const wanted = rep.etag.replace(/^W\//, '');
    return ifNoneMatch
      .split(',')
      .map((tag) => tag.trim())
      .some((tag) => tag === '*' || tag.replace(/^W\//, '') === wanted);
  }
  if (ifModifiedSince !== undefined) {
    const since = Date.parse(ifModifiedSince);
    // HTTP dates have whole seconds; compare at that precision.
    return !Number.isNaN(since) && Math.floor(rep.lastModified.getTime() / 1000) * 1000 <= since;
  }
  return false;
}

/** Headers shared by 200 and 304 answers (a 304 must carry the validators and Cache-Control it would have). */
export function cacheHeaders(rep: Representation, maxAgeSeconds: number): Record<string, string> {
  return {
    etag: rep.etag,
    'last-modified': rep.lastModified.toUTCString(),
    'cache-control': `public, max-age=${maxAgeSeconds}`,
  };
}
