/**
 * As an operator with two issuers of which one is down, /ready reports each issuer's state; the proxy is
 * ready with one issuer by default and not ready with --readiness-require-all-issuers.
 */
import { afterEach, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { TestIssuer } from '../fixtures/test-issuer.js';
import { type Environment, startEnvironment } from './support/environment.js';
import { freePort, opsGet, waitFor } from './support/proxy-process.js';

let env: Environment | undefined;
afterEach(async () => env?.stop());

async function withDownIssuer(extraArgs: string[], waitReady: boolean): Promise<{ env: Environment; downUrl: string }> {
  const file = join(mkdtempSync(join(tmpdir(), 'kop-ready-')), 'authentication.yaml');
  const downUrl = `https://127.0.0.1:${await freePort()}`;
  const write = (issuer: TestIssuer): void =>
    writeFileSync(
      file,
      stringify({
        apiVersion: 'apiserver.config.k8s.io/v1',
        kind: 'AuthenticationConfiguration',
        jwt: [
          { issuer: { url: issuer.url, audiences: ['a'], certificateAuthority: issuer.caPem }, claimMappings: { username: { claim: 'sub', prefix: '' } } },
          { issuer: { url: downUrl, audiences: ['b'], certificateAuthority: issuer.caPem }, claimMappings: { username: { claim: 'sub', prefix: '' } } },
        ],
      }),
    );
  env = await startEnvironment({ oidcArgs: [`--authentication-config=${file}`], extraArgs, waitReady, beforeStart: ({ issuer }) => write(issuer) });
  return { env, downUrl };
}

type ReadyBody = { info?: { oidc?: { issuers: Array<{ issuer: string; state: string }> } }; error?: { oidc?: { message: string; issuers: Array<{ issuer: string; state: string }> } } };

it('is ready with one of two issuers by default, and lists both', async () => {
  const { env: e, downUrl } = await withDownIssuer([], true);
  // The unreachable issuer's first discovery attempt fails within moments (connection refused).
  const body = await waitFor(async () => {
    const ready = await opsGet(e.proxy.opsPort, '/ready');
    const parsed = JSON.parse(ready.body) as ReadyBody;
    return ready.status === 200 && parsed.info?.oidc?.issuers[1]?.state === 'failed' ? parsed : undefined;
  }, 10_000, 'the second issuer reported as failed while /ready is 200');
  expect(body.info!.oidc!.issuers.map((i) => [i.issuer, i.state])).toEqual([[e.issuer.url, 'ready'], [downUrl, 'failed']]);
  expect((body.info!.oidc!.issuers[1] as { lastError?: string }).lastError).toContain('ECONNREFUSED');
  expect((await opsGet(e.proxy.opsPort, '/metrics')).body).toMatch(/kube_oidc_proxy_issuer_ready\{index="0"\} 1\n[\s\S]*kube_oidc_proxy_issuer_ready\{index="1"\} 0/);
}, 30_000);

it('is not ready with --readiness-require-all-issuers while one issuer is down', async () => {
  const { env: e } = await withDownIssuer(['--readiness-require-all-issuers'], false);
  // Wait until the reachable issuer is ready, so the 503 is due to the other one only.
  const body = await waitFor(async () => {
    const res = await opsGet(e.proxy.opsPort, '/ready').catch(() => undefined);
    const parsed = res ? (JSON.parse(res.body) as ReadyBody) : undefined;
    return res?.status === 503 && parsed?.error?.oidc?.issuers[0]?.state === 'ready' ? parsed : undefined;
  }, 15_000, 'the first issuer ready and /ready still 503');
  expect(body.error!.oidc!.message).toContain('--readiness-require-all-issuers');
}, 30_000);
