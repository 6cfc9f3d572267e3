import { describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, parseRequestTimeout, type ConfigEnvironment } from '../../../src/config/config-parser.js';
import type { ProxyConfig } from '../../../src/config/proxy-config.js';
import { createTestCa } from '../../fixtures/tls.js';

const ca = createTestCa();
const serving = ca.issue('serving');
const other = ca.issue('other');
const notPem = join(ca.dir, 'not-pem.txt');
writeFileSync(notPem, 'hello\n');

const ISSUER = 'https://issuer.example.com';
const minimal = [`--oidc-issuer-url=${ISSUER}`, '--oidc-client-id=k8s', `--tls-cert-file=${serving.certFile}`, `--tls-private-key-file=${serving.keyFile}`];

/** A file system where /denied/* cannot be read, as when a mounted secret has the wrong mode. */
const env: ConfigEnvironment = {
  readFile(path) {
    if (path.startsWith('/denied/')) throw Object.assign(new Error(`EACCES: permission denied, open '${path}'`), { code: 'EACCES' });
    return readFileSync(path, 'utf8');
  },
};

function configOf(...argv: string[]): ProxyConfig {
  const result = parseConfig([...minimal, ...argv], env);
  expect(result.errors).toEqual([]);
  return result.config!;
}

function at(config: ProxyConfig, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown>)[key], config);
}

