import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { PROXY_CONFIG, type ProxyConfig } from '../config/proxy-config.js';
import { MetricsService } from './metrics.service.js';
import { ReadinessService } from './readiness.service.js';

/**
 * The ops listener: plain HTTP on --readiness-probe-port (default 8080, all interfaces, as jetstack).
 * `/ready` (readiness), `/live` (process liveness: never depends on the issuer or the API server, so a
 * dependency outage cannot cause a restart storm), `/metrics` (Prometheus text). It is a separate server
 * so none of these paths can ever be reached on the secure port, where every path is proxied.
 */
@Injectable()
export class OpsServerService implements OnApplicationShutdown {
  private readonly logger = new Logger('OpsServer');
  private server?: Server;

  constructor(
    @Inject(PROXY_CONFIG) private readonly config: ProxyConfig,
    private readonly readiness: ReadinessService,
    private readonly metrics: MetricsService,
  ) {}

  async listen(): Promise<number> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.headersTimeout = 10_000;
    server.requestTimeout = 10_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.ops.readinessProbePort, this.config.serving.bindAddress, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : this.config.ops.readinessProbePort;
    this.logger.log(`ops listener serving /ready, /live and /metrics on port ${port}`);
    return port;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/ready' && path !== '/live' && path !== '/metrics') return send(res, 404, 'text/plain', 'not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n');
    try {
      if (path === '/live') return send(res, 200, 'application/json', '{"status":"ok"}\n');
      if (path === '/ready') {
        const report = await this.readiness.check();
        return send(res, report.ready ? 200 : 503, 'application/json', `${JSON.stringify(report.body)}\n`);
      }
      return send(res, 200, this.metrics.registry.contentType, await this.metrics.registry.metrics());
    } catch (err) {
      this.logger.error(`ops request ${path} failed: ${(err as Error).message}`);
      return send(res, 500, 'text/plain', 'internal error\n');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

function send(res: ServerResponse, code: number, type: string, body: string): void {
  res.writeHead(code, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
