/**
 * Reloading --authentication-config (vector 116) refuses what startup refuses: a new version whose issuer is
 * a --service-account-issuer (vector 105) is rejected and the previous configuration stays in force. An
 * unchanged file, the active version or an already rejected one, is skipped: not applied or logged again.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { OidcAuthenticatorService } from '../../../src/auth/oidc-authenticator.service.js';
import { configHash, parseAuthenticationConfig } from '../../../src/config/authentication-config.js';
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

  it('skips an unchanged file, the active version or an already rejected one, and applies a new one under the hash of its bytes', async () => {
    writeFileSync(file, fileWith('https://issuer.example.com'));
    const { config, errors } = parseConfig([`--tls-cert-file=${serving.certFile}`, `--tls-private-key-file=${serving.keyFile}`, `--authentication-config=${file}`]);
    expect(errors).toEqual([]);
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const sut = new OidcAuthenticatorService(config!);

    expect(await sut.reload()).toBe('unchanged');
    writeFileSync(file, fileWith('http://issuer.example.com'));
    expect(await sut.reload()).toBe('rejected');
    expect(await sut.reload()).toBe('unchanged');
    expect(logged).toHaveBeenCalledTimes(1);
    // The new issuer's discovery starts on apply: a closed local port keeps it off the network.
    const next = fileWith('https://issuer.example.com', 'https://127.0.0.1:1');
    writeFileSync(file, next);
    expect(await sut.reload()).toBe('applied');
    expect(sut.activeHash).toBe(configHash(next));
    expect(await sut.reload()).toBe('unchanged');
    expect(sut.reloads).toEqual({ applied: 1, rejected: 1 });
    sut.onModuleDestroy();
  });
});
