import { describe, expect, it } from '@jest/globals';
import { auditableBody, eventAtStage, microTime, objectRefFor, requestReceivedEvent, withoutManagedFields } from '../../../src/audit/audit-event.js';
import { resolveRequestInfo } from '../../../src/proxy/request-info.js';

const receivedAt = new Date('2026-11-23T05:00:00.123Z');

function facts(level: 'Metadata' | 'Request' | 'RequestResponse', method: string, url: string) {
  return {
    auditID: '0b6f7c1e-4c55-4a4e-9f57-2b1c2f1c8e11',
    level,
    requestURI: url,
    info: resolveRequestInfo(method, url),
    user: { username: 'alice@example.com', groups: ['devs', 'system:authenticated'], extra: {} },
    sourceIPs: ['203.0.113.7'],
    userAgent: 'kubectl/v1.34.0',
    receivedAt,
    annotations: { 'authentication.kube-oidc-proxy/via': 'oidc' },
  };
}

describe('audit events', () => {
  it('a core-group get is recorded with its real verb and objectRef (jetstack#161, Tremolo#91)', () => {
    expect(requestReceivedEvent(facts('Metadata', 'GET', '/api/v1/namespaces/default/pods/web'))).toEqual({
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level: 'Metadata',
      auditID: '0b6f7c1e-4c55-4a4e-9f57-2b1c2f1c8e11',
      stage: 'RequestReceived',
      requestURI: '/api/v1/namespaces/default/pods/web',
      verb: 'get',
      user: { username: 'alice@example.com', groups: ['devs', 'system:authenticated'] },
      sourceIPs: ['203.0.113.7'],
      userAgent: 'kubectl/v1.34.0',
      objectRef: { resource: 'pods', namespace: 'default', name: 'web', apiVersion: 'v1' },
      requestReceivedTimestamp: '2026-11-23T05:00:00.123000Z',
      stageTimestamp: '2026-11-23T05:00:00.123000Z',
      annotations: { 'authentication.kube-oidc-proxy/via': 'oidc' },
    });
  });

  it('a non-resource request has no objectRef', () => {
    expect(requestReceivedEvent(facts('Metadata', 'GET', '/version'))).not.toHaveProperty('objectRef');
    expect(objectRefFor(resolveRequestInfo('GET', '/apis/apps/v1/namespaces/x/deployments/web/scale'))).toEqual({
      resource: 'deployments', namespace: 'x', name: 'web', apiGroup: 'apps', apiVersion: 'v1', subresource: 'scale',
    });
  });

  it('records the impersonated user beside the authenticated one', () => {
    const event = requestReceivedEvent({ ...facts('Metadata', 'GET', '/api/v1/pods'), impersonatedUser: { username: 'bob', groups: ['ops'] } });
    expect(event.user.username).toBe('alice@example.com');
    expect(event.impersonatedUser).toEqual({ username: 'bob', groups: ['ops'] });
  });

  it.each([
    ['Metadata', undefined, undefined],
    ['Request', { kind: 'Pod' }, undefined],
    ['RequestResponse', { kind: 'Pod' }, { kind: 'Pod', status: {} }],
  ] as const)('at level %s the completed event carries exactly the bodies that level records', (level, request, response) => {
    const base = requestReceivedEvent(facts(level, 'POST', '/api/v1/namespaces/default/pods'));
    const done = eventAtStage(base, {
      stage: 'ResponseComplete',
      at: new Date('2026-11-23T05:00:01Z'),
      status: { code: 201 },
      requestObject: { kind: 'Pod' },
      responseObject: { kind: 'Pod', status: {} },
    });
    expect(done).toMatchObject({ stage: 'ResponseComplete', stageTimestamp: '2026-11-23T05:00:01.000000Z', responseStatus: { code: 201 }, requestReceivedTimestamp: base.requestReceivedTimestamp });
    expect(done.requestObject).toEqual(request);
    expect(done.responseObject).toEqual(response);
  });

  it('ResponseStarted never carries a response body', () => {
    const base = requestReceivedEvent(facts('RequestResponse', 'GET', '/api/v1/pods?watch=true'));
    const started = eventAtStage(base, { stage: 'ResponseStarted', at: receivedAt, status: { code: 200 }, responseObject: { type: 'ADDED' } });
    expect(started).not.toHaveProperty('responseObject');
  });

  it('omitManagedFields drops managedFields from objects and list items only', () => {
    const pod = { kind: 'Pod', metadata: { name: 'a', managedFields: [{ manager: 'kubectl' }] }, spec: { managedFields: 'kept' } };
    expect(withoutManagedFields(pod)).toEqual({ kind: 'Pod', metadata: { name: 'a' }, spec: { managedFields: 'kept' } });
    expect(withoutManagedFields({ kind: 'PodList', metadata: {}, items: [pod] })).toEqual({ kind: 'PodList', metadata: {}, items: [{ kind: 'Pod', metadata: { name: 'a' }, spec: { managedFields: 'kept' } }] });
    expect(withoutManagedFields('text')).toBe('text');
  });

  it.each([
    ['JSON', Buffer.from('{"a":1}'), 'application/json; charset=utf-8', true, { a: 1 }],
    ['merge patch JSON', Buffer.from('{"a":1}'), 'application/merge-patch+json', true, { a: 1 }],
    ['a capture cut at the cap', Buffer.from('{"a":1}'), 'application/json', false, undefined],
    ['protobuf', Buffer.from([0x6b, 0x38, 0x73]), 'application/vnd.kubernetes.protobuf', true, undefined],
    ['YAML', Buffer.from('a: 1'), 'application/yaml', true, undefined],
    ['invalid JSON', Buffer.from('{'), 'application/json', true, undefined],
    ['an empty body', Buffer.alloc(0), 'application/json', true, undefined],
  ])('a body that is %s is recorded only if whole JSON', (_name, bytes, type, complete, expected) => {
    expect(auditableBody(bytes, type, complete)).toEqual(expected);
  });

  it('timestamps are MicroTime', () => {
    expect(microTime(new Date('2026-01-02T03:04:05.006Z'))).toBe('2026-01-02T03:04:05.006000Z');
  });
});
