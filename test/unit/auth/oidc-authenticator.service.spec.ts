/**
 * Reloading --authentication-config (vector 116) refuses what startup refuses: a new version whose issuer is
 * a --service-account-issuer (vector 105) is rejected and the previous configuration stays in force.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { OidcAuthenticatorService } from '../../../src/auth/oidc-authenticator.service.js';
import { parseAuthenticationConfig } from '../../../src/config/authentication-config.js';
import { parseConfig } from '../../../src/config/config-parser.js';
import { createTestCa } from '../../fixtures/tls.js';

const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

const fileWith = (...issuers: string[]): string =>
  stringify({
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'AuthenticationConfiguration',
    jwt: issuers.map((url) => ({ issuer: { url, audiences: ['cluster'] }, claimMappings: { username: { claim: 'sub', prefix: '' } } })),
  });

describe('OidcAuthenticatorService.reload', () => {
  const ca = createTestCa();
  const serving = ca.issue('serving');
  const file = join(ca.dir, 'authentication.yaml');

  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('rejects a version that adds a --service-account-issuer as an OIDC issuer (vector 105); the previous one stays active', async () => {
    writeFileSync(file, fileWith('https://issuer.example.com'));
    const { config, errors } = parseConfig([
      `--tls-cert-file=${serving.certFile}`,
      `--tls-private-key-file=${serving.keyFile}`,
      `--authentication-config=${file}`,
      `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
    ]);
    expect(errors).toEqual([]);
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const sut = new OidcAuthenticatorService(config!);
    const before = sut.activeHash;

    const overlapping = fileWith('https://issuer.example.com', SERVICE_ACCOUNT_ISSUER);
    // Valid in every other respect: only the service-account issuers can make the reload fail.
    expect(parseAuthenticationConfig(overlapping, []).ok).toBe(true);
    writeFileSync(file, overlapping);

    expect(await sut.reload()).toBe('rejected');
    expect(sut.activeHash).toBe(before);
    expect(sut.issuerStatus().map((s) => s.issuer)).toEqual(['https://issuer.example.com']);
    expect(sut.reloads).toEqual({ applied: 0, rejected: 1 });
    expect(logged).toHaveBeenCalledWith(
      expect.stringContaining(`jwt[1].issuer.url: Invalid value: "${SERVICE_ACCOUNT_ISSUER}": URL must not overlap with disallowed issuers: [${SERVICE_ACCOUNT_ISSUER}]`),
    );
  });
});
