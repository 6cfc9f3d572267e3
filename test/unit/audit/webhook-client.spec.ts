import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { AuditEvent } from '../../../src/audit/audit-event.js';
import { eventListBody, httpsEventListSender, WebhookSendError } from '../../../src/audit/webhook-client.js';
import { createTestCa } from '../../fixtures/tls.js';

const ca = createTestCa();
const leaf = ca.issue('webhook');
const event = { kind: 'Event', apiVersion: 'audit.k8s.io/v1', auditID: 'a-1', stage: 'ResponseComplete' } as unknown as AuditEvent;

let server: Server;
let url: URL;
let answer: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(200).end();
const received: { headers: IncomingMessage['headers']; body: string }[] = [];

beforeAll(async () => {
  server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
      answer(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}/events?x=1`);
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('httpsEventListSender', () => {
  it('POSTs an audit.k8s.io/v1 EventList as JSON to the server URL with the bearer token, trusting only the given CA', async () => {
    const sut = httpsEventListSender({ url, ca: ca.caPem, token: 'sink-token', rejectUnauthorized: true });
    await sut.send([event]);
    sut.close();
    const last = received.at(-1)!;
    expect(JSON.parse(last.body)).toEqual({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items: [event] });
    expect(last.body).toBe(eventListBody([event]));
    expect(last.headers).toMatchObject({ authorization: 'Bearer sink-token', 'content-type': 'application/json' });
  });

  it('an unknown CA is a retryable connection failure', async () => {
    const sut = httpsEventListSender({ url, rejectUnauthorized: true });
    await expect(sut.send([event])).rejects.toMatchObject({ name: 'WebhookSendError', retryable: true });
    sut.close();
  });

  it.each([
    [500, true],
    [503, true],
    [429, true],
    [400, false],
    [401, false],
    [404, false],
  ])('an answer %i is an error, retryable: %s', async (code, retryable) => {
    answer = (_req, res) => res.writeHead(code).end('{"message":"secret detail"}');
    const sut = httpsEventListSender({ url, ca: ca.caPem, rejectUnauthorized: true });
    const error = await sut.send([event]).catch((err: unknown) => err);
    sut.close();
    expect(error).toBeInstanceOf(WebhookSendError);
    expect(error).toMatchObject({ retryable, message: `the webhook answered ${code}` });
  });

  it('a webhook that does not answer in time is a retryable error', async () => {
    answer = () => undefined;
    const sut = httpsEventListSender({ url, ca: ca.caPem, rejectUnauthorized: true }, 200);
    await expect(sut.send([event])).rejects.toMatchObject({ retryable: true, message: 'no answer within 200 ms' });
    sut.close();
  });
});
