import { Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { ProxyService } from '../upstream/proxy.service.js';
import { isAllowedUpgrade } from '../upstream/upgrade-tunnel.js';
import { AdmissionError } from './admission-error.js';
import { AdmissionService } from './admission.service.js';
import { writeStatusToSocket } from './kube-status.js';

/**
 * Node emits `upgrade` outside Express and therefore outside Nest's guards and filters. This listener runs
 * the same admission steps the guard runs, then hands the socket to the Upstream tunnel. Only SPDY/3.1
 * (exec, attach, port-forward before kubectl 1.30) and websocket (v5.channel.k8s.io, kubectl 1.30+) are
 * tunnelled; anything else, h2c included, is refused before authentication even starts.
 */
@Injectable()
export class UpgradeListener {
  constructor(
    private readonly admission: AdmissionService,
    private readonly upstream: ProxyService,
  ) {}

  readonly handle = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    void this.admit(req, socket, head);
  };

  private async admit(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    try {
      const protocol = req.headers.upgrade ?? '';
      if (!isAllowedUpgrade(protocol)) {
        throw new AdmissionError(
          'BadRequest',
          `upgrade to "${protocol.slice(0, 64)}" is not supported by kube-oidc-proxy; only SPDY/3.1 and websocket are`,
          'refused upgrade protocol',
        );
      }
      const admitted = await this.admission.admit(req);
      this.upstream.forwardUpgrade(req, socket, head, admitted.headers, { credentials: admitted.credentials });
    } catch (err) {
      writeStatusToSocket(socket, this.admission.recordRefusal(req, err));
    }
  }
}
