/**
 * Health: readiness, liveness and metrics on their own plain-HTTP listener. Promises that /ready follows
 * reality (issuer keys loaded, secure listener serving, not shutting down) and that /live depends on
 * nothing outside the process. Metric labels are a closed set; never users, paths or IPs. It also keeps the
 * process's memory healthy while bodies stream (buffer-reclaimer.service.ts, --stream-buffer-gc-mib).
 */
import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AuthModule } from '../auth/auth.module.js';
import { UpstreamModule } from '../upstream/upstream.module.js';
import { BufferReclaimerService } from './buffer-reclaimer.service.js';
import { MetricsService } from './metrics.service.js';
import { OpsServerService } from './ops-server.service.js';
import { ReadinessService } from './readiness.service.js';
import { ServingStateService } from './serving-state.service.js';

@Module({
  // terminus logs every failed check; a not-yet-ready proxy is probed every few seconds, so stay quiet.
  imports: [TerminusModule.forRoot({ logger: false }), AuthModule, UpstreamModule],
  providers: [ServingStateService, MetricsService, ReadinessService, OpsServerService, BufferReclaimerService],
  exports: [ServingStateService, MetricsService, OpsServerService, ReadinessService],
})
export class HealthModule {}
