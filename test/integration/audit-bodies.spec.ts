/**
 * As a SIEM operator, at levels Request and RequestResponse the events carry requestObject and
 * responseObject (JSON bodies, as kube-apiserver records them), while streams are never held back or copied:
 * a watch at RequestResponse streams as before, and a body over the cap goes through whole and is left out.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from '../../src/audit/audit-event.js';
import { MAX_AUDITED_BODY_BYTES } from '../../src/audit/body-capture.js';
import { bearer, send, type TestResponse } from './support/client.js';
import { type Environment, startEnvironment } from './support/environment.js';
import { waitFor } from './support/proxy-process.js';

const POLICY = `
apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: Metadata
    resources: [{ group: "", resources: ["secrets"] }]
  - level: RequestResponse
    nonResourceURLs: ["/echo"]
  - level: RequestResponse
    resources: [{ group: "", resources: ["pods"] }]
  - level: Request
`;

let env: Environment;
let auditFile: string;
let token: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kop-audit-bodies-'));
  const policyFile = join(dir, 'policy.yaml');
  auditFile = join(dir, 'audit.log');
  writeFileSync(policyFile, POLICY);
  env = await startEnvironment({ extraArgs: [`--audit-policy-file=${policyFile}`, `--audit-log-path=${auditFile}`] });
  token = await env.token();
});
afterAll(async () => env?.stop());

async function completed(res: TestResponse): Promise<AuditEvent> {
  const auditID = String(res.headers['audit-id']);
  return waitFor(async () => {
    const lines = readFileSync(auditFile, 'utf8').split('\n').filter(Boolean);
    return lines.map((l) => JSON.parse(l) as AuditEvent).find((e) => e.auditID === auditID && e.stage === 'ResponseComplete');
  }, 5000, `ResponseComplete for ${auditID}`);
}

const post = (path: string, body: string, contentType = 'application/json'): Promise<TestResponse> =>
  send(env.proxy.url, { method: 'POST', path, body, headers: { ...bearer(token), 'content-type': contentType }, ca: env.ca.caPem });

it('RequestResponse records the JSON request and response bodies', async () => {
  const res = await post('/echo', '{"kind":"ConfigMap","data":{"a":"1"}}');
  expect(res.status).toBe(200);
  const event = await completed(res);
  expect(event.level).toBe('RequestResponse');
  expect(event.requestObject).toEqual({ kind: 'ConfigMap', data: { a: '1' } });
  expect(event.responseObject).toEqual({ kind: 'Echo', body: '{"kind":"ConfigMap","data":{"a":"1"}}' });
});

it('RequestResponse on a resource records the object the API server returned', async () => {
  const res = await send(env.proxy.url, { path: '/api/v1/namespaces/default/pods/web', headers: bearer(token), ca: env.ca.caPem });
  const event = await completed(res);
  expect(event.requestObject).toBeUndefined();
  expect(event.responseObject).toEqual({ kind: 'Pod', apiVersion: 'v1', metadata: { name: 'web', namespace: 'default' } });
});

it('Request records the request body and not the response', async () => {
  const res = await post('/api/v1/namespaces/default/configmaps', '{"kind":"ConfigMap","metadata":{"name":"c"}}');
  const event = await completed(res);
  expect(event.level).toBe('Request');
  expect(event.requestObject).toEqual({ kind: 'ConfigMap', metadata: { name: 'c' } });
  expect(event.responseObject).toBeUndefined();
});

it('Metadata records no body, and a body that is not JSON is never recorded', async () => {
  const secret = await post('/api/v1/namespaces/default/secrets', '{"kind":"Secret","data":{"password":"aHVudGVyMg=="}}');
  const secretEvent = await completed(secret);
  expect(secretEvent.level).toBe('Metadata');
  expect(secretEvent).not.toHaveProperty('requestObject');
  expect(secretEvent).not.toHaveProperty('responseObject');
  expect(readFileSync(auditFile, 'utf8')).not.toContain('aHVudGVyMg==');

  const yaml = await post('/echo', 'kind: ConfigMap\n', 'application/yaml');
  expect((await completed(yaml)).requestObject).toBeUndefined();
});

it('a body over the cap goes through whole and is left out of the event', async () => {
  const big = JSON.stringify({ kind: 'ConfigMap', data: { blob: 'x'.repeat(MAX_AUDITED_BODY_BYTES) } });
  const res = await post('/echo', big);
  expect(res.json<{ body: string }>().body).toBe(big);
  const event = await completed(res);
  expect(event.requestObject).toBeUndefined();
  expect(event.responseObject).toBeUndefined();
});

it('a watch at RequestResponse still streams, and its response is not copied', async () => {
  const lines: string[] = [];
  let auditID = '';
  const req = request(new URL('/api/v1/namespaces/default/pods?watch=true', env.proxy.url), { headers: bearer(token), ca: env.ca.caPem, agent: false });
  req.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => {
    req.on('response', (res) => {
      auditID = String(res.headers['audit-id']);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)));
      res.on('error', () => undefined);
      res.on('close', resolve);
    });
  });
  req.end();
  await waitFor(async () => (lines.length >= 1 ? true : undefined), 5000, 'the first watch event');
  env.upstream.pushWatchEvent('{"type":"MODIFIED","object":{"kind":"Pod"}}');
  await waitFor(async () => (lines.length >= 2 ? true : undefined), 5000, 'the pushed watch event, unbuffered');
  req.destroy();
  await closed;
  const event = await waitFor(async () => {
    const all = readFileSync(auditFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEvent);
    return all.find((e) => e.auditID === auditID && e.stage === 'ResponseComplete');
  }, 5000, 'the watch ResponseComplete');
  expect(event.level).toBe('RequestResponse');
  expect(event).not.toHaveProperty('responseObject');
});
