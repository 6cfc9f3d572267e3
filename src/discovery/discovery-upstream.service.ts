/**
 * Fetches a discovery document from the API server with the proxy's own identity: the upstream keep-alive
 * agent and TLS settings, and the bearer token as it is *now* (UpstreamCredentialsService re-reads a
 * rotating service-account token file; kube-oidc-gateway read its token once and broke after rotation).
 * Bounded: a deadline for the whole answer and a size cap that refuses instead of truncating.
 */
import { Inject, Injectable } from '@nestjs/common';
import { request } from 'node:https';
import { PROXY_CONFIG, type ProxyConfig } from '../config/proxy-config.js';
import { UpstreamCredentialsService } from '../upstream/upstream-credentials.service.js';
import { DOCUMENTS, type DiscoveryDocument, MAX_DOCUMENT_BYTES } from './discovery-document.js';

export class UpstreamFetchError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

@Injectable()
export class DiscoveryUpstreamService {
  constructor(
    @Inject(PROXY_CONFIG) private readonly config: ProxyConfig,
    private readonly credentials: UpstreamCredentialsService,
  ) {}

  /** The raw body of a 200 answer; anything else is an UpstreamFetchError with a message for the logs. */
  fetch(kind: DiscoveryDocument, maxBytes = MAX_DOCUMENT_BYTES): Promise<Buffer> {
    const target = this.credentials.target;
    const timeoutMs = this.config.discovery?.upstreamTimeoutMs ?? 5_000;
    const authorization = this.credentials.authorization();
    // Relative to the configured server URL, which may carry a path prefix (a kubeconfig behind a gateway).
    const base = target.url.href.endsWith('/') ? target.url : new URL(`${target.url.href}/`);
    const url = new URL(DOCUMENTS[kind].path.replace(/^\//, ''), base);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'GET',
          agent: this.credentials.agent,
          ...(target.servername ? { servername: target.servername } : {}),
          headers: { accept: `${DOCUMENTS[kind].contentType}, application/json`, ...(authorization ? { authorization } : {}) },
          signal: AbortSignal.timeout(timeoutMs),
        },
        (res) => {
          const status = res.statusCode ?? 0;
          const declared = Number(res.headers['content-length'] ?? NaN);
          if (declared > maxBytes) {
            res.destroy();
            return reject(new UpstreamFetchError(`the API server's answer is ${declared} bytes, over the ${maxBytes}-byte limit`, status));
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBytes) {
              res.destroy();
              reject(new UpstreamFetchError(`the API server's answer exceeds the ${maxBytes}-byte limit`, status));
            } else chunks.push(chunk);
          });
          res.on('error', (err) => reject(timeoutAware(err, timeoutMs)));
          res.on('end', () => {
            if (status !== 200) return reject(new UpstreamFetchError(`the API server answered HTTP ${status}${statusMessage(chunks)}`, status));
            resolve(Buffer.concat(chunks));
          });
        },
      );
      req.on('error', (err) => reject(timeoutAware(err, timeoutMs)));
      req.end();
    });
  }
}

function timeoutAware(err: Error, timeoutMs: number): Error {
  return err.name === 'AbortError' || err.name === 'TimeoutError' ? new UpstreamFetchError(`no answer within ${timeoutMs} ms`) : err;
}

/** `: <Status.message>` for a Kubernetes Status body (e.g. the RBAC refusal), else nothing. */
function statusMessage(chunks: Buffer[]): string {
  try {
    const message = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { message?: unknown }).message;
    return typeof message === 'string' && message ? `: ${message.slice(0, 300)}` : '';
  } catch {
    return '';
  }
}
