import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { PROXY_CONFIG, type ProxyConfig } from '../config/proxy-config.js';
import { unauthenticated } from '../proxy/admission-error.js';
import { type IssuerStatus, JwtAuthenticator } from './jwt-authenticator.js';
import { legacyFlagsToSpec } from './jwt-authenticator-spec.js';
import { TokenCache } from './token-cache.js';
import { decodeCompact, TokenError, unverifiedIssuer } from './token-claims.js';
import type { UserInfo } from './user-info.js';

/** kube-apiserver caches successful token authentications for 10 s; never beyond the token's exp here. */
const TOKEN_CACHE_TTL_MS = 10_000;
const TOKEN_CACHE_ENTRIES = 10_000;

/**
 * Authenticates bearer tokens. The token's unverified `iss` selects the authenticator (exact string); that
 * authenticator then verifies everything. Every failure is a 401 whose log detail never contains the token.
 */
@Injectable()
export class OidcAuthenticatorService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('OIDC');
  private readonly authenticators: readonly JwtAuthenticator[];
  private readonly byIssuer: ReadonlyMap<string, JwtAuthenticator>;
  private readonly cache = new TokenCache({ maxEntries: TOKEN_CACHE_ENTRIES, ttlMs: TOKEN_CACHE_TTL_MS });

  constructor(@Inject(PROXY_CONFIG) config: ProxyConfig) {
    const log = (level: 'info' | 'warn', message: string): void => (level === 'info' ? this.logger.log(message) : this.logger.warn(message));
    this.authenticators = [new JwtAuthenticator(legacyFlagsToSpec(config.oidc), { log })];
    this.byIssuer = new Map(this.authenticators.map((a) => [a.issuer, a]));
  }

  onModuleInit(): void {
    // Discovery runs in the background: the process starts serving (and answering probes) meanwhile.
    for (const authenticator of this.authenticators) void authenticator.start();
  }

  onModuleDestroy(): void {
    for (const authenticator of this.authenticators) authenticator.stop();
  }

  /** Ready while at least one issuer has its signing keys loaded. */
  isReady(): boolean {
    return this.authenticators.some((a) => a.ready);
  }

  issuerStatus(): IssuerStatus[] {
    return this.authenticators.map((a) => a.status());
  }

  async authenticate(token: string): Promise<UserInfo> {
    const decoded = decodeCompact(token);
    if (!decoded) throw unauthenticated('invalid bearer token: not a compact JWT');
    const issuer = unverifiedIssuer(decoded);
    const authenticator = issuer !== undefined ? this.byIssuer.get(issuer) : undefined;
    if (!authenticator) throw unauthenticated(`token issuer ${JSON.stringify(issuer ?? null).slice(0, 200)} is not a configured issuer`);
    try {
      return await this.cache.getOrVerify(token, async () => ({
        user: await authenticator.verify(token, decoded),
        expMs: Number(decoded.claims.exp) * 1000,
      }));
    } catch (err) {
      if (err instanceof TokenError) throw unauthenticated(err.message);
      throw unauthenticated(`token verification failed: ${(err as Error).name}`);
    }
  }
}
