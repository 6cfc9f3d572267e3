/**
 * One issuer: OIDC discovery (retried with backoff while the issuer is down), its key set, and full
 * verification of tokens whose unverified `iss` selected it.
 */
import type { UserInfo } from './user-info.js';
import { DistributedClaimResolver } from './distributed-claims.js';
import { type CompiledJwtSpec, compileValidatedSpec, type JwtAuthenticatorSpec } from './jwt-authenticator-spec.js';
import { type RemoteFetchOptions, RemoteKeySet } from './remote-key-set.js';
import { algorithmProblem, checkStandardClaims, type DecodedToken, mapClaims, standardClaimProblems, TokenError } from './token-claims.js';

export interface JwtAuthenticatorOptions {
  readonly timeoutMs?: number;
  readonly maxDocumentBytes?: number;
  /** Minimum time between JWKS refreshes triggered by unknown `kid`s. */
  readonly unknownKidCooldownMs?: number;
  /** Periodic JWKS refresh, so rotated keys arrive even before a token needs them. */
  readonly refreshIntervalMs?: number;
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
  readonly now?: () => number;
  readonly log?: (level: 'info' | 'warn', message: string) => void;
}

export type IssuerState = 'discovering' | 'ready' | 'failed';

export interface IssuerStatus {
  readonly issuer: string;
  readonly state: IssuerState;
  readonly keys: number;
  readonly lastError?: string;
}

export class JwtAuthenticator {
  private keySet?: RemoteKeySet;
  private lastError?: string;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readonly compiled: CompiledJwtSpec;
  /** Present when groups are mapped from a claim: that claim may be distributed (vectors 67–79). */
  private readonly distributed?: DistributedClaimResolver;
  private readonly o: Required<Omit<JwtAuthenticatorOptions, 'log' | 'now'>> & Pick<JwtAuthenticatorOptions, 'log' | 'now'>;
  /** Discovery, key set and distributed claims all reach the network with this one value. */
  private readonly fetch: RemoteFetchOptions;

  constructor(
    readonly spec: JwtAuthenticatorSpec,
    options: JwtAuthenticatorOptions = {},
  ) {
    this.compiled = compileValidatedSpec(spec);
    this.o = {
      timeoutMs: 10_000,
      maxDocumentBytes: 1024 * 1024,
      unknownKidCooldownMs: 10_000,
      refreshIntervalMs: 5 * 60_000,
      retryMinMs: 1_000,
      retryMaxMs: 10_000,
      ...options,
    };
    this.fetch = {
      ca: spec.issuer.certificateAuthority,
      timeoutMs: this.o.timeoutMs,
      maxBytes: this.o.maxDocumentBytes,
      cooldownMs: this.o.unknownKidCooldownMs,
      now: this.o.now,
    };
    const groups = spec.claimMappings.groups;
    if (groups && 'claim' in groups) {
      this.distributed = new DistributedClaimResolver({
        claim: groups.claim,
        issuer: spec.issuer.url,
        audiences: spec.issuer.audiences,
        signingAlgs: spec.signingAlgs,
        ownKeys: () => (this.keySet?.loaded ? this.keySet : undefined),
        fetch: this.fetch,
      });
    }
  }

  /** Distributed-claim endpoint GETs made so far. */
  get distributedClaimFetches(): number {
    return this.distributed?.fetches ?? 0;
  }

  get issuer(): string {
    return this.spec.issuer.url;
  }

  get ready(): boolean {
    return this.keySet?.loaded ?? false;
  }

  /** Number of JWKS documents fetched so far. */
  get jwksFetches(): number {
    return this.keySet?.fetches ?? 0;
  }

  status(): IssuerStatus {
    return { issuer: this.issuer, state: this.ready ? 'ready' : this.lastError ? 'failed' : 'discovering', keys: this.keySet?.size ?? 0, ...(this.lastError ? { lastError: this.lastError } : {}) };
  }

