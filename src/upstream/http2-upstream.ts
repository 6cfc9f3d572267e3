/**
 * Requests to the API server as HTTP/2 streams, as client-go sends them and as Go proxies (jetstack's
 * included) forward them: every non-upgrade request (--upstream-http2), or only watches
 * (--upstream-http2-watches alone). Upgrades need HTTP/1.1 (kube-apiserver upgrades only from HTTP/1.1)
 * and stay on http-proxy.
 *
 * Why: over HTTP/1.1 every open watch holds its own TLS connection to the API server, about half of what
 * an idle watch costs the proxy (bench: 157 → 78 KiB per watch); as streams, thousands share a few
 * connections. An ordinary request costs less too: no pooled-socket bookkeeping, and the API server's
 * answers to concurrent requests share TLS records (bench: proxy CPU per small GET 375 → 232 µs).
 *
 * Sharing a connection does not share identity: every stream carries its own Authorization and
 * Impersonate-* headers, exactly as on a reused keep-alive connection. One dead TCP connection would stall
 * every stream on it, so a session is pinged while it carries streams (client-go's ReadIdleTimeout and
 * PingTimeout: 30 s and 15 s) and destroyed when the ping goes unanswered; the streams end, and clients
 * retry or re-watch. An API server that does not offer h2 (ALPN) is remembered for a while and requests
 * go over HTTP/1.1 instead: a bodiless request has not been sent when that is known, so nothing is lost,
 * and a request with a body is only ever sent on a connection already known to speak HTTP/2.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { type ClientHttp2Session, type ClientHttp2Stream, connect, constants, type IncomingHttpHeaders as Http2IncomingHeaders, type OutgoingHttpHeaders as Http2OutgoingHeaders, type SecureClientSessionOptions } from 'node:http2';
import type { UpstreamTaps } from './upstream-taps.js';
import { upstreamPath } from './upstream-target.js';

/** Before the server's SETTINGS arrive, assume RFC 9113 §6.5.2's recommended minimum of concurrent streams. */
const STREAMS_BEFORE_SETTINGS = 100;
/** At most this many streams share one connection, whatever the server allows (kube-apiserver's default is 1000). */
const MAX_STREAMS_PER_SESSION = 1000;
/**
 * Flow-control windows the proxy offers the API server. Per stream 1 MiB: HTTP/2's default 64 KiB halved
 * the throughput of a large list (bench: 532 vs 938 req/s over HTTP/1.1), and Go's client's 4 MiB was no
 * faster here (1,151 vs 1,109 req/s); it also bounds what a stream whose client reads slowly holds in the
 * proxy. Per connection 16 MiB, so many streams in flight are not throttled by a connection-wide window
 * (Node returns that window as data arrives, so a stalled stream never blocks the others).
 */
const STREAM_RECEIVE_WINDOW = 1024 * 1024;
const CONNECTION_RECEIVE_WINDOW = 16 * 1024 * 1024;
/** After an API server refused h2, requests use HTTP/1.1 for this long before h2 is tried again. */
export const HTTP1_FALLBACK_MS = 10 * 60_000;

export interface Http2UpstreamTiming {
  /** A connection carrying streams is pinged this often (client-go's ReadIdleTimeout)... */
  readonly pingIntervalMs: number;
  /** ...and destroyed when the answer takes longer than this (client-go's PingTimeout). */
  readonly pingTimeoutMs: number;
  /** A connection without streams is closed after this long (Go's http.Transport IdleConnTimeout). */
  readonly idleCloseMs: number;
}

const TIMING: Http2UpstreamTiming = { pingIntervalMs: 30_000, pingTimeoutMs: 15_000, idleCloseMs: 90_000 };

export interface Http2UpstreamOptions extends Partial<Http2UpstreamTiming> {
  readonly now?: () => number;
  /** Called when the API server is found not to offer HTTP/2 (once per fallback period). */
  readonly onHttp1Fallback?: () => void;
}

/** Connection-specific headers that HTTP/2 forbids (RFC 9113 §8.2.2); `host` becomes `:authority`. */
const NOT_IN_HTTP2 = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'http2-settings']);

export interface Http2UpstreamTarget {
  readonly url: URL;
  readonly connectTimeoutMs: number;
  /** Milliseconds until the API server must answer with headers; 0 = never cut. */
  readonly requestTimeoutMs: number;
  /** TLS settings for a new connection (read when one is opened, so rotated credentials apply). */
  tlsOptions(): SecureClientSessionOptions;
}

export interface Http2Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The complete outbound header set, credentials included. */
  readonly headers: OutgoingHttpHeaders;
  /** Observers of the exchange, the same as for an HTTP/1.1 one. */
  readonly taps?: UpstreamTaps;
  /** The API server could not be reached or did not answer: answer the client. */
  onError(err: Error): void;
  /** HTTP/2 is not (or not yet known to be) available: forward this request over HTTP/1.1 instead. */
  viaHttp1(): void;
}

