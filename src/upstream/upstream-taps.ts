import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { BodySink } from '../audit/body-capture.js';

/**
 * Observers of one exchange with the API server (audit body copies), whichever way it travels: an
 * http-proxy HTTP/1.1 request or an HTTP/2 stream. Called before any byte flows; they must not consume
 * or delay it.
 */
export interface UpstreamTaps {
  /** The request to the API server (HTTP/1.1 request or HTTP/2 stream), before the client's body is written to it. */
  onUpstreamRequest?(body: BodySink): void;
  /** The API server's response body and head, before the body is piped to the client. */
  onUpstreamResponse?(body: Readable, headers: IncomingHttpHeaders): void;
}
