import { describe, expect, it } from '@jest/globals';
import { AdmissionError, type AdmissionErrorKind } from '../../../src/proxy/admission-error.js';
import { statusBody, statusFor, toAdmissionError } from '../../../src/proxy/kube-status.js';

describe('statusFor', () => {
  it.each<[AdmissionErrorKind, number, string]>([
    ['Unauthenticated', 401, 'Unauthorized'],
    ['Forbidden', 403, 'Forbidden'],
    ['BadRequest', 400, 'BadRequest'],
    ['TooManyRequests', 429, 'TooManyRequests'],
    ['UpstreamUnavailable', 503, 'ServiceUnavailable'],
    ['UpstreamError', 502, 'InternalError'],
    ['UpstreamTimeout', 504, 'Timeout'],
    ['ShuttingDown', 503, 'ServiceUnavailable'],
    ['Internal', 500, 'InternalError'],
  ])('maps %s to %i %s', (kind, code, reason) => {
    expect(statusFor(kind)).toEqual({ code, reason });
  });
});

describe('statusBody', () => {
  it('is a Kubernetes Status whose message kubectl prints and which carries no detail', () => {
    const body = JSON.parse(statusBody(new AdmissionError('Unauthenticated', 'Unauthorized', 'secret detail')));
    expect(body).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
  });

  it('turns anything that is not an AdmissionError into a 500 that reveals nothing', () => {
    const err = toAdmissionError(new TypeError('boom at /secret/path'));
    expect(err.kind).toBe('Internal');
    expect(statusBody(err)).not.toContain('secret');
  });
});
