import { Injectable } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AuditService } from '../audit/audit.service.js';
import { ProxyService } from '../upstream/proxy.service.js';
import { AdmissionService } from './admission.service.js';
import { writeStatus } from './kube-status.js';

/**
 * HTTP/2 requests are served outside Express, which cannot drive Node's HTTP/2 compatibility objects, just
 * as upgrades are. This listener is the HTTP/2 twin of AdmissionGuard + ProxyController +
 * ProxyExceptionFilter: the same admission steps, the same forwarding, and refusals recorded and answered
 * the same way. Each request arrives already presented as an IncomingMessage (http2-request.ts).
 */
@Injectable()
export class Http2Listener {
  constructor(
    private readonly admission: AdmissionService,
    private readonly upstream: ProxyService,
    private readonly audit: AuditService,
  ) {}

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    void this.serve(req, res);
  };

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const admitted = await this.admission.admit(req);
      const taps = this.audit.bodyTaps(req);
      this.upstream.forward(req, res, admitted.headers, { credentials: admitted.credentials, ...(taps ? { taps } : {}) });
    } catch (err) {
      writeStatus(res, this.admission.recordRefusal(req, err));
    }
  }
}