interface PooledSession {
  readonly session: ClientHttp2Session;
  streams: number;
  connected: boolean;
  draining: boolean;
  idleTimer?: NodeJS.Timeout;
}

/** Whether the client sends a request body (HTTP/1.1 framing; HTTP/2 clients' requests are presented so too). */
export function hasRequestBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

export function http2RequestHeaders(method: string, path: string, authority: string, headers: OutgoingHttpHeaders): Http2OutgoingHeaders {
  const out: Http2OutgoingHeaders = { ':method': method, ':path': path, ':scheme': 'https', ':authority': authority };
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value === undefined || NOT_IN_HTTP2.has(lower)) continue;
    if (lower === 'te' && String(value).toLowerCase() !== 'trailers') continue;
    out[lower] = value;
  }
  return out;
}

/**
 * The response head for the client: every header line but the pseudo-headers, from the raw lines, so a
 * repeated header (several `Warning`s) stays several lines instead of one comma-joined value.
 */
export function http1ResponseHeaders(rawHeaders: readonly string[]): OutgoingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.startsWith(':')) continue;
    const value = rawHeaders[i + 1]!;
    const seen = out[name];
    out[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return out;
}

/**
 * A stream cancelled because its connection failed carries the connection's error (ECONNREFUSED, a TLS
 * error) as its cause. Checked by shape, not instanceof: Node's internal errors may come from another realm.
 */
function rootCause(err: Error): NodeJS.ErrnoException {
  const cause = (err as { cause?: unknown }).cause;
  return typeof cause === 'object' && cause !== null && 'message' in cause ? (cause as NodeJS.ErrnoException) : err;
}

/** The session could not speak HTTP/2 at all: ALPN refused (TLS alert 120) or not negotiated. */
function refusesHttp2(root: NodeJS.ErrnoException, pooled: PooledSession): boolean {
  return root.code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL' || (!pooled.connected && root.code === 'ERR_HTTP2_ERROR');
}

/** A closed stream emits no more errors; this only keeps a late one from being unhandled. */
function ignoreError(): void {}

export class Http2Upstream {
  private readonly sessions = new Set<PooledSession>();
  private http1Until = 0;
  private readonly timing: Http2UpstreamTiming;
  private readonly now: () => number;
  private readonly onHttp1Fallback: () => void;

  constructor(
    private readonly target: Http2UpstreamTarget,
    options: Http2UpstreamOptions = {},
  ) {
    this.timing = { ...TIMING, ...options };
    this.now = options.now ?? Date.now;
    this.onHttp1Fallback = options.onHttp1Fallback ?? (() => {});
  }

  /** Open HTTP/2 connections to the API server. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  forward(x: Http2Exchange): void {
    if (this.now() < this.http1Until) return x.viaHttp1();
    const body = hasRequestBody(x.req);
    const pooled = this.acquire(body);
    // A body cannot be replayed over HTTP/1.1 if h2 turns out to be refused: it waits for a proven connection.
    if (!pooled) return x.viaHttp1();
    let stream: ClientHttp2Stream;
    try {
      stream = pooled.session.request(http2RequestHeaders(x.req.method ?? 'GET', upstreamPath(this.target.url, x.req.url ?? '/'), this.target.url.host, x.headers), { endStream: false });
    } catch (err) {
      return x.onError(err as Error);
    }
    this.attach(pooled);
    const timer = this.target.requestTimeoutMs > 0 ? setTimeout(() => stream.destroy(Object.assign(new Error('no response headers in time'), { code: 'UPSTREAM_HEADERS_TIMEOUT' })), this.target.requestTimeoutMs) : undefined;

    let answered = false;
    const onError = (err: Error): void => {
      if (answered) return; // the 'close' below cuts the client's response short
      answered = true;
      const root = rootCause(err);
      if (refusesHttp2(root, pooled)) {
        if (this.now() >= this.http1Until) this.onHttp1Fallback();
        this.http1Until = this.now() + HTTP1_FALLBACK_MS;
        return x.viaHttp1();
      }
      x.onError(root);
    };
    const onResponse = (headers: Http2IncomingHeaders, _flags: number, rawHeaders: string[]): void => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      // The client was already answered (an HTTP/2 client's 408 for a body sent too slowly) or is gone.
      if (x.res.headersSent || x.res.destroyed) return void stream.close(constants.NGHTTP2_CANCEL);
      try {
        // Throws on a head Node will not relay (a repeated Content-Type to an HTTP/2 client, say): a 502, never a crash.
        x.res.writeHead(Number(headers[':status']), http1ResponseHeaders(rawHeaders));
      } catch (err) {
        stream.close(constants.NGHTTP2_CANCEL);
        return x.onError(err as Error);
      }
      x.taps?.onUpstreamResponse?.(stream, headers);
      // A response cut short upstream (reset stream, dead connection) is cut short downstream, never ended
      // cleanly: a truncated body is not passed off as complete, and client-go re-watches instead of
      // waiting on a watch that will never speak again.
      // Node ends the readable side of a reset stream too, so the pipe must not end the response: only the
      // stream's close code tells a clean end from a broken one.
      stream.pipe(x.res, { end: false });
      stream.once('close', () => {
        if (x.res.destroyed) return;
        if (stream.rstCode === constants.NGHTTP2_NO_ERROR) x.res.end();
        else x.res.destroy();
      });
    };
    stream.on('error', onError);
    stream.once('response', onResponse);
    stream.once('close', () => {
      clearTimeout(timer);
      this.detach(pooled);
      // A closed stream outlives every young-generation GC until a full one (V8 keeps Node's native stream
      // handle as a root there), and so does what it references. These two listeners closed over the
      // whole exchange (client request, response and their listeners), which was promoted with every
      // stream. Dropping them, with per-request state out of WeakMaps (request-slot.ts), took the
      // small-GET bench from 8.3 to 3.3 MB promoted per minor GC.
      stream.off('error', onError);
      stream.off('response', onResponse);
      stream.on('error', ignoreError);
    });
    x.taps?.onUpstreamRequest?.(stream);
    if (body) x.req.pipe(stream);
    else stream.end();
    x.res.once('close', () => {
      if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL);
    });
  }

  close(): void {
    for (const pooled of this.sessions) pooled.session.destroy();
    this.sessions.clear();
  }

  /** A connection with room for one more stream (`connected`: only one known to speak HTTP/2, or none). */
  private acquire(connected: boolean): PooledSession | undefined {
    let connecting = false;
    for (const pooled of this.sessions) {
      const s = pooled.session;
      if (pooled.draining || s.closed || s.destroyed) continue;
      const limit = Math.min(MAX_STREAMS_PER_SESSION, s.remoteSettings.maxConcurrentStreams ?? STREAMS_BEFORE_SETTINGS);
      if (pooled.streams >= limit) continue;
      if (pooled.connected || !connected) return pooled;
      connecting = true;
    }
    if (connected && connecting) return undefined;
    // Opened for a request with a body too: that request goes over HTTP/1.1, the next ones find it ready.
    const opened = this.open();
    return connected ? undefined : opened;
  }

