/**
 * Upstream failure → what the client is told. A pure table: the API server being down must give a prompt,
 * honest 503, a broken connection 502, and a slow answer 504, never a hang or a bare 500.
 */
import { AdmissionError } from '../proxy/admission-error.js';

const UNAVAILABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN']);
const TIMEOUT = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UPSTREAM_HEADERS_TIMEOUT']);

export function isTlsVerificationError(code: string): boolean {
  return (
    code.startsWith('ERR_TLS_') ||
    code.startsWith('ERR_SSL_') ||
    code.startsWith('CERT_') ||
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'].includes(code)
  );
}

export function upstreamError(err: unknown): AdmissionError {
  const e = err as NodeJS.ErrnoException;
  const code = e?.code ?? '';
  const detail = `${code || 'error'}: ${e?.message ?? String(err)}`;
  if (UNAVAILABLE.has(code)) return new AdmissionError('UpstreamUnavailable', 'the Kubernetes API server is unavailable; kube-oidc-proxy could not connect to it', detail);
  if (TIMEOUT.has(code)) return new AdmissionError('UpstreamTimeout', 'the Kubernetes API server did not answer in time', detail);
  if (isTlsVerificationError(code)) {
    return new AdmissionError('UpstreamError', "kube-oidc-proxy could not establish a trusted TLS connection to the Kubernetes API server", detail);
  }
  return new AdmissionError('UpstreamError', 'the connection to the Kubernetes API server failed', detail);
}
