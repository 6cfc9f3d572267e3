import { Inject, Injectable, Logger } from '@nestjs/common';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2';
import { createServer, type ServerOptions } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createSecureContext, type SecureContextOptions, type Server, type TLSSocket } from 'node:tls';
import { AuditService } from '../audit/audit.service.js';
import { PROXY_CONFIG, type ProxyConfig } from '../config/proxy-config.js';
import { MetricsService, verbLabel } from '../health/metrics.service.js';
import { AdmissionError } from './admission-error.js';
import { closeUnauthenticated, HTTP2_RECEIVE_WINDOW, manageHttp2Session, streamReadDeadline } from './http2-connections.js';
import { Http2Listener } from './http2-listener.service.js';
import { fromHttp2 } from './http2-request.js';
import { InflightLimiter } from './inflight-limiter.js';
import { isProxyStatus, writeStatus, writeStatusToSocket } from './kube-status.js';
import { requestInfoOf } from './request-info.js';
import { UpgradeListener } from './upgrade-listener.service.js';

/** kube-apiserver's wording for its own 429 (apiserver/pkg/endpoints/handlers/responsewriters.TooManyRequests). */
const TOO_MANY_REQUESTS = 'Too many requests, please try again later.';

/** How often the serving certificate and key are checked for changes (cert-manager rotations are rare). */
const CERT_POLL_MS = 2_000;

/** An idle keep-alive connection is closed after this long, HTTP/1.1 or HTTP/2 (an HTTP/2 one: no open stream). */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/**
 * The secure listener. TLS only; the certificate and key are re-read when either file changes and swapped
 * in with setSecureContext, so open connections (watches, exec sessions) are never dropped by a rotation.
 * It also tracks every socket so shutdown can drain in-flight work and then close what is left.
 */
@Injectable()
export class SecureServerService {
  private readonly logger = new Logger('SecureServer');
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly busy = new WeakMap<Socket, number>();
  private readonly upgraded = new Set<Socket>();
  private pemFingerprint = '';
  private readonly inflight: InflightLimiter;

  constructor(
    @Inject(PROXY_CONFIG) private readonly config: ProxyConfig,
    private readonly upgrades: UpgradeListener,
    private readonly http2: Http2Listener,
    private readonly metrics: MetricsService,
    private readonly audit: AuditService,
  ) {
    this.inflight = new InflightLimiter(config.ops.maxRequestsInflight, config.ops.maxMutatingRequestsInflight);
  }

  /** Read and check the serving key pair; throws with a message naming the flag. */
  loadTlsOptions(): SecureContextOptions {
    const { tlsCertFile, tlsKeyFile, tlsMinVersion, tlsCiphers } = this.config.serving;
    let cert: Buffer;
    let key: Buffer;
    try {
      cert = readFileSync(tlsCertFile);
      key = readFileSync(tlsKeyFile);
    } catch (err) {
      throw new Error(`--tls-cert-file/--tls-private-key-file: cannot read the serving key pair: ${(err as Error).message}`);
    }
    const options: SecureContextOptions = { cert, key, minVersion: tlsMinVersion, ...(tlsCiphers ? { ciphers: tlsCiphers } : {}) };
    try {
      createSecureContext(options);
    } catch (err) {
      throw new Error(`--tls-cert-file/--tls-private-key-file: not a usable certificate and key pair: ${(err as Error).message}`);
    }
    this.pemFingerprint = cert.toString('base64') + key.toString('base64');
    return options;
  }

