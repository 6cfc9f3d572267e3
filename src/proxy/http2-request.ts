/**
 * Inbound HTTP/2 (ALPN "h2"), which client-go and kubectl use whenever the server offers it, as
 * kube-apiserver and Go servers (jetstack's proxy included) do.
 *
 * Node hands an HTTP/2 stream to the 'request' listener as an Http2ServerRequest, whose headers include
 * the pseudo-headers (`:method`, `:path`, `:authority`, `:scheme`). Everything behind the listener (audit,
 * admission, http-proxy) reads an IncomingMessage, so each stream is presented as one: an IncomingMessage
 * whose header lines are the stream's regular headers plus `host` from `:authority`, parsed by Node's own
 * HTTP/1.1 rules (so duplicates join exactly as on an HTTP/1.1 connection), and whose body is the
 * stream's. A pseudo-header therefore never reaches the header rules or the API server.
 *
 * The response side needs no copy: Http2ServerResponse has ServerResponse's members the proxy uses
 * (writeHead, setHeader, write, end, statusCode, headersSent, writableEnded, 'close'), so it is passed on
 * as one, with `destroyed` added. Connection-specific response headers, which HTTP/2 forbids, are removed
 * by the Upstream module before the head is written (proxy.service.ts).
 */
import { IncomingMessage, type ServerResponse } from 'node:http';
import { constants, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';

/** What is read from a request's socket: the peer's address (client-address.ts) and whether it was closed. */
function peerOf(inbound: Http2ServerRequest): Socket {
  // Http2ServerRequest.socket is a proxy that throws once the session is gone; read the address now.
  const { remoteAddress, remotePort } = inbound.socket;
  const stream = inbound.stream;
  return {
    remoteAddress,
    remotePort,
    encrypted: true,
    get destroyed() {
      return stream.destroyed;
    },
  } as unknown as Socket;
}

export class Http2Request extends IncomingMessage {
  private receiving = false;

  constructor(private readonly inbound: Http2ServerRequest) {
    super(peerOf(inbound));
    this.httpVersionMajor = 2;
    this.httpVersionMinor = 0;
    this.httpVersion = '2.0';
    this.method = inbound.method;
    this.url = inbound.url;
    const lines: string[] = [];
    const raw = inbound.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      if (!raw[i]!.startsWith(':')) lines.push(raw[i]!, raw[i + 1]!);
    }
    if (inbound.authority) lines.push('host', inbound.authority);
    // An HTTP/2 body of unknown length has no Content-Length; on HTTP/1.1 that is a chunked body, and the
    // header rules re-chunk it for the API server (header-policy.ts sanitizeInboundHeaders).
    const hasBody = !inbound.stream.endAfterHeaders;
    if (hasBody && inbound.headers['content-length'] === undefined) lines.push('transfer-encoding', 'chunked');
    this.rawHeaders = lines;
    // Node's own HTTP/1.1 joining rules (duplicates dropped, joined or listed per header name).
    const headers = {};
    for (let i = 0; i < lines.length; i += 2) this._addHeaderLine(lines[i]!, lines[i + 1]!, headers);
    this.headers = headers;
    if (!hasBody) {
      this.complete = true;
      this.push(null);
    }
  }

  override _read(): void {
    if (!this.receiving) {
      this.receiving = true;
      this.inbound.on('data', (chunk: Buffer) => {
        if (!this.push(chunk)) this.inbound.pause();
      });
      this.inbound.once('end', () => {
        this.complete = true;
        this.push(null);
      });
    }
    this.inbound.resume();
  }

  /** Never IncomingMessage's: that destroys the socket, which here is the whole connection's. Only this stream is cancelled. */
  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.complete) {
      this.aborted = true;
      this.emit('aborted');
      if (!this.inbound.stream.destroyed) this.inbound.stream.close(constants.NGHTTP2_CANCEL);
    }
    // As IncomingMessage does: the error is emitted only to a listener (http-proxy's ends the upstream request).
    callback(this.listenerCount('error') > 0 ? err : null);
  }
}

/** The response of an HTTP/2 stream, in the shape the proxy writes to (see the file comment). */
export function http2Response(res: Http2ServerResponse): ServerResponse {
  Object.defineProperty(res, 'destroyed', { get: () => res.stream.destroyed });
  return res as unknown as ServerResponse;
}

/** Wrap one HTTP/2 request and response for the proxy. */
export function fromHttp2(inbound: Http2ServerRequest, response: Http2ServerResponse): { req: Http2Request; res: ServerResponse } {
  return { req: new Http2Request(inbound), res: http2Response(response) };
}

declare module 'node:http' {
  interface IncomingMessage {
    /** Node's (undocumented, stable since 0.x) rule for adding one header line to a headers object. */
    _addHeaderLine(field: string, value: string, dest: Record<string, unknown>): void;
  }
}
