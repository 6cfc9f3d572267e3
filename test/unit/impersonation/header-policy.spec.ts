import { describe, expect, it } from '@jest/globals';
import {
  clientImpersonationHeaders,
  connectionNamedHeaders,
  connectionSpecificHeaders,
  escapeExtraKey,
  impersonationHeaderNames,
  impersonationHeaders,
  sanitizeInboundHeaders,
  unescapeExtraKey,
  withAuthenticatedGroup,
} from '../../../src/impersonation/header-policy.js';

describe('sanitizeInboundHeaders', () => {
  it.each([
    ['authorization', 'Bearer abc'],
    ['impersonate-user', 'admin'],
    ['impersonate-group', 'system:masters'],
    ['impersonate-uid', '1'],
    ['impersonate-extra-scopes', 'x'],
    ['impersonate-something-new', 'x'],
    ['x-remote-user', 'admin'],
    ['x-remote-group', 'system:masters'],
    ['x-remote-extra-foo', 'bar'],
    ['x-forwarded-for', '1.2.3.4'],
    ['x-real-ip', '1.2.3.4'],
    ['forwarded', 'for=1.2.3.4'],
    // The proxy assigns every request's Audit-ID itself (docs/audit.md): a client cannot choose its audit id.
    ['audit-id', 'client-chosen-id'],
    ['connection', 'keep-alive'],
    ['keep-alive', 'timeout=5'],
    ['proxy-authorization', 'Basic x'],
    ['te', 'trailers'],
    ['upgrade', 'websocket'],
    ['host', 'proxy.example.com'],
  ])('drops the client header %s', (name, value) => {
    const sut = sanitizeInboundHeaders({ [name]: value, accept: 'application/json' });
    expect(sut).toEqual({ accept: 'application/json' });
  });

  it('drops every header the client names in Connection (GHSA-pvxj-25m6-7vqr)', () => {
    const sut = sanitizeInboundHeaders({
      connection: 'X-Custom ,  accept-encoding,,Content-Type',
      'x-custom': '1',
      'accept-encoding': 'gzip',
      'content-type': 'application/json',
      'user-agent': 'kubectl',
    });
    expect(sut).toEqual({ 'user-agent': 'kubectl' });
  });

  it('re-chunks a chunked request body without trusting the client spelling', () => {
    expect(sanitizeInboundHeaders({ 'transfer-encoding': 'gzip, chunked' })).toEqual({ 'transfer-encoding': 'chunked' });
  });

  it('keeps ordinary request headers untouched', () => {
    const headers = { accept: 'application/json', 'content-type': 'application/yaml', 'content-length': '12', 'user-agent': 'kubectl/v1.33' };
    expect(sanitizeInboundHeaders(headers)).toEqual(headers);
  });
});

describe('connectionNamedHeaders', () => {
  it('parses comma lists with spaces and empty entries, lowercased', () => {
    expect([...connectionNamedHeaders({ connection: ' , Impersonate-User ,IMPERSONATE-GROUP,' })]).toEqual(['impersonate-user', 'impersonate-group']);
  });
});

