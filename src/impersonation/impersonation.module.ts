/**
 * Impersonation: decides which identity the API server sees. Promises that the outbound identity is
 * exactly the authenticated one (plus operator-configured extras and `system:authenticated`), and
 * refuses any client-supplied Impersonate-* header rather than passing it through.
 */
import { Module } from '@nestjs/common';
import { ImpersonationService } from './impersonation.service.js';

@Module({ providers: [ImpersonationService], exports: [ImpersonationService] })
export class ImpersonationModule {}
