/**
 * Watches to the API server as HTTP/2 streams. Over HTTP/1.1 every open watch holds its own TLS connection
 * to the API server, about half of what an idle watch costs the proxy (bench: 157 → 78 KiB per watch);
 * as HTTP/2 streams, thousands of watches share a few connections, as client-go's own watches do and as
 * Pinniped's impersonation proxy sends every non-upgrade request. Only watches come here: ordinary
 * requests are short and stay on http-proxy's pooled HTTP/1.1 connections, and upgrades need HTTP/1.1
 * (kube-apiserver upgrades only from HTTP/1.1).
 *
 * Sharing a connection does not share identity: every stream carries its own Authorization and
 * Impersonate-* headers, exactly as on a reused keep-alive connection. One dead TCP connection would stall
 * every watch on it, so a session is pinged while it carries streams (client-go's ReadIdleTimeout and
 * PingTimeout: 30 s and 15 s) and destroyed when the ping goes unanswered; the streams end, and clients
 * re-watch. An API server that does not offer h2 (ALPN) is remembered for a while and its watches go
 * over HTTP/1.1 instead: the request has not been sent when that is known, so nothing is lost.
 */
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { type ClientHttp2Session, type ClientHttp2Stream, connect, constants, type IncomingHttpHeaders as Http2IncomingHeaders, type OutgoingHttpHeaders as Http2OutgoingHeaders, type SecureClientSessionOptions } from 'node:http2';
import type { Readable, Writable } from 'node:stream';
import { upstreamPath } from './upstream-target.js';

/** Before the server's SETTINGS arrive, assume RFC 9113 §6.5.2's recommended minimum of concurrent streams. */
const STREAMS_BEFORE_SETTINGS = 100;
/** At most this many watches share one connection, whatever the server allows (kube-apiserver's default is 1000). */
const MAX_STREAMS_PER_SESSION = 1000;
/** After an API server refused h2, its watches use HTTP/1.1 for this long before h2 is tried again. */
export const HTTP1_FALLBACK_MS = 10 * 60_000;

export interface Http2WatchTiming {
  /** A connection carrying streams is pinged this often (client-go's ReadIdleTimeout)... */
  readonly pingIntervalMs: number;
  /** ...and destroyed when the answer takes longer than this (client-go's PingTimeout). */
  readonly pingTimeoutMs: number;
  /** A connection without streams is closed after this long (Go's http.Transport IdleConnTimeout). */
  readonly idleCloseMs: number;
}

const TIMING: Http2WatchTiming = { pingIntervalMs: 30_000, pingTimeoutMs: 15_000, idleCloseMs: 90_000 };

export interface Http2WatchOptions extends Partial<Http2WatchTiming> {
  readonly now?: () => number;
  /** Called when the API server is found not to offer HTTP/2 (once per fallback period). */
  readonly onHttp1Fallback?: () => void;
}

/** Connection-specific headers that HTTP/2 forbids (RFC 9113 §8.2.2); `host` becomes `:authority`. */
const NOT_IN_HTTP2 = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'http2-settings']);

export interface Http2WatchTarget {
  readonly url: URL;
  readonly connectTimeoutMs: number;
  /** Milliseconds until the API server must answer with headers; 0 = never cut. */
  readonly requestTimeoutMs: number;
  /** TLS settings for a new connection (read when one is opened, so rotated credentials apply). */
  tlsOptions(): SecureClientSessionOptions;
}

export interface WatchExchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The complete outbound header set, credentials included. */
  readonly headers: OutgoingHttpHeaders;
  /** Observers of the exchange, as for an HTTP/1.1 one (ProxyService's UpstreamTaps). */
  readonly taps?: {
    /** The request stream, before it is ended (audit copies the request body from it). */
    onUpstreamRequest?(body: Writable): void;
    /** The response body and head, before the body is piped to the client. */
    onUpstreamResponse?(body: Readable, headers: IncomingHttpHeaders): void;
  };
  /** The API server could not be reached or did not answer: answer the client. */
  onError(err: Error): void;
  /** The API server does not speak HTTP/2: forward this request over HTTP/1.1 instead. */
  viaHttp1(): void;
}

interface PooledSession {
  readonly session: ClientHttp2Session;
  streams: number;
  connected: boolean;
  draining: boolean;
  idleTimer?: NodeJS.Timeout;
}

