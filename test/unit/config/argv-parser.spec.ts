import { describe, expect, it } from '@jest/globals';
import { parseArgv } from '../../../src/config/argv-parser.js';
import type { FlagDefinition } from '../../../src/config/flag-definitions.js';

describe('pflag-compatible argv parsing', () => {
  it.each([
    ['--flag=value', ['--oidc-client-id=k8s'], 'k8s'],
    ['--flag value', ['--oidc-client-id', 'k8s'], 'k8s'],
    ['--flag value, even when the value starts with a dash', ['--oidc-client-id', '-k8s'], '-k8s'],
    ['the last of several uses', ['--oidc-client-id=first', '--oidc-client-id=k8s'], 'k8s'],
  ])('a string flag is set by %s', (_form, argv, value) => {
    const sut = parseArgv(argv);
    expect(sut.errors).toEqual([]);
    expect(sut.string('oidc-client-id')).toBe(value);
    expect(sut.isSet('oidc-client-id')).toBe(true);
  });

  it('a flag not given keeps its default and is not set', () => {
    const sut = parseArgv([]);
    expect(sut.string('oidc-username-claim')).toBe('sub');
    expect(sut.isSet('oidc-username-claim')).toBe(false);
  });

  it.each([
    [['-P', '9090']],
    [['-P=9090']],
    [['-P9090']],
    [['--readiness-probe-port=9090']],
    [['--readiness-probe-port', '9090']],
    [['-P', '0x2382']],
  ])('an int flag is set by %j', (argv) => {
    const sut = parseArgv(argv);
    expect(sut.errors).toEqual([]);
    expect(sut.int('readiness-probe-port')).toBe(9090);
  });

  it.each([
    [['--token-passthrough'], true],
    [['--token-passthrough=true'], true],
    [['--token-passthrough=1'], true],
    [['--token-passthrough=false'], false],
    [['--token-passthrough', '--token-passthrough=F'], false],
  ])('a boolean given as %j is %s', (argv, value) => {
    const sut = parseArgv(argv);
    expect(sut.errors).toEqual([]);
    expect(sut.bool('token-passthrough')).toBe(value);
  });

  it('a bare boolean never consumes the next argument', () => {
    const sut = parseArgv(['--disable-impersonation', 'false']);
    expect(sut.bool('disable-impersonation')).toBe(true);
    expect(sut.errors).toEqual([
      'unexpected argument at position 2 (after --disable-impersonation: a boolean flag takes a value only as --disable-impersonation=true or --disable-impersonation=false): kube-oidc-proxy takes no arguments',
    ]);
  });

  it('grouped shorthands set each boolean and give the last one its value', () => {
    const sut = parseArgv(['-hv', '5']);
    expect(sut.errors).toEqual([]);
    expect(sut.bool('help')).toBe(true);
    expect(sut.int('v')).toBe(5);
  });

  it.each([
    [['-v=4'], 4],
    [['-v4'], 4],
    [['--v=4'], 4],
    [['-v', '4'], 4],
  ])('klog verbosity %j is %d', (argv, level) => {
    expect(parseArgv(argv).int('v')).toBe(level);
  });

  it('a duration flag takes Go syntax and yields milliseconds', () => {
    const sut = parseArgv(['--flush-interval=1m30s', '--shutdown-grace-period', '250ms']);
    expect(sut.errors).toEqual([]);
    expect(sut.duration('flush-interval')).toBe(90_000);
    expect(sut.duration('shutdown-grace-period')).toBe(250);
  });

  it('a string slice splits on commas like pflag, and the first use replaces the default', () => {
    const sut = parseArgv(['--oidc-signing-algs=ES256,PS256', '--oidc-signing-algs', 'RS512']);
    expect(sut.strings('oidc-signing-algs')).toEqual(['ES256', 'PS256', 'RS512']);
  });

  it('a string slice keeps its default when not given, and an empty value empties it', () => {
    expect(parseArgv([]).strings('oidc-signing-algs')).toEqual(['RS256']);
    expect(parseArgv(['--oidc-signing-algs=']).strings('oidc-signing-algs')).toEqual([]);
  });

  it('a string slice reads quoted CSV fields', () => {
    expect(parseArgv(['--token-passthrough-audiences="a,b",c']).strings('token-passthrough-audiences')).toEqual(['a,b', 'c']);
  });

  it('a string array (--service-account-issuer) takes one value per use, in order, never split on commas, empty by default', () => {
    expect(parseArgv([]).strings('service-account-issuer')).toEqual([]);
    const sut = parseArgv(['--service-account-issuer=https://kubernetes.default.svc', '--service-account-issuer', 'https://a,b', '--service-account-issuer=']);
    expect(sut.errors).toEqual([]);
    expect(sut.strings('service-account-issuer')).toEqual(['https://kubernetes.default.svc', 'https://a,b', '']);
  });

  it('--oidc-required-claim takes one key=value per use, never splits on commas, trims, and the last value of a key wins', () => {
    const sut = parseArgv(['--oidc-required-claim', 'hd=example.com', '--oidc-required-claim= groups = a,b ', '--oidc-required-claim=hd=other=x']);
    expect(sut.errors).toEqual([]);
    expect(sut.pairs('oidc-required-claim')).toEqual([['hd', 'other=x'], ['groups', 'a,b']]);
  });

  it('--extra-user-headers reads CSV pairs and keeps repeated keys in command-line order', () => {
    const sut = parseArgv(['--extra-user-headers=key1=foo,key2=bar', '--extra-user-headers', 'key1=baz', '--extra-user-headers=']);
    expect(sut.errors).toEqual([]);
    expect(sut.pairs('extra-user-headers')).toEqual([['key1', 'foo'], ['key2', 'bar'], ['key1', 'baz']]);
  });

  it.each([
    [['--extra-user-headers=key1'], 'invalid argument "key1" for "--extra-user-headers" flag: key1 must be formatted as key=value'],
    [['--extra-user-headers=a=b,c'], 'invalid argument "a=b,c" for "--extra-user-headers" flag: c must be formatted as key=value'],
    [['--extra-user-headers=a=b=c'], 'invalid argument "a=b=c" for "--extra-user-headers" flag: a=b=c must be formatted as key=value'],
    [['--oidc-required-claim=hd'], 'invalid argument "hd" for "--oidc-required-claim" flag: malformed pair, expect string=string'],
    [['-P', 'http'], 'invalid argument "http" for "-P, --readiness-probe-port" flag: strconv.ParseInt: parsing "http": invalid syntax'],
    [['--secure-port=443.0'], 'invalid argument "443.0" for "--secure-port" flag: strconv.ParseInt: parsing "443.0": invalid syntax'],
    [['--flush-interval=10'], 'invalid argument "10" for "--flush-interval" flag: time: missing unit in duration "10"'],
    [['--disable-impersonation=yes'], 'invalid argument "yes" for "--disable-impersonation" flag: strconv.ParseBool: parsing "yes": invalid syntax'],
    [['--bind-address=localhost'], 'invalid argument "localhost" for "--bind-address" flag: failed to parse IP: "localhost"'],
    [['--oidc-signing-algs=RS"256'], 'invalid argument "RS\\"256" for "--oidc-signing-algs" flag: parse error on line 1, column 3: bare " in non-quoted field'],
  ])('%j is refused with pflag\'s message', (argv, message) => {
    expect(parseArgv(argv).errors).toEqual([message]);
  });

  it.each([
    [['--bind-address=::'], '::'],
    [['--bind-address= 127.0.0.1 '], '127.0.0.1'],
    [['--bind-address=fd00::1'], 'fd00::1'],
  ])('--bind-address accepts the IP in %j', (argv, ip) => {
    const sut = parseArgv(argv);
    expect(sut.errors).toEqual([]);
    expect(sut.string('bind-address')).toBe(ip);
  });

  it.each([
    [['--nope'], 'unknown flag: --nope'],
    [['--nope=value'], 'unknown flag: --nope'],
    [['--nope', 'value'], 'unknown flag: --nope'],
    [['-x'], "unknown shorthand flag: 'x' in -x"],
    [['-x=secret-ish'], "unknown shorthand flag: 'x' in -x…"],
    [['-tTOKEN'], "unknown shorthand flag: 't' in -t…"],
    [['-hx'], "unknown shorthand flag: 'x' in -x"],
    [['---triple'], 'bad flag syntax: ---triple'],
    [['--=value'], 'bad flag syntax: --=…'],
    [['-secure-port=443'], 'bad flag syntax: -secure-port (long flags take two dashes: --secure-port)'],
    [['--oidc-client-id'], 'flag needs an argument: --oidc-client-id'],
    [['-P'], "flag needs an argument: 'P' in -P"],
    [['serve'], 'unexpected argument at position 1: kube-oidc-proxy takes no arguments'],
    [['-'], 'unexpected argument at position 1: kube-oidc-proxy takes no arguments'],
    [['--', '--secure-port=1'], 'unexpected argument at position 2: kube-oidc-proxy takes no arguments'],
  ])('%j is the single error %j', (argv, message) => {
    expect(parseArgv(argv).errors).toEqual([message]);
  });

  it('-- ends the flags without being an error itself', () => {
    const sut = parseArgv(['--secure-port=7443', '--']);
    expect(sut.errors).toEqual([]);
    expect(sut.int('secure-port')).toBe(7443);
  });

  it('collects every problem instead of stopping at the first', () => {
    expect(parseArgv(['--nope', '-P=x', 'extra', '--secure-port']).errors).toHaveLength(4);
  });

  it('never prints a positional argument, which may be a mistyped token', () => {
    const sut = parseArgv(['--token=', 'eyJhbGciOiJSUzI1NiJ9.payload.sig']);
    expect(sut.errors.join('\n')).not.toContain('eyJ');
    expect(sut.errors).toEqual(['unexpected argument at position 2: kube-oidc-proxy takes no arguments']);
  });

  it('never prints the value of a flag marked secret, even when it does not parse', () => {
    const table: FlagDefinition[] = [{ section: 'Client', name: 'pin', type: 'int', default: '0', help: 'A secret number.', secret: true }];
    const sut = parseArgv(['--pin=hunter2'], table);
    expect(sut.errors).toEqual(['invalid argument "[redacted]" for "--pin" flag: not a valid int']);
    expect(sut.secretValues).toEqual(['hunter2']);
  });
});
