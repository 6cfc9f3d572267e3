/**
 * @jest-environment ./test/e2e/harness/e2e-environment.ts
 */
// kube-oidc-proxy in front of a real kube-apiserver, driven by real kubectl 1.27-1.33. The proxy runs with
// the RBAC a platform team would grant it and a real service-account token from the TokenRequest API.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent as ProxyAuditEvent } from '../../src/audit/audit-event.js';
import { AuditSink } from '../fixtures/audit-sink.js';
import { OidcProviderIdp } from '../fixtures/oidc-provider-idp.js';
import { proxyRbacFromChart } from './harness/chart-rbac.js';
import { TestIssuer } from '../fixtures/test-issuer.js';
import { createTestCa, type TestCa } from '../fixtures/tls.js';
import { oidcProxyArgs, opsGet, type ProxyProcess, startProxy } from '../integration/support/proxy-process.js';
import { ControlPlane, kubectlHasWhoami, kubectlVersions, waitForOutput } from './harness/control-plane.js';
import { tcpRoundTrip } from './harness/tcp.js';

const CLIENT_ID = 'kube-oidc-proxy-e2e';
const NS = 'team-dev';
const versions = kubectlVersions();

let cp: ControlPlane;
let ca: TestCa;
let issuer: TestIssuer;
let proxy: ProxyProcess;
/** The proxy's own audit log (--audit-log-path), Metadata level for everything. */
let proxyAuditFile: string;
/** The same events through the webhook backend (--audit-webhook-config-file), as jetstack's e2e checks both. */
let auditSink: AuditSink;



const DEV_ROLE = `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: developer, namespace: ${NS}}
rules:
- apiGroups: [""]
  resources: [pods, pods/log, configmaps]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [""]
  resources: [pods/exec, pods/portforward, pods/attach]
  verbs: [get, create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: developers, namespace: ${NS}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: developer}
subjects: [{kind: Group, name: dev, apiGroup: rbac.authorization.k8s.io}]
`;

const now = () => Math.floor(Date.now() / 1000);
async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const token = (claims: Record<string, unknown> = {}) =>
  issuer.sign({ aud: CLIENT_ID, sub: 'u-1', email: 'jane@example.com', groups: ['dev'], jti: 'e2e-jti', ...claims });

async function userKubeconfig(name: string, claims: Record<string, unknown> = {}): Promise<string> {
  return cp.writeKubeconfig(name, { token: await token(claims) }, { server: proxy.url, caFile: ca.caCertFile });
}

