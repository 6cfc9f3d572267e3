import { All, Controller, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AuditService } from '../audit/audit.service.js';
import { ProxyService } from '../upstream/proxy.service.js';
import { AdmissionGuard } from './admission.guard.js';
import { admittedRequest } from './admission.service.js';
import { ProxyExceptionFilter } from './proxy-exception.filter.js';

/**
 * The only controller on the secure port: every method and every path (including `/`, `/healthz` and
 * `/openid/v1/jwks`, as in jetstack) is authenticated and then forwarded. A thin adapter: the work is in
 * the guard (admission) and the Upstream module (forwarding).
 */
@Controller()
@UseGuards(AdmissionGuard)
@UseFilters(ProxyExceptionFilter)
export class ProxyController {
  constructor(
    private readonly upstream: ProxyService,
    private readonly audit: AuditService,
  ) {}

  @All(['/', '/{*path}'])
  forward(@Req() req: IncomingMessage, @Res() res: ServerResponse): void {
    const admitted = admittedRequest(req);
    const taps = this.audit.bodyTaps(req);
    this.upstream.forward(req, res, admitted.headers, { credentials: admitted.credentials, ...(taps ? { taps } : {}) });
  }
}
