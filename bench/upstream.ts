/**
 * The benchmark's stand-in for kube-apiserver, in its own process so it never shares an event loop with
 * the load generator or the proxy. Answers like the API server would, with no work of its own:
 *   GET  /api/v1/namespaces/default/pods/small     a small Pod object (~600 B of JSON)
 *   GET  /api/v1/namespaces/default/pods            a large PodList (500 items, ~300 KB)
 *   GET  /big?bytes=N                               N bytes streamed in 64 KiB chunks, honouring backpressure
 *   GET  …?watch=true                               a slow watch: one ADDED event, then silence until closed
 *   POST /apis/authorization.k8s.io/v1/subjectaccessreviews   always allowed (the --as scenario)
 *   any Upgrade request                             101, then every byte echoed back (exec-style stream)
 * It speaks HTTP/2 and HTTP/1.1 on one port, as kube-apiserver does, with kube-apiserver's 1000 streams
 * per HTTP/2 connection (the proxy sends watches as HTTP/2 streams; everything else arrives as HTTP/1.1).
 * Usage: node --import ./scripts/register-ts.mjs bench/upstream.ts <cert.pem> <key.pem>; prints "LISTENING <port>".
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';

const [certFile, keyFile] = process.argv.slice(2);
if (!certFile || !keyFile) throw new Error('usage: upstream.ts <cert.pem> <key.pem>');

const pod = (i: number) => ({
  kind: 'Pod',
  apiVersion: 'v1',
  metadata: { name: `web-${i}`, namespace: 'default', uid: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`, resourceVersion: String(1000 + i), labels: { app: 'web', tier: 'frontend' } },
  spec: { nodeName: 'node-1', containers: [{ name: 'web', image: 'registry.example.com/web:1.2.3', ports: [{ containerPort: 8080, protocol: 'TCP' }] }] },
  status: { phase: 'Running', podIP: `10.0.${Math.floor(i / 250)}.${i % 250}`, conditions: [{ type: 'Ready', status: 'True' }] },
});
const SMALL = Buffer.from(JSON.stringify(pod(1)));
const LIST = Buffer.from(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '99999' }, items: Array.from({ length: 500 }, (_, i) => pod(i)) }));
const CHUNK = Buffer.alloc(64 * 1024, 'k');

const tls = { cert: readFileSync(certFile), key: readFileSync(keyFile), allowHTTP1: true, settings: { maxConcurrentStreams: 1000 } };
// HTTP/2 exchanges come through Node's compatibility API, which has every method used below.
const server = createSecureServer(tls, (request: IncomingMessage | Http2ServerRequest, response: ServerResponse | Http2ServerResponse) => {
  const req = request as IncomingMessage;
  const res = response as ServerResponse;
  const url = new URL(req.url ?? '/', 'https://upstream');
  if (req.method === 'POST' && url.pathname === '/apis/authorization.k8s.io/v1/subjectaccessreviews') {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const review = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
      const body = JSON.stringify({ ...review, status: { allowed: true } });
      res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    return;
  }
  if (url.searchParams.get('watch') === 'true') {
    res.writeHead(200, { 'content-type': 'application/json', ...(req.httpVersionMajor === 2 ? {} : { 'transfer-encoding': 'chunked' }) });
    res.write(`{"type":"ADDED","object":${SMALL.toString()}}\n`);
    return; // stays open until the client goes away
  }
  if (url.pathname === '/big') {
    let remaining = Number(url.searchParams.get('bytes') ?? '0');
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const pump = (): void => {
      while (remaining > 0) {
        const piece = remaining >= CHUNK.length ? CHUNK : CHUNK.subarray(0, remaining);
        remaining -= piece.length;
        if (!res.write(piece)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
    return;
  }
  const body = url.pathname === '/api/v1/namespaces/default/pods' ? LIST : SMALL;
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});

server.on('upgrade', (_req, socket: Socket, head: Buffer) => {
  socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n');
  if (head.length > 0) socket.write(head);
  socket.pipe(socket);
  socket.on('error', () => socket.destroy());
});
server.on('clientError', (_err: Error, socket: Socket) => socket.destroy());
server.maxConnections = 100_000;
// The HTTP/1.1 side reads these from the server it is attached to, as on an https.Server.
Object.assign(server as unknown as Server, { headersTimeout: 0, requestTimeout: 0 });

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`LISTENING ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