describe('parseConfig', () => {
  it.each([
    ['oidc.usernameClaim', 'sub'],
    ['oidc.usernamePrefix', `${ISSUER}#`],
    ['oidc.groupsClaim', undefined],
    ['oidc.groupsPrefix', ''],
    ['oidc.signingAlgs', ['RS256']],
    ['oidc.requiredClaims', []],
    ['oidc.caFile', undefined],
    ['oidc.caPem', undefined],
    ['serving.bindAddress', '0.0.0.0'],
    ['serving.securePort', 6443],
    ['serving.tlsMinVersion', 'TLSv1.2'],
    ['serving.tlsCiphers', undefined],
    ['upstream.kubeconfig', undefined],
    ['upstream.server', undefined],
    ['upstream.token', undefined],
    ['upstream.insecureSkipTlsVerify', false],
    ['upstream.requestTimeoutMs', 0],
    ['impersonation.disableImpersonation', false],
    ['impersonation.tokenPassthrough', false],
    ['impersonation.tokenPassthroughAudiences', []],
    ['impersonation.extraUserHeaderClientIp', false],
    ['impersonation.extraUserHeaders', []],
    ['impersonation.disableEndUserImpersonation', false],
    ['impersonation.allowReservedIdentities', false],
    ['ops.readinessProbePort', 8080],
    ['ops.flushIntervalMs', 50],
    ['ops.shutdownGracePeriodMs', 60_000],
    ['ops.maxRequestsInflight', 400],
    ['ops.maxMutatingRequestsInflight', 200],
    ['ops.streamBufferGcMiB', 16],
    ['ops.logLevel', 'info'],
    ['ops.verbosity', 0],
    ['authentication.serviceAccountIssuers', []],
  ])('the default of %s is %j', (path, value) => {
    expect(at(configOf(), path)).toEqual(value);
  });

  it.each([
    [['--oidc-username-claim=email'], 'oidc.usernameClaim', 'email'],
    [['--oidc-groups-claim=groups'], 'oidc.groupsClaim', 'groups'],
    [['--oidc-groups-prefix=oidc:'], 'oidc.groupsPrefix', 'oidc:'],
    [['--oidc-signing-algs=ES256,RS256,ES256'], 'oidc.signingAlgs', ['ES256', 'RS256']],
    [['--oidc-required-claim=hd=example.com', '--oidc-required-claim=tier=gold'], 'oidc.requiredClaims', [{ claim: 'hd', value: 'example.com' }, { claim: 'tier', value: 'gold' }]],
    [[`--oidc-ca-file=${ca.caCertFile}`], 'oidc.caFile', ca.caCertFile],
    [[`--oidc-ca-file=${ca.caCertFile}`], 'oidc.caPem', ca.caPem],
    [['--bind-address=127.0.0.1'], 'serving.bindAddress', '127.0.0.1'],
    [['--secure-port=443'], 'serving.securePort', 443],
    [['--tls-min-version=VersionTLS13'], 'serving.tlsMinVersion', 'TLSv1.3'],
    [['--tls-min-version='], 'serving.tlsMinVersion', 'TLSv1.2'],
    [['--tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256'], 'serving.tlsCiphers', 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305'],
    [['--tls-cipher-suites=TLS_AES_128_GCM_SHA256,TLS_RSA_WITH_AES_128_CBC_SHA'], 'serving.tlsCiphers', 'AES128-SHA'],
    [[`--kubeconfig=${ca.caCertFile}`], 'upstream.kubeconfig', ca.caCertFile],
    [['-s', 'https://10.0.0.1:6443'], 'upstream.server', 'https://10.0.0.1:6443'],
    [['--context=prod', '--cluster=c', '--user=u'], 'upstream.context', 'prod'],
    [['--token=abc'], 'upstream.token', 'abc'],
    [[`--certificate-authority=${ca.caCertFile}`], 'upstream.certificateAuthority', ca.caCertFile],
    [[`--client-certificate=${other.certFile}`, `--client-key=${other.keyFile}`], 'upstream.clientKey', other.keyFile],
    [['--tls-server-name=kubernetes'], 'upstream.tlsServerName', 'kubernetes'],
    [['--insecure-skip-tls-verify'], 'upstream.insecureSkipTlsVerify', true],
    [['--request-timeout=30'], 'upstream.requestTimeoutMs', 30_000],
    [['--request-timeout=1m'], 'upstream.requestTimeoutMs', 60_000],
    [['--trusted-proxies=10.0.0.0/8,192.168.1.7,fd00::/8'], 'serving.trustedProxies', ['10.0.0.0/8', '192.168.1.7', 'fd00::/8']],
    [[], 'serving.trustedProxies', []],
    [['--token-passthrough'], 'impersonation.tokenPassthrough', true],
    [['--disable-impersonation'], 'impersonation.disableImpersonation', true],
    [['--token-passthrough-audiences=a,b'], 'impersonation.tokenPassthroughAudiences', ['a', 'b']],
    [['--extra-user-header-client-ip'], 'impersonation.extraUserHeaderClientIp', true],
    [['--extra-user-headers=key1=foo,key2=bar', '--extra-user-headers=key1=baz'], 'impersonation.extraUserHeaders', [['key1', 'foo'], ['key2', 'bar'], ['key1', 'baz']]],
    [['--disable-end-user-impersonation'], 'impersonation.disableEndUserImpersonation', true],
    [['--allow-reserved-identities'], 'impersonation.allowReservedIdentities', true],
    [['-P', '9090'], 'ops.readinessProbePort', 9090],
    [['--flush-interval=-1ms'], 'ops.flushIntervalMs', -1],
    [['--shutdown-grace-period=5s'], 'ops.shutdownGracePeriodMs', 5000],
    [[], 'serving.requestReadTimeoutMs', 60_000],
    [['--request-read-timeout=2s'], 'serving.requestReadTimeoutMs', 2000],
    [['--request-read-timeout=0'], 'serving.requestReadTimeoutMs', 0],
    [[], 'serving.http2', true],
    [['--serve-http2=false'], 'serving.http2', false],
    [[], 'serving.http2MaxStreamsPerConnection', 250],
    [['--http2-max-streams-per-connection=0'], 'serving.http2MaxStreamsPerConnection', 250],
    [['--http2-max-streams-per-connection=1000'], 'serving.http2MaxStreamsPerConnection', 1000],
    [['--max-requests-inflight=0'], 'ops.maxRequestsInflight', 0],
    [['--max-mutating-requests-inflight=7'], 'ops.maxMutatingRequestsInflight', 7],
    [['--stream-buffer-gc-mib=0'], 'ops.streamBufferGcMiB', 0],
    [['--log-level=warn'], 'ops.logLevel', 'warn'],
    [['-v=4'], 'ops.logLevel', 'debug'],
    [['-v=8'], 'ops.logLevel', 'trace'],
    [['-v=4', '--log-level=error'], 'ops.logLevel', 'error'],
    [['--v=6'], 'ops.verbosity', 6],
    // an empty fragment is no fragment to kube-apiserver, for the flag as for the file's issuer.url
    [['--oidc-issuer-url=https://issuer.example.com/#'], 'oidc.issuerUrl', 'https://issuer.example.com/#'],
    // vector 105: a service-account issuer other than the OIDC issuer is accepted
    [['--service-account-issuer=https://kubernetes.default.svc', '--service-account-issuer=https://issuer.example.com/'], 'authentication.serviceAccountIssuers', ['https://kubernetes.default.svc', 'https://issuer.example.com/']],
  ])('%j sets %s to %j', (argv, path, value) => {
    expect(at(configOf(...argv), path)).toEqual(value);
  });

  it.each([
    // jetstack's exact texts (A.8)
    [['--oidc-issuer-url='], 'oidc-issuer-url and oidc-client-id should be specified together'],
    [['--oidc-client-id='], 'oidc-issuer-url and oidc-client-id should be specified together'],
    [['--secure-port=8080'], 'unable to securely serve on port 8080 (used by readiness probe)'],
    [['--secure-port=9443', '-P', '9443'], 'unable to securely serve on port 9443 (used by readiness probe)'],
    [['--extra-user-header-client-ip', '--disable-impersonation'], 'cannot add extra user headers when impersonation disabled'],
    [['--extra-user-headers=a=b', '--disable-impersonation'], 'cannot add extra user headers when impersonation disabled'],
    [['--secure-port=0'], '--secure-port 0 must be between 1 and 65535, inclusive. It cannot be turned off with 0'],
    [['--secure-port=65536'], '--secure-port 65536 must be between 1 and 65535, inclusive. It cannot be turned off with 0'],
    [['--extra-user-headers=key1'], 'invalid argument "key1" for "--extra-user-headers" flag: key1 must be formatted as key=value'],
    // OIDC
    [['--oidc-issuer-url=http://issuer.example.com'], '--oidc-issuer-url: URL scheme must be https'],
    [['--oidc-issuer-url=https://issuer.example.com/?tenant=1'], '--oidc-issuer-url: URL must not contain a query'],
    [['--oidc-issuer-url=https://issuer.example.com/#frag'], '--oidc-issuer-url: URL must not contain a fragment'],
    [['--oidc-issuer-url=issuer.example.com'], '--oidc-issuer-url: not a valid URL'],
    [['--oidc-signing-algs=HS256'], '--oidc-signing-algs: oidc: unsupported signing alg: "HS256" (allowed: RS256, RS384, RS512, ES256, ES384, ES512, PS256, PS384, PS512)'],
    [['--oidc-signing-algs=RS256,none'], '--oidc-signing-algs: oidc: unsupported signing alg: "none" (allowed: RS256, RS384, RS512, ES256, ES384, ES512, PS256, PS384, PS512)'],
    [['--oidc-username-claim='], '--oidc-username-claim must not be empty'],
    [['--oidc-required-claim==x'], '--oidc-required-claim: the claim name must not be empty'],
    [['--oidc-ca-file=/nonexistent/ca.pem'], '--oidc-ca-file: cannot read /nonexistent/ca.pem: ENOENT'],
    [['--oidc-ca-file=/denied/ca.pem'], '--oidc-ca-file: cannot read /denied/ca.pem: EACCES'],
    [[`--oidc-ca-file=${notPem}`], `--oidc-ca-file: ${notPem}: data does not contain any valid RSA or ECDSA certificates`],
    [[`--oidc-ca-file=${serving.keyFile}`], `--oidc-ca-file: ${serving.keyFile}: data does not contain any valid RSA or ECDSA certificates`],
    // vector 105 and kube-apiserver's checks of --service-account-issuer itself
    [[`--service-account-issuer=${ISSUER}`], `--oidc-issuer-url: URL must not overlap with disallowed issuers: [${ISSUER}] (--service-account-issuer)`],
    [['--service-account-issuer=https://kubernetes.default.svc', `--service-account-issuer=${ISSUER}`], `--oidc-issuer-url: URL must not overlap with disallowed issuers: [${ISSUER} https://kubernetes.default.svc] (--service-account-issuer)`],
    [['--service-account-issuer='], '--service-account-issuer should not be an empty string'],
    [['--service-account-issuer=https://sa', '--service-account-issuer=https://sa'], '--service-account-issuer "https://sa" is already specified'],
    // Secure serving
    [['--readiness-probe-port=0'], '--readiness-probe-port 0 must be between 1 and 65535, inclusive'],
    [['--tls-cert-file='], '--tls-cert-file is required: kube-oidc-proxy serves only TLS'],
    [['--tls-private-key-file='], '--tls-private-key-file is required: kube-oidc-proxy serves only TLS'],
    [['--tls-cert-file=/denied/tls.crt'], '--tls-cert-file: cannot read /denied/tls.crt: EACCES'],
    [['--tls-private-key-file=/nonexistent/tls.key'], '--tls-private-key-file: cannot read /nonexistent/tls.key: ENOENT'],
    [[`--tls-cert-file=${notPem}`], `--tls-cert-file: ${notPem} contains no valid PEM certificate`],
    [[`--tls-private-key-file=${notPem}`], `--tls-private-key-file: ${notPem} contains no usable PEM private key (no PEM private key found)`],
    [['--tls-min-version=VersionTLS11'], '--tls-min-version: VersionTLS11 is not supported (TLS 1.0 and 1.1 are insecure); use VersionTLS12 or VersionTLS13'],
    [['--tls-min-version=TLSv1.2'], '--tls-min-version: unknown tls version "TLSv1.2"; use VersionTLS12 or VersionTLS13'],
    [['--tls-cipher-suites=TLS_RSA_WITH_RC4_128_SHA'], '--tls-cipher-suites: cipher suite TLS_RSA_WITH_RC4_128_SHA is insecure and not supported'],
    [['--tls-cipher-suites=ECDHE-RSA-AES128-GCM-SHA256'], "--tls-cipher-suites: Cipher suite ECDHE-RSA-AES128-GCM-SHA256 not supported or doesn't exist"],
    [['--trusted-proxies=10.0.0.0/33'], '--trusted-proxies: "10.0.0.0/33" is not an IP address or CIDR (e.g. 10.0.0.0/8)'],
    [['--trusted-proxies=10.0.0.0/8,lb.example.com'], '--trusted-proxies: "lb.example.com" is not an IP address or CIDR (e.g. 10.0.0.0/8)'],
    // Client
    [['--kubeconfig=/nonexistent/kubeconfig'], '--kubeconfig: cannot read /nonexistent/kubeconfig: ENOENT'],
    [['--certificate-authority=/denied/ca.crt'], '--certificate-authority: cannot read /denied/ca.crt: EACCES'],
    [['--client-certificate=/nonexistent/c.crt'], '--client-certificate: cannot read /nonexistent/c.crt: ENOENT'],
    [['--client-key=/nonexistent/c.key'], '--client-key: cannot read /nonexistent/c.key: ENOENT'],
    [['--request-timeout=soon'], '--request-timeout: Invalid timeout value. Timeout must be a single integer in seconds, or an integer followed by a corresponding time unit (e.g. 1s | 2m | 3h)'],
    [['--request-timeout=-1s'], '--request-timeout must not be negative'],
    // Kube-OIDC-Proxy and Misc
    [['--extra-user-headers==v'], '--extra-user-headers: the key of a key=value pair must not be empty'],
    [['--shutdown-grace-period=-1s'], '--shutdown-grace-period must not be negative'],
    [['--request-read-timeout=-1s'], '--request-read-timeout must not be negative'],
    [['--http2-max-streams-per-connection=-1'], '--http2-max-streams-per-connection must not be negative'],
    [['--max-requests-inflight=-1'], '--max-requests-inflight must not be negative (0 means no limit)'],
    [['--stream-buffer-gc-mib=-1'], '--stream-buffer-gc-mib must not be negative (0 turns it off)'],
    [['--max-mutating-requests-inflight=-5'], '--max-mutating-requests-inflight must not be negative (0 means no limit)'],
    [['--log-level=loud'], '--log-level: unknown level "loud"; use one of fatal, error, warn, info, debug, trace'],
    [['--foo'], 'unknown flag: --foo'],
    [['serve'], 'unexpected argument at position 5: kube-oidc-proxy takes no arguments'],
  ])('%j is refused with %j', (argv, message) => {
    const result = parseConfig([...minimal, ...argv], env);
    expect(result.errors).toContain(message);
    expect(result.config).toBeUndefined();
    expect(result.action).toBe('run');
  });

  it('refuses a certificate and a key that do not belong together', () => {
    const { errors } = parseConfig([...minimal, `--tls-private-key-file=${other.keyFile}`], env);
    expect(errors).toEqual([expect.stringMatching(/^--tls-cert-file and --tls-private-key-file do not form a key pair \(.+\)$/)]);
  });

  it('requires an issuer and a client id: the proxy cannot run without an issuer', () => {
    const { errors } = parseConfig([`--tls-cert-file=${serving.certFile}`, `--tls-private-key-file=${serving.keyFile}`], env);
    expect(errors).toEqual(['--oidc-issuer-url and --oidc-client-id are required: kube-oidc-proxy cannot authenticate anyone without an issuer']);
  });

  it('never echoes an issuer URL, which may carry a password', () => {
    const { errors } = parseConfig([...minimal, '--oidc-issuer-url=http://admin:pa55word@issuer.example.com'], env);
    expect(errors).toEqual(['--oidc-issuer-url: URL scheme must be https', '--oidc-issuer-url: URL must not contain a username or password']);
  });

  it('never echoes a password when the issuer overlaps a --service-account-issuer (vector 105)', () => {
    const { errors } = parseConfig([...minimal, '--oidc-issuer-url=https://admin:pa55word@sa.example.com', '--service-account-issuer=https://admin:pa55word@sa.example.com'], env);
    expect(errors).toEqual([
      '--oidc-issuer-url: URL must not overlap with disallowed issuers: [<omitted>] (--service-account-issuer)',
      '--oidc-issuer-url: URL must not contain a username or password',
    ]);
  });

  it('stops on an overlapping --oidc-issuer-url together with every other problem, each by flag (vector 105)', () => {
    const { errors, config } = parseConfig([...minimal, `--service-account-issuer=${ISSUER}`, '--service-account-issuer=', '--log-level=loud'], env);
    expect(config).toBeUndefined();
    expect(errors).toEqual([
      '--service-account-issuer should not be an empty string',
      `--oidc-issuer-url: URL must not overlap with disallowed issuers: [${ISSUER}] (--service-account-issuer)`,
      '--log-level: unknown level "loud"; use one of fatal, error, warn, info, debug, trace',
    ]);
  });

  it('collects every problem at once', () => {
    const { errors, config } = parseConfig(
      ['--oidc-client-id=k8s', '--secure-port=0', '--nope', '--log-level=loud', '--oidc-signing-algs=HS256', '--tls-min-version=VersionTLS10', 'extra'],
      env,
    );
    expect(config).toBeUndefined();
    expect(errors).toEqual([
      'unknown flag: --nope',
      'unexpected argument at position 7: kube-oidc-proxy takes no arguments',
      'oidc-issuer-url and oidc-client-id should be specified together',
      expect.stringContaining('--oidc-signing-algs: oidc: unsupported signing alg: "HS256"'),
      '--secure-port 0 must be between 1 and 65535, inclusive. It cannot be turned off with 0',
      '--tls-cert-file is required: kube-oidc-proxy serves only TLS',
      '--tls-private-key-file is required: kube-oidc-proxy serves only TLS',
      expect.stringContaining('--tls-min-version: VersionTLS10 is not supported'),
      expect.stringContaining('--log-level: unknown level'),
    ]);
  });

  it('never echoes the --token value in errors or warnings', () => {
    const result = parseConfig(['--token', 'supersecret', '--secure-port=0', '--vmodule=x=2', `--kubeconfig=/nonexistent/supersecret`, 'supersecret'], env);
    expect(result.errors.length).toBeGreaterThan(3);
    expect(result.warnings.length).toBeGreaterThan(0);
    expect([...result.errors, ...result.warnings].join('\n')).not.toContain('supersecret');
    expect(result.errors).toContain('--kubeconfig: cannot read /nonexistent/[redacted]: ENOENT');
  });

  it('returns a deeply frozen config', () => {
    const config = configOf('--oidc-required-claim=hd=example.com', '--extra-user-headers=a=b');
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.oidc!.signingAlgs)).toBe(true);
    expect(Object.isFrozen(config.oidc!.requiredClaims[0])).toBe(true);
    expect(Object.isFrozen(config.impersonation.extraUserHeaders[0])).toBe(true);
  });

  it.each([
    [['--help'], 'help'],
    [['-h'], 'help'],
    [['--help', '--nope', '--secure-port=0'], 'help'],
    [['--version'], 'version'],
    [['--version', '--nope'], 'version'],
    [['--help=false', ...minimal], 'run'],
  ])('%j is the %s action, without validating anything else', (argv, action) => {
    const result = parseConfig(argv, env);
    expect(result.action).toBe(action);
    expect(result.errors).toEqual([]);
    expect(result.config === undefined).toBe(action !== 'run');
  });

  it.each([
    [['--vmodule=proxy=4'], '--vmodule is accepted for compatibility and ignored'],
    [['--log-flush-frequency=1s'], '--log-flush-frequency is accepted for compatibility and ignored'],
    [['--cert-dir=/var/run/kubernetes'], '--cert-dir is accepted for compatibility and ignored'],
    [['--logtostderr=false'], '--logtostderr is accepted for compatibility and ignored'],
    [['--alsologtostderr'], '--alsologtostderr is accepted for compatibility and ignored'],
    [['--skip-headers'], '--skip-headers is accepted for compatibility and ignored'],
    [['--stderrthreshold=INFO'], '--stderrthreshold is accepted for compatibility and ignored'],
    [['--token-passthrough-audiences=api'], '--token-passthrough-audiences has no effect without --token-passthrough'],
    [['--oidc-signing-algs='], '--oidc-signing-algs is empty: using RS256'],
    [['--tls-min-version=VersionTLS13', '--tls-cipher-suites=TLS_RSA_WITH_AES_128_CBC_SHA'], '--tls-cipher-suites has no effect with --tls-min-version=VersionTLS13: TLS 1.3 suites are not configurable'],
    [['--tls-cipher-suites=TLS_AES_128_GCM_SHA256'], '--tls-cipher-suites names only TLS 1.3 suites, so TLS 1.2 is disabled (as in Go)'],
  ])('%j starts with the warning %j', (argv, warning) => {
    const result = parseConfig([...minimal, '--oidc-username-prefix=-', ...argv], env);
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([warning]);
  });

  it('an ignored flag is still type-checked', () => {
    expect(parseConfig([...minimal, '--log-flush-frequency=often'], env).errors).toEqual([
      'invalid argument "often" for "--log-flush-frequency" flag: time: invalid duration "often"',
    ]);
  });

  it('naming only TLS 1.3 suites disables TLS 1.2, as Go does', () => {
    const config = configOf('--tls-cipher-suites=TLS_AES_128_GCM_SHA256');
    expect(config.serving.tlsMinVersion).toBe('TLSv1.3');
    expect(config.serving.tlsCiphers).toBeUndefined();
  });

  it('an empty --oidc-signing-algs means RS256, as in go-oidc', () => {
    expect(configOf('--oidc-signing-algs=').oidc!.signingAlgs).toEqual(['RS256']);
  });
});

