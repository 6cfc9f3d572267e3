/**
 * @jest-environment ./test/e2e/harness/e2e-environment.ts
 */
// Smoke test of the e2e harness itself: a real kube-apiserver (RBAC, no anonymous access), real
// kubectl binaries, real service-account tokens, and a kwok fake node that answers exec. Without the
// binaries this fails in beforeAll with instructions (scripts/e2e-binaries.sh), never skips.
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ControlPlane, kubectlHasWhoami, kubectlVersions, waitForOutput } from './harness/control-plane.js';
import { tcpRoundTrip } from './harness/tcp.js';

const versions = kubectlVersions();
let sut: ControlPlane;

beforeAll(async () => {
  sut = await ControlPlane.start();
}, 180_000);

afterAll(async () => {
  await sut?.stop();
}, 60_000);

function anonymousGet(url: string, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(new URL('/api/v1/namespaces', url), { ca }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

describe('the e2e control plane', () => {
  it('finds real kubectl builds from 1.27 to 1.33', () => {
    expect(versions).toEqual(expect.arrayContaining(['1.27', '1.33']));
  });

  it.each(versions)('as the admin, kubectl %s lists namespaces', async (version) => {
    const result = await sut.kubectl(['get', 'namespaces', '-o', 'name'], { version });

    expect(result).toMatchObject({ code: 0, stdout: expect.stringContaining('namespace/kube-system') });
  }, 30_000);

  it('refuses an anonymous request with 401', async () => {
    const { readFileSync } = await import('node:fs');

    expect(await anonymousGet(sut.url, readFileSync(sut.servingCaFile, 'utf8'))).toBe(401);
  });

  it('as a client with an unknown bearer token, kubectl reports Unauthorized', async () => {
    const kubeconfig = sut.writeKubeconfig('stranger', { token: 'not-a-token-this-server-issued' });

    const result = await sut.kubectl(['get', 'pods'], { kubeconfig });

    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('Unauthorized');
  }, 30_000);

  describe('with a service-account token from the TokenRequest API', () => {
    let kubeconfig: string;

    beforeAll(async () => {
      kubeconfig = sut.writeKubeconfig('reader', { token: await sut.createServiceAccountToken('smoke', 'reader') });
    }, 30_000);

    it.each(versions.filter(kubectlHasWhoami))('kubectl %s auth whoami shows the service account', async (version) => {
      const whoami = await sut.kubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { kubeconfig, version });

      expect(whoami).toMatchObject({ code: 0, stdout: 'system:serviceaccount:smoke:reader' });
    }, 30_000);

    it('kubectl 1.27 auth whoami cannot work here: SelfSubjectReview v1beta1 was removed in Kubernetes 1.33', async () => {
      const whoami = await sut.kubectl(['auth', 'whoami'], { kubeconfig, version: '1.27' });

      expect(whoami.code).not.toBe(0);
      expect(whoami.stderr).toContain('selfsubjectreviews API is not enabled');
    }, 30_000);

    it('is Forbidden by real RBAC until a RoleBinding allows it', async () => {
      const before = await sut.kubectl(['get', 'serviceaccounts', '-n', 'smoke', '-o', 'name'], { kubeconfig });
      await sut.applyYaml(`
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: list-service-accounts, namespace: smoke}
rules: [{apiGroups: [''], resources: [serviceaccounts], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader-lists-service-accounts, namespace: smoke}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: list-service-accounts}
subjects: [{kind: ServiceAccount, name: reader, namespace: smoke}]
`);
      const after = await sut.kubectl(['get', 'serviceaccounts', '-n', 'smoke', '-o', 'name'], { kubeconfig });

      expect(before.code).not.toBe(0);
      expect(before.stderr).toContain('Forbidden');
      expect(after).toMatchObject({ code: 0, stdout: expect.stringContaining('serviceaccount/reader') });
    }, 30_000);
  });

  it('records requests in the API server audit log with the authenticated user', async () => {
    await sut.kubectl(['get', 'configmaps', '-n', 'kube-public', '--request-timeout=10s']);

    const event = await sut.waitForAuditEvent((e) => e.objectRef?.resource === 'configmaps' && e.objectRef.namespace === 'kube-public');

    expect(event.user.username).toBe('e2e-admin');
    expect(event.user.groups).toContain('system:masters');
  }, 30_000);

  describe('on the kwok fake node', () => {
    beforeAll(async () => {
      await sut.createFakePod('smoke', 'shell');
    }, 60_000);

    it.each(versions)('kubectl %s exec runs a local command in the pod', async (version) => {
      const result = await sut.kubectl(['exec', '-n', 'smoke', 'shell', '--', 'echo', 'hi'], { version });

      expect(result).toMatchObject({ code: 0, stdout: 'hi\n' });
    }, 30_000);

    // kubectl ≤ 1.29 streams over SPDY/3.1; kubectl ≥ 1.30 over WebSocket (v5.channel.k8s.io), checked with -v=8.
    // kwok v0.8.0 never closes the command's stdin, so the command must exit by itself (no `cat`).
    it.each(['1.27', '1.33'])('kubectl %s exec -i carries stdin to the command and its output back', async (version) => {
      const result = await sut.kubectl(['exec', '-i', '-n', 'smoke', 'shell', '--', 'head', '-n', '2'], { version, stdin: 'ping\npong\n' });

      expect(result).toMatchObject({ code: 0, stdout: 'ping\npong\n' });
    }, 30_000);

    it('kubectl logs shows what the fake container wrote, and logs -f follows new lines', async () => {
      sut.appendPodLog('first line');
      const logs = await sut.kubectl(['logs', '-n', 'smoke', 'shell']);
      const follower = sut.startKubectl(['logs', '-f', '-n', 'smoke', 'shell']);
      await waitForOutput(follower, /first line\n/);
      sut.appendPodLog('second line');

      await expect(waitForOutput(follower, /second line\n/)).resolves.toBeTruthy();
      follower.kill();
      expect(logs).toMatchObject({ code: 0, stdout: 'first line\n' });
    }, 30_000);

    it('kubectl attach streams the lines the fake container writes after attaching', async () => {
      const attached = sut.startKubectl(['attach', '-n', 'smoke', 'shell']);
      // kwok attaches with tailLines=0: keep writing until the attach stream is up and shows a line.
      const writer = setInterval(() => sut.appendPodLog('line for attach'), 200);
      const seen = waitForOutput(attached, /line for attach\n/).finally(() => clearInterval(writer));

      await expect(seen).resolves.toBeTruthy();
      attached.kill();
    }, 30_000);

    it.each(['1.27', '1.33'])('kubectl %s port-forward carries TCP traffic to the pod', async (version) => {
      const forwarder = sut.startKubectl(['port-forward', '-n', 'smoke', 'pod/shell', ':8080'], { version });
      const [, port] = await waitForOutput(forwarder, /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/);

      const message = 'hello through the tunnel';
      const echoed = await tcpRoundTrip(Number(port), message);
      forwarder.kill();

      expect(echoed).toBe(message);
    }, 30_000);
  });
});
