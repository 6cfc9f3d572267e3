import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import httpProxy from 'http-proxy';
import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { SecureClientSessionOptions } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { RequestSlot } from '../common/request-slot.js';
import { PROXY_CONFIG, type ProxyConfig } from '../config/proxy-config.js';
import { connectionSpecificHeaders } from '../impersonation/header-policy.js';
import { AdmissionError } from '../proxy/admission-error.js';
import { writeStatus } from '../proxy/kube-status.js';
import { requestInfoOf } from '../proxy/request-info.js';
import { Http2Upstream, HTTP1_FALLBACK_MS } from './http2-upstream.js';
import { UpstreamCredentialsService } from './upstream-credentials.service.js';
import { upstreamError } from './upstream-errors.js';
import { openUpgradeTunnel, type TunnelHooks } from './upgrade-tunnel.js';
import type { UpstreamTaps } from './upstream-taps.js';

export interface ForwardOptions {
  /** 'proxy': add the proxy's own credentials. 'client': the headers already carry the client's credential. */
  readonly credentials: 'proxy' | 'client';
  /** Observers of the exchange (audit body copies); called before any byte flows, they must not consume or delay it. */
  readonly taps?: UpstreamTaps;
}

/** A connection to the API server that has not completed within this long is refused with a prompt 503/504. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Forwards admitted requests to the API server. The caller hands over the complete outbound header set;
 * this service only adds the proxy's credentials, and re-checks the result right before it is sent
 * (fail closed: exactly the expected Authorization, or none when the proxy uses a client certificate).
 */
@Injectable()
export class ProxyService implements OnModuleDestroy {
  private readonly logger = new Logger('Upstream');
  private readonly proxy: httpProxy;
  private readonly outbound = new RequestSlot<IncomingMessage, OutgoingHttpHeaders>('outbound');
  private readonly taps = new RequestSlot<IncomingMessage, UpstreamTaps>('taps');
  /** Set when --upstream-http2 or --upstream-http2-watches sends some requests as HTTP/2 streams. */
  private readonly http2?: Http2Upstream;
  private readonly http2Requests: boolean;
  private readonly http2Watches: boolean;

  constructor(
    private readonly credentials: UpstreamCredentialsService,
    @Inject(PROXY_CONFIG) config: ProxyConfig,
  ) {
    const target = credentials.target;
    this.http2Requests = config.upstream.http2;
    this.http2Watches = config.upstream.http2Watches;
    if (this.http2Requests || this.http2Watches) {
      this.http2 = new Http2Upstream(
        { url: target.url, connectTimeoutMs: CONNECT_TIMEOUT_MS, requestTimeoutMs: target.requestTimeoutMs, tlsOptions: () => credentials.tlsOptions() as SecureClientSessionOptions },
        { onHttp1Fallback: () => this.logger.log(`the API server does not offer HTTP/2: requests use HTTP/1.1 (a connection per watch) for the next ${HTTP1_FALLBACK_MS / 60_000} minutes`) },
      );
    }
    this.proxy = httpProxy.createProxyServer({
      target: target.url.toString(),
      agent: credentials.agent,
      changeOrigin: true,
      xfwd: false,
      ws: false,
      secure: target.rejectUnauthorized,
      prependPath: true,
    });
    // http-proxy copies req.headers into the upstream request; replace them with the admitted set.
    this.proxy.on('proxyReq', (proxyReq: ClientRequest, req: IncomingMessage, res: ServerResponse) => {
      const headers = this.outbound.get(req);
      for (const name of proxyReq.getHeaderNames()) if (name !== 'host') proxyReq.removeHeader(name);
      if (!headers) {
        proxyReq.destroy(new AdmissionError('Internal', 'Internal error occurred: missing outbound headers', 'no outbound headers'));
        return;
      }
      for (const [name, value] of Object.entries(headers)) if (value !== undefined) proxyReq.setHeader(name, value);
      // http-proxy emits proxyReq (and proxyRes) synchronously right before it pipes: a tap sees every byte.
      this.taps.get(req)?.onUpstreamRequest?.(proxyReq);
      this.watchConnect(proxyReq);
      // A client gone before its response ended (a watch left, a cancelled HTTP/2 stream) ends the
      // upstream request too. http-proxy sees only an HTTP/1.1 socket's reset, not a cancelled stream.
      res.once('close', () => {
        if (!res.writableEnded && !proxyReq.destroyed) proxyReq.destroy();
      });
      const timeoutMs = target.requestTimeoutMs;
      if (timeoutMs > 0) {
        const timer = setTimeout(() => proxyReq.destroy(Object.assign(new Error('no response headers in time'), { code: 'UPSTREAM_HEADERS_TIMEOUT' })), timeoutMs);
        proxyReq.once('response', () => clearTimeout(timer));
        proxyReq.once('close', () => clearTimeout(timer));
      }
    });
    this.proxy.on('error', (err: Error, req: IncomingMessage, res: ServerResponse | Socket) => this.answerFailure(err, req, res));
    // http-proxy pipes the API server's response into the client's, and a pipe does not end its destination
    // when the source breaks: a watch whose API server restarted hung open forever, so client-go never
    // re-watched. A response cut short upstream is cut short downstream (never ended cleanly, which would
    // pass a truncated body off as complete).
    this.proxy.on('proxyRes', (proxyRes: IncomingMessage, req: IncomingMessage, res: ServerResponse) => {
      // An HTTP/2 client's response: http-proxy copies the head next, and HTTP/2 has no connection headers
      // (Transfer-Encoding of a chunked list or watch) and no reason phrase.
      if (req.httpVersionMajor === 2) {
        for (const name of connectionSpecificHeaders(proxyRes.headers)) delete proxyRes.headers[name];
        proxyRes.statusMessage = '';
      }
      this.taps.get(req)?.onUpstreamResponse?.(proxyRes, proxyRes.headers);
      proxyRes.once('close', () => {
        if (!proxyRes.complete && !res.destroyed) res.destroy();
      });
    });
  }

