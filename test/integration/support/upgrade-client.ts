/** Raw upgrade requests over TLS, so tests see exactly the bytes the proxy writes. */
import { connect, type TLSSocket } from 'node:tls';

export interface RawUpgrade {
  readonly socket: TLSSocket;
  /** Everything received so far. */
  received(): string;
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  readonly closed: Promise<void>;
}

const open = new Set<TLSSocket>();

/** Destroy every raw connection a test opened (call from afterEach), so a failed assertion cannot hang jest. */
export function closeRawUpgrades(): void {
  for (const s of open) s.destroy();
  open.clear();
}

export function rawUpgrade(port: number, ca: string, head: string): Promise<RawUpgrade> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      socket.write(head);
      let data = '';
      socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
      const closed = new Promise<void>((r) => socket.once('close', () => r()));
      resolve({
        socket,
        received: () => data,
        closed,
        waitFor: (text, timeoutMs = 3000) =>
          new Promise<void>((ok, fail) => {
            const deadline = setTimeout(() => fail(new Error(`did not receive ${JSON.stringify(text)}; got ${JSON.stringify(data)}`)), timeoutMs);
            const check = (): void => {
              if (data.includes(text)) {
                clearTimeout(deadline);
                ok();
              } else setTimeout(check, 10);
            };
            check();
          }),
      });
    });
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    socket.on('error', reject);
  });
}

export function upgradeHead(path: string, token: string | undefined, protocol: string, extra: Record<string, string> = {}): string {
  const lines = [
    `POST ${path} HTTP/1.1`,
    'Host: localhost',
    'Connection: Upgrade',
    `Upgrade: ${protocol}`,
    'X-Stream-Protocol-Version: v4.channel.k8s.io',
    ...(token ? [`Authorization: Bearer ${token}`] : []),
    ...Object.entries(extra).map(([k, v]) => `${k}: ${v}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}
