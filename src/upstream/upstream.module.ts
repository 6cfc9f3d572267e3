/**
 * Upstream: the API server connection. Promises that the proxy's own credentials are added only to
 * admitted requests, never alongside a client credential; that upgrades use unpooled connections spliced
 * only after a 101; that redirects are never followed; and that upstream failures become prompt
 * 502/503/504 Status answers.
 */
import { Module } from '@nestjs/common';
import { PROXY_CONFIG, type ProxyConfig } from '../config/proxy-config.js';
import { ProxyService } from './proxy.service.js';
import { UpstreamCredentialsService } from './upstream-credentials.service.js';
import { resolveUpstreamTarget } from './upstream-target.js';
import { UPSTREAM_TARGET } from './upstream.tokens.js';

@Module({
  providers: [
    {
      provide: UPSTREAM_TARGET,
      inject: [PROXY_CONFIG],
      useFactory: (config: ProxyConfig) => {
        const resolved = resolveUpstreamTarget(config.upstream);
        if (!resolved.target) throw new Error(`invalid upstream configuration: ${resolved.errors.join('; ')}`);
        return resolved.target;
      },
    },
    UpstreamCredentialsService,
    ProxyService,
  ],
  exports: [ProxyService, UpstreamCredentialsService, UPSTREAM_TARGET],
})
export class UpstreamModule {}
