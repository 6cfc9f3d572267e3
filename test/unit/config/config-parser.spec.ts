import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgv, parseGoDuration } from '../../../src/config/argv-parser.js';
import { parseConfig, resolveUsernamePrefix } from '../../../src/config/config-parser.js';
import { renderFlagsMarkdown, renderHelp } from '../../../src/config/help-text.js';
import { FLAG_DEFINITIONS } from '../../../src/config/flag-definitions.js';
import { createTestCa } from '../../fixtures/tls.js';

const ca = createTestCa();
const leaf = ca.issue('serving');
const minimal = [
  '--oidc-issuer-url=https://issuer.example.com',
  '--oidc-client-id=k8s',
  `--tls-cert-file=${leaf.certFile}`,
  `--tls-private-key-file=${leaf.keyFile}`,
];

describe('parseArgv', () => {
  it.each([
    [['--secure-port=7443'], 'secure-port', ['7443']],
    [['--secure-port', '7443'], 'secure-port', ['7443']],
    [['-P', '9090'], 'readiness-probe-port', ['9090']],
    [['-P=9090'], 'readiness-probe-port', ['9090']],
    [['-P9090'], 'readiness-probe-port', ['9090']],
    [['--token-passthrough'], 'token-passthrough', ['true']],
    [['--token-passthrough=false'], 'token-passthrough', ['false']],
    [['--oidc-required-claim', 'a=b', '--oidc-required-claim=c=d'], 'oidc-required-claim', ['a=b', 'c=d']],
  ])('%j sets %s', (argv, name, values) => {
    const parsed = parseArgv(argv);
    expect(parsed.errors).toEqual([]);
    expect(parsed.values.get(name)).toEqual(values);
  });

  it('a bare boolean never consumes the next argument', () => {
    expect(parseArgv(['--disable-impersonation', 'false']).errors).toEqual(['unexpected argument "false": kube-oidc-proxy takes no arguments']);
  });

  it.each([
    [['--nope'], 'unknown flag: --nope'],
    [['-x'], "unknown shorthand flag: 'x' in -x"],
    [['--oidc-client-id'], 'flag needs an argument: --oidc-client-id'],
    [['positional'], 'unexpected argument "positional": kube-oidc-proxy takes no arguments'],
  ])('%j is an error', (argv, message) => {
    expect(parseArgv(argv).errors).toEqual([message]);
  });
});

describe('parseGoDuration', () => {
  it.each([
    ['0', 0],
    ['50ms', 50],
    ['10s', 10_000],
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['-1s', -1000],
    ['500us', 0.5],
  ])('%s is %d ms', (text, ms) => expect(parseGoDuration(text)).toBe(ms));

  it.each(['10', 'ten seconds', '1d', ''])('%j is not a duration', (text) => expect(parseGoDuration(text)).toBeUndefined());
});

describe('resolveUsernamePrefix (kube-apiserver legacy flags, vectors 50-53)', () => {
  it.each([
    ['sub', undefined, 'https://issuer.example.com#'],
    ['sub', '', 'https://issuer.example.com#'],
    ['email', undefined, ''],
    ['sub', '-', ''],
    ['email', 'oidc:', 'oidc:'],
  ])('claim %s with prefix %j gives %j', (claim, prefix, expected) => {
    expect(resolveUsernamePrefix('https://issuer.example.com', claim, prefix)).toBe(expected);
  });
});

