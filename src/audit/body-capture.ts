/**
 * Copies of request and response bodies for requestObject/responseObject (levels Request and
 * RequestResponse). A copy is taken from the bytes as they pass, never by holding them back: the stream
 * to the API server and to the client goes on exactly as without auditing. A body larger than the cap is
 * not kept at all (its copy is dropped at the first byte over), so memory per request stays bounded, and
 * the event is written without it, as for any body that is not JSON.
 */
import type { Writable } from 'node:stream';
import { gunzipSync, inflateSync } from 'node:zlib';

/** Bodies above this are not recorded. kube-apiserver's own request limit is 3 MiB; most objects are far smaller. */
export const MAX_AUDITED_BODY_BYTES = 1024 * 1024;

export class BodyCapture {
  private chunks: Buffer[] = [];
  private size = 0;
  private overflowed = false;
  private ended = false;

  constructor(private readonly cap = MAX_AUDITED_BODY_BYTES) {}

  add(chunk: unknown, encoding?: BufferEncoding): void {
    if (this.overflowed || chunk === undefined || chunk === null) return;
    const bytes = Buffer.isBuffer(chunk) ? chunk : typeof chunk === 'string' ? Buffer.from(chunk, encoding ?? 'utf8') : chunk instanceof Uint8Array ? Buffer.from(chunk) : undefined;
    if (!bytes || bytes.length === 0) return;
    if (this.size + bytes.length > this.cap) {
      this.overflowed = true;
      this.chunks = [];
      return;
    }
    this.chunks.push(bytes);
    this.size += bytes.length;
  }

  end(): void {
    this.ended = true;
  }

  /** The body, if it was seen whole and within the cap. */
  whole(): Buffer | undefined {
    return this.ended && !this.overflowed ? Buffer.concat(this.chunks) : undefined;
  }
}

/** The body without its Content-Encoding (gzip and deflate, as the API server sends), within the cap. */
export function decodeBody(bytes: Buffer, contentEncoding: string | undefined, cap = MAX_AUDITED_BODY_BYTES): Buffer | undefined {
  const encoding = (contentEncoding ?? '').trim().toLowerCase();
  try {
    if (encoding === '' || encoding === 'identity') return bytes;
    if (encoding === 'gzip') return gunzipSync(bytes, { maxOutputLength: cap });
    if (encoding === 'deflate') return inflateSync(bytes, { maxOutputLength: cap });
  } catch {
    return undefined; // corrupt, or larger than the cap once decoded
  }
  return undefined;
}

type WriteFn = (chunk: unknown, ...rest: unknown[]) => boolean;
type EndFn = (...args: unknown[]) => unknown;

/** Where a request body goes: the HTTP/1.1 request to the API server or an HTTP/2 stream. */
export type BodySink = Writable;

/**
 * Copies everything written to a writable (the request to the API server) into the capture, leaving the
 * writes themselves untouched.
 */
export function captureWrites(sink: BodySink, capture: BodyCapture): void {
  const stream = sink as unknown as { write: WriteFn; end: EndFn };
  const write = stream.write.bind(stream);
  const end = stream.end.bind(stream);
  stream.write = (chunk: unknown, ...rest: unknown[]): boolean => {
    capture.add(chunk, typeof rest[0] === 'string' ? (rest[0] as BufferEncoding) : undefined);
    return write(chunk, ...rest);
  };
  stream.end = (...args: unknown[]): unknown => {
    if (args.length > 0 && typeof args[0] !== 'function') capture.add(args[0], typeof args[1] === 'string' ? (args[1] as BufferEncoding) : undefined);
    capture.end();
    return end(...args);
  };
}
