import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { RequestListener } from 'node:http';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import type { ProxyConfig } from './config/proxy-config.js';
import { DiscoveryServerService } from './discovery/discovery-server.service.js';
import { OpsServerService } from './health/ops-server.service.js';
import { ServingStateService } from './health/serving-state.service.js';
import { SecureServerService } from './proxy/secure-server.service.js';

export interface RunningProxy {
  readonly securePort: number;
  readonly opsPort: number;
  /** The OIDC discovery listener's port, when --oidc-discovery-bind-address is set. */
  readonly discoveryPort?: number;
  /** Graceful stop: readiness drops first, then the listener drains for up to the grace period. */
  shutdown(): Promise<void>;
}

/**
 * Start order matters for readiness: modules initialise (issuer discovery begins in the background), the
 * ops listener comes up (so probes get honest 503s while starting), then the optional OIDC discovery
 * listener, then the secure listener; only then
 * is the process marked serving.
 */
export async function bootstrap(config: ProxyConfig): Promise<RunningProxy> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bodyParser: false, // bodies stream straight through to the API server
    bufferLogs: true,
  });
  const logger = app.get(Logger);
  app.useLogger(logger);
  app.disable('x-powered-by');
  app.set('etag', false);
  await app.init();

  const state = app.get(ServingStateService);
  const opsPort = await app.get(OpsServerService).listen();
  // Before the secure listener, like the ops listener: its documents are fetched in the background already.
  const discoveryPort = config.discovery ? await app.get(DiscoveryServerService).listen() : undefined;
  const secure = app.get(SecureServerService);
  const securePort = await secure.listen(app.getHttpAdapter().getInstance() as RequestListener);
  state.markServing();

  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> =>
    (stopping ??= (async () => {
      state.markShuttingDown();
      logger.log(`shutting down: draining for up to ${config.ops.shutdownGracePeriodMs} ms`);
      await secure.drain(config.ops.shutdownGracePeriodMs);
      await app.close();
    })());
  return { securePort, opsPort, ...(discoveryPort !== undefined ? { discoveryPort } : {}), shutdown };
}
