/**
 * Audit: records who did what. Today that is the SIEM access line (AuSuccess for every admitted request,
 * AuFail for every refused one). Promises that no credential ever reaches a line and that each request is
 * exactly one line, whatever the client or the identity provider put in the fields.
 */
import { Module } from '@nestjs/common';
import { AccessLogService } from './access-log.service.js';

@Module({ providers: [AccessLogService], exports: [AccessLogService] })
export class AuditModule {}
