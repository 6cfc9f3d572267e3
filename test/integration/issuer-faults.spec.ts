/**
 * As a platform team: the identity provider failing in any way never lets a bad token in, and never takes
 * working users out. Keys in force keep verifying through garbage, oversized answers and outages; a
 * rotation is picked up within the unknown-kid cooldown (10 s); a huge JWKS is refused with bounded memory.
 *
 * Readiness policy: /ready is down until the issuer's keys have been loaded once (issuer down at start:
 * lifecycle.spec.ts), and stays up through a later issuer outage, because cached keys keep verifying and
 * dropping every replica from the Service would turn an IdP blip into a full outage.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer, send } from './support/client.js';
import { type Environment, startEnvironment } from './support/environment.js';
import { opsGet, waitFor } from './support/proxy-process.js';
import { rssMiB } from './support/process-stats.js';

const status = async (env: Environment, token: string): Promise<number> =>
  (await send(env.proxy.url, { path: '/api/v1/pods', headers: bearer(token), ca: env.ca.caPem })).status;

describe('a running proxy', () => {
  let env: Environment;
  beforeAll(async () => {
    env = await startEnvironment();
  });
  afterAll(async () => env?.stop());

  it('an issuer serving garbage after a rotation: the new key is refused, the keys in force keep working, and the rotation is accepted once the JWKS is good again', async () => {
    const oldKeyToken = await env.token();
    expect(await status(env, oldKeyToken)).toBe(200);
    env.issuer.jwksMode = 'garbage';
    await env.issuer.rotateKeys();
    const newKeyToken = await env.token();
    const fetches = env.issuer.jwksFetches;
    expect(await status(env, newKeyToken)).toBe(401);
    expect(env.issuer.jwksFetches).toBe(fetches + 1);
    expect(await status(env, oldKeyToken)).toBe(200);

    env.issuer.jwksMode = 'normal';
    // Within the unknown-kid cooldown (10 s), with slack for a loaded machine.
    await waitFor(async () => ((await status(env, newKeyToken)) === 200 ? true : undefined), 25_000, 'the rotated key to be accepted');
    expect((await opsGet(env.proxy.opsPort, '/ready')).status).toBe(200);
  }, 40_000);

  it('an issuer that goes down later: cached keys keep verifying, /ready stays up, and bad tokens are still refused', async () => {
    const token = await env.token();
    await env.issuer.stop();
    try {
      expect(await status(env, token)).toBe(200);
      expect(await status(env, await env.token({ aud: 'someone-else' }))).toBe(401);
      expect(await status(env, await env.token({}, { kid: 'unknown-kid' }))).toBe(401);
      expect((await opsGet(env.proxy.opsPort, '/ready')).status).toBe(200);
    } finally {
      await env.issuer.restart();
    }
  });
});

describe('an issuer serving a 4 MiB JWKS from the start', () => {
  let env: Environment;
  beforeAll(async () => {
    env = await startEnvironment({ waitReady: false, beforeStart: ({ issuer }) => (issuer.jwksMode = 'huge') });
  });
  afterAll(async () => env?.stop());

  it('is refused with bounded memory: not ready, live, every token 401; ready once the JWKS is sane', async () => {
    await waitFor(async () => (env.issuer.jwksFetches >= 2 ? true : undefined), 20_000, 'two JWKS fetch attempts');
    expect((await opsGet(env.proxy.opsPort, '/live')).status).toBe(200);
    const ready = await opsGet(env.proxy.opsPort, '/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toContain('signing keys not loaded');
    expect(await status(env, await env.token())).toBe(401);
    // The fetch is cut at 1 MiB; a proxy that buffered every 4 MiB answer would grow with each retry.
    expect(rssMiB(env.proxy.child.pid!)).toBeLessThan(300);

    env.issuer.jwksMode = 'normal';
    await waitFor(async () => ((await opsGet(env.proxy.opsPort, '/ready')).status === 200 ? true : undefined), 20_000, '/ready');
    expect(await status(env, await env.token())).toBe(200);
  }, 50_000);
});
