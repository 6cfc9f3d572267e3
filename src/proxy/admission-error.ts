/**
 * Every refusal the proxy can produce is one of these. They are mapped to a Kubernetes `Status` body
 * (and to raw HTTP bytes for upgrade sockets) in exactly one place: kube-status.ts.
 *
 * `message` is what kubectl prints to the person at the terminal. `detail` is for the log only; it
 * must never contain a token.
 */
export type AdmissionErrorKind =
  | 'Unauthenticated' // 401
  | 'Forbidden' // 403
  | 'BadRequest' // 400
  | 'RequestTimeout' // 408: the client did not send its whole request in time
  | 'HeadersTooLarge' // 431
  | 'TooManyRequests' // 429
  | 'UpstreamUnavailable' // 503: cannot connect to the API server
  | 'UpstreamError' // 502: the API server connection broke or answered garbage
  | 'UpstreamTimeout' // 504
  | 'ShuttingDown' // 503
  | 'Internal'; // 500: a bug; fails closed

export class AdmissionError extends Error {
  constructor(
    readonly kind: AdmissionErrorKind,
    message: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'AdmissionError';
  }
}

export const unauthenticated = (detail: string): AdmissionError =>
  new AdmissionError('Unauthenticated', 'Unauthorized', detail);
