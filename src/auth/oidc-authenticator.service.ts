import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { readFile } from 'node:fs/promises';
import { configHash, parseAuthenticationConfig } from '../config/authentication-config.js';
import { PROXY_CONFIG, type ProxyConfig } from '../config/proxy-config.js';
import { unauthenticated } from '../proxy/admission-error.js';
import { AuthenticatorSet, unknownIssuerMessage } from './authenticator-set.js';
import type { IssuerStatus, JwtAuthenticatorOptions } from './jwt-authenticator.js';
import { TokenCache, tokenKey } from './token-cache.js';
import { decodeCompact, TokenError } from './token-claims.js';
import type { UserInfo } from './user-info.js';

/** kube-apiserver caches successful token authentications for 10 s; never beyond the token's exp here. */
const TOKEN_CACHE_TTL_MS = 10_000;
const TOKEN_CACHE_ENTRIES = 10_000;

export type ReloadOutcome = 'applied' | 'unchanged' | 'rejected' | 'unreadable';

/**
 * Authenticates bearer tokens. The token's unverified `iss` selects the authenticator (exact string); that
 * authenticator then verifies everything. Every failure is a 401 whose log detail never contains the token.
 * With --authentication-config the file is re-read every --authentication-config-reload-interval: a valid
 * new version is swapped in atomically, an invalid one is logged and the previous one stays in force.
 */
@Injectable()
export class OidcAuthenticatorService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('OIDC');
  private readonly options: JwtAuthenticatorOptions;
  private current: AuthenticatorSet;
  private cache = new TokenCache({ maxEntries: TOKEN_CACHE_ENTRIES, ttlMs: TOKEN_CACHE_TTL_MS });
  private reloadTimer?: NodeJS.Timeout;
  private lastRejectedHash?: string;
  readonly reloads: Record<'applied' | 'rejected', number> = { applied: 0, rejected: 0 };

  constructor(@Inject(PROXY_CONFIG) private readonly config: ProxyConfig) {
    this.options = { log: (level, message) => (level === 'info' ? this.logger.log(message) : this.logger.warn(message)) };
    this.current = AuthenticatorSet.build(config.authentication.jwt, config.authentication.hash, this.options).set;
  }

  onModuleInit(): void {
    const { authentication } = this.config;
    this.logger.log(`authentication configuration ${authentication.hash} active (${authentication.source === 'file' ? authentication.file : '--oidc-* flags'}; issuers: ${this.current.authenticators.map((a) => a.issuer).join(', ')})`);
    // Discovery runs in the background: the process starts serving (and answering probes) meanwhile.
    for (const authenticator of this.current.authenticators) void authenticator.start();
    if (authentication.source === 'file' && authentication.reloadIntervalMs > 0) {
      this.reloadTimer = setInterval(() => void this.reload(), authentication.reloadIntervalMs);
      this.reloadTimer.unref();
    }
  }

  onModuleDestroy(): void {
    if (this.reloadTimer) clearInterval(this.reloadTimer);
    for (const authenticator of this.current.authenticators) authenticator.stop();
  }

  /** The sha256 prefix of the configuration in force. */
  get activeHash(): string {
    return this.current.hash;
  }

  /** Re-read the configuration file; swap in a valid new version, keep the current one otherwise. */
  async reload(): Promise<ReloadOutcome> {
    const file = this.config.authentication.file;
    if (!file) return 'unchanged';
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      this.logger.error(`authentication configuration ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); configuration ${this.current.hash} stays active`);
      return 'unreadable';
    }
    // Hashed before parsing, so an unchanged file (active or already rejected) is neither parsed nor logged again.
    const hash = configHash(text);
    if (hash === this.current.hash || hash === this.lastRejectedHash) return 'unchanged';
    // The same --service-account-issuer values as at boot: a new version may not introduce an overlap (vector 105).
    const result = parseAuthenticationConfig(text, this.config.authentication.serviceAccountIssuers, hash);
    if (!result.ok) {
      this.lastRejectedHash = hash;
      this.reloads.rejected += 1;
      this.logger.error(
        `authentication configuration ${file} (${hash}) rejected, configuration ${this.current.hash} stays active: ${result.errors.length} problem(s): ${result.errors.join('; ')}`,
      );
      return 'rejected';
    }
    this.apply(result.config.jwt, hash);
    this.logger.log(`authentication configuration ${hash} active (${file}; issuers: ${this.current.authenticators.map((a) => a.issuer).join(', ')})`);
    return 'applied';
  }

  private apply(jwt: Parameters<typeof AuthenticatorSet.build>[0], hash: string): void {
    const previous = this.current;
    const { set, created } = AuthenticatorSet.build(jwt, hash, this.options, previous);
    for (const authenticator of created) void authenticator.start();
    this.current = set;
    // Identities cached under the old mappings must not outlive them.
    this.cache = new TokenCache({ maxEntries: TOKEN_CACHE_ENTRIES, ttlMs: TOKEN_CACHE_TTL_MS });
    for (const retired of previous.retiredBy(set)) retired.stop();
    this.lastRejectedHash = undefined;
    this.reloads.applied += 1;
  }

  /**
   * Why /ready must fail for the issuers, or undefined while at least one issuer (with
   * --readiness-require-all-issuers, every issuer) has its keys. The rule and its message stay together,
   * so /ready cannot apply one mode and word the other.
   */
  notReadyReason(): string | undefined {
    const authenticators = this.current.authenticators;
    if (this.config.authentication.requireAllIssuers) {
      return authenticators.every((a) => a.ready) ? undefined : 'not every issuer has its signing keys loaded (--readiness-require-all-issuers)';
    }
    return authenticators.some((a) => a.ready) ? undefined : 'OIDC provider not yet initialized: signing keys not loaded';
  }

  issuerStatus(): IssuerStatus[] {
    return this.current.status();
  }

  async authenticate(token: string): Promise<UserInfo> {
    // A token verified under the current configuration (the cache is replaced on reload) within the last
    // 10 s and before its exp: nothing to decode or select.
    const key = tokenKey(token);
    const cached = this.cache.get(key);
    if (cached) return cached;
    const decoded = decodeCompact(token);
    if (!decoded) throw unauthenticated('invalid bearer token: not a compact JWT');
    const authenticator = this.current.select(decoded);
    if (!authenticator) throw unauthenticated(unknownIssuerMessage(decoded));
    try {
      return await this.cache.getOrVerify(key, async () => ({
        user: await authenticator.verify(token, decoded),
        expMs: Number(decoded.claims.exp) * 1000,
      }));
    } catch (err) {
      if (err instanceof TokenError) throw unauthenticated(err.message);
      throw unauthenticated(`token verification failed: ${(err as Error).name}`);
    }
  }
}
