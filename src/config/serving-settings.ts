/**
 * The Secure Serving flags → ServingConfig: ports, bind address, the serving key pair (checked once at
 * boot so a bad pair is reported with every other problem) and TLS settings given with Go's names.
 */
import { createPrivateKey } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import type { ConfigContext } from './config-context.js';
import { parseTrustedProxies } from '../proxy/client-address.js';
import { countPemCertificates } from './oidc-settings.js';
import type { ServingConfig, TlsVersion } from './proxy-config.js';

/** Go (IANA) names of the TLS 1.2 suites Go calls secure → OpenSSL names (Node's `ciphers`). */
export const CIPHER_SUITES: Readonly<Record<string, string>> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  // Older aliases k8s still accepts (component-base cli/flag ciphers.go).
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
};

/** TLS 1.3 suites: Go accepts their names but always enables all three, and so does Node when none is named. */
export const TLS13_CIPHER_SUITES: readonly string[] = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

/** Go's tls.InsecureCipherSuites(): k8s accepts them with a warning; this proxy refuses them. */
export const INSECURE_CIPHER_SUITES: readonly string[] = [
  'TLS_RSA_WITH_RC4_128_SHA', 'TLS_RSA_WITH_3DES_EDE_CBC_SHA', 'TLS_RSA_WITH_AES_128_CBC_SHA256',
  'TLS_ECDHE_ECDSA_WITH_RC4_128_SHA', 'TLS_ECDHE_RSA_WITH_RC4_128_SHA', 'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA',
  'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256',
];

const TLS_VERSIONS: Readonly<Record<string, TlsVersion>> = { '': 'TLSv1.2', VersionTLS12: 'TLSv1.2', VersionTLS13: 'TLSv1.3' };
const INSECURE_TLS_VERSIONS = ['VersionTLS10', 'VersionTLS11'];

/** The k8s range check for a port flag; --secure-port keeps k8s' exact message. */
export function checkPort(ctx: ConfigContext, flag: 'secure-port' | 'readiness-probe-port', port: number): void {
  if (port >= 1 && port <= 65535) return;
  ctx.error(
    flag === 'secure-port'
      ? `--secure-port ${port} must be between 1 and 65535, inclusive. It cannot be turned off with 0`
      : `--readiness-probe-port ${port} must be between 1 and 65535, inclusive`,
  );
}

function tlsMinVersionFromFlags(ctx: ConfigContext): TlsVersion {
  const name = ctx.flags.string('tls-min-version');
  const version = TLS_VERSIONS[name];
  if (version) return version;
  ctx.error(
    INSECURE_TLS_VERSIONS.includes(name)
      ? `--tls-min-version: ${name} is not supported (TLS 1.0 and 1.1 are insecure); use VersionTLS12 or VersionTLS13`
      : `--tls-min-version: unknown tls version ${JSON.stringify(name)}; use VersionTLS12 or VersionTLS13`,
  );
  return 'TLSv1.2';
}

/** Go cipher suite names → an OpenSSL list for the TLS 1.2 suites, or undefined for Node's secure defaults. */
function cipherSuitesFromFlags(ctx: ConfigContext, minVersion: TlsVersion): { tlsCiphers?: string; onlyTls13: boolean } {
  const names = ctx.flags.strings('tls-cipher-suites');
  const ciphers: string[] = [];
  for (const name of names) {
    const openssl = CIPHER_SUITES[name];
    if (openssl !== undefined) {
      if (!ciphers.includes(openssl)) ciphers.push(openssl);
    } else if (INSECURE_CIPHER_SUITES.includes(name)) {
      ctx.error(`--tls-cipher-suites: cipher suite ${name} is insecure and not supported`);
    } else if (!TLS13_CIPHER_SUITES.includes(name)) {
      ctx.error(`--tls-cipher-suites: Cipher suite ${name} not supported or doesn't exist`);
    }
  }
  if (names.length > 0 && minVersion === 'TLSv1.3') {
    ctx.warn('--tls-cipher-suites has no effect with --tls-min-version=VersionTLS13: TLS 1.3 suites are not configurable');
    return { onlyTls13: false };
  }
  const onlyTls13 = names.length > 0 && names.every((name) => TLS13_CIPHER_SUITES.includes(name));
  if (onlyTls13) ctx.warn('--tls-cipher-suites names only TLS 1.3 suites, so TLS 1.2 is disabled (as in Go)');
  return { ...(ciphers.length > 0 ? { tlsCiphers: ciphers.join(':') } : {}), onlyTls13 };
}