describe('connectionSpecificHeaders', () => {
  it.each([
    ['a chunked answer', { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, ['transfer-encoding']],
    ['a keep-alive answer', { connection: 'keep-alive', 'keep-alive': 'timeout=5', 'content-length': '2' }, ['connection', 'keep-alive']],
    ['an answer naming its own hop-by-hop header', { connection: 'X-Trace', 'x-trace': '1', 'audit-id': 'a' }, ['connection', 'x-trace']],
    ['an upgrade refusal', { upgrade: 'h2c', 'proxy-connection': 'close', date: 'now' }, ['upgrade', 'proxy-connection']],
    ['an ordinary answer', { 'content-type': 'application/json', 'content-length': '2', 'audit-id': 'a' }, []],
  ])('%s: HTTP/2 clients must not get %j', (_, headers, expected) => {
    expect(connectionSpecificHeaders(headers).sort()).toEqual([...expected].sort());
  });
});

describe('impersonationHeaderNames', () => {
  it.each([
    [['Impersonate-User', 'a'], ['Impersonate-User']],
    [['imPerSoNaTE-uid', 'a'], ['imPerSoNaTE-uid']],
    [['Impersonate-Extra', 'a'], ['Impersonate-Extra']],
    [['impersonate', 'a'], ['impersonate']],
    [['X-Impersonate-User', 'a', 'Accept', 'impersonate-user'], []],
  ])('finds impersonation headers in %j', (raw, expected) => {
    expect(impersonationHeaderNames(raw)).toEqual(expected);
  });
});

describe('extra key escaping', () => {
  it.each([
    ['scopes', 'scopes'],
    ['example.com/escaped\u16c4scopes', 'example.com%2Fescaped%E1%9B%84scopes'],
    ['100%', '100%25'],
    ['Remote-Client-IP', 'Remote-Client-IP'],
    ['authentication.kubernetes.io/credential-id', 'authentication.kubernetes.io%2Fcredential-id'],
    ['a b', 'a%20b'],
  ])('escapes %j as client-go does', (key, escaped) => {
    expect(escapeExtraKey(key)).toBe(escaped);
  });

  it.each([
    ['example.com%2fescaped%e1%9b%84scopes', 'example.com/escaped\u16c4scopes'],
    ['almost%zzpercent%xxencoded', 'almost%zzpercent%xxencoded'],
    ['Scopes', 'scopes'],
  ])('unescapes %j as kube-apiserver does', (suffix, key) => {
    expect(unescapeExtraKey(suffix)).toBe(key);
  });

  it('round-trips every key through the API server reading (lowercase keys)', () => {
    for (const key of ['iam.gke.io/user-assertion', 'a%b', 'ünïcode/key', 'x y']) {
      expect(unescapeExtraKey(escapeExtraKey(key))).toBe(key);
    }
  });
});

describe('impersonationHeaders', () => {
  it('emits one header line per group and per extra value', () => {
    const sut = impersonationHeaders({
      username: 'jane',
      uid: 'u-1',
      groups: ['a,b', 'system:authenticated'],
      extra: { 'example.org/foo': ['x', 'y'], empty: [] },
    });
    expect(sut).toEqual({
      'Impersonate-User': 'jane',
      'Impersonate-Uid': 'u-1',
      'Impersonate-Group': ['a,b', 'system:authenticated'],
      'Impersonate-Extra-example.org%2Ffoo': ['x', 'y'],
    });
  });

  it('omits the uid and groups headers when there are none', () => {
    expect(impersonationHeaders({ username: 'jane', groups: [], extra: {} })).toEqual({ 'Impersonate-User': 'jane' });
  });
});

describe('withAuthenticatedGroup', () => {
  it.each([
    [[], ['system:authenticated']],
    [['a'], ['a', 'system:authenticated']],
    [['system:authenticated', 'a'], ['system:authenticated', 'a']],
    [['system:unauthenticated'], ['system:unauthenticated']],
  ])('finalises %j to %j like kube-apiserver', (groups, expected) => {
    expect(withAuthenticatedGroup(groups)).toEqual(expected);
  });
});

describe('clientImpersonationHeaders', () => {
  it("keeps the client's Impersonate-* lines, one value per line as sent, and nothing else", () => {
    const raw = ['Impersonate-User', 'alice', 'Impersonate-Group', 'a,b', 'impersonate-group', 'ops', 'Accept', 'x', 'Impersonate-Extra-Scopes', 'read'];
    expect(clientImpersonationHeaders({}, raw)).toEqual({ 'impersonate-user': ['alice'], 'impersonate-group': ['a,b', 'ops'], 'impersonate-extra-scopes': ['read'] });
  });

  it('leaves behind the ones the client names in Connection (hop-by-hop)', () => {
    const raw = ['Impersonate-User', 'alice', 'Impersonate-Group', 'ops', 'Connection', 'Impersonate-Group'];
    expect(clientImpersonationHeaders({ connection: 'Impersonate-Group' }, raw)).toEqual({ 'impersonate-user': ['alice'] });
  });
});
