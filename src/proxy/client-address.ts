/**
 * Who is the client? The socket peer, unless the peer is a trusted proxy, in which case X-Forwarded-For
 * is walked right to left to the first address that is not a trusted proxy (the leftmost entries are
 * whatever the client typed and prove nothing). The same answer feeds the access log, audit sourceIPs,
 * the Remote-Client-IP extra and the X-Forwarded-For the API server sees.
 */
import { BlockList, isIP } from 'node:net';

export interface ClientAddress {
  /** The resolved client IP (IPv4-mapped IPv6 shown as plain IPv4). */
  readonly ip: string;
  /** The TCP peer, which may be a load balancer. */
  readonly peerIp: string;
  readonly peerPort?: number;
  /** The raw inbound X-Forwarded-For, for the access log only (never trusted unless the peer is). */
  readonly forwardedFor?: string;
}

export function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

/** Parse `--trusted-proxies` CIDRs (or bare IPs). Returns the matcher and every invalid entry. */
export function parseTrustedProxies(cidrs: readonly string[]): { list: BlockList; invalid: string[] } {
  const list = new BlockList();
  const invalid: string[] = [];
  for (const entry of cidrs) {
    const [addr, prefixText] = entry.trim().split('/');
    const family = isIP(addr ?? '');
    const maxPrefix = family === 6 ? 128 : 32;
    const prefix = prefixText === undefined ? maxPrefix : Number(prefixText);
    if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > maxPrefix || (prefixText !== undefined && !/^\d+$/.test(prefixText))) {
      invalid.push(entry);
      continue;
    }
    list.addSubnet(addr!, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  return { list, invalid };
}

function isTrusted(trusted: BlockList | undefined, ip: string): boolean {
  if (!trusted) return false;
  const family = isIP(ip);
  return family !== 0 && trusted.check(ip, family === 6 ? 'ipv6' : 'ipv4');
}

export function resolveClientAddress(
  remoteAddress: string | undefined,
  remotePort: number | undefined,
  forwardedFor: string | string[] | undefined,
  trusted?: BlockList,
): ClientAddress {
  const peerIp = normalizeIp(remoteAddress ?? '');
  const xff = Array.isArray(forwardedFor) ? forwardedFor.join(', ') : forwardedFor;
  let ip = peerIp;
  if (xff && isTrusted(trusted, peerIp)) {
    const hops = xff.split(',').map((h) => normalizeIp(h.trim()));
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!;
      if (isIP(hop) === 0) break; // garbage ends the walk: keep the last trustworthy answer
      ip = hop;
      if (!isTrusted(trusted, hop)) break;
    }
  }
  return { ip, peerIp, ...(remotePort !== undefined ? { peerPort: remotePort } : {}), ...(xff ? { forwardedFor: xff } : {}) };
}