beforeAll(async () => {
  cp = await ControlPlane.start();
  ca = createTestCa();
  issuer = await TestIssuer.start(ca);
  await cp.applyYaml(await proxyRbacFromChart());
  const saToken = await cp.createServiceAccountToken('kube-oidc-proxy', 'kube-oidc-proxy');
  const upstream = cp.writeKubeconfig('proxy-upstream', { token: saToken });
  const serving = ca.issue('proxy');
  const auditDir = mkdtempSync(join(tmpdir(), 'kop-e2e-audit-'));
  const auditPolicy = join(auditDir, 'policy.yaml');
  writeFileSync(auditPolicy, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n');
  proxyAuditFile = join(auditDir, 'audit.log');
  auditSink = await AuditSink.start(ca);
  const webhookConfig = join(auditDir, 'webhook.kubeconfig');
  writeFileSync(
    webhookConfig,
    JSON.stringify({
      clusters: [{ name: 'sink', cluster: { server: auditSink.url, 'certificate-authority': ca.caCertFile } }],
      users: [{ name: 'proxy', user: { token: 'e2e-audit-sink-token' } }],
      contexts: [{ name: 'sink', context: { cluster: 'sink', user: 'proxy' } }],
      'current-context': 'sink',
    }),
  );
  proxy = await startProxy({
    args: [
      ...oidcProxyArgs({ issuerUrl: issuer.url, clientId: CLIENT_ID, issuerCaFile: ca.caCertFile, certFile: serving.certFile, keyFile: serving.keyFile, kubeconfig: upstream }),
      `--audit-policy-file=${auditPolicy}`,
      `--audit-log-path=${proxyAuditFile}`,
      `--audit-webhook-config-file=${webhookConfig}`,
      '--audit-webhook-batch-max-wait=200ms',
    ],
  });
  await cp.ensureNamespace(NS);
  await cp.createFakePod(NS, 'shell');
}, 240_000);

afterAll(async () => {
  await proxy?.stop('SIGKILL');
  await auditSink?.stop();
  await issuer?.stop();
  await cp?.stop();
}, 60_000);

describe('as a client with a bad token, kubectl reports Unauthorized', () => {
  it.each([
    ['an expired token', { exp: now() - 60 }],
    ['a token for another audience', { aud: 'someone-else' }],
    ['a token from another issuer', { iss: 'https://issuer.invalid' }],
  ])('%s', async (name, claims) => {
    const kubeconfig = await userKubeconfig(`bad-${name.replace(/\W+/g, '-')}`, claims);
    for (const version of ['1.27', '1.33']) {
      const result = await cp.kubectl(['get', 'pods', '-n', NS], { kubeconfig, version });
      expect(result.code).not.toBe(0);
      // kubectl's rendering of a 401 changed over versions; both mean the proxy answered Unauthorized.
      expect(result.stderr).toMatch(/Unauthorized|the server has asked for the client to provide credentials/);
    }
  }, 60_000);
});

describe('as jane (group dev) through the proxy', () => {
  let kubeconfig: string;
  beforeAll(async () => {
    kubeconfig = await userKubeconfig('jane');
  });

  it.each(versions)('without a RoleBinding, kubectl %s is Forbidden by real RBAC under her own name', async (version) => {
    const result = await cp.kubectl(['get', 'secrets', '-n', NS], { kubeconfig, version });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('User "jane@example.com" cannot list resource "secrets"');
  }, 30_000);

  describe('with a RoleBinding to her group', () => {
    beforeAll(async () => {
      await cp.applyYaml(DEV_ROLE);
    });

    it.each(versions)('kubectl %s lists pods', async (version) => {
      const result = await cp.kubectl(['get', 'pods', '-n', NS, '-o', 'name'], { kubeconfig, version });
      expect(result).toMatchObject({ code: 0, stdout: expect.stringContaining('pod/shell') });
    }, 30_000);

    it.each(versions.filter(kubectlHasWhoami))('kubectl %s auth whoami shows the OIDC identity', async (version) => {
      const result = await cp.kubectl(['auth', 'whoami', '-o', 'json'], { kubeconfig, version });
      expect(result.code).toBe(0);
      const review = JSON.parse(result.stdout) as { status: { userInfo: { username: string; groups: string[]; extra?: Record<string, string[]> } } };
      expect(review.status.userInfo.username).toBe('jane@example.com');
      expect(review.status.userInfo.groups).toEqual(expect.arrayContaining(['dev', 'system:authenticated']));
      expect(review.status.userInfo.extra?.['authentication.kubernetes.io/credential-id']).toEqual(['JTI=e2e-jti']);
    }, 30_000);

    it.each(versions)('kubectl %s exec runs a command in the pod (SPDY before 1.30, WebSocket after)', async (version) => {
      const result = await cp.kubectl(['exec', '-n', NS, 'shell', '--', 'echo', `hello-${version}`], { kubeconfig, version });
      expect(result).toMatchObject({ code: 0, stdout: `hello-${version}\n` });
    }, 30_000);

    it('kubectl speaks HTTP/2 to the proxy, as to kube-apiserver, and exec still upgrades over HTTP/1.1', async () => {
      const metrics = (await opsGet(proxy.opsPort, '/metrics')).body;
      expect(metrics).toMatch(/^kube_oidc_proxy_client_connections_total\{protocol="h2"\} [1-9]/m);
      expect(metrics).toMatch(/^kube_oidc_proxy_client_connections_total\{protocol="http\/1\.1"\} [1-9]/m);
    });

    it.each(['1.27', '1.33'])('kubectl %s exec -i carries stdin both ways', async (version) => {
      const result = await cp.kubectl(['exec', '-i', '-n', NS, 'shell', '--', 'head', '-n', '2'], { kubeconfig, version, stdin: 'ping\npong\n' });
      expect(result).toMatchObject({ code: 0, stdout: 'ping\npong\n' });
    }, 30_000);

    it.each(['1.27', '1.33'])('kubectl %s port-forward carries real TCP traffic', async (version) => {
      const forwarder = cp.startKubectl(['port-forward', '-n', NS, 'pod/shell', ':8080'], { kubeconfig, version });
      try {
        const [, port] = await waitForOutput(forwarder, /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/);
        const message = `through the proxy ${version}`;
        const echoed = await tcpRoundTrip(Number(port), message);
        expect(echoed).toBe(message);
      } finally {
        forwarder.kill();
      }
    }, 30_000);

    it('kubectl logs -f follows new lines as they are written', async () => {
      cp.appendPodLog('proxy line one\n');
      const follower = cp.startKubectl(['logs', '-f', '-n', NS, 'shell'], { kubeconfig });
      try {
        await waitForOutput(follower, /proxy line one\n/);
        cp.appendPodLog('proxy line two\n');
        await expect(waitForOutput(follower, /proxy line two\n/)).resolves.toBeTruthy();
      } finally {
        follower.kill();
      }
    }, 30_000);

    it('a watch through the proxy sees a change made by another client while the watch stays open', async () => {
      await cp.kubectl(['create', 'configmap', 'watched', '-n', NS, '--from-literal=v=1']);
      const events: string[] = [];
      const watch = request(
        new URL(`/api/v1/namespaces/${NS}/configmaps?watch=true&fieldSelector=metadata.name%3Dwatched`, proxy.url),
        { headers: { authorization: `Bearer ${await token()}` }, ca: ca.caPem, agent: false },
      );
      try {
        await new Promise<void>((resolve, reject) => {
          watch.on('response', (res) => {
            expect(res.statusCode).toBe(200);
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => events.push(...chunk.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { type: string }).type)));
            resolve();
          });
          watch.on('error', reject);
          watch.end();
        });
        await until(() => events.includes('ADDED'), 5000, 'the initial ADDED event');
        const patched = await cp.kubectl(['patch', 'configmap', 'watched', '-n', NS, '--type=merge', '-p', '{"data":{"v":"2"}}']);
        expect(patched).toMatchObject({ code: 0 });
        await until(() => events.includes('MODIFIED'), 10_000, 'the MODIFIED event');
        // kube-apiserver offers h2, so the watch (and every request before it) went as an HTTP/2 stream
        // (--upstream-http2, --upstream-http2-watches).
        expect(proxy.stdout()).not.toContain('does not offer HTTP/2');
        expect((await opsGet(proxy.opsPort, '/metrics')).body).toMatch(/^kube_oidc_proxy_upstream_http2_connections [1-9]/m);
      } finally {
        watch.destroy();
      }
    }, 30_000);

    it.each(['1.27', '1.33'])('kubectl %s get --watch prints the change as a MODIFIED row', async (version) => {
      const name = `watched-cli-${version.replace('.', '-')}`;
      await cp.kubectl(['create', 'configmap', name, '-n', NS, '--from-literal=v=1']);
      // Without --output-watch-events kubectl prints changed rows without an event type.
      const watcher = cp.startKubectl(['get', 'configmap', name, '-n', NS, '--watch', '--output-watch-events'], { kubeconfig, version });
      try {
        await waitForOutput(watcher, new RegExp(`ADDED\\s+${name}\\s`));
        // Listen before patching: the row can be printed before the patch command has even exited.
        const modified = waitForOutput(watcher, new RegExp(`MODIFIED\\s+${name}\\s`));
        const patched = await cp.kubectl(['patch', 'configmap', name, '-n', NS, '--type=merge', '-p', '{"data":{"v":"2"}}']);
        expect(patched).toMatchObject({ code: 0 });
        await expect(modified).resolves.toBeTruthy();
      } finally {
        watcher.kill();
      }
    }, 30_000);

    it('create, apply, server-side apply, patch and delete work', async () => {
      const manifest = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: applied, namespace: ${NS}}\ndata: {a: "1"}\n`;
      expect((await cp.kubectl(['apply', '-f', '-'], { kubeconfig, stdin: manifest })).code).toBe(0);
      expect((await cp.kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=e2e', '-f', '-'], { kubeconfig, stdin: manifest.replace('"1"', '"2"') })).code).toBe(0);
      expect((await cp.kubectl(['patch', 'configmap', 'applied', '-n', NS, '--type=merge', '-p', '{"data":{"b":"3"}}'], { kubeconfig })).code).toBe(0);
      const got = await cp.kubectl(['get', 'configmap', 'applied', '-n', NS, '-o', 'jsonpath={.data}'], { kubeconfig });
      expect(JSON.parse(got.stdout)).toEqual({ a: '2', b: '3' });
      const deleted = await cp.kubectl(['delete', 'configmap', 'applied', '-n', NS], { kubeconfig });
      expect(deleted).toMatchObject({ code: 0, stdout: expect.stringContaining('deleted') });
    }, 30_000);

    it("the API server's warnings reach kubectl, one Warning line each, over the HTTP/2 path", async () => {
      // Two unknown fields with server-side field validation set to Warn: kube-apiserver answers with two
      // Warning header lines, which the proxy receives as two HTTP/2 header fields and must not merge.
      const manifest = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: warned, namespace: ${NS}}\ndata: {a: "1"}\nfirst: 1\nsecond: 2\n`;
      const created = await cp.kubectl(['create', '--validate=warn', '-f', '-'], { kubeconfig, stdin: manifest });
      expect(created.code).toBe(0);
      expect(created.stderr).toContain('unknown field "first"');
      expect(created.stderr).toContain('unknown field "second"');
      const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'warned-raw', namespace: NS }, first: 1, second: 2 });
      const authorization = `Bearer ${await token()}`;
      const rawHeaders = await new Promise<string[]>((resolve, reject) => {
        const req = request(new URL(`/api/v1/namespaces/${NS}/configmaps?fieldValidation=Warn`, proxy.url), { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, ca: ca.caPem, agent: false }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 201 ? resolve(res.rawHeaders) : reject(new Error(`HTTP ${res.statusCode}`))));
        });
        req.on('error', reject);
        req.end(body);
      });
      expect(rawHeaders.filter((name, i) => i % 2 === 0 && name.toLowerCase() === 'warning')).toHaveLength(2);
      expect(proxy.stdout()).not.toContain('does not offer HTTP/2');
      await cp.kubectl(['delete', 'configmap', 'warned', 'warned-raw', '-n', NS]);
    }, 30_000);

    it("the API server's audit log shows the proxy impersonating jane", async () => {
      await cp.kubectl(['get', 'configmaps', '-n', NS, '--request-timeout=10s'], { kubeconfig });
      const event = await cp.waitForAuditEvent((e) => e.impersonatedUser?.username === 'jane@example.com' && e.objectRef?.resource === 'configmaps');
      expect(event.user.username).toBe('system:serviceaccount:kube-oidc-proxy:kube-oidc-proxy');
      expect(event.impersonatedUser?.groups).toEqual(expect.arrayContaining(['dev', 'system:authenticated']));
    }, 30_000);
  });
});