  async listen(app: RequestListener): Promise<number> {
    const tls = this.loadTlsOptions();
    const { requestReadTimeoutMs, http2, http2MaxStreamsPerConnection } = this.config.serving;
    const options: ServerOptions = {
      ...tls,
      // Groups-heavy ID tokens (Entra ID, Keycloak) exceed Node's 16 KiB default; kube-apiserver allows far more.
      maxHeaderSize: 64 * 1024,
      // Slow-loris defence: the head within 30 s, the whole request (head and body) within
      // --request-read-timeout. Both time the request only; a watch or exec response runs as long as it needs.
      headersTimeout: Math.min(30_000, requestReadTimeoutMs || 30_000),
      requestTimeout: requestReadTimeoutMs,
      // How often Node checks those deadlines (its default is 30 s, which would double a 60 s limit).
      connectionsCheckingInterval: Math.max(250, Math.min(5_000, Math.floor((requestReadTimeoutMs || 30_000) / 4))),
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      noDelay: true,
    };
    const onRequest = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void => {
      if (req.httpVersionMajor === 2) this.onHttp2Request(req as Http2ServerRequest, res as Http2ServerResponse);
      else this.onRequest(app, req as IncomingMessage, res as ServerResponse);
    };
    // With --serve-http2 one listener speaks both: ALPN picks HTTP/2 (kubectl's ordinary requests) or
    // HTTP/1.1 (exec, attach, port-forward, and clients without HTTP/2), which Node serves with the
    // options above exactly as an https.Server would.
    const server: Server = http2
      ? createSecureServer(
          {
            ...options,
            allowHTTP1: true,
            settings: { maxConcurrentStreams: http2MaxStreamsPerConnection, maxHeaderListSize: 64 * 1024, initialWindowSize: HTTP2_RECEIVE_WINDOW },
            // Node's default of 128 header lines is below what HTTP/1.1 accepts (2000); kubectl --as-group repeats lines.
            maxHeaderListPairs: 2000,
          },
          onRequest,
        )
      : createServer({ ...options, ALPNProtocols: ['http/1.1'] }, onRequest);
    if (http2) server.on('session', (session: ServerHttp2Session) => this.onSession(session));
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      this.upgraded.add(socket);
      socket.once('close', () => this.upgraded.delete(socket));
      // exec/attach/port-forward are long-running and not counted; an Upgrade: on any other path is, so
      // the limit cannot be dodged by adding an Upgrade header. The slot is held until the socket closes.
      const slot = this.inflight.acquire(requestInfoOf(req));
      if (!slot.admitted) {
        socket.on('error', () => socket.destroy());
        writeStatusToSocket(socket, this.overLimit(slot.pool));
        return;
      }
      socket.once('close', slot.release);
      this.upgrades.handle(req, socket, head);
    });
    // 'secureConnection' hands out the TLSSocket that requests and upgrades see (not the raw TCP socket).
    server.on('secureConnection', (socket: TLSSocket) => {
      const protocol = socket.alpnProtocol === 'h2' ? 'h2' : 'http/1.1';
      this.sockets.add(socket);
      this.metrics.observeClientConnection(protocol, 1);
      socket.once('close', () => {
        this.sockets.delete(socket);
        this.metrics.observeClientConnection(protocol, -1);
      });
    });
    server.on('tlsClientError', (err) => this.logger.debug(`TLS handshake failed: ${err.message}`));
    server.on('sessionError', (err: Error) => this.logger.debug(`HTTP/2 connection failed: ${err.message}`));
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.onClientError(err, socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.serving.securePort, this.config.serving.bindAddress, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.watchCertificates();
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : this.config.serving.securePort;
    this.logger.log(`secure listener serving on ${this.config.serving.bindAddress}:${port}`);
    return port;
  }

  /** An HTTP/1.1 request: shutdown finishes its connection after the last in-flight response. */
  private onRequest(app: RequestListener, req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    this.busy.set(socket, (this.busy.get(socket) ?? 0) + 1);
    if (this.closing) res.setHeader('connection', 'close');
    this.serve(app, req, res, () => {
      this.busy.set(socket, (this.busy.get(socket) ?? 1) - 1);
      if (this.closing && (this.busy.get(socket) ?? 0) === 0) socket.end();
    });
  }

  /**
   * An HTTP/2 stream. Shutdown needs nothing per request: closing the server sends every connection a
   * GOAWAY, which lets its open streams finish. Node times only HTTP/1.1 requests, so the
   * --request-read-timeout deadline is kept per stream (http2-connections.ts).
   */
  private onHttp2Request(inbound: Http2ServerRequest, response: Http2ServerResponse): void {
    const { req, res } = fromHttp2(inbound, response);
    const session = inbound.stream.session;
    const deadline = streamReadDeadline(req, res, this.config.serving.requestReadTimeoutMs, () =>
      this.logger.debug({ code: 'ERR_HTTP_REQUEST_TIMEOUT' }, 'client error: the HTTP/2 request body was not received in time'),
    );
    this.serve(this.http2.handle, req, res, () => {
      clearTimeout(deadline);
      closeUnauthenticated(res, session);
    });
  }

  /**
   * What every request gets, HTTP/1.1 or HTTP/2: the in-flight limit, metrics, the Audit-ID, then the
   * handler. `closed` is the protocol's own bookkeeping, run from the same (one) close listener.
   */
  private serve(handler: RequestListener, req: IncomingMessage, res: ServerResponse, closed: () => void): void {
    const started = process.hrtime.bigint();
    const requestInfo = requestInfoOf(req);
    // Before authentication, like the API server's filter chain puts cheap refusals first.
    const slot = this.inflight.acquire(requestInfo);
    res.once('close', () => {
      if (slot.admitted) slot.release();
      const seconds = requestInfo.longRunning ? undefined : Number(process.hrtime.bigint() - started) / 1e9;
      this.metrics.observeRequest(verbLabel(requestInfo.verb, requestInfo.isResourceRequest), res.statusCode, seconds);
      // Refusals and upstream failures are logged where they are decided (once); this catches the API
      // server's own 5xx answers and anything else no one logged.
      if (res.statusCode >= 500 && !isProxyStatus(res)) {
        this.logger.error({ method: req.method, uri: req.url, statusCode: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request answered with a server error');
      }
      closed();
    });
    // Every response carries an Audit-ID, a 429 too. A 429 records no audit event: it is refused before
    // authentication (a flood must not cost token verifications), so there is no user to record, where
    // kube-apiserver authenticates first and audits the 429 under the user (docs/audit.md).
    this.audit.begin(req, res);
    if (!slot.admitted) {
      writeStatus(res, this.overLimit(slot.pool));
      return;
    }
    handler(req, res);
  }

  /** A new HTTP/2 connection: its idle close and receive window are set up in http2-connections.ts. */
  private onSession(session: ServerHttp2Session): void {
    // A connection whose handshake finished after shutdown began missed server.close()'s GOAWAY.
    if (this.closing) {
      session.close();
      return;
    }
    manageHttp2Session(session, KEEP_ALIVE_TIMEOUT_MS);
  }

  /** The 429 for a full in-flight pool (counted here, for HTTP requests and upgrades alike). */
  private overLimit(pool: 'readOnly' | 'mutating'): AdmissionError {
    this.metrics.observeInflightRejection(pool);
    return new AdmissionError('TooManyRequests', TOO_MANY_REQUESTS, `${pool} in-flight limit reached`);
  }

  /**
   * What Node's HTTP parser refuses before any handler runs: a request not received within
   * --request-read-timeout, a head over the size limit, malformed HTTP. Answered with a Status kubectl can
   * print (Node's default is a bare status line), unless a response has already begun on the connection.
   */
  private onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    // The HTTP/2 server reports failed TLS handshakes here too: there is no HTTP to answer on those.
    if (!this.sockets.has(socket as Socket)) {
      socket.destroy();
      return;
    }
    const responding = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
    if (socket.writable && !responding && err.code !== 'ECONNRESET') {
      const refusal =
        err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? new AdmissionError('RequestTimeout', 'the request was not received in time (--request-read-timeout)', err.code)
          : err.code === 'HPE_HEADER_OVERFLOW'
            ? new AdmissionError('HeadersTooLarge', 'request headers are larger than the proxy accepts (64 KiB)', err.code)
            : new AdmissionError('BadRequest', 'malformed HTTP request', err.code);
      this.logger.debug({ code: err.code }, `client error: ${refusal.message}`);
      socket.on('error', () => socket.destroy());
      writeStatusToSocket(socket, refusal);
      return;
    }
    socket.destroy();
  }

  private watchCertificates(): void {
    const { tlsCertFile, tlsKeyFile } = this.config.serving;
    const reload = (): void => {
      try {
        const before = this.pemFingerprint;
        const options = this.loadTlsOptions();
        if (this.pemFingerprint === before) return;
        this.server?.setSecureContext(options);
        this.logger.log('serving certificate reloaded');
      } catch (err) {
        // Mid-rotation the two files can briefly disagree; keep serving the previous pair and retry on the next change.
        this.logger.warn(`serving certificate not reloaded, keeping the previous one: ${(err as Error).message}`);
      }
    };
    watchFile(tlsCertFile, { interval: CERT_POLL_MS }, reload);
    watchFile(tlsKeyFile, { interval: CERT_POLL_MS }, reload);
  }

  private closing = false;

  /**
   * Stop accepting, let in-flight requests and streams finish for up to `graceMs`, then close what is left.
   * Resolves once every connection is gone.
   */
  async drain(graceMs: number): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.closing = true;
    unwatchFile(this.config.serving.tlsCertFile);
    unwatchFile(this.config.serving.tlsKeyFile);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Idle keep-alive connections have nothing in flight: close them now.
    // (HTTP/2 connections got a GOAWAY from server.close(): their open streams finish, then they close.)
    for (const socket of this.sockets) {
      if ((socket as TLSSocket).alpnProtocol === 'h2') continue;
      if (!this.upgraded.has(socket) && (this.busy.get(socket) ?? 0) === 0) socket.end();
    }
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
    if ((await Promise.race([closed, timer])) === 'timeout') {
      this.logger.warn(`shutdown grace period of ${graceMs} ms elapsed; closing ${this.sockets.size} open connection(s)`);
      for (const socket of this.sockets) socket.destroy();
      await closed;
    }
  }

  get openConnections(): number {
    return this.sockets.size;
  }
}