  /** Open HTTP/2 connections to the API server (a metric). */
  get http2Connections(): number {
    return this.http2?.sessionCount ?? 0;
  }

  /** The outbound headers with the proxy's credentials, verified. Throws (fail closed) if anything is off. */
  finalHeaders(headers: OutgoingHttpHeaders, opts: ForwardOptions): OutgoingHttpHeaders {
    const out: OutgoingHttpHeaders = { ...headers };
    const clientAuth = Object.keys(out).filter((k) => k.toLowerCase() === 'authorization');
    if (opts.credentials === 'proxy') {
      if (clientAuth.length > 0) throw new AdmissionError('Internal', 'Internal error occurred: invalid authorization header', 'client Authorization reached the upstream step');
      const auth = this.credentials.authorization();
      if (auth) out.authorization = auth;
      else if (!this.credentials.hasCredentials()) throw new AdmissionError('UpstreamUnavailable', 'kube-oidc-proxy has no credentials for the Kubernetes API server', 'no upstream credentials');
    } else if (clientAuth.length !== 1) {
      throw new AdmissionError('Internal', 'Internal error occurred: invalid authorization header', `expected one client Authorization, found ${clientAuth.length}`);
    }
    return out;
  }

  forward(req: IncomingMessage, res: ServerResponse, headers: OutgoingHttpHeaders, opts: ForwardOptions): void {
    const outbound = this.finalHeaders(headers, opts);
    if (this.http2 && (requestInfoOf(req).verb === 'watch' ? this.http2Watches : this.http2Requests)) {
      this.http2.forward({
        req,
        res,
        headers: outbound,
        ...(opts.taps ? { taps: opts.taps } : {}),
        onError: (err) => this.answerFailure(err, req, res),
        viaHttp1: () => this.forwardHttp1(req, res, outbound, opts.taps),
      });
      return;
    }
    this.forwardHttp1(req, res, outbound, opts.taps);
  }

  private forwardHttp1(req: IncomingMessage, res: ServerResponse, outbound: OutgoingHttpHeaders, taps: UpstreamTaps | undefined): void {
    this.outbound.set(req, outbound);
    if (taps) this.taps.set(req, taps);
    // No per-request options or callback: with options, http-proxy copies them and re-parses the target URL
    // (legacy url.parse) on every request; failures arrive as the server's 'error' event (constructor).
    this.proxy.web(req, res);
  }

  /** The API server could not be reached or did not answer: a Status for the client, if it is still there. */
  private answerFailure(err: Error, req: IncomingMessage, res: ServerResponse | Socket): void {
    // A socket only with ws: true, which is never set; a response already gone has no one to answer.
    if (!('writeHead' in res) || res.destroyed || res.writableEnded) return;
    const admissionError = upstreamError(err);
    this.logger.warn({ detail: admissionError.detail, method: req.method, uri: req.url }, admissionError.message);
    writeStatus(res, admissionError);
  }

  forwardUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, headers: OutgoingHttpHeaders, opts: ForwardOptions, hooks: TunnelHooks = {}): void {
    openUpgradeTunnel(
      { req, clientSocket: socket, head, headers: this.finalHeaders(headers, opts), target: this.credentials.target, tls: this.credentials.tlsOptions() },
      {
        ...hooks,
        onError: (err) => {
          this.logger.warn({ detail: err.detail, method: req.method, uri: req.url }, err.message);
          hooks.onError?.(err);
        },
      },
    );
  }

  /** A blackholed API server address must not leave requests hanging for the OS connect timeout. */
  private watchConnect(proxyReq: ClientRequest): void {
    proxyReq.once('socket', (socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(() => proxyReq.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), CONNECT_TIMEOUT_MS);
      socket.once('connect', () => clearTimeout(timer));
      socket.once('close', () => clearTimeout(timer));
    });
  }

  onModuleDestroy(): void {
    this.http2?.close();
    this.proxy.close();
  }
}