describe("the proxy's audit log, joined with the API server's by Audit-ID", () => {
  let kubeconfig: string;
  beforeAll(async () => {
    kubeconfig = await userKubeconfig('jane-audit');
  });
  const proxyEvents = (): ProxyAuditEvent[] =>
    readFileSync(proxyAuditFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as ProxyAuditEvent);
  /** Runs kubectl, then waits for a ResponseComplete event of a request made by it (an auditID not seen before). */
  async function kubectlAudited(args: string[], config: string, predicate: (e: ProxyAuditEvent) => boolean) {
    const seen = new Set(proxyEvents().map((e) => e.auditID));
    const result = await cp.kubectl(args, { kubeconfig: config });
    const fresh = (e: ProxyAuditEvent) => !seen.has(e.auditID) && e.stage === 'ResponseComplete' && predicate(e);
    await until(() => proxyEvents().some(fresh), 10_000, 'a matching proxy audit event');
    return { result, event: proxyEvents().find(fresh)! };
  }

  it('kubectl get pod: the proxy records get on pods for jane, and the API server records the same auditID as the proxy impersonating her', async () => {
    const { result, event } = await kubectlAudited(['get', 'pods', 'shell', '-n', NS, '-o', 'name'], kubeconfig, (e) => e.requestURI.startsWith(`/api/v1/namespaces/${NS}/pods/shell`));
    expect(result.code).toBe(0);
    expect(event).toMatchObject({ verb: 'get', objectRef: { resource: 'pods', namespace: NS, name: 'shell', apiVersion: 'v1' }, user: { username: 'jane@example.com' }, responseStatus: { code: 200 } });
    const theirs = await cp.waitForAuditEvent((e) => e.auditID === event.auditID && e.stage === 'ResponseComplete');
    expect(theirs).toMatchObject({ verb: 'get', impersonatedUser: { username: 'jane@example.com' }, objectRef: { resource: 'pods', name: 'shell' } });
  }, 30_000);

  it('the webhook receives the same events as the log file, as EventList batches with its token', async () => {
    const { event } = await kubectlAudited(['get', 'configmaps', '-n', NS], kubeconfig, (e) => e.requestURI.startsWith(`/api/v1/namespaces/${NS}/configmaps`));
    await until(() => auditSink.events.some((e) => e.auditID === event.auditID && e.stage === 'ResponseComplete'), 10_000, 'the event at the webhook');
    const fromFile = proxyEvents().filter((e) => e.auditID === event.auditID);
    const fromWebhook = auditSink.events.filter((e) => e.auditID === event.auditID);
    // Batches may be in flight together, so arrival order is not asserted; the events themselves are identical.
    expect(fromWebhook).toHaveLength(fromFile.length);
    expect(fromWebhook).toEqual(expect.arrayContaining(fromFile));
    expect(auditSink.batches.every((b) => b.body.kind === 'EventList' && b.authorization === 'Bearer e2e-audit-sink-token')).toBe(true);
  }, 30_000);

  it('a list real RBAC forbids is recorded by the proxy with the 403 the API server answered, under the same auditID', async () => {
    const { result, event } = await kubectlAudited(['get', 'secrets', '-n', NS], kubeconfig, (e) => e.requestURI.startsWith(`/api/v1/namespaces/${NS}/secrets`));
    expect(result.code).not.toBe(0);
    expect(event).toMatchObject({ verb: 'list', objectRef: { resource: 'secrets', namespace: NS }, user: { username: 'jane@example.com' }, responseStatus: { code: 403 } });
    const theirs = await cp.waitForAuditEvent((e) => e.auditID === event.auditID && e.stage === 'ResponseComplete');
    expect(theirs).toMatchObject({ verb: 'list', responseStatus: { code: 403 } });
  }, 30_000);

  it('an expired token is recorded by the proxy as a 401 for system:anonymous and never reaches the API server', async () => {
    const bad = await userKubeconfig('audit-expired', { exp: now() - 60 });
    const { result, event } = await kubectlAudited(['get', 'configmaps', '-n', NS], bad, (e) => e.responseStatus?.code === 401);
    expect(result.code).not.toBe(0);
    expect(event.user).toEqual({ username: 'system:anonymous', groups: ['system:unauthenticated'] });
    expect(cp.auditEvents().some((e) => e.auditID === event.auditID)).toBe(false);
  }, 30_000);
});

