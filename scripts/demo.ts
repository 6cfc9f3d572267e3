/**
 * `npm run demo`: a complete local sandbox for newcomers. Starts a real kube-apiserver, etcd and a kwok
 * fake node (built or reused by scripts/e2e-binaries.sh), a local OIDC issuer, and kube-oidc-proxy in
 * front of them with the documented RBAC; prints a kubeconfig for a demo user and commands to try; stops
 * everything on Ctrl-C.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ControlPlane } from '../test/e2e/harness/control-plane.js';
import { proxyRbacFromChart } from '../test/e2e/harness/chart-rbac.js';
import { TestIssuer } from '../test/fixtures/test-issuer.js';
import { createTestCa } from '../test/fixtures/tls.js';
import { oidcProxyArgs, startProxy } from '../test/integration/support/proxy-process.js';

const CLIENT_ID = 'kube-oidc-proxy-demo';
const NS = 'demo';
const step = (text: string): void => void process.stdout.write(`• ${text}\n`);

step('starting etcd, kube-apiserver and a kwok fake node');
const cp = await ControlPlane.start();
let stopping = false;
const stopAll = async (code: number): Promise<never> => {
  if (!stopping) {
    stopping = true;
    process.stdout.write('\nstopping the demo…\n');
    await Promise.allSettled([proxy?.stop('SIGTERM'), issuer?.stop()]);
    await cp.stop();
  }
  process.exit(code);
};
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

step('starting a local OIDC issuer');
const ca = createTestCa();
const issuer = await TestIssuer.start(ca);

step('granting the proxy its RBAC and a service-account token (TokenRequest API)');
await cp.applyYaml(await proxyRbacFromChart());
const saToken = await cp.createServiceAccountToken('kube-oidc-proxy', 'kube-oidc-proxy', undefined, 24 * 3600);
const upstream = cp.writeKubeconfig('proxy-upstream', { token: saToken });

step('starting kube-oidc-proxy');
const serving = ca.issue('proxy');
let proxy: Awaited<ReturnType<typeof startProxy>> | undefined;
try {
  proxy = await startProxy({
    args: oidcProxyArgs({ issuerUrl: issuer.url, clientId: CLIENT_ID, issuerCaFile: ca.caCertFile, certFile: serving.certFile, keyFile: serving.keyFile, kubeconfig: upstream }),
  });
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  await stopAll(1);
}

step(`creating namespace ${NS}, a pod on the fake node, and a RoleBinding for group "dev"`);
await cp.ensureNamespace(NS);
await cp.applyYaml(`
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dev-can-edit, namespace: ${NS}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: demo-edit}
subjects: [{kind: Group, name: dev, apiGroup: rbac.authorization.k8s.io}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: demo-edit}
rules:
- apiGroups: [""]
  resources: [pods, pods/log, configmaps]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [""]
  resources: [pods/exec, pods/portforward, pods/attach]
  verbs: [get, create]
`);
await cp.createFakePod(NS, 'shell');
cp.appendPodLog('hello from the fake container\n');

const token = await issuer.sign({ aud: CLIENT_ID, sub: 'jane-1', email: 'jane@example.com', groups: ['dev'], exp: Math.floor(Date.now() / 1000) + 8 * 3600 });
const kubeconfig = cp.writeKubeconfig('jane', { token }, { server: proxy!.url, caFile: ca.caCertFile });

writeFileSync(join(cp.dir, 'README.txt'), `demo user kubeconfig: ${kubeconfig}\nadmin kubeconfig: ${cp.adminKubeconfig}\n`);


process.stdout.write(`
kube-oidc-proxy demo is ready.

  proxy            ${proxy!.url}   (ops: http://127.0.0.1:${proxy!.opsPort}/ready, /metrics)
  identity         jane@example.com, group dev (an ID token from the local issuer, valid 8 h)

Try, in another terminal:

  export KUBECONFIG=${kubeconfig}
  kubectl auth whoami
  kubectl get pods -n ${NS}
  kubectl exec -n ${NS} shell -- echo hello through the proxy
  kubectl logs -n ${NS} shell
  kubectl get secrets -n ${NS}              # Forbidden: real RBAC, under jane's own name
  kubectl get pods -n ${NS} --as=someone    # refused: jane may not impersonate anyone

The API server's admin kubeconfig is ${cp.adminKubeconfig}.
Ctrl-C stops everything.
`);
await new Promise(() => undefined);
