import { describe, expect, it } from '@jest/globals';
import { escapeField, failureLine, forwardedWithoutClient, successLine } from '../../../src/audit/access-log-line.js';

const at = new Date('2026-11-22T10:11:12.345Z');

describe('access log lines', () => {
  it('writes the Tremolo AuSuccess format', () => {
    const line = successLine({
      at,
      client: { ip: '192.0.2.1', peerIp: '192.0.2.1' },
      uri: '/api/v1/pods',
      inbound: { username: 'jane', groups: ['dev', 'system:authenticated'], extra: { scopes: ['a', 'b'], k2: ['v'] } },
    });
    expect(line).toBe('[2026-11-22T10:11:12+0000] AuSuccess src:[192.0.2.1 / ] URI:/api/v1/pods inbound:[jane / dev|system:authenticated / scopes=a|b k2=v]\n');
  });

  it('adds the outbound section with uid when the forwarded identity differs', () => {
    const line = successLine({
      at,
      client: { ip: '192.0.2.1', peerIp: '192.0.2.1' },
      uri: '/',
      inbound: { username: 'jane', groups: [], extra: {} },
      outbound: { username: 'bob', uid: '7', groups: ['g'], extra: {} },
    });
    expect(line).toContain(' outbound:[bob / g / 7 / ]\n');
  });

  it('writes the AuFail format with the raw X-Forwarded-For and whole IPv6 addresses', () => {
    expect(failureLine(at, { ip: '2001:db8::1', peerIp: '2001:db8::1', forwardedFor: '1.2.3.4' }, '/api')).toBe(
      '[2026-11-22T10:11:12+0000] AuFail src:[2001:db8::1 / 1.2.3.4] URI:/api\n',
    );
  });

  it.each([
    [undefined, ''],
    ['192.0.2.1', ''],
    ['198.51.100.1', '198.51.100.1'],
    ['198.51.100.1, 192.0.2.1', '198.51.100.1'],
    ['192.0.2.1, 198.51.100.1', '198.51.100.1'],
  ])('removes the client address from X-Forwarded-For %j', (xff, expected) => {
    expect(forwardedWithoutClient({ ip: '192.0.2.1', peerIp: '192.0.2.1', ...(xff ? { forwardedFor: xff } : {}) })).toBe(expected);
  });

  it('cannot be split into two lines by a crafted claim', () => {
    const line = successLine({
      at,
      client: { ip: '192.0.2.1', peerIp: '192.0.2.1' },
      uri: '/',
      inbound: { username: 'eve\n[2026-01-01T00:00:00+0000] AuSuccess src:[fake]', groups: ['a\rb'], extra: {} },
    });
    expect(line.split('\n')).toHaveLength(2);
    expect(line).toContain('eve\\u000a[2026');
    expect(escapeField('\u2028')).toBe('\\u2028');
  });
});
