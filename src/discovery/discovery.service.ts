/**
 * The two cached documents. Each is a RefreshingCache of the bytes as served (validated, rewritten,
 * rendered), with its strong ETag and the time those bytes first appeared (Last-Modified survives
 * refreshes that change nothing, so conditional requests keep answering 304).
 *
 * Both documents are fetched once at startup, and again every few seconds until both are cached: /ready
 * reports `oidc_discovery` down until then, so a replica that cannot serve the documents does not join
 * the Service. After that a failed refresh never makes it unready: the last good copy is served.
 */
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { PROXY_CONFIG, type DiscoveryConfig, type ProxyConfig } from '../config/proxy-config.js';
import { MetricsService } from '../health/metrics.service.js';
import { ReadinessService } from '../health/readiness.service.js';
import { DOCUMENTS, type DiscoveryDocument, parseDocument, renderDocument, strongEtag } from './discovery-document.js';
import { DiscoveryUpstreamService } from './discovery-upstream.service.js';
import type { Representation } from './http-caching.js';
import { RefreshingCache } from './refreshing-cache.js';

export interface CachedDocument extends Representation {
  readonly bytes: Buffer;
  readonly fetchedAt: Date;
}

export interface ServedDocument {
  readonly document: CachedDocument;
  readonly stale: boolean;
}

/** Retry interval while a document has never been fetched (startup, or RBAC not granted yet). */
const WARMUP_RETRY_MS = 5_000;

const KINDS: readonly DiscoveryDocument[] = ['openid-configuration', 'jwks'];

@Injectable()
export class DiscoveryService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('OidcDiscovery');
  private readonly caches: Record<DiscoveryDocument, RefreshingCache<CachedDocument>>;
  private readonly lastError: Partial<Record<DiscoveryDocument, string>> = {};
  private warmupTimer?: NodeJS.Timeout;
  private destroyed = false;
  readonly settings: DiscoveryConfig;

  constructor(
    @Inject(PROXY_CONFIG) config: ProxyConfig,
    private readonly upstream: DiscoveryUpstreamService,
    private readonly metrics: MetricsService,
    readiness: ReadinessService,
  ) {
    if (!config.discovery) throw new Error('DiscoveryModule is loaded only with --oidc-discovery-bind-address');
    this.settings = config.discovery;
    const cache = (kind: DiscoveryDocument) =>
      new RefreshingCache<CachedDocument>({
        ttlMs: this.settings.cacheTtlMs,
        load: (previous) => this.fetch(kind, previous),
        onLoadFailed: (error, stale) => this.onLoadFailed(kind, error, stale),
      });
    this.caches = { 'openid-configuration': cache('openid-configuration'), jwks: cache('jwks') };
    readiness.addIndicator('oidc_discovery', () => {
      const missing = KINDS.filter((kind) => !this.caches[kind].peek());
      if (missing.length === 0) return { up: true };
      const reasons = missing.map((kind) => `${DOCUMENTS[kind].path}${this.lastError[kind] ? ` (${this.lastError[kind]})` : ''}`);
      return { up: false, message: `not yet fetched from the API server: ${reasons.join(', ')}` };
    });
  }

  onApplicationBootstrap(): void {
    void this.warmUp();
  }

  onModuleDestroy(): void {
    this.destroyed = true;
    if (this.warmupTimer) clearTimeout(this.warmupTimer);
  }

  /** The document to serve, possibly stale; throws when there is no good copy at all. */
  async get(kind: DiscoveryDocument): Promise<ServedDocument> {
    const read = await this.caches[kind].get();
    if (read.source === 'stale') this.metrics.observeDiscoveryStaleServed(kind);
    return { document: read.value, stale: read.source === 'stale' };
  }

  private async warmUp(): Promise<void> {
    const missing = KINDS.filter((kind) => !this.caches[kind].peek());
    if (missing.length === 0 || this.destroyed) return;
    await Promise.all(missing.map((kind) => this.caches[kind].load()));
    if (this.destroyed || KINDS.every((kind) => this.caches[kind].peek())) return;
    this.warmupTimer = setTimeout(() => void this.warmUp(), WARMUP_RETRY_MS);
    this.warmupTimer.unref();
  }

  private async fetch(kind: DiscoveryDocument, previous: CachedDocument | undefined): Promise<CachedDocument> {
    let bytes: Buffer;
    try {
      const body = await this.upstream.fetch(kind);
      bytes = renderDocument(kind, parseDocument(kind, body), this.settings);
    } catch (err) {
      this.metrics.observeDiscoveryFetch(kind, 'failure');
      throw err;
    }
    this.metrics.observeDiscoveryFetch(kind, 'success');
    delete this.lastError[kind];
    const etag = strongEtag(bytes);
    const now = new Date();
    if (previous?.etag === etag) return { ...previous, fetchedAt: now };
    if (previous) this.logger.log(`${DOCUMENTS[kind].path} changed on the API server; serving the new copy`);
    return { bytes, etag, lastModified: now, fetchedAt: now };
  }

  private onLoadFailed(kind: DiscoveryDocument, error: Error, stale: CachedDocument | undefined): void {
    this.lastError[kind] = error.message;
    const path = DOCUMENTS[kind].path;
    if (stale) {
      const ageSeconds = Math.round((Date.now() - stale.fetchedAt.getTime()) / 1000);
      this.logger.warn(`serving the last good copy of ${path} (fetched ${ageSeconds} s ago): fetching it from the API server failed: ${error.message}`);
    } else {
      this.logger.error(`cannot fetch ${path} from the API server and no copy is cached: ${error.message}`);
    }
  }
}
