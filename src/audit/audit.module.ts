/**
 * Audit: records who did what. The SIEM access line (AuSuccess for every admitted request, AuFail for every
 * refused one: exactly one line per request), and with --audit-policy-file the audit.k8s.io/v1 Events
 * kube-apiserver would record (audit.service.ts), to a log file and/or a webhook. Promises that no
 * credential ever reaches a line or an event, whatever the client or the identity provider put in the
 * fields, and that a webhook in batch mode never delays a request.
 */
import { Module } from '@nestjs/common';
import { HealthModule } from '../health/health.module.js';
import { AccessLogService } from './access-log.service.js';
import { AuditService } from './audit.service.js';

@Module({ imports: [HealthModule], providers: [AccessLogService, AuditService], exports: [AccessLogService, AuditService] })
export class AuditModule {}
