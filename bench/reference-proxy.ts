/**
 * The bench's reference point for "what any Node.js proxy costs here": an HTTPS → HTTPS pass-through in
 * the fewest lines Node allows, with the same keep-alive agent settings as kube-oidc-proxy but no
 * authentication, no impersonation, no audit, no framework. It shows how much of the gap to direct access
 * is Node's TLS and HTTP machinery (which every Node proxy pays) and how much is kube-oidc-proxy's own.
 * Never a product: it forwards whatever it gets with a fixed identity.
 *
 * Usage (as bench/run.ts starts it): reference-proxy.ts --secure-port=N --readiness-probe-port=N
 *   --tls-cert-file=F --tls-private-key-file=F --kubeconfig=F   (other flags are ignored)
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { Agent, createServer, request } from 'node:https';

const flag = (name: string): string => {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  if (!arg) throw new Error(`reference-proxy: --${name} is required`);
  return arg.slice(name.length + 3);
};
const kubeconfig = JSON.parse(readFileSync(flag('kubeconfig'), 'utf8')) as {
  clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
  users: { user: { token: string } }[];
};
const cluster = kubeconfig.clusters[0]!.cluster;
const upstream = new URL(cluster.server);
const agent = new Agent({ ca: Buffer.from(cluster['certificate-authority-data'], 'base64'), keepAlive: true, maxSockets: Infinity, maxFreeSockets: 64, scheduling: 'lifo' });
const authorization = `Bearer ${kubeconfig.users[0]!.user.token}`;

const server = createServer({ cert: readFileSync(flag('tls-cert-file')), key: readFileSync(flag('tls-private-key-file')), noDelay: true, keepAliveTimeout: 65_000 }, (req, res) => {
  const headers = { ...req.headers, host: upstream.host, authorization, 'impersonate-user': 'bench@example.com' };
  const out = request({ hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  out.on('error', () => res.destroy());
  req.pipe(out);
});
server.listen(Number(flag('secure-port')), '127.0.0.1');
createHttpServer((_req, res) => res.end('ok')).listen(Number(flag('readiness-probe-port')), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