/** Only a bodiless GET watch is sent as a stream, so falling back to HTTP/1.1 never has a body to replay. */
export function isHttp2Watch(req: IncomingMessage, verb: string): boolean {
  return verb === 'watch' && req.method === 'GET' && req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined;
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

/** The response head for the HTTP/1.1 client: everything but the pseudo-headers. */
export function http1ResponseHeaders(headers: Http2IncomingHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (!name.startsWith(':') && value !== undefined) out[name] = value;
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

export class Http2Watches {
  private readonly sessions = new Set<PooledSession>();
  private http1Until = 0;
  private readonly timing: Http2WatchTiming;
  private readonly now: () => number;
  private readonly onHttp1Fallback: () => void;

  constructor(
    private readonly target: Http2WatchTarget,
    options: Http2WatchOptions = {},
  ) {
    this.timing = { ...TIMING, ...options };
    this.now = options.now ?? Date.now;
    this.onHttp1Fallback = options.onHttp1Fallback ?? (() => {});
  }

  /** Open HTTP/2 connections to the API server. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  forward(x: WatchExchange): void {
    if (this.now() < this.http1Until) return x.viaHttp1();
    const pooled = this.acquire();
    let stream: ClientHttp2Stream;
    try {
      stream = pooled.session.request(http2RequestHeaders('GET', upstreamPath(this.target.url, x.req.url ?? '/'), this.target.url.host, x.headers), { endStream: false });
    } catch (err) {
      return x.onError(err as Error);
    }
    this.attach(pooled);
    const timer = this.target.requestTimeoutMs > 0 ? setTimeout(() => stream.destroy(Object.assign(new Error('no response headers in time'), { code: 'UPSTREAM_HEADERS_TIMEOUT' })), this.target.requestTimeoutMs) : undefined;
    stream.once('close', () => {
      clearTimeout(timer);
      this.detach(pooled);
    });
    x.taps?.onUpstreamRequest?.(stream);
    stream.end();

    let answered = false;
    stream.on('error', (err: Error) => {
      if (answered) return; // the 'close' below cuts the client's response short
      answered = true;
      const root = rootCause(err);
      if (refusesHttp2(root, pooled)) {
        if (this.now() >= this.http1Until) this.onHttp1Fallback();
        this.http1Until = this.now() + HTTP1_FALLBACK_MS;
        return x.viaHttp1();
      }
      x.onError(root);
    });
    stream.once('response', (headers: Http2IncomingHeaders) => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      x.taps?.onUpstreamResponse?.(stream, headers);
      x.res.writeHead(Number(headers[':status']), http1ResponseHeaders(headers));
      // A watch cut short upstream (reset stream, dead connection) is cut short downstream, never ended
      // cleanly: client-go then re-watches instead of waiting on a stream that will never speak again.
      // Node ends the readable side of a reset stream too, so the pipe must not end the response: only the
      // stream's close code tells a clean end from a broken one.
      stream.pipe(x.res, { end: false });
      stream.once('close', () => {
        if (x.res.destroyed) return;
        if (stream.rstCode === constants.NGHTTP2_NO_ERROR) x.res.end();
        else x.res.destroy();
      });
    });
    x.res.once('close', () => {
      if (!stream.closed) stream.close(constants.NGHTTP2_CANCEL);
    });
  }

  close(): void {
    for (const pooled of this.sessions) pooled.session.destroy();
    this.sessions.clear();
  }

  private acquire(): PooledSession {
    for (const pooled of this.sessions) {
      const s = pooled.session;
      if (pooled.draining || s.closed || s.destroyed) continue;
      const limit = Math.min(MAX_STREAMS_PER_SESSION, s.remoteSettings.maxConcurrentStreams ?? STREAMS_BEFORE_SETTINGS);
      if (pooled.streams < limit) return pooled;
    }
    return this.open();
  }

  private open(): PooledSession {
    const session = connect(this.target.url.origin, { ...this.target.tlsOptions(), ALPNProtocols: ['h2'] });
    const pooled: PooledSession = { session, streams: 0, connected: false, draining: false };
    this.sessions.add(pooled);
    const connectTimer = setTimeout(() => session.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), this.target.connectTimeoutMs);
    const pinger = setInterval(() => this.ping(pooled), this.timing.pingIntervalMs);
    pinger.unref();
    session.once('connect', () => {
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
    pooled.idleTimer = setTimeout(() => pooled.session.close(), this.timing.idleCloseMs);
    pooled.idleTimer.unref();
  }
}