describe('parseConfig', () => {
  it('applies every default', () => {
    const { config, errors } = parseConfig(minimal);
    expect(errors).toEqual([]);
    expect(config).toMatchObject({
      oidc: { usernameClaim: 'sub', usernamePrefix: 'https://issuer.example.com#', groupsPrefix: '', signingAlgs: ['RS256'], requiredClaims: [] },
      serving: { bindAddress: '0.0.0.0', securePort: 6443, tlsMinVersion: 'TLSv1.2' },
      upstream: { insecureSkipTlsVerify: false, requestTimeoutMs: 0 },
      impersonation: { disableImpersonation: false, tokenPassthrough: false, extraUserHeaderClientIp: false, extraUserHeaders: [] },
      ops: { readinessProbePort: 8080, flushIntervalMs: 50, shutdownGracePeriodMs: 60_000, logLevel: 'info', verbosity: 0 },
    });
    expect(Object.isFrozen(config!.oidc)).toBe(true);
  });

  it('keeps repeated extra-user-header keys in order and maps required claims', () => {
    const { config } = parseConfig([...minimal, '--extra-user-headers=key1=foo,key2=bar', '--extra-user-headers=key1=baz', '--oidc-required-claim=hd=example.com']);
    expect(config!.impersonation.extraUserHeaders).toEqual([['key1', 'foo'], ['key2', 'bar'], ['key1', 'baz']]);
    expect(config!.oidc.requiredClaims).toEqual([{ claim: 'hd', value: 'example.com' }]);
  });

  it('maps Go cipher suite names and keeps TLS 1.3 available', () => {
    const { config } = parseConfig([...minimal, '--tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', '--tls-min-version=VersionTLS13']);
    expect(config!.serving.tlsCiphers).toBe('ECDHE-RSA-AES128-GCM-SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256');
    expect(config!.serving.tlsMinVersion).toBe('TLSv1.3');
  });

  it.each([
    [['--oidc-client-id=x'], 'oidc-issuer-url and oidc-client-id should be specified together'],
    [['--oidc-issuer-url=https://a.example/?x=1', '--oidc-client-id=x'], '--oidc-issuer-url: URL must not contain a query'],
    [['--oidc-issuer-url=https://u:p@a.example', '--oidc-client-id=x'], '--oidc-issuer-url: URL must not contain a username or password'],
    [[...minimal, '--oidc-signing-algs=RS256,none'], '--oidc-signing-algs: oidc: unsupported signing alg: "none"'],
    [[...minimal, '--secure-port=0'], '--secure-port 0 must be between 1 and 65535, inclusive. It cannot be turned off with 0'],
    [[...minimal, '--secure-port=8080'], 'unable to securely serve on port 8080 (used by readiness probe)'],
    [[...minimal, '--extra-user-header-client-ip', '--disable-impersonation'], 'cannot add extra user headers when impersonation disabled'],
    [[...minimal, '--oidc-required-claim=hd'], '--oidc-required-claim: hd must be formatted as key=value'],
    [[...minimal, '--tls-cipher-suites=TLS_RSA_WITH_RC4_128_SHA'], '--tls-cipher-suites: unknown or insecure cipher suite "TLS_RSA_WITH_RC4_128_SHA"'],
    [[...minimal, '--tls-min-version=VersionTLS10'], '--tls-min-version: "VersionTLS10" is not one of VersionTLS12, VersionTLS13'],
    [[...minimal, '--oidc-ca-file=/nonexistent/ca.pem'], '--oidc-ca-file: cannot read /nonexistent/ca.pem: ENOENT'],
    [[...minimal, '--flush-interval=soon'], '--flush-interval: invalid duration "soon" (use Go syntax such as 50ms, 10s, 1m30s)'],
    [[...minimal, '--token-passthrough'], '--token-passthrough is not supported by this version of kube-oidc-proxy yet'],
  ])('%j is refused', (argv, message) => {
    expect(parseConfig(argv).errors).toEqual(expect.arrayContaining([expect.stringContaining(message)]));
  });

  it('collects every problem at once and never echoes a secret value', () => {
    const { errors } = parseConfig(['--token=hunter2-secret', '--secure-port=0', '--nope', '--oidc-client-id=x', '--log-level=loud']);
    expect(errors.length).toBeGreaterThanOrEqual(5);
    expect(errors.join('\n')).not.toContain('hunter2-secret');
  });

  it('turns klog verbosity into debug logs unless --log-level is given', () => {
    expect(parseConfig([...minimal, '-v=4']).config!.ops.logLevel).toBe('debug');
    expect(parseConfig([...minimal, '-v=4', '--log-level=warn']).config!.ops.logLevel).toBe('warn');
  });

  it('answers --help and --version without validating anything else', () => {
    expect(parseConfig(['--help', '--bogus-is-ignored-here']).action).toBe('help');
    expect(parseConfig(['--version']).action).toBe('version');
  });
});

describe('documentation', () => {
  it('docs/flags.md is generated from the flag table and up to date', () => {
    const docs = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'flags.md'), 'utf8');
    expect(docs).toBe(renderFlagsMarkdown());
  });

  it('--help lists every flag', () => {
    const help = renderHelp();
    for (const flag of FLAG_DEFINITIONS) expect(help).toContain(`--${flag.name}`);
  });
});
