/**
 * The client side of HTTP/2 connections on the secure listener: what a connection and a stream get that
 * Node does not give them. Node times only HTTP/1.1 requests and would count an idle watch as an idle
 * connection, so the request deadline and the idle close are kept here, per stream and per connection.
 */
import type { ServerResponse } from 'node:http';
import type { Http2Session, ServerHttp2Session } from 'node:http2';
import { AdmissionError } from './admission-error.js';
import type { Http2Request } from './http2-request.js';
import { writeStatus } from './kube-status.js';

/** Go's HTTP/2 server's per-stream and per-connection receive windows (MaxUploadBuffer*), instead of nghttp2's 64 KiB. */
export const HTTP2_RECEIVE_WINDOW = 1 << 20;

/**
 * A new connection: Go's receive window, and a GOAWAY once it has carried no stream for `idleMs` (Node's
 * own session timeout would close a connection whose only stream is a quiet watch).
 */
export function manageHttp2Session(session: ServerHttp2Session, idleMs: number): void {
  session.setLocalWindowSize(HTTP2_RECEIVE_WINDOW);
  let open = 0;
  let idle: NodeJS.Timeout | undefined;
  const startIdle = (): void => {
    idle = setTimeout(() => session.close(), idleMs).unref();
  };
  startIdle();
  session.on('stream', (stream) => {
    open += 1;
    clearTimeout(idle);
    stream.once('close', () => {
      open -= 1;
      if (open === 0 && !session.closed && !session.destroyed) startIdle();
    });
  });
  session.once('close', () => clearTimeout(idle));
}

/**
 * --request-read-timeout for one stream: a request not received within `ms` is answered 408 and its stream
 * cancelled, the connection's other streams untouched. Returns the deadline for the caller to clear.
 */
export function streamReadDeadline(req: Http2Request, res: ServerResponse, ms: number, onTimeout: () => void): NodeJS.Timeout | undefined {
  if (ms <= 0 || req.complete) return undefined;
  return setTimeout(() => {
    if (req.complete) return;
    onTimeout();
    writeStatus(res, new AdmissionError('RequestTimeout', 'the request was not received in time (--request-read-timeout)', 'ERR_HTTP_REQUEST_TIMEOUT'));
    req.destroy(); // cancels the stream once the 408 is sent
  }, ms);
}

/**
 * After the answer: kube-apiserver's CVE-2023-44487 mitigation (UnauthenticatedHTTP2DOSMitigation). A
 * client that did not authenticate loses its HTTP/2 connection, so it cannot go on opening streams on it cheaply.
 */
export function closeUnauthenticated(res: ServerResponse, session: Http2Session | undefined): void {
  if (res.statusCode === 401) session?.close();
}
