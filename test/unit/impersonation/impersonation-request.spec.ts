import { describe, expect, it } from '@jest/globals';
import {
  impersonatedGroups,
  impersonationChecks,
  parseImpersonationRequest,
  splitServiceAccount,
} from '../../../src/impersonation/impersonation-request.js';

describe('parseImpersonationRequest', () => {
  it('returns undefined when nothing is impersonated', () => {
    expect(parseImpersonationRequest(['Accept', 'application/json'])).toBeUndefined();
  });

  it('reads user, uid, every group line and every extra value, keys lowercased and unescaped', () => {
    const sut = parseImpersonationRequest([
      'imPerSonaTE-USer', 'jane',
      'Impersonate-Group', 'a, b',
      'Impersonate-Group', 'c',
      'Impersonate-Uid', 'u-1',
      'Impersonate-Extra-Scopes', 'view',
      'Impersonate-Extra-scopes', 'edit',
      'Impersonate-Extra-example.com%2fescaped%e1%9b%84scopes', 'x',
    ]);
    expect(sut).toEqual({
      username: 'jane',
      uid: 'u-1',
      groups: ['a, b', 'c'],
      extra: { scopes: ['view', 'edit'], 'example.com/escaped\u16c4scopes': ['x'] },
    });
  });

  it.each([
    ['group without a user', ['Impersonate-Group', 'g'], "requested [group 'g'] without impersonating a user"],
    ['extra without a user', ['Impersonate-Extra-foo', 'bar'], "requested [extra 'foo'] without impersonating a user"],
    ['uid without a user', ['Impersonate-Uid', 'u'], "requested [uid 'u'] without impersonating a user"],
    ['an empty user counts as absent', ['Impersonate-User', '', 'Impersonate-Group', 'g'], "requested [group 'g'] without impersonating a user"],
    ['two users', ['Impersonate-User', 'a', 'Impersonate-User', 'b'], 'only one Impersonate-User header is allowed'],
    ['two uids', ['Impersonate-User', 'a', 'Impersonate-Uid', '1', 'Impersonate-Uid', '2'], 'only one Impersonate-Uid header is allowed'],
    ['an unknown header', ['Impersonate-User', 'a', 'Impersonate-Not-Real', 'x'], "unknown impersonation header 'Impersonate-Not-Real'"],
    ['an extra header with no key', ['Impersonate-User', 'a', 'Impersonate-Extra-', 'x'], "unknown impersonation header 'Impersonate-Extra-'"],
    ['Impersonate-Extra without a dash', ['Impersonate-User', 'a', 'Impersonate-Extra', 'x'], "unknown impersonation header 'Impersonate-Extra'"],
  ])('refuses %s with 400', (_name, raw, message) => {
    expect.assertions(2);
    try {
      parseImpersonationRequest(raw);
    } catch (err) {
      expect(err).toMatchObject({ kind: 'BadRequest' });
      expect((err as Error).message).toBe(message);
    }
  });
});

describe('impersonationChecks', () => {
  it('asks in kube-apiserver order: user, groups, each extra value, uid', () => {
    const checks = impersonationChecks({ username: 'jane', uid: 'u', groups: ['g1', 'g2'], extra: { scopes: ['a', 'b'] } });
    expect(checks.map((c) => [c.resource, c.group, c.name, c.subresource])).toEqual([
      ['users', '', 'jane', undefined],
      ['groups', '', 'g1', undefined],
      ['groups', '', 'g2', undefined],
      ['userextras', 'authentication.k8s.io', 'a', 'scopes'],
      ['userextras', 'authentication.k8s.io', 'b', 'scopes'],
      ['uids', 'authentication.k8s.io', 'u', undefined],
    ]);
  });

  it('checks a service-account target as serviceaccounts in its namespace', () => {
    expect(impersonationChecks({ username: 'system:serviceaccount:team-a:deployer', groups: [], extra: {} })[0]).toMatchObject({
      resource: 'serviceaccounts',
      namespace: 'team-a',
      name: 'deployer',
    });
  });
});

describe('splitServiceAccount', () => {
  it.each([
    ['system:serviceaccount:ns:name', { namespace: 'ns', name: 'name' }],
    ['system:serviceaccount:ns:name.with.dots', { namespace: 'ns', name: 'name.with.dots' }],
    ['system:serviceaccount:ns', undefined],
    ['system:serviceaccount:ns:a:b', undefined],
    ['system:serviceaccount:NS:name', undefined],
    ['system:serviceaccounts:ns:name', undefined],
    ['jane', undefined],
  ])('%s', (username, expected) => {
    expect(splitServiceAccount(username)).toEqual(expected);
  });
});

describe('impersonatedGroups', () => {
  it.each([
    [{ username: 'jane', groups: ['some-group'] }, ['some-group', 'system:authenticated']],
    [{ username: 'system:serviceaccount:ns:sa', groups: [] }, ['system:serviceaccounts', 'system:serviceaccounts:ns', 'system:authenticated']],
    [{ username: 'system:serviceaccount:ns:sa', groups: ['g'] }, ['g', 'system:authenticated']],
    [{ username: 'system:anonymous', groups: [] }, ['system:unauthenticated']],
    [{ username: 'system:anonymous', groups: ['system:authenticated'] }, ['system:authenticated']],
    [{ username: 'jane', groups: ['system:unauthenticated'] }, ['system:unauthenticated']],
  ])('finalises %j like kube-apiserver', (request, expected) => {
    expect(impersonatedGroups({ ...request, extra: {} })).toEqual(expected);
  });
});
