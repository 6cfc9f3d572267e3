import { describe, expect, it } from '@jest/globals';
import { parseArgv } from '../../../src/config/argv-parser.js';
import { FLAG_DEFINITIONS, FLAG_SECTIONS, type FlagDefinition } from '../../../src/config/flag-definitions.js';

const flags = FLAG_DEFINITIONS as readonly FlagDefinition[];

describe('the flag table', () => {
  it('names every flag and every shorthand once', () => {
    const names = flags.map((f) => f.name);
    const shorthands = flags.flatMap((f) => (f.shorthand ? [f.shorthand] : []));
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(shorthands).size).toBe(shorthands.length);
  });

  it('parses every default with the flag\'s own type', () => {
    expect(() => parseArgv([])).not.toThrow();
    expect(parseArgv([]).errors).toEqual([]);
  });

  it('puts every flag in a known section', () => {
    for (const flag of flags) expect(FLAG_SECTIONS).toContain(flag.section);
  });

  it('marks --token as secret', () => {
    expect(flags.filter((f) => f.secret).map((f) => f.name)).toEqual(['token']);
  });

  it.each([
    ['disable-impersonation', 'bool', 'false', undefined],
    ['readiness-probe-port', 'int', '8080', 'P'],
    ['flush-interval', 'duration', '50ms', undefined],
    ['token-passthrough', 'bool', 'false', undefined],
    ['token-passthrough-audiences', 'stringSlice', '', undefined],
    ['extra-user-header-client-ip', 'bool', 'false', undefined],
    ['extra-user-headers', 'stringToStringSlice', '', undefined],
    ['shutdown-grace-period', 'duration', '60s', undefined],
    ['max-requests-inflight', 'int', '400', undefined],
    ['max-mutating-requests-inflight', 'int', '200', undefined],
    ['disable-end-user-impersonation', 'bool', 'false', undefined],
    ['allow-reserved-identities', 'bool', 'false', undefined],
    ['oidc-issuer-url', 'string', '', undefined],
    ['oidc-client-id', 'string', '', undefined],
    ['oidc-ca-file', 'string', '', undefined],
    ['oidc-username-claim', 'string', 'sub', undefined],
    ['oidc-username-prefix', 'string', '', undefined],
    ['oidc-groups-claim', 'string', '', undefined],
    ['oidc-groups-prefix', 'string', '', undefined],
    ['oidc-signing-algs', 'stringSlice', 'RS256', undefined],
    ['oidc-required-claim', 'mapStringString', '', undefined],
    ['service-account-issuer', 'stringArray', '', undefined],
    ['bind-address', 'ip', '0.0.0.0', undefined],
    ['secure-port', 'int', '6443', undefined],
    ['tls-cert-file', 'string', '', undefined],
    ['tls-private-key-file', 'string', '', undefined],
    ['tls-min-version', 'string', 'VersionTLS12', undefined],
    ['tls-cipher-suites', 'stringSlice', '', undefined],
    ['kubeconfig', 'string', '', undefined],
    ['context', 'string', '', undefined],
    ['cluster', 'string', '', undefined],
    ['user', 'string', '', undefined],
    ['server', 'string', '', 's'],
    ['token', 'string', '', undefined],
    ['certificate-authority', 'string', '', undefined],
    ['client-certificate', 'string', '', undefined],
    ['client-key', 'string', '', undefined],
    ['tls-server-name', 'string', '', undefined],
    ['insecure-skip-tls-verify', 'bool', 'false', undefined],
    ['request-timeout', 'string', '0', undefined],
    ['v', 'int', '0', 'v'],
    ['log-level', 'string', 'info', undefined],
    ['version', 'bool', 'false', undefined],
    ['help', 'bool', 'false', 'h'],
  ])('--%s is a %s flag with default %j and shorthand %j, as in jetstack and kubectl', (name, type, def, shorthand) => {
    const flag = flags.find((f) => f.name === name);
    expect(flag).toMatchObject({ type, default: def });
    expect(flag!.shorthand).toBe(shorthand);
    expect(flag!.ignored).toBeUndefined();
  });

  it('accepts and ignores exactly the documented compatibility flags', () => {
    expect(flags.filter((f) => f.ignored).map((f) => f.name).sort()).toEqual(
      ['alsologtostderr', 'cert-dir', 'log-flush-frequency', 'logtostderr', 'skip-headers', 'stderrthreshold', 'vmodule'],
    );
  });
});
