/**
 * /ready's `oidc` entry with two issuers, one reachable and one down: the auth service decides
 * readiness (any issuer by default, every issuer with --readiness-require-all-issuers) and words why it
 * fails; every issuer is listed either way.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TerminusModule } from '@nestjs/terminus';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { OidcAuthenticatorService } from '../../../src/auth/oidc-authenticator.service.js';
import { parseConfig } from '../../../src/config/config-parser.js';
import { PROXY_CONFIG } from '../../../src/config/proxy-config.js';
import { ReadinessService } from '../../../src/health/readiness.service.js';
import { ServingStateService } from '../../../src/health/serving-state.service.js';
import { freePort } from '../../fixtures/free-port.js';
import { TestIssuer } from '../../fixtures/test-issuer.js';
import { createTestCa } from '../../fixtures/tls.js';

type OidcEntry = { status: string; message?: string; issuers: Array<{ issuer: string; state: string }> };
type ReadyBody = { info?: { oidc?: OidcEntry }; error?: { oidc?: OidcEntry } };

const NOT_INITIALIZED = 'OIDC provider not yet initialized: signing keys not loaded';
const NOT_EVERY_ISSUER = 'not every issuer has its signing keys loaded (--readiness-require-all-issuers)';

describe('ReadinessService: the oidc entry of /ready', () => {
  const ca = createTestCa();
  const serving = ca.issue('serving');
  const file = join(ca.dir, 'authentication.yaml');
  let issuer: TestIssuer;
  let downUrl: string;
  let auth: OidcAuthenticatorService | undefined;

  beforeAll(async () => {
    issuer = await TestIssuer.start(ca);
    downUrl = `https://127.0.0.1:${await freePort()}`;
    writeFileSync(
      file,
      stringify({
        apiVersion: 'apiserver.config.k8s.io/v1',
        kind: 'AuthenticationConfiguration',
        jwt: [issuer.url, downUrl].map((url) => ({ issuer: { url, audiences: ['cluster'], certificateAuthority: ca.caPem }, claimMappings: { username: { claim: 'sub', prefix: '' } } })),
      }),
    );
  });
  afterAll(async () => issuer.stop());
  beforeEach(() => {
    for (const level of ['log', 'warn'] as const) jest.spyOn(Logger.prototype, level).mockImplementation(() => undefined);
  });
  afterEach(() => {
    auth?.onModuleDestroy();
    auth = undefined;
    jest.restoreAllMocks();
  });

  async function readiness(flags: string[]): Promise<{ sut: ReadinessService; auth: OidcAuthenticatorService }> {
    const { config, errors } = parseConfig([`--tls-cert-file=${serving.certFile}`, `--tls-private-key-file=${serving.keyFile}`, `--authentication-config=${file}`, ...flags]);
    expect(errors).toEqual([]);
    const module = await Test.createTestingModule({
      imports: [TerminusModule.forRoot({ logger: false })],
      providers: [{ provide: PROXY_CONFIG, useValue: config }, OidcAuthenticatorService, ServingStateService, ReadinessService],
    }).compile();
    module.get(ServingStateService).markServing();
    return { sut: module.get(ReadinessService), auth: module.get(OidcAuthenticatorService) };
  }

  it.each([
    ['before discovery, the proxy is not ready and says the provider is not yet initialized', [], false, { ready: false, status: 'down', message: NOT_INITIALIZED, states: ['discovering', 'discovering'] }],
    ['before discovery, with --readiness-require-all-issuers, it is not ready and names the flag', ['--readiness-require-all-issuers'], false, { ready: false, status: 'down', message: NOT_EVERY_ISSUER, states: ['discovering', 'discovering'] }],
    ['with one of two issuers ready, it is ready by default', [], true, { ready: true, status: 'up', message: undefined, states: ['ready', 'failed'] }],
    ['with one of two issuers ready and --readiness-require-all-issuers, it is not ready and names the flag', ['--readiness-require-all-issuers'], true, { ready: false, status: 'down', message: NOT_EVERY_ISSUER, states: ['ready', 'failed'] }],
  ])('%s', async (_name, flags, discover, expected) => {
    const built = await readiness(flags);
    auth = built.auth;
    if (discover) {
      auth.onModuleInit();
      for (let i = 0; i < 200 && auth.issuerStatus().some((s) => s.state === 'discovering'); i++) await new Promise((r) => setTimeout(r, 20));
    }
    const report = await built.sut.check();
    const body = report.body as ReadyBody;
    const oidc = (expected.ready ? body.info?.oidc : body.error?.oidc)!;
    expect(report.ready).toBe(expected.ready);
    expect(oidc.status).toBe(expected.status);
    expect(oidc.message).toBe(expected.message);
    expect(oidc.issuers.map((s) => [s.issuer, s.state])).toEqual([
      [issuer.url, expected.states[0]],
      [downUrl, expected.states[1]],
    ]);
  });
});