  /** Begin discovery in the background; resolves when the first attempt settles (success or not). */
  start(): Promise<void> {
    return this.discover(this.o.retryMinMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(fn: () => void, ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(fn, ms);
    this.timer.unref();
  }

  private async discover(backoffMs: number): Promise<void> {
    try {
      const keySet = await RemoteKeySet.discover(this.issuer, this.fetch, this.spec.issuer.discoveryURL);
      this.keySet = keySet;
      this.lastError = undefined;
      this.o.log?.('info', `OIDC provider initialized (${this.issuer}, ${keySet.size} signing key(s)), proxy ready`);
      this.schedule(() => void this.periodicRefresh(), this.o.refreshIntervalMs);
    } catch (err) {
      // 'failed' (status) until a retry succeeds; /ready shows lastError with it.
      this.lastError = (err as Error).message;
      this.o.log?.('warn', `oidc: authenticator for issuer "${this.issuer}" is not healthy: ${this.lastError}; retrying in ${backoffMs} ms`);
      this.schedule(() => void this.discover(Math.min(backoffMs * 2, this.o.retryMaxMs)), backoffMs);
    }
  }

  private async periodicRefresh(): Promise<void> {
    try {
      await this.keySet?.refresh();
      this.lastError = undefined;
    } catch (err) {
      // Keep verifying with the keys we have; an issuer outage must not log everybody out.
      this.lastError = (err as Error).message;
      this.o.log?.('warn', `oidc: refreshing keys of "${this.issuer}" failed, keeping the current keys: ${this.lastError}`);
    }
    this.schedule(() => void this.periodicRefresh(), this.o.refreshIntervalMs);
  }

  /** Verify a token this issuer was selected for. Throws TokenError with a kube-style message. */
  async verify(token: string, decoded: DecodedToken): Promise<UserInfo> {
    const keySet = this.keySet;
    if (!keySet?.loaded) throw new TokenError('oidc: authenticator not initialized');
    checkStandardClaims(decoded, this.spec, (this.o.now ?? Date.now)());

    const algProblem = algorithmProblem(decoded.header.alg, this.spec.signingAlgs);
    if (algProblem !== undefined) throw new TokenError(`oidc: verify token: ${algProblem}`);
    await this.verifySignature(token, decoded, keySet, decoded.header.alg as string);
    const claims = this.distributed ? await this.distributed.expand(decoded.claims) : decoded.claims;
    return mapClaims(claims, this.compiled);
  }

  /**
   * Every reason a token is refused, for `check-token`: the standard claims, the algorithm, the signature
   * and the mappings are each checked on their own (the server stops at the first), so one run shows all.
   */
  async diagnose(token: string, decoded: DecodedToken): Promise<{ user?: UserInfo; reasons: string[] }> {
    const keySet = this.keySet;
    if (!keySet?.loaded) return { reasons: [`oidc: authenticator for issuer "${this.issuer}" is not initialized: ${this.lastError ?? 'signing keys not loaded'}`] };
    const reasons: string[] = [];
    const attempt = async <T>(step: () => T | Promise<T>): Promise<T | undefined> => {
      try {
        return await step();
      } catch (err) {
        reasons.push((err as Error).message);
        return undefined;
      }
    };
    reasons.push(...standardClaimProblems(decoded, this.spec, (this.o.now ?? Date.now)()));
    const algProblem = algorithmProblem(decoded.header.alg, this.spec.signingAlgs);
    if (algProblem !== undefined) reasons.push(`oidc: verify token: ${algProblem}`);
    else await attempt(() => this.verifySignature(token, decoded, keySet, decoded.header.alg as string));
    // Only a token that verified may make the proxy call the endpoint it names (with its access token).
    const expand = this.distributed && reasons.length === 0 ? this.distributed : undefined;
    const claims = (expand ? await attempt(() => expand.expand(decoded.claims)) : undefined) ?? decoded.claims;
    const user = await attempt(() => mapClaims(claims, this.compiled));
    return reasons.length === 0 && user ? { user, reasons } : { reasons };
  }

  private async verifySignature(token: string, decoded: DecodedToken, keySet: RemoteKeySet, alg: string): Promise<void> {
    try {
      await keySet.verify(token, decoded.header.kid, [alg]);
    } catch (err) {
      throw new TokenError(`oidc: verify token: ${(err as Error).message}`);
    }
  }
}
