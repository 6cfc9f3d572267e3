import { Injectable } from '@nestjs/common';
import { failureLine, type SuccessLine, successLine } from './access-log-line.js';
import type { ClientAddress } from '../proxy/client-address.js';

/** SIEM lines go to stdout, as in Tremolo's implementation, one line per request. */
@Injectable()
export class AccessLogService {
  success(entry: Omit<SuccessLine, 'at'>): void {
    process.stdout.write(successLine({ ...entry, at: new Date() }));
  }

  failure(client: ClientAddress, uri: string): void {
    process.stdout.write(failureLine(new Date(), client, uri));
  }
}