  private open(): PooledSession {
    const session = connect(this.target.url.origin, {
      ...this.target.tlsOptions(),
      ALPNProtocols: ['h2'],
      settings: { initialWindowSize: STREAM_RECEIVE_WINDOW },
      // An identity of many groups is many Impersonate-Group lines: as over HTTP/1.1, the API server's own
      // limit (Go's: 1 MiB of headers, however many lines) decides, not Node's defaults (128 lines, 64 KiB).
      maxHeaderListPairs: 100_000,
      maxSendHeaderBlockLength: 1024 * 1024,
    });
    const pooled: PooledSession = { session, streams: 0, connected: false, draining: false };
    this.sessions.add(pooled);
    this.startIdle(pooled);
    const connectTimer = setTimeout(() => session.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), this.target.connectTimeoutMs);
    const pinger = setInterval(() => this.ping(pooled), this.timing.pingIntervalMs);
    pinger.unref();
    session.once('connect', () => {
      session.setLocalWindowSize(CONNECTION_RECEIVE_WINDOW);
      pooled.connected = true;
      clearTimeout(connectTimer);
    });
    // No new streams on a connection the server is closing; the open ones finish.
    session.once('goaway', () => (pooled.draining = true));
    // Session errors reach each stream as its own error; this listener keeps them from being unhandled.
    session.on('error', () => {});
    session.once('close', () => {
      clearTimeout(connectTimer);
      clearInterval(pinger);
      clearTimeout(pooled.idleTimer);
      this.sessions.delete(pooled);
    });
    return pooled;
  }

  private ping(pooled: PooledSession): void {
    const s = pooled.session;
    if (!pooled.connected || pooled.streams === 0 || s.destroyed) return;
    const deadline = setTimeout(() => s.destroy(Object.assign(new Error('the API server did not answer an HTTP/2 ping'), { code: 'ETIMEDOUT' })), this.timing.pingTimeoutMs);
    deadline.unref();
    const sent = s.ping((err) => {
      clearTimeout(deadline);
      if (err && !s.destroyed) s.destroy(err);
    });
    if (!sent) clearTimeout(deadline);
  }

  private attach(pooled: PooledSession): void {
    pooled.streams++;
    clearTimeout(pooled.idleTimer);
    pooled.idleTimer = undefined;
  }

  private detach(pooled: PooledSession): void {
    pooled.streams--;
    if (pooled.streams > 0 || pooled.session.destroyed) return;
    this.startIdle(pooled);
  }

  private startIdle(pooled: PooledSession): void {
    pooled.idleTimer = setTimeout(() => pooled.session.close(), this.timing.idleCloseMs);
    pooled.idleTimer.unref();
  }
}
