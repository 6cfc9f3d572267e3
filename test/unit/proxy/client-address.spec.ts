import { describe, expect, it } from '@jest/globals';
import { parseTrustedProxies, resolveClientAddress } from '../../../src/proxy/client-address.js';

describe('resolveClientAddress', () => {
  const { list: trusted } = parseTrustedProxies(['10.0.0.0/8', 'fd00::/8']);

  it.each([
    ['an untrusted peer ignores X-Forwarded-For', '203.0.113.9', '1.2.3.4', undefined, '203.0.113.9'],
    ['no trusted list means the peer is the client', '10.0.0.5', '1.2.3.4', undefined, '10.0.0.5'],
    ['a trusted peer yields the rightmost untrusted hop', '10.0.0.5', '6.6.6.6, 1.2.3.4, 10.1.1.1', trusted, '1.2.3.4'],
    ['a spoofed leftmost entry is not believed', '10.0.0.5', '127.0.0.1, 198.51.100.7', trusted, '198.51.100.7'],
    ['garbage in the chain stops the walk', '10.0.0.5', '1.2.3.4, not-an-ip', trusted, '10.0.0.5'],
    ['an IPv4-mapped peer is shown as IPv4', '::ffff:192.0.2.1', undefined, undefined, '192.0.2.1'],
    ['IPv6 peers are kept whole', '2001:db8::1', undefined, undefined, '2001:db8::1'],
    ['a trusted IPv6 peer forwards an IPv6 client', 'fd00::1', '2001:db8::7', trusted, '2001:db8::7'],
  ])('%s', (_name, peer, xff, list, expected) => {
    expect(resolveClientAddress(peer, 1234, xff, list).ip).toBe(expected);
  });

  it('reports invalid trusted-proxy entries', () => {
    expect(parseTrustedProxies(['10.0.0.0/33', 'nope', '1.2.3.4', '::1/128', '1.2.3.0/x']).invalid).toEqual(['10.0.0.0/33', 'nope', '1.2.3.0/x']);
  });
});
