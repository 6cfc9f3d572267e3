import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UpstreamFlags } from '../../../src/config/proxy-config.js';
import { resolveInCluster, resolveUpstreamTarget, usesInCluster } from '../../../src/upstream/upstream-target.js';
import { upstreamError } from '../../../src/upstream/upstream-errors.js';

const dir = mkdtempSync(join(tmpdir(), 'kop-upstream-'));
const base: UpstreamFlags = { insecureSkipTlsVerify: false, requestTimeoutMs: 0, http2: true, http2Watches: true };
const kubeconfig = join(dir, 'config');
writeFileSync(
  kubeconfig,
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'a', cluster: { server: 'https://a.example:6443', 'certificate-authority-data': Buffer.from('CA-A').toString('base64') } },
      { name: 'b', cluster: { server: 'https://b.example:6443', 'insecure-skip-tls-verify': true } },
    ],
    users: [
      { name: 'ua', user: { token: 'token-a' } },
      { name: 'exec', user: { exec: { command: 'aws', apiVersion: 'client.authentication.k8s.io/v1' } } },
    ],
    contexts: [
      { name: 'ctx-a', context: { cluster: 'a', user: 'ua' } },
      { name: 'ctx-b', context: { cluster: 'b', user: 'ua' } },
      { name: 'ctx-exec', context: { cluster: 'a', user: 'exec' } },
    ],
    'current-context': 'ctx-a',
  }),
);
const clientFile = join(dir, 'client.pem');
writeFileSync(clientFile, 'PEM');

describe('resolveUpstreamTarget', () => {
  it('uses the in-cluster service account when no client flag is set', () => {
    expect(usesInCluster(base)).toBe(true);
    expect(usesInCluster({ ...base, kubeconfig })).toBe(false);
  });

  it('reads the current context of a kubeconfig', () => {
    const { target, errors } = resolveUpstreamTarget({ ...base, kubeconfig }, {});
    expect(errors).toEqual([]);
    expect(target).toMatchObject({ url: new URL('https://a.example:6443'), rejectUnauthorized: true, token: { kind: 'static', token: 'token-a' } });
    expect(target!.ca!.toString()).toBe('CA-A');
  });

  it('selects --context and lets flags override the server and token', () => {
    const { target } = resolveUpstreamTarget({ ...base, kubeconfig, context: 'ctx-b', server: 'https://override.example', token: 'flag-token' }, {});
    expect(target).toMatchObject({ url: new URL('https://override.example'), rejectUnauthorized: false, token: { kind: 'static', token: 'flag-token' } });
  });

  it.each([
    [{ kubeconfig, context: 'missing' }, '--context: context "missing" is not in'],
    [{ kubeconfig, context: 'ctx-exec' }, 'uses an exec or auth-provider plugin'],
    [{ kubeconfig: join(dir, 'nope') }, 'does not exist'],
    [{ kubeconfig, server: 'http://plain.example' }, 'must be reached over https'],
    [{ kubeconfig, clientCertificate: clientFile }, 'a client certificate needs its key (--client-certificate, --client-key)'],
    [{ kubeconfig, clientKey: clientFile }, 'a client key needs its certificate (--client-certificate, --client-key)'],
  ])('reports %j', (flags, message) => {
    const { target, errors } = resolveUpstreamTarget({ ...base, ...flags }, {});
    expect(target).toBeUndefined();
    expect(errors.join('\n')).toContain(message);
  });

  it('refuses a server that is not a URL without quoting it', () => {
    expect(resolveUpstreamTarget({ ...base, kubeconfig, server: 'https://proxy:s3cret@bad host' }, {}).errors).toEqual(['--server: the server is not a valid URL']);
  });

  it('refuses a server URL that carries credentials, without quoting them', () => {
    const { errors } = resolveUpstreamTarget({ ...base, kubeconfig, server: 'https://admin:hunter2@api.example.com:6443' }, {});
    expect(errors).toEqual(['--server: the server URL must not carry credentials']);
  });

  it('never includes the token value in an error', () => {
    const { errors } = resolveUpstreamTarget({ ...base, kubeconfig, context: 'missing', token: 'very-secret-token' }, {});
    expect(errors.join('\n')).not.toContain('very-secret-token');
  });

  it('reports a kubeconfig that is not YAML by line, without quoting the token next to the fault', () => {
    const broken = join(dir, 'broken');
    writeFileSync(broken, 'apiVersion: v1\nusers:\n- name: proxy\n  user:\n    token: very-secret-token\n    : [unclosed\n');
    const { errors } = resolveUpstreamTarget({ ...base, kubeconfig: broken }, {});
    expect(errors).toEqual([expect.stringMatching(new RegExp(`^--kubeconfig: ${broken}: not a valid kubeconfig \\(YAML error at line \\d+\\)$`))]);
    expect(errors.join('\n')).not.toContain('very-secret-token');
  });

  it('resolves in-cluster config from the service-account directory', () => {
    const sa = mkdtempSync(join(tmpdir(), 'kop-sa-'));
    writeFileSync(join(sa, 'token'), 'sa-token');
    writeFileSync(join(sa, 'ca.crt'), 'CA');
    const { target } = resolveInCluster({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, sa);
    expect(target).toMatchObject({ url: new URL('https://[fd00::1]:443'), token: { kind: 'file', path: join(sa, 'token') } });
    expect(resolveInCluster({}, sa).errors[0]).toContain('KUBERNETES_SERVICE_HOST');
  });
});

describe('upstreamError', () => {
  it.each([
    ['ECONNREFUSED', 'UpstreamUnavailable'],
    ['ENOTFOUND', 'UpstreamUnavailable'],
    ['EHOSTUNREACH', 'UpstreamUnavailable'],
    ['ETIMEDOUT', 'UpstreamTimeout'],
    ['UPSTREAM_HEADERS_TIMEOUT', 'UpstreamTimeout'],
    ['ECONNRESET', 'UpstreamError'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'UpstreamError'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'UpstreamError'],
    ['', 'UpstreamError'],
  ])('%s becomes %s', (code, kind) => {
    expect(upstreamError(Object.assign(new Error('x'), { code })).kind).toBe(kind);
  });
});
