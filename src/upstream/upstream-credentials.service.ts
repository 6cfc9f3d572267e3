import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { readFileSync, statSync } from 'node:fs';
import { Agent, type AgentOptions } from 'node:https';
import { UPSTREAM_TARGET } from './upstream.tokens.js';
import type { UpstreamTarget } from './upstream-target.js';

/** Projected service-account tokens rotate (kubelet refreshes them at 80% of their life); poll cheaply. */
const TOKEN_POLL_MS = 5_000;

/**
 * The proxy's own identity towards the API server: its bearer token (re-read when the token file changes,
 * never on the request path) and its TLS settings. One keep-alive agent serves ordinary requests;
 * upgrades get fresh, unpooled connections (CVE-2018-1002105).
 */
@Injectable()
export class UpstreamCredentialsService implements OnModuleDestroy {
  private readonly logger = new Logger('UpstreamCredentials');
  private token?: string;
  private tokenMtimeMs = -1;
  private readonly timer?: NodeJS.Timeout;
  readonly agent: Agent;

  constructor(@Inject(UPSTREAM_TARGET) readonly target: UpstreamTarget) {
    this.agent = new Agent({
      ...this.tlsOptions(),
      keepAlive: true,
      keepAliveMsecs: 30_000,
      // No cap on concurrent connections: every watch and `logs -f` holds one for as long as it runs, so a
      // cap (it was 512) queued every later request, even a plain GET, behind open watches until one ended.
      // Like Go's transport in jetstack's proxy; the API server's own in-flight limits apply upstream.
      maxSockets: Infinity,
      maxFreeSockets: 64,
      scheduling: 'lifo',
    });
    if (target.token.kind === 'static') this.token = target.token.token;
    if (target.token.kind === 'file') {
      this.reloadToken();
      this.timer = setInterval(() => this.reloadToken(), TOKEN_POLL_MS);
      this.timer.unref();
    }
  }

  /** TLS options for a connection to the API server (also used for unpooled upgrade connections). */
  tlsOptions(): AgentOptions {
    const t = this.target;
    return {
      ...(t.ca ? { ca: t.ca } : {}),
      ...(t.clientCert && t.clientKey ? { cert: t.clientCert, key: t.clientKey } : {}),
      ...(t.servername ? { servername: t.servername } : {}),
      rejectUnauthorized: t.rejectUnauthorized,
    };
  }

  /** `Bearer <token>` for the proxy's identity, or undefined when it authenticates by client certificate. */
  authorization(): string | undefined {
    return this.token ? `Bearer ${this.token}` : undefined;
  }

  /** True when the proxy has some credential to present. */
  hasCredentials(): boolean {
    return this.token !== undefined || this.target.clientCert !== undefined;
  }

  private reloadToken(): void {
    if (this.target.token.kind !== 'file') return;
    const path = this.target.token.path;
    try {
      const mtime = statSync(path).mtimeMs;
      if (mtime === this.tokenMtimeMs) return;
      const token = readFileSync(path, 'utf8').trim();
      if (!token) throw new Error('file is empty');
      const rotated = this.token !== undefined && token !== this.token;
      this.token = token;
      this.tokenMtimeMs = mtime;
      if (rotated) this.logger.log(`service-account token reloaded from ${path}`);
    } catch (err) {
      // Keep the previous token: a rotation in progress must not leave the proxy without credentials.
      this.logger.warn(`cannot read service-account token ${path}: ${(err as Error).message}`);
    }
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.agent.destroy();
  }
}
