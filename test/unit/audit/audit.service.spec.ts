import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from '../../../src/audit/audit-event.js';
import { parseAuditPolicy } from '../../../src/audit/audit-policy.js';
import { AuditService } from '../../../src/audit/audit.service.js';
import type { ProxyConfig } from '../../../src/config/proxy-config.js';
import { resolveRequestInfo } from '../../../src/proxy/request-info.js';

function request(method: string, url: string): { req: IncomingMessage; res: ServerResponse } {
  const req = new IncomingMessage(new Socket());
  req.method = method;
  req.url = url;
  return { req, res: new ServerResponse(req) };
}

describe('AuditService', () => {
  let dir: string;
  let file: string;
  let sut: AuditService;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'audit-svc-'));
    file = join(dir, 'audit.log');
    const parsed = parseAuditPolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: None\n  verbs: [delete]\n- level: Metadata\n');
    if (!parsed.ok) throw new Error('bad test policy');
    const config = { audit: { policyFile: 'p.yaml', policy: parsed.policy, log: { path: file, maxAgeDays: 0, maxBackups: 0, maxSizeMegabytes: 0 } } } as unknown as ProxyConfig;
    sut = new AuditService(config);
    sut.onModuleInit();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const events = (): AuditEvent[] => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEvent);
  const decide = (req: IncomingMessage) =>
    sut.decided(req, { info: resolveRequestInfo(req.method!, req.url!), user: { username: 'alice', groups: ['system:authenticated'] }, sourceIPs: ['192.0.2.1'], annotations: {} });

  it('gives every request a fresh Audit-ID, returned to the client', () => {
    const a = request('GET', '/api/v1/pods');
    const b = request('GET', '/api/v1/pods');
    const id = sut.begin(a.req, a.res);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(sut.begin(b.req, b.res)).not.toBe(id);
    expect(sut.begin(a.req, a.res)).toBe(id);
    expect(a.res.getHeader('audit-id')).toBe(id);
  });

  it('a request the client abandoned while admission was deciding is still completed', async () => {
    const { req, res } = request('GET', '/api/v1/namespaces/default/pods/web');
    const id = sut.begin(req, res);
    res.emit('close');
    await decide(req);
    expect(events().map((e) => [e.auditID, e.stage])).toEqual([[id, 'RequestReceived'], [id, 'ResponseComplete']]);
  });

  it('completes each request once, and a request the policy does not audit never', async () => {
    const audited = request('GET', '/api/v1/pods');
    const ignored = request('DELETE', '/api/v1/namespaces/default/pods/web');
    for (const r of [audited, ignored]) {
      sut.begin(r.req, r.res);
      await decide(r.req);
      r.res.emit('close');
      r.res.emit('close');
    }
    expect(events().map((e) => e.stage)).toEqual(['RequestReceived', 'ResponseComplete']);
  });

  it('a watch still open at shutdown gets its ResponseComplete with the status it started with', async () => {
    const { req, res } = request('GET', '/api/v1/pods?watch=true');
    sut.begin(req, res);
    await decide(req);
    res.writeHead(200);
    await sut.onModuleDestroy();
    expect(events().map((e) => [e.stage, e.responseStatus?.code])).toEqual([['RequestReceived', undefined], ['ResponseStarted', 200], ['ResponseComplete', 200]]);
  });
});


describe('AuditService bodies', () => {
  let dir: string;
  let file: string;
  let sut: AuditService;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'audit-bodies-'));
    file = join(dir, 'audit.log');
    const parsed = parseAuditPolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n  verbs: [get]\n  resources: [{group: "", resources: [secrets]}]\n- level: RequestResponse\n  omitManagedFields: true\n');
    if (!parsed.ok) throw new Error('bad test policy');
    sut = new AuditService({ audit: { policyFile: 'p.yaml', policy: parsed.policy, log: { path: file, maxAgeDays: 0, maxBackups: 0, maxSizeMegabytes: 0 } } } as unknown as ProxyConfig);
    sut.onModuleInit();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const completeEvent = (): AuditEvent => readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditEvent).find((e) => e.stage === 'ResponseComplete')!;

  /** Runs one exchange through the taps: the body written upstream, and the API server's answer. */
  async function exchange(method: string, url: string, requestBody: string | undefined, responseBody: string): Promise<AuditEvent> {
    const { req, res } = request(method, url);
    req.headers['content-type'] = 'application/json';
    sut.begin(req, res);
    await sut.decided(req, { info: resolveRequestInfo(method, url), user: { username: 'alice', groups: ['system:authenticated'] }, sourceIPs: ['192.0.2.1'], annotations: {} });
    const taps = sut.bodyTaps(req);
    const upstreamReq = new PassThrough();
    upstreamReq.resume();
    taps?.onUpstreamRequest(upstreamReq as never);
    if (requestBody) upstreamReq.end(requestBody);
    else upstreamReq.end();
    const upstreamRes = new PassThrough() as PassThrough & { headers: Record<string, string> };
    upstreamRes.headers = { 'content-type': 'application/json' };
    taps?.onUpstreamResponse(upstreamRes, upstreamRes.headers);
    upstreamRes.resume();
    upstreamRes.end(responseBody);
    await new Promise((r) => upstreamRes.once('end', r));
    res.emit('close');
    return completeEvent();
  }

  it('records both bodies at RequestResponse, without managedFields when the rule says so', async () => {
    const event = await exchange('POST', '/api/v1/namespaces/default/configmaps', '{"kind":"ConfigMap","metadata":{"name":"c","managedFields":[{}]}}', '{"kind":"ConfigMap","metadata":{"name":"c","managedFields":[{}]}}');
    expect(event.requestObject).toEqual({ kind: 'ConfigMap', metadata: { name: 'c' } });
    expect(event.responseObject).toEqual({ kind: 'ConfigMap', metadata: { name: 'c' } });
  });

  it('never copies the response of a long-running request, even when it ends normally', async () => {
    const event = await exchange('GET', '/api/v1/pods?watch=true', undefined, '{"type":"ADDED","object":{"kind":"Pod"}}');
    expect(event.level).toBe('RequestResponse');
    expect(event).not.toHaveProperty('responseObject');
  });

  it('offers no taps at Metadata: nothing is copied', async () => {
    const { req, res } = request('GET', '/api/v1/namespaces/default/secrets/s');
    sut.begin(req, res);
    await sut.decided(req, { info: resolveRequestInfo('GET', '/api/v1/namespaces/default/secrets/s'), user: { username: 'alice', groups: ['system:authenticated'] }, sourceIPs: ['192.0.2.1'], annotations: {} });
    expect(sut.bodyTaps(req)).toBeUndefined();
  });
});
