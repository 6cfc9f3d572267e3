/**
 * The SIEM access line, in TremoloSecurity/kube-oidc-proxy's format so existing parsers keep working:
 *
 *   [<ts>] AuSuccess src:[<ip> / <x-forwarded-for without ip>] URI:<uri> inbound:[<user> / <g1|g2> / <k=v1|v2 k2=v>]
 *   [<ts>] AuFail src:[<ip> / <raw x-forwarded-for>] URI:<uri>
 *
 * The timestamp uses Tremolo's layout (Go `2006-01-02T15:04:05-0700`), in UTC. Differences on purpose:
 * IPv6 peers are printed whole (Tremolo cut at the first `:`), and control characters in any field are
 * escaped so a crafted claim or URI cannot start a fake log line. No credential is ever part of a line.
 */
import type { OutboundIdentity } from '../impersonation/header-policy.js';
import type { ClientAddress } from '../proxy/client-address.js';

export function tremoloTimestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19)}+0000`;
}

/** Escape control characters (including CR/LF) so one request is always exactly one line. */
export function escapeField(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Tremolo's rule: the forwarded-for chain with the client's own address removed. */
export function forwardedWithoutClient(client: ClientAddress): string {
  if (!client.forwardedFor) return '';
  return client.forwardedFor
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h && h !== client.ip)
    .join(', ');
}

function extrasField(extra: Readonly<Record<string, readonly string[]>>): string {
  return Object.entries(extra)
    .map(([k, v]) => `${k}=${v.join('|')}`)
    .join(' ');
}

export function identityField(id: Pick<OutboundIdentity, 'username' | 'groups' | 'extra'> & { uid?: string }, withUid: boolean): string {
  const parts = [id.username, id.groups.join('|')];
  if (withUid) parts.push(id.uid ?? '');
  parts.push(extrasField(id.extra));
  return escapeField(parts.join(' / '));
}

export interface SuccessLine {
  readonly at: Date;
  readonly client: ClientAddress;
  readonly uri: string;
  readonly inbound: Pick<OutboundIdentity, 'username' | 'groups' | 'extra'>;
  /** Present when the forwarded identity differs from the authenticated one (`kubectl --as`). */
  readonly outbound?: OutboundIdentity;
}

export function successLine(l: SuccessLine): string {
  const src = `${l.client.ip} / ${escapeField(forwardedWithoutClient(l.client))}`;
  const outbound = l.outbound ? ` outbound:[${identityField(l.outbound, true)}]` : '';
  return `[${tremoloTimestamp(l.at)}] AuSuccess src:[${src}] URI:${escapeField(l.uri)} inbound:[${identityField(l.inbound, false)}]${outbound}\n`;
}

export function failureLine(at: Date, client: ClientAddress, uri: string): string {
  return `[${tremoloTimestamp(at)}] AuFail src:[${client.ip} / ${escapeField(client.forwardedFor ?? '')}] URI:${escapeField(uri)}\n`;
}
