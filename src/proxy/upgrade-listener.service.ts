import { Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { AuditService } from '../audit/audit.service.js';
import { ProxyService } from '../upstream/proxy.service.js';
import { isAllowedUpgrade } from '../upstream/upgrade-tunnel.js';
import { AdmissionError } from './admission-error.js';
import { AdmissionService } from './admission.service.js';
import { statusFor, writeStatusToSocket } from './kube-status.js';

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
    private readonly audit: AuditService,
  ) {}

  readonly handle = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    this.audit.begin(req, undefined, socket);
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
      // Audit stages of the stream: ResponseStarted at the 101, ResponseComplete when the tunnel closes.
      this.upstream.forwardUpgrade(req, socket, head, admitted.headers, { credentials: admitted.credentials }, {
        onOpen: () => {
          this.audit.responseStarted(req, 101);
          return () => this.audit.complete(req, 101);
        },
        onRefused: (status) => this.audit.complete(req, status),
        onError: (err) => this.audit.complete(req, statusFor(err.kind).code),
      });
    } catch (err) {
      const refusal = this.admission.recordRefusal(req, err);
      writeStatusToSocket(socket, refusal);
      this.audit.complete(req, statusFor(refusal.kind).code);
    }
  }
}
