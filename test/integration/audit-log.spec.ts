/**
 * As a SIEM operator, the proxy writes the audit.k8s.io/v1 Events kube-apiserver would write, one JSON line
 * each, to --audit-log-path: real verbs and objectRefs for core-group requests, ResponseStarted for streams,
 * refusals included, an Audit-ID shared with the API server and the client, and never a token.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from '../../src/audit/audit-event.js';
import { bearer, send } from './support/client.js';
import { type Environment, PROXY_SA_TOKEN, startEnvironment } from './support/environment.js';
import { waitFor } from './support/proxy-process.js';
import { closeRawUpgrades, rawUpgrade, upgradeHead } from './support/upgrade-client.js';

const POLICY = `
apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: None
    nonResourceURLs: ["/healthz*"]
  - level: Metadata
`;

let env: Environment;
let auditFile: string;
const tokens: string[] = [];

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kop-audit-'));
  const policyFile = join(dir, 'policy.yaml');
  auditFile = join(dir, 'audit.log');
  writeFileSync(policyFile, POLICY);
  env = await startEnvironment({ extraArgs: [`--audit-policy-file=${policyFile}`, `--audit-log-path=${auditFile}`] });
  env.upstream.sarPolicy = () => false;
  env.upstream.sarMode = 'answer';
});
afterAll(async () => {
  closeRawUpgrades();
  await env?.stop();
});

async function token(): Promise<string> {
  const t = await env.token();
  tokens.push(t);
  return t;
}

function events(): AuditEvent[] {
  return readFileSync(auditFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as AuditEvent);
}

async function eventsOf(auditID: string, stages: number): Promise<AuditEvent[]> {
  return waitFor(async () => {
    const found = events().filter((e) => e.auditID === auditID);
    return found.length >= stages ? found : undefined;
  }, 5000, `${stages} audit events for ${auditID}`);
}

it('a core-group GET is audited with verb get, its objectRef and the Audit-ID the API server received', async () => {
  const before = env.upstream.requests.length;
  const res = await send(env.proxy.url, { path: '/api/v1/namespaces/default/pods/web', headers: { ...bearer(await token()), 'user-agent': 'kubectl/v1.34.0', 'audit-id': 'client-chosen' }, ca: env.ca.caPem });
  expect(res.status).toBe(200);
  const auditID = String(res.headers['audit-id']);
  expect(auditID).toMatch(/^[0-9a-f-]{36}$/);
  expect(env.upstream.since(before)[0]!.header('audit-id')).toEqual([auditID]);
  const [received, complete] = await eventsOf(auditID, 2);
  expect(received).toMatchObject({
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    stage: 'RequestReceived',
    requestURI: '/api/v1/namespaces/default/pods/web',
    verb: 'get',
    user: { username: 'jane@example.com', groups: ['dev', 'ops', 'system:authenticated'] },
    sourceIPs: ['127.0.0.1'],
    userAgent: 'kubectl/v1.34.0',
    objectRef: { resource: 'pods', namespace: 'default', name: 'web', apiVersion: 'v1' },
    annotations: { 'authentication.kube-oidc-proxy.io/method': 'oidc', 'authorization.kube-oidc-proxy.io/decision': 'allow' },
  });
  expect(complete).toMatchObject({ stage: 'ResponseComplete', verb: 'get', responseStatus: { code: 200 }, requestReceivedTimestamp: received!.requestReceivedTimestamp });
});

it('a list is audited as list, without a ResponseStarted stage', async () => {
  const res = await send(env.proxy.url, { path: '/api/v1/namespaces/default/configmaps?limit=5', headers: bearer(await token()), ca: env.ca.caPem });
  const auditID = String(res.headers['audit-id']);
  const found = await eventsOf(auditID, 2);
  expect(found.map((e) => [e.stage, e.verb])).toEqual([['RequestReceived', 'list'], ['ResponseComplete', 'list']]);
  expect(found[1]!.objectRef).toEqual({ resource: 'configmaps', namespace: 'default', apiVersion: 'v1' });
});

it('a watch records RequestReceived, ResponseStarted when the stream opens, and ResponseComplete when it ends', async () => {
  const t = await token();
  let auditID = '';
  const req = request(new URL('/api/v1/namespaces/default/pods?watch=true', env.proxy.url), { headers: bearer(t), ca: env.ca.caPem, agent: false });
  await new Promise<void>((resolve) => {
    req.on('response', (res) => {
      auditID = String(res.headers['audit-id']);
      res.resume();
      resolve();
    });
    req.end();
  });
  const open = await eventsOf(auditID, 2);
  expect(open.map((e) => e.stage)).toEqual(['RequestReceived', 'ResponseStarted']);
  expect(open[1]).toMatchObject({ verb: 'watch', responseStatus: { code: 200 } });
  req.destroy();
  const all = await eventsOf(auditID, 3);
  expect(all.map((e) => e.stage)).toEqual(['RequestReceived', 'ResponseStarted', 'ResponseComplete']);
});

it('a request without a valid token is audited as system:anonymous with 401', async () => {
  const res = await send(env.proxy.url, { path: '/api/v1/namespaces/default/secrets', headers: bearer('not.a.token'), ca: env.ca.caPem });
  expect(res.status).toBe(401);
  const found = await eventsOf(String(res.headers['audit-id']), 2);
  expect(found[0]).toMatchObject({ stage: 'RequestReceived', verb: 'list', user: { username: 'system:anonymous', groups: ['system:unauthenticated'] } });
  expect(found[0]!.annotations).toMatchObject({ 'authentication.kube-oidc-proxy.io/method': 'failed', 'authorization.kube-oidc-proxy.io/decision': 'forbid' });
  expect(found[1]).toMatchObject({ stage: 'ResponseComplete', responseStatus: { code: 401 } });
});

it('a denied kubectl --as is audited as the authenticated user with 403 and the reason', async () => {
  const res = await send(env.proxy.url, { path: '/api/v1/namespaces/default/pods', headers: { ...bearer(await token()), 'Impersonate-User': 'admin' }, ca: env.ca.caPem });
  expect(res.status).toBe(403);
  const found = await eventsOf(String(res.headers['audit-id']), 2);
  expect(found[0]).toMatchObject({ user: { username: 'jane@example.com' }, annotations: { 'authorization.kube-oidc-proxy.io/decision': 'forbid', 'authorization.kube-oidc-proxy.io/reason': expect.stringContaining("not allowed to impersonate user 'admin'") } });
  expect(found[0]).not.toHaveProperty('impersonatedUser');
  expect(found[1]).toMatchObject({ stage: 'ResponseComplete', responseStatus: { code: 403 } });
});

it('exec over an upgrade records create on pods/exec, ResponseStarted at the 101 and ResponseComplete when the tunnel closes', async () => {
  const path = '/api/v1/namespaces/default/pods/exec-audit/exec?command=sh';
  const conn = await rawUpgrade(env.proxy.securePort, env.ca.caPem, upgradeHead(path, await token(), 'SPDY/3.1'));
  await conn.waitFor('\r\n\r\n');
  expect(conn.received()).toMatch(/^HTTP\/1\.1 101 /);
  const started = await waitFor(async () => {
    const found = events().filter((e) => e.requestURI === path);
    return found.length >= 2 ? found : undefined;
  }, 5000, 'exec audit events');
  expect(started.map((e) => e.stage)).toEqual(['RequestReceived', 'ResponseStarted']);
  expect(started[0]).toMatchObject({ verb: 'create', objectRef: { resource: 'pods', name: 'exec-audit', subresource: 'exec' } });
  conn.socket.destroy();
  const all = await eventsOf(started[0]!.auditID, 3);
  expect(all[2]).toMatchObject({ stage: 'ResponseComplete', responseStatus: { code: 101 } });
});

it('no bearer token, proxy credential or Authorization value ever appears in the audit file', async () => {
  await send(env.proxy.url, { path: '/api/v1/pods', headers: bearer(await token()), ca: env.ca.caPem });
  const text = readFileSync(auditFile, 'utf8');
  expect(tokens.length).toBeGreaterThan(5);
  for (const t of [...tokens, PROXY_SA_TOKEN, 'not.a.token']) expect(text).not.toContain(t);
  expect(text.toLowerCase()).not.toContain('bearer');
});

it('a request the policy sets to None is not audited, but still gets an Audit-ID', async () => {
  const res = await send(env.proxy.url, { path: '/healthz', headers: bearer(await token()), ca: env.ca.caPem });
  const auditID = String(res.headers['audit-id']);
  expect(auditID).toMatch(/^[0-9a-f-]{36}$/);
  // A later audited request proves the log has caught up past this one.
  const later = await send(env.proxy.url, { path: '/api/v1/nodes', headers: bearer(await token()), ca: env.ca.caPem });
  await eventsOf(String(later.headers['audit-id']), 2);
  expect(events().filter((e) => e.auditID === auditID)).toEqual([]);
});
