/**
 * Property tests (fast-check) over the pure pieces that decide who the API server thinks is calling:
 * whatever headers a client sends, the outbound identity headers are exactly the verified identity's,
 * no client credential survives, and a bearer token is never empty. The seed is fixed for CI and printed;
 * FC_SEED=<n> replays or explores another.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { IncomingHttpHeaders } from 'node:http';
import { impersonationHeaders, type OutboundIdentity, sanitizeInboundHeaders } from '../../../src/impersonation/header-policy.js';
import { parseImpersonationRequest } from '../../../src/impersonation/impersonation-request.js';
import { AdmissionError } from '../../../src/proxy/admission-error.js';
import { bearerToken } from '../../../src/proxy/bearer-token.js';

const SEED = Number(process.env.FC_SEED ?? 20261123);
const RUNS = 500;
process.stdout.write(`fast-check seed ${SEED} (FC_SEED to change), ${RUNS} runs per property\n`);
const params = { seed: SEED, numRuns: RUNS };

/** Names a hostile client would try, plus arbitrary ones. Node lower-cases incoming header names. */
const hostileName = fc.oneof(
  fc.constantFrom(
    'impersonate-user', 'impersonate-group', 'impersonate-uid', 'impersonate-extra-scopes', 'impersonate-extra-a%2fb', 'impersonate_user',
    'impersonate-extra-', 'impersonateuser', 'authorization', 'proxy-authorization', 'x-remote-user', 'x-remote-group', 'x-remote-extra-x',
    'x-forwarded-for', 'x-real-ip', 'forwarded', 'connection', 'keep-alive', 'te', 'trailer', 'upgrade', 'host', 'accept', 'content-type',
  ),
  fc.stringMatching(/^[a-z][a-z0-9_%.-]{0,24}$/),
);
const value = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('system:masters', 'admin', 'Bearer x', 'impersonate-user, authorization', ''));
const inboundHeaders = fc
  .array(fc.tuple(hostileName, fc.oneof(value, fc.array(value, { minLength: 1, maxLength: 3 }))), { maxLength: 12 })
  .chain((entries) =>
    fc.subarray(entries.map(([n]) => n)).map((named) => {
      const headers: IncomingHttpHeaders = {};
      for (const [name, v] of entries) (headers as Record<string, unknown>)[name] = v;
      // Connection naming some of the other headers (GHSA-pvxj-25m6-7vqr), or itself arbitrary.
      if (named.length > 0) headers.connection = named.join(', ');
      return headers;
    }),
  );
const identity: fc.Arbitrary<OutboundIdentity> = fc.record({
  username: fc.string({ minLength: 1, maxLength: 20 }),
  groups: fc.array(fc.string({ minLength: 1, maxLength: 12 }), { maxLength: 4 }),
  extra: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9./-]{0,15}$/), fc.array(fc.string({ maxLength: 8 }), { minLength: 1, maxLength: 2 }), { maxKeys: 3 }),
});

const identityLike = (name: string): boolean => {
  const n = name.toLowerCase();
  return n.startsWith('impersonate') || n === 'authorization' || n === 'proxy-authorization' || n.startsWith('x-remote-');
};
const lowerKeys = (h: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

describe('outbound headers', () => {
  it('carry exactly the verified identity and no client credential, whatever the client sent', () => {
    fc.assert(
      fc.property(inboundHeaders, identity, (inbound, id) => {
        const outbound = lowerKeys({ ...sanitizeInboundHeaders(inbound), ...impersonationHeaders(id) });
        const expected = lowerKeys(impersonationHeaders(id));
        const identityHeaders = Object.fromEntries(Object.entries(outbound).filter(([k]) => identityLike(k)));
        expect(identityHeaders).toEqual(expected);
        expect(outbound.host).toBeUndefined();
      }),
      params,
    );
  });
});

describe('bearer tokens', () => {
  it('a token is never empty and never contains a space, for any Authorization value', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 30 }), fc.string({ maxLength: 10 }).map((s) => `Bearer${s}`), fc.string({ maxLength: 10 }).map((s) => `bearer ${s}`)), (authorization) => {
        const lookup = bearerToken({ authorization });
        if (lookup.kind === 'token') {
          expect(lookup.token.length).toBeGreaterThan(0);
          expect(lookup.token).not.toContain(' ');
        }
      }),
      params,
    );
  });
});

describe('client impersonation requests', () => {
  it('either impersonate exactly one non-empty user with every group line kept, or are refused as a bad request', () => {
    const rawHeaders = fc.array(fc.tuple(fc.oneof(hostileName, fc.constantFrom('Impersonate-User', 'IMPERSONATE-GROUP', 'Impersonate-Extra-Foo%2Fbar')), fc.string({ maxLength: 12 })), { maxLength: 8 });
    fc.assert(
      fc.property(rawHeaders, (pairs) => {
        const raw = pairs.flat();
        const lines = pairs.filter(([n]) => n.toLowerCase().startsWith('impersonate'));
        let result: ReturnType<typeof parseImpersonationRequest>;
        try {
          result = parseImpersonationRequest(raw);
        } catch (err) {
          expect(err).toBeInstanceOf(AdmissionError);
          expect((err as AdmissionError).kind).toBe('BadRequest');
          return;
        }
        if (lines.length === 0) return expect(result).toBeUndefined();
        expect(result!.username).toBe(lines.find(([n]) => n.toLowerCase() === 'impersonate-user')![1]);
        expect(result!.username).not.toBe('');
        expect(result!.groups).toEqual(lines.filter(([n]) => n.toLowerCase() === 'impersonate-group').map(([, v]) => v));
      }),
      params,
    );
  });
});
