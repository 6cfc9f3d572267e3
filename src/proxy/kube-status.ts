/**
 * The single mapping from AdmissionError to what the client sees: a Kubernetes `Status` JSON body
 * (kubectl prints `.message`) over HTTP, or the same bytes written raw to an upgrade socket, which
 * never reaches Express.
 */
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import { AdmissionError, type AdmissionErrorKind } from './admission-error.js';

interface StatusShape {
  readonly code: number;
  readonly reason: string;
}

/** Closed mapping; the `never` check makes adding a kind without a status a compile error. */
export function statusFor(kind: AdmissionErrorKind): StatusShape {
  switch (kind) {
    case 'Unauthenticated':
      return { code: 401, reason: 'Unauthorized' };
    case 'Forbidden':
      return { code: 403, reason: 'Forbidden' };
    case 'BadRequest':
      return { code: 400, reason: 'BadRequest' };
    case 'RequestTimeout':
      return { code: 408, reason: 'Timeout' };
    case 'HeadersTooLarge':
      return { code: 431, reason: 'BadRequest' };
    case 'TooManyRequests':
      return { code: 429, reason: 'TooManyRequests' };
    case 'UpstreamUnavailable':
      return { code: 503, reason: 'ServiceUnavailable' };
    case 'UpstreamError':
      return { code: 502, reason: 'InternalError' };
    case 'UpstreamTimeout':
      return { code: 504, reason: 'Timeout' };
    case 'ShuttingDown':
      return { code: 503, reason: 'ServiceUnavailable' };
    case 'Internal':
      return { code: 500, reason: 'InternalError' };
    default: {
      const unreachable: never = kind;
      throw new Error(`unmapped admission error kind ${String(unreachable)}`);
    }
  }
}

/** Anything thrown that is not an AdmissionError is a bug: fail closed with a 500 that leaks nothing. */
export function toAdmissionError(err: unknown): AdmissionError {
  if (err instanceof AdmissionError) return err;
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new AdmissionError('Internal', 'Internal error occurred: kube-oidc-proxy could not process the request', detail);
}

export function statusBody(err: AdmissionError): string {
  const { code, reason } = statusFor(err.kind);
  return JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: err.message,
    reason,
    code,
  });
}

/** Extra response headers some kinds carry (429 tells the client when to come back). */
function extraHeaders(err: AdmissionError): Record<string, string> {
  return err.kind === 'TooManyRequests' ? { 'Retry-After': '1' } : {};
}

/** Responses this proxy answered itself with a Status: their refusal or failure was logged where it was decided. */
const answeredByProxy = new WeakSet<ServerResponse>();

/** True when writeStatus answered this response (as opposed to the API server's answer passed through). */
export function isProxyStatus(res: ServerResponse): boolean {
  return answeredByProxy.has(res);
}

export function writeStatus(res: ServerResponse, err: AdmissionError): void {
  answeredByProxy.add(res);
  if (res.headersSent) {
    // The response already started (e.g. a stream broke mid-way): the only honest signal left is to cut it.
    res.destroy();
    return;
  }
  const body = statusBody(err);
  const { code } = statusFor(err.kind);
  res.writeHead(code, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-cache, private',
    ...extraHeaders(err),
  });
  res.end(body);
}

/** Upgrade requests own a raw socket: write a complete HTTP/1.1 response and close it. */
export function writeStatusToSocket(socket: Duplex, err: AdmissionError): void {
  if (socket.destroyed) return;
  const body = statusBody(err);
  const { code } = statusFor(err.kind);
  const headers = {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(body)),
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-cache, private',
    Connection: 'close',
    ...extraHeaders(err),
  };
  const head = [`HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ''}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)].join('\r\n');
  socket.end(`${head}\r\n\r\n${body}`);
}
