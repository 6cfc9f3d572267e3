/**
 * As a SIEM operator, the proxy POSTs its audit events to my HTTPS webhook (--audit-webhook-config-file,
 * a kubeconfig) as audit.k8s.io/v1 EventList batches, authenticated with the token or client certificate I
 * gave it; a dead webhook never slows requests down (events are dropped and counted instead); SIGTERM
 * delivers what is buffered; in blocking mode a request goes upstream only after its event was delivered.
 * The sink is a real HTTPS server with its own CA.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditSink } from '../fixtures/audit-sink.js';
import { createTestCa } from '../fixtures/tls.js';
import { bearer, send } from './support/client.js';
import { type Environment, startEnvironment } from './support/environment.js';
import { opsGet, waitFor } from './support/proxy-process.js';

const sinkCa = createTestCa();
const SINK_TOKEN = 'audit-sink-token-5b2d-never-logged';
const dir = mkdtempSync(join(tmpdir(), 'kop-audit-webhook-'));
const policyFile = join(dir, 'policy.yaml');
writeFileSync(policyFile, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n');

function webhookConfig(name: string, sink: AuditSink, user: Record<string, unknown>): string {
  const path = join(dir, `${name}.kubeconfig`);
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'sink', cluster: { server: sink.url, 'certificate-authority-data': Buffer.from(sinkCa.caPem).toString('base64') } }],
      users: [{ name: 'proxy', user }],
      contexts: [{ name: 'sink', context: { cluster: 'sink', user: 'proxy' } }],
      'current-context': 'sink',
    }),
  );
  return path;
}

async function startWith(sink: AuditSink, user: Record<string, unknown>, ...flags: string[]): Promise<Environment> {
  return startEnvironment({ extraArgs: [`--audit-policy-file=${policyFile}`, `--audit-webhook-config-file=${webhookConfig(String(Date.now()), sink, user)}`, ...flags] });
}

async function droppedMetric(env: Environment, reason: string): Promise<number> {
  const { body } = await opsGet(env.proxy.opsPort, '/metrics');
  const line = body.split('\n').find((l) => l.startsWith(`kube_oidc_proxy_audit_events_dropped_total{backend="webhook",reason="${reason}"}`));
  // The series exist from startup, at 0: a missing one is a failure, not a zero.
  if (!line) throw new Error(`no kube_oidc_proxy_audit_events_dropped_total series for reason ${reason}`);
  return Number(line.split(' ').at(-1));
}

describe('batch mode with a token', () => {
  let sink: AuditSink;
  let env: Environment;
  beforeAll(async () => {
    sink = await AuditSink.start(sinkCa);
    env = await startWith(sink, { token: SINK_TOKEN }, '--audit-webhook-batch-max-wait=200ms', '--audit-webhook-initial-backoff=100ms');
  });
  afterAll(async () => {
    await env?.stop();
    await sink?.stop();
  });

  it('events arrive as EventList batches with the webhook token, and no OIDC token is in them', async () => {
    const token = await env.token();
    const res = await send(env.proxy.url, { path: '/api/v1/namespaces/default/pods/web-0', headers: bearer(token), ca: env.ca.caPem });
    const auditID = String(res.headers['audit-id']);
    await waitFor(async () => (sink.events.filter((e) => e.auditID === auditID).length >= 2 ? true : undefined), 5000, 'the events at the sink');

    const batch = sink.batches.find((b) => b.body.items?.some((e) => e.auditID === auditID))!;
    expect(batch.body).toMatchObject({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1' });
    expect(batch.authorization).toBe(`Bearer ${SINK_TOKEN}`);
    expect(batch.contentType).toBe('application/json');
    const events = sink.events.filter((e) => e.auditID === auditID);
    expect(events.map((e) => e.stage)).toEqual(['RequestReceived', 'ResponseComplete']);
    expect(events[1]).toMatchObject({ kind: 'Event', verb: 'get', user: { username: 'jane@example.com' }, objectRef: { resource: 'pods', namespace: 'default', name: 'web-0' }, responseStatus: { code: res.status } });
    expect(JSON.stringify(sink.batches)).not.toContain(token);
    expect(env.proxy.output()).not.toContain(SINK_TOKEN);
  });

  it('a batch the webhook refuses with 503 is sent again after the backoff', async () => {
    sink.answer = 503;
    const res = await send(env.proxy.url, { path: '/api/v1/namespaces/default/pods/retry-me', headers: bearer(await env.token()), ca: env.ca.caPem });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 400)); // the batch went out and was refused at least once
    expect(sink.events.some((e) => e.auditID === res.headers['audit-id'])).toBe(false);
    sink.answer = 200;
    await waitFor(async () => (sink.events.filter((e) => e.auditID === res.headers['audit-id']).length >= 2 ? true : undefined), 5000, 'the retried batch');
    expect(await droppedMetric(env, 'send_failed')).toBe(0);
  });
});

describe('a dead webhook', () => {
  let sink: AuditSink;
  let env: Environment;
  beforeAll(async () => {
    sink = await AuditSink.start(sinkCa);
    sink.answer = 'hang';
    env = await startWith(sink, { token: SINK_TOKEN }, '--audit-webhook-batch-buffer-size=4', '--audit-webhook-batch-max-size=2', '--audit-webhook-batch-max-wait=50ms');
  });
  afterAll(async () => {
    await env?.stop();
    await sink?.stop();
  });

  it('never slows requests down: events that do not fit are dropped, counted in the metric, and logged', async () => {
    const token = await env.token();
    const started = Date.now();
    for (let i = 0; i < 12; i++) {
      const res = await send(env.proxy.url, { path: `/api/v1/namespaces/default/pods/p-${i}`, headers: bearer(token), ca: env.ca.caPem, timeoutMs: 2000 });
      expect(res.status).toBe(200);
    }
    expect(Date.now() - started).toBeLessThan(5000);
    expect(sink.batches).toHaveLength(0);
    // 24 events, at most 4 held (in flight to the hung webhook): the rest were dropped.
    expect(await droppedMetric(env, 'buffer_full')).toBeGreaterThanOrEqual(20);
    await env.proxy.waitForOutput(/audit webhook: \d+ event\(s\) dropped since the last report \(latest: the buffer of 4 events is full\)/);
  });
});

describe('SIGTERM with events still buffered, over mutual TLS', () => {
  let sink: AuditSink;
  let env: Environment;
  beforeAll(async () => {
    sink = await AuditSink.start(sinkCa, { requestCert: true });
    const client = sinkCa.issue('audit-client', { commonName: 'kube-oidc-proxy-audit' });
    env = await startWith(sink, { 'client-certificate': client.certFile, 'client-key': client.keyFile }, '--audit-webhook-batch-max-wait=1h', '--shutdown-grace-period=1s');
  });
  afterAll(async () => {
    await env?.stop();
    await sink?.stop();
  });

  it('the buffered batch is delivered before the process exits', async () => {
    const res = await send(env.proxy.url, { path: '/api/v1/namespaces/default/configmaps', headers: bearer(await env.token()), ca: env.ca.caPem });
    await new Promise((r) => setTimeout(r, 200));
    expect(sink.batches).toHaveLength(0); // max-wait is an hour: still buffered

    env.proxy.child.kill('SIGTERM');
    expect(await env.proxy.exited).toBe(0);
    expect(sink.events.filter((e) => e.auditID === res.headers['audit-id']).map((e) => e.stage)).toEqual(['RequestReceived', 'ResponseComplete']);
    expect(sink.batches[0]!.clientCN).toBe('kube-oidc-proxy-audit');
    expect(sink.batches[0]!.authorization).toBeUndefined();
  });
});

describe('blocking mode', () => {
  let sink: AuditSink;
  let env: Environment;
  beforeAll(async () => {
    sink = await AuditSink.start(sinkCa);
    env = await startWith(sink, { token: SINK_TOKEN }, '--audit-webhook-mode=blocking');
  });
  afterAll(async () => {
    await env?.stop();
    await sink?.stop();
  });

  it('the request goes upstream only once its RequestReceived event was delivered, one event per request', async () => {
    sink.hold();
    const path = '/api/v1/namespaces/default/pods/blocked';
    const pending = send(env.proxy.url, { path, headers: bearer(await env.token()), ca: env.ca.caPem });
    await waitFor(async () => (sink.waiting >= 1 ? true : undefined), 5000, 'the RequestReceived event at the sink');
    await new Promise((r) => setTimeout(r, 300));
    expect(env.upstream.requests.some((r) => r.url === path)).toBe(false);

    sink.release();
    const res = await pending;
    expect(res.status).toBe(200);
    expect(env.upstream.requests.some((r) => r.url === path)).toBe(true);
    await waitFor(async () => (sink.events.filter((e) => e.auditID === res.headers['audit-id']).length >= 2 ? true : undefined), 5000, 'ResponseComplete');
    expect(sink.batches.every((b) => b.body.items?.length === 1)).toBe(true);
  });
});
