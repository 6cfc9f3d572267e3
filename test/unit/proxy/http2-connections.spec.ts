/**
 * The HTTP/2 connection rules on real sockets, with the idle time shortened: a connection without streams
 * is closed, one carrying a quiet stream (a watch) is not, and the receive window is Go's.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { type ClientHttp2Session, connect, createServer, type Http2Server, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { HTTP2_RECEIVE_WINDOW, manageHttp2Session } from '../../../src/proxy/http2-connections.js';

const IDLE_MS = 150;
const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

async function serverWithIdleClose(): Promise<{ port: number; streams: ServerHttp2Stream[] }> {
  const streams: ServerHttp2Stream[] = [];
  const server: Http2Server = createServer();
  server.on('session', (session) => manageHttp2Session(session, IDLE_MS));
  server.on('stream', (stream) => {
    streams.push(stream);
    stream.respond({ ':status': 200 });
    stream.write('event\n'); // a watch: answered, then quiet
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => server.close());
  return { port: (server.address() as AddressInfo).port, streams };
}

function client(port: number): { session: ClientHttp2Session; closed: Promise<number> } {
  const started = Date.now();
  const session = connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  cleanups.push(() => session.destroy());
  return { session, closed: new Promise((resolve) => session.once('close', () => resolve(Date.now() - started))) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('an HTTP/2 client connection', () => {
  it('is closed once it has carried no stream for the idle time', async () => {
    const { port } = await serverWithIdleClose();
    const { closed } = client(port);
    expect(await closed).toBeGreaterThanOrEqual(IDLE_MS - 20);
  });

  it('stays open while a quiet stream is open, and closes the idle time after the stream ends', async () => {
    const { port, streams } = await serverWithIdleClose();
    const { session, closed } = client(port);
    let isClosed = false;
    void closed.then(() => (isClosed = true));
    const watch = session.request({ ':path': '/api/v1/pods?watch=true' });
    watch.on('error', () => {});
    await new Promise((resolve) => watch.once('data', resolve));
    await sleep(IDLE_MS * 3);
    expect(isClosed).toBe(false);
    streams[0]!.end();
    const ended = Date.now();
    await closed;
    expect(Date.now() - ended).toBeGreaterThanOrEqual(IDLE_MS - 20);
  });

  it("offers Go's 1 MiB connection receive window instead of nghttp2's 64 KiB", async () => {
    const { port } = await serverWithIdleClose();
    const { session } = client(port);
    await new Promise((resolve) => session.once('connect', resolve));
    await sleep(50);
    expect(session.state.remoteWindowSize).toBe(HTTP2_RECEIVE_WINDOW);
  });
});