describe('with an ID token from a real identity provider (oidc-provider, scripted authorization-code login)', () => {
  let idp: OidcProviderIdp;
  let idpProxy: ProxyProcess;
  beforeAll(async () => {
    idp = await OidcProviderIdp.start(ca, 'kubernetes', { 'jane-1': { email: 'jane@example.com', groups: ['dev'] } });
    const serving = ca.issue('idp-proxy');
    idpProxy = await startProxy({
      args: oidcProxyArgs({
        issuerUrl: idp.issuer,
        clientId: 'kubernetes',
        issuerCaFile: ca.caCertFile,
        certFile: serving.certFile,
        keyFile: serving.keyFile,
        kubeconfig: cp.writeKubeconfig('idp-proxy-upstream', { token: await cp.createServiceAccountToken('kube-oidc-proxy', 'kube-oidc-proxy') }),
      }),
    });
  }, 60_000);
  afterAll(async () => {
    await idpProxy?.stop('SIGKILL');
    await idp?.stop();
  });

  it.each(['1.28', '1.33'])('kubectl %s is jane, with her groups, and her RoleBinding applies', async (version) => {
    await cp.applyYaml(DEV_ROLE);
    const idToken = await idp.login('jane-1');
    const kubeconfig = cp.writeKubeconfig(`idp-jane-${version}`, { token: idToken }, { server: idpProxy.url, caFile: ca.caCertFile });
    const whoami = await cp.kubectl(['auth', 'whoami', '-o', 'json'], { kubeconfig, version });
    expect(whoami.code).toBe(0);
    const info = (JSON.parse(whoami.stdout) as { status: { userInfo: { username: string; groups: string[] } } }).status.userInfo;
    expect(info.username).toBe('jane@example.com');
    expect(info.groups).toEqual(expect.arrayContaining(['dev', 'system:authenticated']));
    expect(await cp.kubectl(['get', 'pods', '-n', NS, '-o', 'name'], { kubeconfig, version })).toMatchObject({ code: 0, stdout: expect.stringContaining('pod/shell') });
  }, 30_000);
});

