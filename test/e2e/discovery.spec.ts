/**
 * @jest-environment ./test/e2e/harness/e2e-environment.ts
 */
// As a platform team on a cluster with --anonymous-auth=false: the proxy's discovery listener publishes the
// real kube-apiserver's service-account issuer documents, fetched with the proxy's documented RBAC, so a
// workload-identity verifier (IRSA, Vault) can check the cluster's service-account tokens without access.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose';
import { proxyRbacFromChart } from './harness/chart-rbac.js';
import { TestIssuer } from '../fixtures/test-issuer.js';
import { createTestCa } from '../fixtures/tls.js';
import { freePort, type ProxyProcess, startProxy } from '../integration/support/proxy-process.js';
import { ControlPlane } from './harness/control-plane.js';

const PUBLIC_URL = 'https://oidc.cluster-a.example.com';

let cp: ControlPlane;
let issuer: TestIssuer;
let proxy: ProxyProcess;
let discoveryPort: number;

beforeAll(async () => {
  cp = await ControlPlane.start({ kwok: false });
  const ca = createTestCa();
  issuer = await TestIssuer.start(ca);
  await cp.applyYaml(await proxyRbacFromChart());
  const saToken = await cp.createServiceAccountToken('kube-oidc-proxy', 'kube-oidc-proxy');
  const upstream = cp.writeKubeconfig('proxy-upstream', { token: saToken });
  const serving = ca.issue('proxy');
  discoveryPort = await freePort();
  // startProxy waits for /ready, which now includes both documents fetched with the RBAC above.
  proxy = await startProxy({
    args: [
      `--oidc-issuer-url=${issuer.url}`,
      '--oidc-client-id=kube-oidc-proxy-e2e',
      `--oidc-ca-file=${ca.caCertFile}`,
      `--tls-cert-file=${serving.certFile}`,
      `--tls-private-key-file=${serving.keyFile}`,
      `--kubeconfig=${upstream}`,
      `--oidc-discovery-bind-address=127.0.0.1:${discoveryPort}`,
      `--oidc-discovery-public-url=${PUBLIC_URL}`,
    ],
    readyTimeoutMs: 30_000,
  });
}, 240_000);

afterAll(async () => {
  await proxy?.stop('SIGKILL');
  await issuer?.stop();
  await cp?.stop();
}, 60_000);

const get = (path: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${discoveryPort}${path}`, init);

describe('as an anonymous workload-identity verifier, through the discovery listener', () => {
  it('gets the API server\'s discovery document, with its issuer and jwks_uri pointing at the public URL', async () => {
    const direct = await cp.api<Record<string, unknown>>('GET', '/.well-known/openid-configuration');
    expect(direct.status).toBe(200);
    const res = await get('/.well-known/openid-configuration');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const served = (await res.json()) as Record<string, unknown>;
    expect(served).toEqual({ ...direct.body, jwks_uri: `${PUBLIC_URL}/openid/v1/jwks` });
    expect(served.issuer).toBe(cp.serviceAccountIssuer);
  });

  it('gets the API server\'s JWKS, which verifies a real service-account token', async () => {
    const direct = await cp.api<JSONWebKeySet>('GET', '/openid/v1/jwks');
    const res = await get('/openid/v1/jwks');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/jwk-set+json');
    const jwks = (await res.json()) as JSONWebKeySet;
    expect(jwks).toEqual(direct.body);
    await cp.ensureServiceAccount('default', 'workload');
    const workloadToken = await cp.createServiceAccountToken('default', 'workload', ['sts.amazonaws.com']);
    const { payload } = await jwtVerify(workloadToken, createLocalJWKSet(jwks), { issuer: cp.serviceAccountIssuer, audience: 'sts.amazonaws.com' });
    expect(payload.sub).toBe('system:serviceaccount:default:workload');
  });

  it('answers a revalidation with 304', async () => {
    const first = await get('/openid/v1/jwks');
    const res = await get('/openid/v1/jwks', { headers: { 'if-none-match': first.headers.get('etag')! } });
    expect(res.status).toBe(304);
  });
});
