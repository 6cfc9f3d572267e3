import { Injectable } from '@nestjs/common';
import { OidcAuthenticatorService } from '../auth/oidc-authenticator.service.js';
import { ProxyService } from '../upstream/proxy.service.js';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Status code → class label; a closed set so label cardinality stays bounded. */
export function codeClass(code: number): string {
  return code >= 100 && code < 600 ? `${Math.floor(code / 100)}xx` : 'other';
}

const KNOWN_VERBS = new Set([
  'get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection', 'proxy',
]);

/** Verb label: the Kubernetes verb for resource requests, `nonresource` otherwise; never a path. */
export function verbLabel(verb: string, isResourceRequest: boolean): string {
  if (!isResourceRequest) return 'nonresource';
  return KNOWN_VERBS.has(verb) ? verb : 'other';
}

export type AuthOutcome = 'success' | 'failure';
export type DiscoveryDocumentLabel = 'openid-configuration' | 'jwks' | 'other';

/**
 * Prometheus metrics. Labels are a closed set (verb, code class, outcome, upgrade protocol): never user
 * names, paths or IPs, which would make series unbounded and leak identities.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'kube_oidc_proxy_http_requests_total',
    help: 'Requests answered by the secure listener, by Kubernetes verb and status code class.',
    labelNames: ['verb', 'code_class'] as const,
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'kube_oidc_proxy_http_request_duration_seconds',
    help: 'Time to the response headers for non-streaming requests, by verb.',
    labelNames: ['verb'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly authentications = new Counter({
    name: 'kube_oidc_proxy_authentications_total',
    help: 'Bearer-token authentication attempts by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly tunnels = new Gauge({
    name: 'kube_oidc_proxy_upgraded_connections',
    help: 'Open upgraded (exec, attach, port-forward) tunnels by protocol.',
    labelNames: ['protocol'] as const,
    registers: [this.registry],
  });
  private readonly inflightRejections = new Counter({
    name: 'kube_oidc_proxy_inflight_rejections_total',
    help: 'Requests answered 429 because --max-requests-inflight (readOnly) or --max-mutating-requests-inflight (mutating) was reached.',
    labelNames: ['request_kind'] as const,
    registers: [this.registry],
  });

  private readonly discoveryResponses = new Counter({
    name: 'kube_oidc_proxy_discovery_responses_total',
    help: 'Answers of the OIDC discovery listener, by document and status code class.',
    labelNames: ['document', 'code_class'] as const,
    registers: [this.registry],
  });
  private readonly discoveryFetches = new Counter({
    name: 'kube_oidc_proxy_discovery_upstream_fetches_total',
    help: 'Fetches of the OIDC discovery documents from the API server, by document and outcome.',
    labelNames: ['document', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly discoveryStale = new Counter({
    name: 'kube_oidc_proxy_discovery_stale_served_total',
    help: 'Discovery answers served from an expired copy because the API server could not be fetched from.',
    labelNames: ['document'] as const,
    registers: [this.registry],
  });

  private readonly clientConnections = new Gauge({
    name: 'kube_oidc_proxy_client_connections',
    help: 'Open client connections on the secure port, by protocol as ALPN chose it (h2 or http/1.1).',
    labelNames: ['protocol'] as const,
    registers: [this.registry],
  });
  private readonly clientConnectionsTotal = new Counter({
    name: 'kube_oidc_proxy_client_connections_total',
    help: 'Client connections accepted on the secure port (TLS handshake done), by protocol (h2 or http/1.1).',
    labelNames: ['protocol'] as const,
    registers: [this.registry],
  });

  private readonly auditDropped = new Counter({
    name: 'kube_oidc_proxy_audit_events_dropped_total',
    help: 'Audit events lost, by backend and reason (buffer_full: the batch buffer was full; send_failed: retries ran out).',
    labelNames: ['backend', 'reason'] as const,
    registers: [this.registry],
  });
  private readonly bufferReclaims = new Counter({
    name: 'kube_oidc_proxy_buffer_reclaims_total',
    help: 'Young-generation collections run because streamed Buffer memory grew by --stream-buffer-gc-mib (src/health/buffer-reclaimer.service.ts).',
    registers: [this.registry],
  });

  constructor(auth: OidcAuthenticatorService, upstream: ProxyService) {
    new Gauge({
      name: 'kube_oidc_proxy_upstream_http2_connections',
      help: 'Open HTTP/2 connections to the API server (--upstream-http2, --upstream-http2-watches); 0 with HTTP/1.1.',
      registers: [this.registry],
      collect() {
        this.set(upstream.http2Connections);
      },
    });
    // Which authentication configuration is in force (one series at a time: the label is bounded).
    new Gauge({
      name: 'kube_oidc_proxy_authentication_config_info',
      help: 'The authentication configuration in force, by the first 16 hex digits of its sha256; always 1.',
      labelNames: ['hash'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        this.set({ hash: auth.activeHash }, 1);
      },
    });
    new Counter({
      name: 'kube_oidc_proxy_authentication_config_reloads_total',
      help: 'Changed versions of the --authentication-config file seen while running, by outcome (applied or rejected).',
      labelNames: ['outcome'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [outcome, count] of Object.entries(auth.reloads)) this.inc({ outcome }, count);
      },
    });
    new Gauge({
      name: 'kube_oidc_proxy_issuer_ready',
      help: 'Whether an issuer has its signing keys loaded (1) or not (0), by position in the configuration.',
      labelNames: ['index'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        auth.issuerStatus().forEach((status, index) => this.set({ index: String(index) }, status.state === 'ready' ? 1 : 0));
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'kube_oidc_proxy_' });
  }

  observeRequest(verb: string, code: number, seconds: number | undefined): void {
    this.requests.inc({ verb, code_class: codeClass(code) });
    if (seconds !== undefined) this.duration.observe({ verb }, seconds);
  }

  observeAuthentication(outcome: AuthOutcome): void {
    this.authentications.inc({ outcome });
  }

  /** `document` is one of the two fixed discovery documents, never a request path. */
  observeDiscoveryResponse(document: DiscoveryDocumentLabel, code: number): void {
    this.discoveryResponses.inc({ document, code_class: codeClass(code) });
  }

  observeDiscoveryFetch(document: DiscoveryDocumentLabel, outcome: 'success' | 'failure'): void {
    this.discoveryFetches.inc({ document, outcome });
  }

  observeDiscoveryStaleServed(document: DiscoveryDocumentLabel): void {
    this.discoveryStale.inc({ document });
  }

  /** A client connection opened (+1) or closed (-1) on the secure port. */
  observeClientConnection(protocol: 'h2' | 'http/1.1', change: 1 | -1): void {
    this.clientConnections.inc({ protocol }, change);
    if (change === 1) this.clientConnectionsTotal.inc({ protocol });
  }

  observeInflightRejection(requestKind: 'readOnly' | 'mutating'): void {
    this.inflightRejections.inc({ request_kind: requestKind });
  }

  observeBufferReclaim(): void {
    this.bufferReclaims.inc();
  }

  observeAuditDropped(backend: 'webhook', reason: 'buffer_full' | 'send_failed', count: number): void {
    this.auditDropped.inc({ backend, reason }, count);
  }

  tunnelOpened(protocol: 'spdy' | 'websocket'): () => void {
    this.tunnels.inc({ protocol });
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      this.tunnels.dec({ protocol });
    };
  }
}
