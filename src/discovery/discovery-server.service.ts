/**
 * The discovery listener: its own server (plain HTTP, or HTTPS with its own key pair re-read as it
 * rotates), so nothing on the secure port changes and these two public paths can never reach the proxy's
 * authenticated routes. Exactly two paths, GET and HEAD; everything else is 404, other methods 405.
 */
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { MetricsService } from '../health/metrics.service.js';
import { DOCUMENTS, documentForPath } from './discovery-document.js';
import { DiscoveryService } from './discovery.service.js';
import { cacheHeaders, isNotModified } from './http-caching.js';

const CERT_POLL_MS = 2_000;

@Injectable()
export class DiscoveryServerService implements OnApplicationShutdown {
  private readonly logger = new Logger('OidcDiscoveryServer');
  private server?: Server | HttpsServer;
  private pemFingerprint = '';

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly metrics: MetricsService,
  ) {}

  async listen(): Promise<number> {
    const { host, port: wanted, tlsCertFile } = this.discovery.settings;
    const handler = (req: IncomingMessage, res: ServerResponse): void => void this.handle(req, res);
    const server = tlsCertFile ? createHttpsServer(this.loadTls(), handler) : createHttpServer(handler);
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    server.keepAliveTimeout = 65_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(wanted, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    if (tlsCertFile) this.watchCertificates(server as HttpsServer);
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : wanted;
    this.logger.log(`OIDC discovery listener (${tlsCertFile ? 'https' : 'http'}) serving ${DOCUMENTS['openid-configuration'].path} and ${DOCUMENTS.jwks.path} on ${host}:${port}`);
    return port;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const kind = documentForPath((req.url ?? '/').split('?')[0]!);
    if (!kind) return this.send(res, 'other', 404, 'not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return this.send(res, kind, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
    let served;
    try {
      served = await this.discovery.get(kind);
    } catch {
      // Already logged once per failed fetch by DiscoveryService (with the reason); clients get no detail.
      return this.send(res, kind, 502, `bad gateway: ${DOCUMENTS[kind].path} could not be fetched from the API server\n`);
    }
    const { document, stale } = served;
    const { clientCacheTtlSeconds, cacheTtlMs } = this.discovery.settings;
    // A stale copy is only cached by clients until the proxy would try the API server again.
    const maxAge = stale ? Math.min(clientCacheTtlSeconds, Math.floor(cacheTtlMs / 1000)) : clientCacheTtlSeconds;
    const headers = cacheHeaders(document, maxAge);
    const ifNoneMatch = req.headers['if-none-match'];
    if (isNotModified(document, ifNoneMatch, req.headers['if-modified-since'])) {
      this.metrics.observeDiscoveryResponse(kind, 304);
      res.writeHead(304, headers);
      return void res.end();
    }
    this.metrics.observeDiscoveryResponse(kind, 200);
    res.writeHead(200, {
      ...headers,
      'content-type': DOCUMENTS[kind].contentType,
      'content-length': document.bytes.length,
      'x-content-type-options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : document.bytes);
  }

  private send(res: ServerResponse, kind: 'openid-configuration' | 'jwks' | 'other', code: number, body: string, extra: Record<string, string> = {}): void {
    this.metrics.observeDiscoveryResponse(kind, code);
    res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...extra });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }

  private loadTls(): SecureContextOptions {
    const { tlsCertFile, tlsKeyFile } = this.discovery.settings;
    let cert: Buffer;
    let key: Buffer;
    try {
      cert = readFileSync(tlsCertFile!);
      key = readFileSync(tlsKeyFile!);
    } catch (err) {
      throw new Error(`--oidc-discovery-tls-cert-file/--oidc-discovery-tls-private-key-file: cannot read the key pair: ${(err as Error).message}`);
    }
    const options: SecureContextOptions = { cert, key, minVersion: 'TLSv1.2' };
    try {
      createSecureContext(options);
    } catch (err) {
      throw new Error(`--oidc-discovery-tls-cert-file/--oidc-discovery-tls-private-key-file: not a usable key pair: ${(err as Error).message}`);
    }
    this.pemFingerprint = cert.toString('base64') + key.toString('base64');
    return options;
  }

  /** As the secure listener: swap the context in place, keep the old pair if the new one is unusable. */
  private watchCertificates(server: HttpsServer): void {
    const reload = (): void => {
      try {
        const before = this.pemFingerprint;
        const options = this.loadTls();
        if (this.pemFingerprint === before) return;
        server.setSecureContext(options);
        this.logger.log('OIDC discovery serving certificate reloaded');
      } catch (err) {
        this.logger.warn(`keeping the current OIDC discovery certificate: ${(err as Error).message}`);
      }
    };
    const { tlsCertFile, tlsKeyFile } = this.discovery.settings;
    for (const file of [tlsCertFile!, tlsKeyFile!]) watchFile(file, { interval: CERT_POLL_MS, persistent: false }, reload);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    const { tlsCertFile, tlsKeyFile } = this.discovery.settings;
    if (tlsCertFile && tlsKeyFile) for (const file of [tlsCertFile, tlsKeyFile]) unwatchFile(file);
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
