/**
 * The OIDC Discovery flags → DiscoveryConfig, or undefined when --oidc-discovery-bind-address is empty
 * (the feature is off and the other flags only draw a warning).
 */
import type { ConfigContext } from './config-context.js';
import type { DiscoveryConfig } from './proxy-config.js';

const DEPENDENT_FLAGS = [
  'oidc-discovery-tls-cert-file', 'oidc-discovery-tls-private-key-file', 'oidc-discovery-public-url',
  'oidc-discovery-cache-ttl', 'oidc-discovery-client-cache-ttl', 'oidc-discovery-upstream-timeout', 'oidc-discovery-pretty',
] as const;

/** `host:port`, `[v6]:port` or `:port` (all interfaces, like Go's net.Listen). */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

function publicUrlFromFlag(ctx: ConfigContext): string | undefined {
  const text = ctx.flags.string('oidc-discovery-public-url');
  if (text === '') return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.error(`--oidc-discovery-public-url: "${text}" is not a valid URL`);
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') ctx.error('--oidc-discovery-public-url must be an http or https URL');
  if (url.search || url.hash || url.username || url.password) ctx.error('--oidc-discovery-public-url must not have a query, a fragment or credentials');
  return url.href.replace(/\/+$/, '');
}

export function discoveryConfigFromFlags(ctx: ConfigContext, takenPorts: readonly number[]): DiscoveryConfig | undefined {
  const { flags } = ctx;
  const bind = flags.string('oidc-discovery-bind-address');
  if (bind === '') {
    for (const flag of DEPENDENT_FLAGS) if (flags.isSet(flag)) ctx.warn(`--${flag} has no effect without --oidc-discovery-bind-address`);
    return undefined;
  }
  const address = parseHostPort(bind);
  if (!address) ctx.error(`--oidc-discovery-bind-address: "${bind}" is not host:port with a port between 1 and 65535`);
  else if (takenPorts.includes(address.port)) ctx.error(`--oidc-discovery-bind-address: port ${address.port} is already used by the secure port or the readiness probe`);

  const tlsCertFile = flags.string('oidc-discovery-tls-cert-file');
  const tlsKeyFile = flags.string('oidc-discovery-tls-private-key-file');
  if ((tlsCertFile === '') !== (tlsKeyFile === '')) {
    ctx.error('--oidc-discovery-tls-cert-file and --oidc-discovery-tls-private-key-file must be given together');
  }
  if (tlsCertFile !== '') ctx.readFile('oidc-discovery-tls-cert-file', tlsCertFile);
  if (tlsKeyFile !== '') ctx.readFile('oidc-discovery-tls-private-key-file', tlsKeyFile);

  const cacheTtlMs = flags.duration('oidc-discovery-cache-ttl');
  if (cacheTtlMs < 0) ctx.error('--oidc-discovery-cache-ttl must not be negative');
  const clientCacheTtlMs = flags.duration('oidc-discovery-client-cache-ttl');
  if (clientCacheTtlMs < 0) ctx.error('--oidc-discovery-client-cache-ttl must not be negative');
  const upstreamTimeoutMs = flags.duration('oidc-discovery-upstream-timeout');
  if (upstreamTimeoutMs <= 0) ctx.error('--oidc-discovery-upstream-timeout must be positive');
  const publicUrl = publicUrlFromFlag(ctx);
  return {
    host: address?.host ?? '0.0.0.0',
    port: address?.port ?? 0,
    ...(tlsCertFile !== '' && tlsKeyFile !== '' ? { tlsCertFile, tlsKeyFile } : {}),
    ...(publicUrl !== undefined ? { publicUrl } : {}),
    cacheTtlMs,
    clientCacheTtlSeconds: Math.floor(clientCacheTtlMs / 1000),
    upstreamTimeoutMs,
    pretty: flags.bool('oidc-discovery-pretty'),
  };
}