const PRIVATE_KEY_PEM = /-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/;

/** The serving pair must be present, readable, parseable and matching: the proxy serves only TLS. */
function checkKeyPair(ctx: ConfigContext, certFile: string, keyFile: string): void {
  if (certFile === '') ctx.error('--tls-cert-file is required: kube-oidc-proxy serves only TLS');
  if (keyFile === '') ctx.error('--tls-private-key-file is required: kube-oidc-proxy serves only TLS');
  const certPem = certFile === '' ? undefined : ctx.readFile('tls-cert-file', certFile);
  const keyPem = keyFile === '' ? undefined : ctx.readFile('tls-private-key-file', keyFile);
  let certOk = false;
  let keyOk = false;
  if (certPem !== undefined) {
    certOk = countPemCertificates(certPem) > 0;
    if (!certOk) ctx.error(`--tls-cert-file: ${certFile} contains no valid PEM certificate`);
  }
  if (keyPem !== undefined) {
    const block = PRIVATE_KEY_PEM.exec(keyPem)?.[0];
    try {
      if (block === undefined) throw new Error('no PEM private key found');
      createPrivateKey(block);
      keyOk = true;
    } catch (err) {
      ctx.error(`--tls-private-key-file: ${keyFile} contains no usable PEM private key (${(err as Error).message})`);
    }
  }
  if (certOk && keyOk) {
    try {
      createSecureContext({ cert: certPem, key: keyPem });
    } catch (err) {
      ctx.error(`--tls-cert-file and --tls-private-key-file do not form a key pair (${(err as Error).message})`);
    }
  }
}

/** What 0 means for --http2-max-streams-per-connection: Go's HTTP/2 server default, which jetstack's proxy and kube-apiserver serve. */
const DEFAULT_HTTP2_STREAMS = 250;

export function servingConfigFromFlags(ctx: ConfigContext): ServingConfig {
  const { flags } = ctx;
  const securePort = flags.int('secure-port');
  checkPort(ctx, 'secure-port', securePort);
  const tlsCertFile = flags.string('tls-cert-file');
  const tlsKeyFile = flags.string('tls-private-key-file');
  checkKeyPair(ctx, tlsCertFile, tlsKeyFile);
  const minVersion = tlsMinVersionFromFlags(ctx);
  const { tlsCiphers, onlyTls13 } = cipherSuitesFromFlags(ctx, minVersion);
  const trustedProxies = flags.strings('trusted-proxies');
  for (const entry of parseTrustedProxies(trustedProxies).invalid) {
    ctx.error(`--trusted-proxies: ${JSON.stringify(entry)} is not an IP address or CIDR (e.g. 10.0.0.0/8)`);
  }
  const requestReadTimeoutMs = flags.duration('request-read-timeout');
  if (requestReadTimeoutMs < 0) ctx.error('--request-read-timeout must not be negative');
  const maxStreams = flags.int('http2-max-streams-per-connection');
  if (maxStreams < 0) ctx.error('--http2-max-streams-per-connection must not be negative');
  return {
    http2: flags.bool('serve-http2'),
    http2MaxStreamsPerConnection: maxStreams > 0 ? maxStreams : DEFAULT_HTTP2_STREAMS,
    trustedProxies,
    requestReadTimeoutMs,
    bindAddress: flags.string('bind-address'),
    securePort,
    tlsCertFile,
    tlsKeyFile,
    tlsMinVersion: onlyTls13 ? 'TLSv1.3' : minVersion,
    ...(tlsCiphers !== undefined ? { tlsCiphers } : {}),
  };
}

