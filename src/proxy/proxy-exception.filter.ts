import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AdmissionService } from './admission.service.js';
import { writeStatus } from './kube-status.js';

/**
 * Every exception on the secure port ends here: recorded once, answered as a Kubernetes Status. Errors
 * that are not AdmissionErrors are bugs and become a 500 that reveals nothing (fail closed).
 */
@Catch()
export class ProxyExceptionFilter implements ExceptionFilter {
  constructor(private readonly admission: AdmissionService) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<IncomingMessage>();
    const res = http.getResponse<ServerResponse>();
    writeStatus(res, this.admission.recordRefusal(req, exception));
  }
}
