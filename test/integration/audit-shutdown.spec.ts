/**
 * As a SIEM operator, I lose no audit event when the proxy is stopped: a watch still open at SIGTERM is
 * completed in the log before the process exits, and a request in flight at SIGTERM finishes and is logged. Here the events go to standard out (--audit-log-path=-).
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from '../../src/audit/audit-event.js';
import { bearer, send } from './support/client.js';
import { type Environment, startEnvironment } from './support/environment.js';
import { waitFor } from './support/proxy-process.js';

let env: Environment;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kop-audit-stop-'));
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(policyFile, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n');
  env = await startEnvironment({ extraArgs: [`--audit-policy-file=${policyFile}`, '--audit-log-path=-', '--shutdown-grace-period=1s'] });
});
afterAll(async () => env?.stop());

function stdoutEvents(): AuditEvent[] {
  return env.proxy
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{"kind":"Event"'))
    .map((line) => JSON.parse(line) as AuditEvent);
}

it('events of requests made just before SIGTERM, of one still in flight at SIGTERM, and of a watch cut by it, are all written before exit', async () => {
  const token = await env.token();
  const get = await send(env.proxy.url, { path: '/api/v1/namespaces/default/pods/last', headers: bearer(token), ca: env.ca.caPem });
  const getID = String(get.headers['audit-id']);
  let watchID = '';
  const watch = request(new URL('/api/v1/pods?watch=true', env.proxy.url), { headers: bearer(token), ca: env.ca.caPem, agent: false });
  watch.on('error', () => undefined);
  await new Promise<void>((resolve) => {
    watch.on('response', (res) => {
      watchID = String(res.headers['audit-id']);
      res.on('error', () => undefined);
      res.resume();
      resolve();
    });
    watch.end();
  });
  await waitFor(async () => (stdoutEvents().some((e) => e.auditID === watchID && e.stage === 'ResponseStarted') ? true : undefined), 5000, 'the watch to start');

  // A short request still at the API server when SIGTERM arrives: it finishes inside the grace period.
  const held = send(env.proxy.url, { path: '/api/v1/namespaces/default/pods/held?hold=true', headers: bearer(token), ca: env.ca.caPem, timeoutMs: 10_000 });
  await waitFor(async () => (env.upstream.heldRequests === 1 ? true : undefined), 5000, 'the held request to reach the API server');

  env.proxy.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 200));
  env.upstream.releaseHeld();
  const heldResponse = await held;
  expect(heldResponse.status).toBe(200);
  const heldID = String(heldResponse.headers['audit-id']);
  expect(await env.proxy.exited).toBe(0);

  const events = stdoutEvents();
  const heldEvents = events.filter((e) => e.auditID === heldID);
  expect(heldEvents.map((e) => e.stage)).toEqual(['RequestReceived', 'ResponseComplete']);
  expect(heldEvents[1]?.responseStatus?.code).toBe(200);
  expect(events.filter((e) => e.auditID === getID).map((e) => e.stage)).toEqual(['RequestReceived', 'ResponseComplete']);
  expect(events.filter((e) => e.auditID === watchID).map((e) => e.stage)).toEqual(['RequestReceived', 'ResponseStarted', 'ResponseComplete']);
});