describe('kubectl --as through the proxy, checked against real RBAC', () => {
  let kubeconfig: string;
  beforeAll(async () => {
    kubeconfig = await userKubeconfig('jane-as');
    await cp.applyYaml(`
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: impersonate-ok-user}
rules:
- apiGroups: [""]
  resources: [users]
  resourceNames: [ok-user]
  verbs: [impersonate]
- apiGroups: [""]
  resources: [groups]
  resourceNames: [ok-group]
  verbs: [impersonate]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: jane-impersonates-ok-user}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: impersonate-ok-user}
subjects: [{kind: User, name: jane@example.com, apiGroup: rbac.authorization.k8s.io}]
`);
  });

  it.each(['1.28', '1.33'])('kubectl %s --as an allowed user and group acts as that user, and the API server audit keeps jane', async (version) => {
    const result = await cp.kubectl(['auth', 'whoami', '-o', 'json', '--as=ok-user', '--as-group=ok-group'], { kubeconfig, version });
    expect(result.code).toBe(0);
    const info = (JSON.parse(result.stdout) as { status: { userInfo: { username: string; groups: string[]; extra?: Record<string, string[]> } } }).status.userInfo;
    expect(info.username).toBe('ok-user');
    expect(info.groups).toEqual(expect.arrayContaining(['ok-group', 'system:authenticated']));
    expect(info.extra?.['originaluser.jetstack.io-user']).toEqual(['jane@example.com']);
    const event = await cp.waitForAuditEvent((e) => e.impersonatedUser?.username === 'ok-user');
    expect(event.impersonatedUser?.extra?.['originaluser.jetstack.io-user']).toEqual(['jane@example.com']);
  }, 30_000);

  it.each(['1.27', '1.33'])('kubectl %s --as a user jane may not impersonate is refused with a clear message', async (version) => {
    const result = await cp.kubectl(['get', 'pods', '-n', NS, '--as=cluster-admin-wannabe'], { kubeconfig, version });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("jane@example.com is not allowed to impersonate user 'cluster-admin-wannabe'");
  }, 30_000);

  it('kubectl --as an allowed user with a group jane may not use is refused', async () => {
    const result = await cp.kubectl(['get', 'pods', '-n', NS, '--as=ok-user', '--as-group=system:masters'], { kubeconfig });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("jane@example.com is not allowed to impersonate group 'system:masters'");
  }, 30_000);
});

