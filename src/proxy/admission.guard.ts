import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { AdmissionService } from './admission.service.js';

/**
 * Runs the admission steps for every HTTP request. It never returns false: a refusal is thrown as an
 * AdmissionError, which ProxyExceptionFilter turns into a Kubernetes Status. Closed by default: there is
 * no route on the secure port that this guard does not cover (proxy.controller.ts is the only controller).
 */
@Injectable()
export class AdmissionGuard implements CanActivate {
  constructor(private readonly admission: AdmissionService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    await this.admission.admit(context.switchToHttp().getRequest<IncomingMessage>());
    return true;
  }
}
