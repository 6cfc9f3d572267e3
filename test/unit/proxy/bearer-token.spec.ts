import { describe, expect, it } from '@jest/globals';
import { bearerToken, withoutBearerProtocol } from '../../../src/proxy/bearer-token.js';

describe('bearerToken', () => {
  it.each([
    [{}, { kind: 'missing' }],
    [{ authorization: '' }, { kind: 'missing' }],
    [{ authorization: '   ' }, { kind: 'missing' }],
    [{ authorization: 'bearer' }, { kind: 'invalid' }],
    [{ authorization: 'bearertoken' }, { kind: 'invalid' }],
    [{ authorization: 'Basic dXNlcjpwYXNz' }, { kind: 'invalid' }],
    [{ authorization: 'Bearer ' }, { kind: 'invalid' }],
    [{ authorization: 'Bearer  token' }, { kind: 'invalid' }],
    [{ authorization: 'bearer token' }, { kind: 'token', token: 'token' }],
    [{ authorization: 'BeAREr token' }, { kind: 'token', token: 'token' }],
    [{ authorization: 'bearer token extra' }, { kind: 'token', token: 'token' }],
    [{ authorization: '  Bearer token  ' }, { kind: 'token', token: 'token' }],
  ])('reads %j like kube-apiserver (CVE-2023-48312: empty is never a token)', (headers, expected) => {
    expect(bearerToken(headers)).toMatchObject(expected);
  });

  it('reads the token from the base64url WebSocket subprotocol when there is no Authorization header', () => {
    const encoded = Buffer.from('my.jwt.token').toString('base64url');
    expect(bearerToken({ 'sec-websocket-protocol': `v5.channel.k8s.io, base64url.bearer.authorization.k8s.io.${encoded}` })).toEqual({
      kind: 'token',
      token: 'my.jwt.token',
      source: 'websocket-protocol',
    });
  });

  it('refuses a malformed WebSocket bearer subprotocol', () => {
    expect(bearerToken({ 'sec-websocket-protocol': 'base64url.bearer.authorization.k8s.io.a+b' })).toMatchObject({ kind: 'invalid' });
  });

  it('removes only the credential-carrying subprotocol before forwarding', () => {
    expect(withoutBearerProtocol('v5.channel.k8s.io, base64url.bearer.authorization.k8s.io.abc,v4.channel.k8s.io')).toBe('v5.channel.k8s.io, v4.channel.k8s.io');
    expect(withoutBearerProtocol('base64url.bearer.authorization.k8s.io.abc')).toBeUndefined();
  });
});
