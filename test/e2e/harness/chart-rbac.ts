/**
 * The RBAC the e2e suite and the demo grant kube-oidc-proxy's service account: rendered from the Helm chart
 * itself (its ServiceAccount, ClusterRole and ClusterRoleBinding), so every e2e case proves that what the
 * chart ships is enough, and nothing is maintained twice. Features the suite exercises are switched on:
 * end-user impersonation, token passthrough and the discovery listener.
 *
 * Service account `kube-oidc-proxy/kube-oidc-proxy`; ClusterRole and ClusterRoleBinding `kube-oidc-proxy`.
 */
import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveHelm } from './binaries.js';

export const PROXY_NAMESPACE = 'kube-oidc-proxy';
export const PROXY_SERVICE_ACCOUNT = 'kube-oidc-proxy';

const chartDir = join(resolve(dirname(fileURLToPath(import.meta.url)), '../../..'), 'charts/kube-oidc-proxy');

export async function proxyRbacFromChart(): Promise<string> {
  const args = [
    'template', 'kube-oidc-proxy', chartDir, '-n', PROXY_NAMESPACE,
    '--set', 'fullnameOverride=kube-oidc-proxy',
    // Required values that do not shape the RBAC.
    '--set', 'image.repository=e2e.invalid/kube-oidc-proxy',
    '--set', 'oidc.issuerUrl=https://issuer.e2e.invalid',
    '--set', 'oidc.clientId=kube-oidc-proxy-e2e',
    '--set', 'tokenPassthrough.enabled=true',
    '--set', 'oidcDiscovery.enabled=true',
    '--show-only', 'templates/serviceaccount.yaml',
    '--show-only', 'templates/clusterrole.yaml',
    '--show-only', 'templates/clusterrolebinding.yaml',
  ];
  const rendered = await new Promise<string>((done, fail) =>
    execFile(resolveHelm(), args, { maxBuffer: 4 * 1024 * 1024, timeout: 60_000 }, (error, stdout, stderr) =>
      error ? fail(new Error(`helm template for the proxy's RBAC failed: ${stderr || error.message}`)) : done(stdout),
    ),
  );
  return `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${PROXY_NAMESPACE}}\n---\n${rendered}`;
}
