/**
 * `npm run bench:profile`: a CPU profile of the proxy under the small-GET load, for finding what the hot
 * path spends its time on. `-- h2`: the same load over HTTP/2 (h2load); `-- stream`: one client
 * downloading 1 GiB; `-- reference`: bench/reference-proxy.ts under the same load instead of the proxy.
 * Writes bench/.run/proxy-*.cpuprofile (open in Chrome DevTools or speedscope) and prints the top
 * functions by self time.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestIssuer } from '../test/fixtures/test-issuer.js';
import { createTestCa } from '../test/fixtures/tls.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(ROOT, 'bench/.run');
mkdirSync(dir, { recursive: true });
const ca = createTestCa();
const issuer = await TestIssuer.start(ca);
const leaf = ca.issue('bench-upstream');
const upstream = spawn(process.execPath, ['--import', join(ROOT, 'scripts/register-ts.mjs'), join(ROOT, 'bench/upstream.ts'), leaf.certFile, leaf.keyFile], { stdio: ['ignore', 'pipe', 'inherit'] });
const upstreamPort = await new Promise<number>((resolve) => {
  let out = '';
  upstream.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    const m = /LISTENING (\d+)/.exec(out);
    if (m) resolve(Number(m[1]));
  });
});
const kubeconfig = join(dir, 'profile.kubeconfig');
writeFileSync(kubeconfig, JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'up', cluster: { server: `https://127.0.0.1:${upstreamPort}`, 'certificate-authority-data': Buffer.from(ca.caPem).toString('base64') } }], users: [{ name: 'p', user: { token: 't' } }], contexts: [{ name: 'up', context: { cluster: 'up', user: 'p' } }], 'current-context': 'up' }));
const serving = ca.issue('bench-proxy');
const port = 39000 + Math.floor(Math.random() * 1000);
const program = process.argv.includes('reference') ? ['--import', join(ROOT, 'scripts/register-ts.mjs'), join(ROOT, 'bench/reference-proxy.ts')] : [join(ROOT, 'dist/main.js')];
const proxy = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...program, '--bind-address=127.0.0.1', `--secure-port=${port}`, `--readiness-probe-port=${port + 1}`, `--oidc-issuer-url=${issuer.url}`, '--oidc-client-id=bench', `--oidc-ca-file=${ca.caCertFile}`, '--oidc-username-claim=email', `--tls-cert-file=${serving.certFile}`, `--tls-private-key-file=${serving.keyFile}`, `--kubeconfig=${kubeconfig}`], { stdio: ['ignore', 'ignore', 'inherit'] });
for (;;) {
  const ok = await new Promise<boolean>((r) => httpRequest({ host: '127.0.0.1', port: port + 1, path: '/ready' }, (res) => (res.resume(), r(res.statusCode === 200))).on('error', () => r(false)).end());
  if (ok) break;
  await new Promise((r) => setTimeout(r, 50));
}
const token = await issuer.sign({ aud: 'bench', sub: 'u', email: 'bench@example.com' });
const before = new Set(readdirSync(dir));
if (process.argv.includes('stream')) {
  const started = performance.now();
  let bytes = 0;
  await new Promise<void>((resolve, reject) =>
    httpsRequest(`https://127.0.0.1:${port}/big?bytes=${1024 ** 3}`, { ca: ca.caPem, agent: false, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', resolve);
      res.on('error', reject);
    }).on('error', reject).end(),
  );
  process.stdout.write(`streamed ${(bytes / 1e6).toFixed(0)} MB at ${(bytes / 1e3 / (performance.now() - started)).toFixed(0)} MB/s\n`);
} else if (process.argv.includes('h2')) {
  process.stdout.write(execFileSync('h2load', ['-t1', '-c8', '-m8', '-D8', '-H', `authorization: Bearer ${token}`, `https://127.0.0.1:${port}/api/v1/namespaces/default/pods/small`]).toString());
} else {
  process.stdout.write(execFileSync('wrk', ['-t1', '-c64', '-d8s', '-H', `Authorization: Bearer ${token}`, `https://127.0.0.1:${port}/api/v1/namespaces/default/pods/small`]).toString());
}
proxy.kill('SIGTERM');
await new Promise((r) => proxy.once('exit', r));
upstream.kill();
await issuer.stop();
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile') && !before.has(f))!;
interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; }
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<string, number>();
profile.samples.forEach((id, i) => {
  const n = byId.get(id)!;
  const key = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*node_modules\//, 'nm:').replace(`file://${ROOT}/`, '')}:${n.callFrame.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const total = [...self.values()].reduce((a, b) => a + b, 0);
const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40);
process.stdout.write(`\n${file}: top self time\n${top.map(([k, v]) => `${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`).join('\n')}\n`);
process.exit(0);