describe('as a CI job with a service-account token, through a proxy with --token-passthrough', () => {
  let passthrough: ProxyProcess;
  const CI_RBAC = `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: ci-reader, namespace: ${NS}}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ci-deployer, namespace: ${NS}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: ci-reader}
subjects: [{kind: ServiceAccount, name: deployer, namespace: ci}]
`;
  beforeAll(async () => {
    const saToken = await cp.createServiceAccountToken('kube-oidc-proxy', 'kube-oidc-proxy');
    const serving = ca.issue('proxy-passthrough');
    passthrough = await startProxy({
      args: [
        `--oidc-issuer-url=${issuer.url}`,
        `--oidc-client-id=${CLIENT_ID}`,
        `--oidc-ca-file=${ca.caCertFile}`,
        '--oidc-username-claim=email',
        `--tls-cert-file=${serving.certFile}`,
        `--tls-private-key-file=${serving.keyFile}`,
        `--kubeconfig=${cp.writeKubeconfig('proxy-upstream-passthrough', { token: saToken })}`,
        '--token-passthrough',
      ],
    });
  }, 60_000);
  afterAll(async () => passthrough?.stop('SIGKILL'));

  it('the real TokenReview accepts the token and the API server authorizes the service account itself', async () => {
    const ciToken = await cp.createServiceAccountToken('ci', 'deployer');
    await cp.applyYaml(CI_RBAC);
    const kubeconfig = cp.writeKubeconfig('ci-deployer', { token: ciToken }, { server: passthrough.url, caFile: ca.caCertFile });
    const allowed = await cp.kubectl(['get', 'pods', '-n', NS, '-o', 'name'], { kubeconfig });
    expect(allowed.stderr).toBe('');
    expect(allowed.stdout).toContain('pod/shell');
    const refused = await cp.kubectl(['get', 'pods', '-n', 'default'], { kubeconfig });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('system:serviceaccount:ci:deployer');
    expect(passthrough.stdout()).toContain('AuSuccess');
    expect(passthrough.output()).not.toContain(ciToken);
  }, 60_000);

  it('a token the API server does not know is refused with Unauthorized', async () => {
    const kubeconfig = cp.writeKubeconfig('ci-bogus', { token: 'not-a-real-token' }, { server: passthrough.url, caFile: ca.caCertFile });
    const result = await cp.kubectl(['get', 'pods', '-n', NS], { kubeconfig });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Unauthorized|the server has asked for the client to provide credentials/);
  }, 30_000);
});

describe("the proxy's own service account", () => {
  it('without impersonation rights, the user gets a clear 403 naming what the proxy may not do', async () => {
    await cp.kubectl(['delete', 'clusterrolebinding', 'kube-oidc-proxy']);
    try {
      const kubeconfig = await userKubeconfig('jane-no-proxy-rbac');
      const result = await cp.kubectl(['get', 'pods', '-n', NS], { kubeconfig });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('cannot impersonate resource "users"');
      expect(result.stderr).toContain('system:serviceaccount:kube-oidc-proxy:kube-oidc-proxy');
    } finally {
      await cp.applyYaml(await proxyRbacFromChart());
    }
  }, 30_000);
});
