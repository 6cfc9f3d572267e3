/**
 * Wires the feature modules. The secure port has exactly one controller (ProxyController), guarded by the
 * admission steps; Upgrade requests take the same steps through UpgradeListener, HTTP/2 requests through
 * Http2Listener.
 */
import { type DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { ConfigModule } from './config/config.module.js';
import type { ProxyConfig } from './config/proxy-config.js';
import { DiscoveryModule } from './discovery/discovery.module.js';
import { HealthModule } from './health/health.module.js';
import { ImpersonationModule } from './impersonation/impersonation.module.js';
import { AdmissionGuard } from './proxy/admission.guard.js';
import { AdmissionService } from './proxy/admission.service.js';
import { ProxyExceptionFilter } from './proxy/proxy-exception.filter.js';
import { Http2Listener } from './proxy/http2-listener.service.js';
import { ProxyController } from './proxy/proxy.controller.js';
import { SecureServerService } from './proxy/secure-server.service.js';
import { UpgradeListener } from './proxy/upgrade-listener.service.js';
import { UpstreamModule } from './upstream/upstream.module.js';

/**
 * Log fields never include request headers: that is where tokens live (Authorization, and the
 * base64url.bearer.authorization.k8s.io WebSocket subprotocol). The redact list is a second line of defence.
 */
export function pinoOptions(config: ProxyConfig) {
  return {
    level: config.ops.logLevel,
    messageKey: 'msg',
    base: { component: 'kube-oidc-proxy' },
    redact: { paths: ['req.headers', 'headers', '*.authorization', '*.token', 'token'], censor: '[REDACTED]' },
  };
}

@Module({})
export class AppModule {
  static forRoot(config: ProxyConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        // No per-request pino-http middleware (forRoutes: []): a child logger per request cost ~8% of the
        // small-GET CPU profile and its lines repeated what is already logged once (refusals by
        // AdmissionService, upstream failures by ProxyService, 5xx answers by SecureServerService).
        LoggerModule.forRoot({ pinoHttp: pinoOptions(config), forRoutes: [] }),
        AuthModule,
        ImpersonationModule,
        AuditModule,
        UpstreamModule,
        HealthModule,
        // Off by default: only --oidc-discovery-bind-address loads it (and its /ready indicator).
        ...(config.discovery ? [DiscoveryModule] : []),
      ],
      controllers: [ProxyController],
      providers: [AdmissionService, AdmissionGuard, ProxyExceptionFilter, UpgradeListener, Http2Listener, SecureServerService],
    };
  }
}