describe('the username prefix from legacy flags (kube-apiserver, vectors 50–53)', () => {
  it.each([
    ['50: prefix unset, claim sub', [], `${ISSUER}#`],
    ['50: prefix unset, custom claim', ['--oidc-username-claim=preferred_username'], `${ISSUER}#`],
    ['50: prefix explicitly empty', ['--oidc-username-prefix='], `${ISSUER}#`],
    ['51: prefix unset, claim email', ['--oidc-username-claim=email'], ''],
    ['52: prefix "-"', ['--oidc-username-prefix=-'], ''],
    ['52: prefix "-" with claim email', ['--oidc-username-claim=email', '--oidc-username-prefix=-'], ''],
    ['53: prefix "oidc:" with claim email', ['--oidc-username-claim=email', '--oidc-username-prefix=oidc:'], 'oidc:'],
  ])('vector %s gives %j', (_vector, argv, prefix) => {
    expect(configOf(...argv).oidc!.usernamePrefix).toBe(prefix);
  });

  it('warns loudly when the prefix comes from the default, since jetstack added none', () => {
    const { warnings } = parseConfig(minimal, env);
    expect(warnings).toEqual([
      '--oidc-username-prefix is not set, so user names from the "sub" claim are prefixed with "https://issuer.example.com#", ' +
        'as kube-apiserver does (jetstack/kube-oidc-proxy added no prefix). Set --oidc-username-prefix=- for bare claim values, ' +
        'or pass the prefix explicitly to silence this warning',
    ]);
  });

  it.each([
    [['--oidc-username-claim=email']],
    [['--oidc-username-prefix=-']],
    [['--oidc-username-prefix=https://issuer.example.com#']],
  ])('does not warn with %j', (argv) => {
    expect(parseConfig([...minimal, ...argv], env).warnings).toEqual([]);
  });
});

describe('parseRequestTimeout (kubectl --request-timeout)', () => {
  it.each([
    ['0', 0],
    ['30', 30_000],
    ['+5', 5000],
    ['1s', 1000],
    ['2m', 120_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
  ])('%j is %d ms', (text, ms) => {
    expect(parseRequestTimeout(text)).toEqual({ ok: true, value: ms });
  });

  it.each(['soon', '1.5', '', '0x10'])('%j is refused with client-go\'s message', (text) => {
    expect(parseRequestTimeout(text)).toEqual({ ok: false, error: expect.stringMatching(/^Invalid timeout value\. Timeout must be a single integer in seconds/) });
  });
});
