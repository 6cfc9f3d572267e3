/**
 * The tunnel for exec, attach, cp and port-forward: SPDY/3.1 (kubectl before 1.30 and client-go) and
 * WebSocket (v5.channel.k8s.io, port-forward over WebSocket in kubectl 1.30+). http-proxy's ws pass
 * destroys non-WebSocket upgrades, so this is our own.
 *
 * CVE-2018-1002105: bytes are spliced only after the API server answers 101. Any other answer is relayed
 * complete and then BOTH connections are closed, and an upgrade never uses a pooled connection, so nothing
 * the client sends later can ride an authenticated upstream connection. Redirects are relayed, never
 * followed (CVE-2020-8559).
 */
import { type IncomingMessage, type OutgoingHttpHeaders, STATUS_CODES } from 'node:http';
import { type AgentOptions, request } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { AdmissionError } from '../proxy/admission-error.js';
import { writeStatusToSocket } from '../proxy/kube-status.js';
import { upstreamError } from './upstream-errors.js';
import { type UpstreamTarget, upstreamPath } from './upstream-target.js';

const ALLOWED_UPGRADES = new Set(['spdy/3.1', 'websocket']);
/** A refused upgrade's body is relayed whole; anything bigger than this is cut (it is an error page). */
const MAX_REFUSAL_BODY = 1024 * 1024;
/** Response headers the tunnel writes itself for a non-101 answer. */
const FRAMING_HEADERS = new Set(['connection', 'transfer-encoding', 'content-length', 'keep-alive']);

export function isAllowedUpgrade(value: string | undefined): boolean {
  return value !== undefined && ALLOWED_UPGRADES.has(value.trim().toLowerCase());
}

export function upgradeProtocolLabel(value: string | undefined): 'spdy' | 'websocket' {
  return value?.trim().toLowerCase() === 'websocket' ? 'websocket' : 'spdy';
}

export interface TunnelHooks {
  /** Called when bytes start flowing; the returned function is called once when the tunnel closes. */
  onOpen?: (protocol: 'spdy' | 'websocket') => () => void;
  /** Called with the upstream status when the API server refused the upgrade (no tunnel). */
  onRefused?: (status: number) => void;
  onError?: (err: AdmissionError) => void;
}

export interface TunnelRequest {
  readonly req: IncomingMessage;
  readonly clientSocket: Duplex;
  readonly head: Buffer;
  /** Complete outbound headers including the proxy's credentials. */
  readonly headers: OutgoingHttpHeaders;
  readonly target: UpstreamTarget;
  readonly tls: AgentOptions;
}

function headBlock(statusLine: string, rawHeaders: readonly string[], skip?: Set<string>, extra: readonly [string, string][] = []): string {
  const lines = [statusLine];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (skip?.has(rawHeaders[i]!.toLowerCase())) continue;
    lines.push(`${rawHeaders[i]}: ${rawHeaders[i + 1]}`);
  }
  for (const [k, v] of extra) lines.push(`${k}: ${v}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

export function openUpgradeTunnel(t: TunnelRequest, hooks: TunnelHooks = {}): void {
  const { req, clientSocket, target } = t;
  const protocol = req.headers.upgrade!;
  const url = new URL(req.url ?? '/', target.url);
  const upstreamReq = request({
    ...t.tls,
    protocol: 'https:',
    hostname: target.url.hostname.replace(/^\[|\]$/g, ''),
    port: target.url.port || 443,
    method: req.method,
    path: upstreamPath(target.url, `${url.pathname}${url.search}`),
    headers: { ...t.headers, connection: 'Upgrade', upgrade: protocol },
    agent: false, // never pooled: this connection belongs to this one upgrade
    setHost: true,
  });
  let settled = false;
  const fail = (err: unknown): void => {
    if (settled) return;
    settled = true;
    const admissionError = upstreamError(err);
    hooks.onError?.(admissionError);
    writeStatusToSocket(clientSocket, admissionError);
    upstreamReq.destroy();
  };
  upstreamReq.on('error', fail);
  clientSocket.once('close', () => {
    if (!settled) {
      settled = true;
      upstreamReq.destroy();
    }
  });
  if (target.requestTimeoutMs > 0) {
    upstreamReq.setTimeout(target.requestTimeoutMs, () => fail(Object.assign(new Error('upgrade not answered in time'), { code: 'ETIMEDOUT' })));
  }

  upstreamReq.on('upgrade', (res: IncomingMessage, upstreamSocket: Socket, upstreamHead: Buffer) => {
    if (settled) {
      upstreamSocket.destroy();
      return;
    }
    settled = true;
    upstreamReq.setTimeout(0);
    const closeTunnel = hooks.onOpen?.(upgradeProtocolLabel(protocol));
    const client = clientSocket as Socket;
    for (const s of [client, upstreamSocket]) {
      s.setNoDelay?.(true);
      s.setKeepAlive?.(true, 30_000);
      s.setTimeout?.(0);
    }
    const teardown = (): void => {
      client.destroy();
      upstreamSocket.destroy();
      closeTunnel?.();
    };
    client.on('error', teardown);
    upstreamSocket.on('error', teardown);
    client.once('close', teardown);
    upstreamSocket.once('close', teardown);
    client.write(headBlock(`HTTP/1.1 101 ${res.statusMessage || 'Switching Protocols'}`, res.rawHeaders));
    if (upstreamHead.length) client.write(upstreamHead);
    if (t.head.length) upstreamSocket.write(t.head);
    upstreamSocket.pipe(client);
    client.pipe(upstreamSocket);
  });

  upstreamReq.on('response', (res: IncomingMessage) => {
    if (settled) {
      res.destroy();
      return;
    }
    settled = true;
    hooks.onRefused?.(res.statusCode ?? 0);
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (): void => {
      const body = Buffer.concat(chunks);
      const code = res.statusCode ?? 502;
      clientSocket.end(
        Buffer.concat([
          Buffer.from(
            headBlock(`HTTP/1.1 ${code} ${res.statusMessage || STATUS_CODES[code] || ''}`, res.rawHeaders, FRAMING_HEADERS, [
              ['Content-Length', String(body.length)],
              ['Connection', 'close'],
            ]),
          ),
          body,
        ]),
      );
      upstreamReq.destroy(); // the upstream connection of a refused upgrade is never reused
    };
    res.on('data', (c: Buffer) => {
      if (size < MAX_REFUSAL_BODY) chunks.push(c.subarray(0, MAX_REFUSAL_BODY - size));
      size += c.length;
    });
    res.on('end', finish);
    res.on('error', finish);
  });

  upstreamReq.end();
}
