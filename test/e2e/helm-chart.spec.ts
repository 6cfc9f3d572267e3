/**
 * @jest-environment ./test/e2e/harness/e2e-environment.ts
 */
// charts/kube-oidc-proxy, checked with a real helm v3 (pinned in scripts/e2e-binaries.sh) over every values
// file in charts/kube-oidc-proxy/ci, then against the e2e kube-apiserver: server-side dry-run of the rendered
// manifests and a real `helm install` / `helm upgrade`.
//
// The install runs with kube-controller-manager (deployment and replicaset controllers) and kube-scheduler,
// so the chart's Deployment gets pods on kwok's fake node and becomes Available; kwok does not run
// containers, so what this proves is the objects (schemas, RBAC, admission, scheduling), not the image.
// The proxy's RBAC in every other e2e spec is rendered from this chart (harness/chart-rbac.ts).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadAllYaml, loadYaml } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FLAGS_BY_NAME } from '../../src/config/flag-definitions.js';
import { resolveHelm } from './harness/binaries.js';
import { ControlPlane } from './harness/control-plane.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const chartDir = join(repoRoot, 'charts/kube-oidc-proxy');
const ciFiles = readdirSync(join(chartDir, 'ci'))
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const ciName = (file: string) => basename(file, '-values.yaml');
const RELEASE = 'kop';
const NAMESPACE = 'kube-oidc-proxy';

// Rendered objects are read field by field in the assertions below; a loose type keeps them short.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  [field: string]: Loose;
}
interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  nonResourceURLs?: string[];
  verbs: string[];
}

const helmBinary = resolveHelm();
// helm keeps no state of ours in the user's home: repositories, cache and plugins live in a temp dir.
const helmHome = mkdtempSync(join(tmpdir(), 'kop-helm-'));
const helmEnv = {
  ...process.env,
  HELM_CACHE_HOME: join(helmHome, 'cache'),
  HELM_CONFIG_HOME: join(helmHome, 'config'),
  HELM_DATA_HOME: join(helmHome, 'data'),
};

function helm(args: readonly string[], kubeconfig?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = kubeconfig ? { ...helmEnv, KUBECONFIG: kubeconfig } : helmEnv;
  return new Promise((done) => {
    execFile(helmBinary, args, { env, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

async function render(valuesFile: string, extra: readonly string[] = []): Promise<{ yaml: string; manifests: Manifest[] }> {
  const result = await helm(['template', RELEASE, chartDir, '-n', NAMESPACE, '-f', join(chartDir, 'ci', valuesFile), ...extra]);
  if (result.code !== 0) throw new Error(`helm template ${valuesFile} failed:\n${result.stderr}`);
  return { yaml: result.stdout, manifests: (loadAllYaml(result.stdout) as (Manifest | null)[]).filter((m): m is Manifest => m !== null) };
}

const rendered = new Map<string, { yaml: string; manifests: Manifest[] }>();
const manifestsOf = (file: string) => rendered.get(file)!.manifests;
const find = (file: string, kind: string) => manifestsOf(file).filter((m) => m.kind === kind);
const one = (file: string, kind: string): Manifest => {
  const found = find(file, kind);
  if (found.length !== 1) throw new Error(`${file}: expected one ${kind}, found ${found.length}`);
  return found[0]!;
};
/** The one object of a kind whose name is the release's full name plus this suffix. */
const named = (file: string, kind: string, suffix: string): Manifest => {
  const found = find(file, kind).filter((m) => m.metadata.name === `${RELEASE}-kube-oidc-proxy${suffix}`);
  if (found.length !== 1) throw new Error(`${file}: expected one ${kind} ${RELEASE}-kube-oidc-proxy${suffix}, found ${found.length}`);
  return found[0]!;
};
const container = (file: string) => one(file, 'Deployment').spec.template.spec.containers[0];
const args = (file: string): string[] => container(file).args;
const flagName = (arg: string) => /^--([a-z0-9-]+)/.exec(arg)?.[1];
const flagValues = (file: string, flag: string) => args(file).filter((a) => flagName(a) === flag).map((a) => a.slice(flag.length + 3));
const impersonatedExtras = (file: string): string[] =>
  one(file, 'ClusterRole')
    .rules.filter((r: PolicyRule) => r.apiGroups?.includes('authentication.k8s.io') && r.verbs.includes('impersonate'))
    .flatMap((r: PolicyRule) => r.resources ?? [])
    .filter((r: string) => r.startsWith('userextras/'))
    .map((r: string) => r.slice('userextras/'.length))
    .sort();
const grants = (file: string, group: string, resource: string, verb: string): boolean =>
  one(file, 'ClusterRole').rules.some(
    (r: PolicyRule) => r.apiGroups?.includes(group) && r.resources?.includes(resource) && r.verbs.includes(verb),
  );

beforeAll(async () => {
  for (const file of ciFiles) rendered.set(file, await render(file));
}, 120_000);

it('the values matrix covers the features the chart offers', () => {
  expect(ciFiles.map(ciName)).toEqual(['cert-manager', 'existing-secret', 'full-featured', 'minimal', 'multi-issuer']);
});

it("the chart's appVersion is the package version", () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  expect(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')).toMatch(new RegExp(`^appVersion: "${pkg.version.replace(/\./g, '\\.')}"$`, 'm'));
});

describe('helm lint --strict', () => {
  it.each(ciFiles)('%s passes', async (file) => {
    const result = await helm(['lint', '--strict', chartDir, '-f', join(chartDir, 'ci', file)]);
    expect(`${result.stdout}${result.stderr}`).toContain('0 chart(s) failed');
    expect(result.code).toBe(0);
  });
});

describe('the Deployment is hardened with every values file', () => {
  it.each(ciFiles)('%s: non-root 65532, read-only root, no capabilities, RuntimeDefault seccomp', (file) => {
    const pod = one(file, 'Deployment').spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container(file).securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it.each(ciFiles)('%s: readiness /ready and liveness /live on the ops port the proxy listens on', (file) => {
    const c = container(file);
    expect(c.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'ops' });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/live', port: 'ops' });
    expect(c.ports).toContainEqual({ name: 'ops', containerPort: 8080, protocol: 'TCP' });
    expect(flagValues(file, 'readiness-probe-port')).toEqual(['8080']);
    expect(c.ports).toContainEqual({ name: 'https', containerPort: 6443, protocol: 'TCP' });
    expect(flagValues(file, 'secure-port')).toEqual(['6443']);
  });

  it.each(ciFiles)('%s: the kubelet waits longer than the preStop sleep plus the drain', (file) => {
    const pod = one(file, 'Deployment').spec.template.spec;
    const grace = Number(/^(\d+)s$/.exec(flagValues(file, 'shutdown-grace-period')[0]!)![1]);
    const preStop = container(file).lifecycle.preStop.sleep.seconds as number;
    expect(preStop).toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(grace + preStop);
  });

  it.each(ciFiles)('%s: rolling update without losing capacity, resources set, spread over nodes', (file) => {
    const spec = one(file, 'Deployment').spec;
    expect(spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    expect(spec.template.spec.containers[0].resources.requests).toEqual({ cpu: '100m', memory: '128Mi' });
    for (const constraint of spec.template.spec.topologySpreadConstraints ?? []) {
      expect(constraint.labelSelector.matchLabels).toEqual(spec.selector.matchLabels);
    }
  });

  it.each(ciFiles)('%s: renders only flags the binary has', (file) => {
    const names = args(file).map(flagName);
    expect(names.filter((n) => n === undefined || !FLAGS_BY_NAME.has(n))).toEqual([]);
  });

  it('a topologySpreadConstraints list from values replaces the default', () => {
    expect(one('full-featured-values.yaml', 'Deployment').spec.template.spec.topologySpreadConstraints).toHaveLength(2);
    expect(one('cert-manager-values.yaml', 'Deployment').spec.template.spec.topologySpreadConstraints).toBeUndefined();
  });
});

describe('flags rendered from values', () => {
  it('each required claim is its own --oidc-required-claim, never part of --oidc-signing-algs (jetstack#194)', () => {
    expect(flagValues('full-featured-values.yaml', 'oidc-required-claim')).toEqual(['hd=example.com', 'tenant=platform']);
    expect(flagValues('full-featured-values.yaml', 'oidc-signing-algs')).toEqual(['RS256,ES256']);
    expect(flagValues('minimal-values.yaml', 'oidc-required-claim')).toEqual([]);
  });

  it('each service-account issuer is its own --service-account-issuer, with either authentication source (vector 105)', () => {
    expect(flagValues('full-featured-values.yaml', 'service-account-issuer')).toEqual(['https://kubernetes.default.svc.cluster.local']);
    expect(flagValues('multi-issuer-values.yaml', 'service-account-issuer')).toEqual(['https://kubernetes.default.svc.cluster.local', 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE']);
    expect(flagValues('minimal-values.yaml', 'service-account-issuer')).toEqual([]);
  });

  it('an empty username prefix is left to the proxy default; "-" is passed through', () => {
    expect(flagValues('minimal-values.yaml', 'oidc-username-prefix')).toEqual([]);
    expect(flagValues('existing-secret-values.yaml', 'oidc-username-prefix')).toEqual(['-']);
    expect(flagValues('full-featured-values.yaml', 'oidc-username-prefix')).toEqual(['oidc:']);
  });

  it('the OIDC CA is a mounted ConfigMap whose checksum rolls the pods', () => {
    const file = 'full-featured-values.yaml';
    expect(flagValues(file, 'oidc-ca-file')).toEqual(['/etc/kube-oidc-proxy/oidc/ca.pem']);
    expect(named(file, 'ConfigMap', '-oidc-ca').data['ca.pem']).toContain('BEGIN CERTIFICATE');
    expect(one(file, 'Deployment').spec.template.metadata.annotations['checksum/oidc-ca']).toMatch(/^[0-9a-f]{64}$/);
    expect(find('minimal-values.yaml', 'ConfigMap')).toEqual([]);
    expect(flagValues('minimal-values.yaml', 'oidc-ca-file')).toEqual([]);
  });

  it('the checksum changes with the CA', async () => {
    const before = one('full-featured-values.yaml', 'Deployment').spec.template.metadata.annotations['checksum/oidc-ca'];
    const { manifests } = await render('full-featured-values.yaml', ['--set', 'oidc.caPEM=another']);
    const after = manifests.find((m) => m.kind === 'Deployment')!.spec.template.metadata.annotations['checksum/oidc-ca'];
    expect(after).not.toBe(before);
  });

  it('extra impersonation headers in the jetstack CSV form and the map form become repeated flags', () => {
    expect(flagValues('full-featured-values.yaml', 'extra-user-headers')).toEqual(['Cluster=prod', 'Cluster=eu-west-1', 'Team=platform']);
    expect(flagValues('existing-secret-values.yaml', 'extra-user-headers')).toEqual(['Cluster=prod', 'Region=eu-west-1', 'Region=eu-west-2']);
  });

  it.each([
    ['minimal-values.yaml', []],
    ['cert-manager-values.yaml', ['--disable-end-user-impersonation']],
    ['existing-secret-values.yaml', ['--allow-reserved-identities']],
    ['full-featured-values.yaml', ['--extra-user-header-client-ip']],
  ])('%s: boolean features render exactly %j', (file, expected) => {
    const booleans = ['--disable-end-user-impersonation', '--allow-reserved-identities', '--extra-user-header-client-ip'];
    expect(args(file).filter((a) => booleans.includes(a))).toEqual(expected);
  });

  it('token passthrough, trusted proxies and the discovery listener become their flags', () => {
    const file = 'full-featured-values.yaml';
    expect(args(file)).toContain('--token-passthrough');
    expect(flagValues(file, 'token-passthrough-audiences')).toEqual(['https://kubernetes.default.svc,sts.amazonaws.com']);
    expect(flagValues(file, 'trusted-proxies')).toEqual(['10.0.0.0/8,192.168.1.10']);
    expect(flagValues(file, 'oidc-discovery-bind-address')).toEqual(['0.0.0.0:8443']);
    expect(flagValues(file, 'oidc-discovery-public-url')).toEqual(['https://oidc.example.com']);
    expect(flagValues(file, 'oidc-discovery-cache-ttl')).toEqual(['2m']);
    expect(flagValues(file, 'oidc-discovery-client-cache-ttl')).toEqual(['30m']);
    expect(flagValues(file, 'oidc-discovery-tls-cert-file')).toEqual(['/etc/kube-oidc-proxy/tls/tls.crt']);
    for (const flag of ['token-passthrough', 'trusted-proxies', 'oidc-discovery-bind-address']) {
      expect(args('minimal-values.yaml').map(flagName)).not.toContain(flag);
    }
  });

  it('the discovery port is a container port, a Service port and open in the NetworkPolicy', () => {
    const file = 'full-featured-values.yaml';
    expect(container(file).ports).toContainEqual({ name: 'discovery', containerPort: 8443, protocol: 'TCP' });
    expect(one(file, 'Service').spec.ports).toContainEqual({ name: 'discovery', port: 8443, targetPort: 'discovery', protocol: 'TCP' });
    // loadAllYaml maps the reserved word `from` to client-node's `_from` field.
    expect(one(file, 'NetworkPolicy').spec.ingress).toContainEqual({ ports: [{ port: 'discovery', protocol: 'TCP' }], _from: [{ ipBlock: { cidr: '0.0.0.0/0' } }] });
  });

  it('extraArgs are appended as --flag=value', () => {
    expect(flagValues('full-featured-values.yaml', 'request-timeout')).toEqual(['30s']);
    expect(flagValues('full-featured-values.yaml', 'tls-min-version')).toEqual(['VersionTLS13']);
  });

  it('the image is pinned by digest when one is given, else by the chart appVersion', () => {
    expect(container('cert-manager-values.yaml').image).toBe(
      'registry.example.com/kube-oidc-proxy@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    );
    expect(container('minimal-values.yaml').image).toBe('registry.example.com/kube-oidc-proxy:0.1.0');
  });
});

describe('RBAC covers exactly what the configured proxy sends', () => {
  const END_USER_EXTRAS = ['originaluser.jetstack.io-extra', 'originaluser.jetstack.io-groups', 'originaluser.jetstack.io-uid', 'originaluser.jetstack.io-user'];
  const CREDENTIAL_ID = 'authentication.kubernetes.io/credential-id';

  it.each([
    ['minimal-values.yaml', [CREDENTIAL_ID, ...END_USER_EXTRAS]],
    ['cert-manager-values.yaml', [CREDENTIAL_ID]],
    ['existing-secret-values.yaml', [CREDENTIAL_ID, 'cluster', ...END_USER_EXTRAS, 'region']],
    ['full-featured-values.yaml', [CREDENTIAL_ID, 'cluster', ...END_USER_EXTRAS, 'reason', 'remote-client-ip', 'scopes', 'team']],
  ])('%s: impersonates the extras %j (lowercased)', (file, extras) => {
    expect(impersonatedExtras(file)).toEqual([...extras].sort());
  });

  it.each(ciFiles)('%s: users, groups, service accounts and uids are impersonated', (file) => {
    for (const resource of ['users', 'groups', 'serviceaccounts']) expect(grants(file, '', resource, 'impersonate')).toBe(true);
    expect(grants(file, 'authentication.k8s.io', 'uids', 'impersonate')).toBe(true);
  });

  it.each([
    ['minimal-values.yaml', true],
    ['full-featured-values.yaml', true],
    ['cert-manager-values.yaml', false],
  ] as const)('%s: SubjectAccessReviews are created only with end-user impersonation (%s)', (file, expected) => {
    expect(grants(file, 'authorization.k8s.io', 'subjectaccessreviews', 'create')).toBe(expected);
  });

  it.each([
    ['minimal-values.yaml', false],
    ['cert-manager-values.yaml', false],
    ['existing-secret-values.yaml', false],
    ['full-featured-values.yaml', true],
  ] as const)('%s: TokenReviews are created only with token passthrough (%s)', (file, expected) => {
    expect(grants(file, 'authentication.k8s.io', 'tokenreviews', 'create')).toBe(expected);
  });

  it.each([
    ['minimal-values.yaml', false],
    ['full-featured-values.yaml', true],
  ] as const)('%s: the issuer documents are readable only with the discovery listener (%s)', (file, expected) => {
    const rule = one(file, 'ClusterRole').rules.find((r: { nonResourceURLs?: string[] }) => r.nonResourceURLs);
    expect(rule !== undefined).toBe(expected);
    if (expected) expect(rule).toEqual({ nonResourceURLs: ['/.well-known/openid-configuration', '/openid/v1/jwks'], verbs: ['get'] });
  });

  it('--disable-impersonation: the ClusterRole grants no impersonation and no SubjectAccessReviews', async () => {
    const { manifests } = await render('minimal-values.yaml', ['--set', 'disableImpersonation=true']);
    const role = manifests.find((m) => m.kind === 'ClusterRole')!;
    const rules: PolicyRule[] = role.rules ?? [];
    expect(rules.filter((r) => r.verbs.includes('impersonate'))).toEqual([]);
    expect(rules.some((r: PolicyRule) => r.resources?.includes('subjectaccessreviews'))).toBe(false);
    const deployment = manifests.find((m) => m.kind === 'Deployment')!;
    expect(deployment.spec.template.spec.containers[0].args).toContain('--disable-impersonation');
  });

  it.each(ciFiles)('%s: the binding names the service account the pods run as', (file) => {
    const binding = one(file, 'ClusterRoleBinding');
    expect(binding.roleRef.name).toBe(one(file, 'ClusterRole').metadata.name);
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: one(file, 'ServiceAccount').metadata.name, namespace: NAMESPACE }]);
    expect(one(file, 'Deployment').spec.template.spec.serviceAccountName).toBe(one(file, 'ServiceAccount').metadata.name);
  });
});

describe('TLS', () => {
  it('without a Secret or cert-manager, a CA and a certificate for the Service names are generated', () => {
    const secret = one('minimal-values.yaml', 'Secret');
    expect(secret.type).toBe('kubernetes.io/tls');
    const decode = (key: string) => Buffer.from(secret.data[key], 'base64').toString('utf8');
    const cert = new X509Certificate(decode('tls.crt'));
    const ca = new X509Certificate(decode('ca.crt'));
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.subjectAltName).toContain(`DNS:${RELEASE}-kube-oidc-proxy.${NAMESPACE}.svc`);
    expect(decode('tls.key')).toContain('PRIVATE KEY');
    const volume = one('minimal-values.yaml', 'Deployment').spec.template.spec.volumes.find((v: { name: string }) => v.name === 'tls');
    expect(volume.secret.secretName).toBe(secret.metadata.name);
  });

  it('ingress hosts and extra DNS names are in the generated certificate', () => {
    const secret = named('full-featured-values.yaml', 'Secret', '-tls');
    const cert = new X509Certificate(Buffer.from(secret.data['tls.crt'], 'base64'));
    expect(cert.subjectAltName).toContain('DNS:kube.example.com');
  });

  it('cert-manager: a Certificate for the Service names, written to the Secret the pods mount', () => {
    const certificate = one('cert-manager-values.yaml', 'Certificate');
    expect(certificate.apiVersion).toBe('cert-manager.io/v1');
    expect(certificate.spec.issuerRef).toEqual({ name: 'platform-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' });
    expect(certificate.spec.dnsNames).toContain(`${RELEASE}-kube-oidc-proxy.${NAMESPACE}.svc.cluster.local`);
    expect(find('cert-manager-values.yaml', 'Secret')).toEqual([]);
    const volume = one('cert-manager-values.yaml', 'Deployment').spec.template.spec.volumes.find((v: { name: string }) => v.name === 'tls');
    expect(volume.secret.secretName).toBe(certificate.spec.secretName);
  });

  it('an existing Secret is mounted and nothing is generated', () => {
    expect(find('existing-secret-values.yaml', 'Secret')).toEqual([]);
    expect(find('existing-secret-values.yaml', 'Certificate')).toEqual([]);
    const volume = one('existing-secret-values.yaml', 'Deployment').spec.template.spec.volumes.find((v: { name: string }) => v.name === 'tls');
    expect(volume.secret.secretName).toBe('kube-oidc-proxy-serving');
  });
});

describe('authentication config', () => {
  const file = 'multi-issuer-values.yaml';

  it('is a ConfigMap mounted as a directory where --authentication-config points, with no --oidc-* flag', () => {
    const config = loadYaml(named(file, 'ConfigMap', '-authentication-config').data['config.yaml']) as { kind: string; jwt: unknown[] };
    expect(config).toMatchObject({ apiVersion: 'apiserver.config.k8s.io/v1', kind: 'AuthenticationConfiguration' });
    expect(config.jwt).toHaveLength(2);
    expect(flagValues(file, 'authentication-config')).toEqual(['/etc/kube-oidc-proxy/authentication/config.yaml']);
    expect(flagValues(file, 'authentication-config-reload-interval')).toEqual(['30s']);
    expect(args(file)).toContain('--readiness-require-all-issuers');
    expect(args(file).filter((a) => a.startsWith('--oidc-'))).toEqual([]);
    // No subPath: a subPath mount never sees ConfigMap updates, and the proxy reloads the file on its own.
    const mount = container(file).volumeMounts.find((m: { name: string }) => m.name === 'authentication-config');
    expect(mount).toEqual({ name: 'authentication-config', mountPath: '/etc/kube-oidc-proxy/authentication', readOnly: true });
    expect(one(file, 'Deployment').spec.template.metadata.annotations['checksum/authentication-config']).toBeUndefined();
  });

  it('is not rendered with the oidc.* values', () => {
    expect(flagValues('minimal-values.yaml', 'authentication-config')).toEqual([]);
    expect(manifestsOf('minimal-values.yaml').filter((m) => m.metadata.name.includes('authentication-config'))).toEqual([]);
  });
});

describe('audit', () => {
  const volumeOf = (file: string, name: string) => one(file, 'Deployment').spec.template.spec.volumes.find((v: { name: string }) => v.name === name);
  const mountOf = (file: string, name: string) => container(file).volumeMounts.find((m: { name: string }) => m.name === name);

  it('without a policy no --audit-* flag and no audit object is rendered', () => {
    for (const file of ['minimal-values.yaml', 'cert-manager-values.yaml']) {
      expect(args(file).filter((a) => a.startsWith('--audit-'))).toEqual([]);
      expect(manifestsOf(file).filter((m) => m.metadata.name.includes('audit'))).toEqual([]);
    }
  });

  it('the policy is a ConfigMap mounted where --audit-policy-file points, and a change rolls the pods', async () => {
    const file = 'full-featured-values.yaml';
    const policy = loadYaml(named(file, 'ConfigMap', '-audit-policy').data['policy.yaml']) as { kind: string; rules: unknown[] };
    expect(policy).toMatchObject({ apiVersion: 'audit.k8s.io/v1', kind: 'Policy', omitStages: ['RequestReceived'] });
    expect(policy.rules).toHaveLength(3);
    expect(flagValues(file, 'audit-policy-file')).toEqual(['/etc/kube-oidc-proxy/audit/policy.yaml']);
    expect(mountOf(file, 'audit-policy')).toEqual({ name: 'audit-policy', mountPath: '/etc/kube-oidc-proxy/audit', readOnly: true });
    expect(volumeOf(file, 'audit-policy').configMap.name).toBe(`${RELEASE}-kube-oidc-proxy-audit-policy`);
    const before = one(file, 'Deployment').spec.template.metadata.annotations['checksum/audit-policy'];
    const { manifests } = await render(file, ['--set', 'audit.policy.rules[0].level=None']);
    expect(manifests.find((m) => m.kind === 'Deployment')!.spec.template.metadata.annotations['checksum/audit-policy']).not.toBe(before);
  });

  it('a log file under /var/log/kube-oidc-proxy/ gets an emptyDir there and the rotation flags', () => {
    const file = 'full-featured-values.yaml';
    expect(flagValues(file, 'audit-log-path')).toEqual(['/var/log/kube-oidc-proxy/audit.log']);
    expect([flagValues(file, 'audit-log-maxage'), flagValues(file, 'audit-log-maxbackup'), flagValues(file, 'audit-log-maxsize')]).toEqual([['7'], ['5'], ['100']]);
    expect(mountOf(file, 'audit-log').mountPath).toBe('/var/log/kube-oidc-proxy');
    expect(volumeOf(file, 'audit-log').emptyDir).toEqual({ sizeLimit: '1Gi' });
    expect(flagValues('existing-secret-values.yaml', 'audit-log-path')).toEqual([]);
    expect(volumeOf('existing-secret-values.yaml', 'audit-log')).toBeUndefined();
  });

  it("the webhook's kubeconfig is a Secret (it holds a token), never a ConfigMap or an argument", () => {
    const file = 'full-featured-values.yaml';
    const secret = named(file, 'Secret', '-audit-webhook');
    expect(Buffer.from(secret.data.kubeconfig, 'base64').toString('utf8')).toContain('token: chart-test-webhook-token');
    expect(JSON.stringify(find(file, 'ConfigMap'))).not.toContain('chart-test-webhook-token');
    expect(JSON.stringify(one(file, 'Deployment'))).not.toContain('chart-test-webhook-token');
    expect(flagValues(file, 'audit-webhook-config-file')).toEqual(['/etc/kube-oidc-proxy/audit-webhook/kubeconfig']);
    expect(volumeOf(file, 'audit-webhook').secret.secretName).toBe(secret.metadata.name);
    expect(one(file, 'Deployment').spec.template.metadata.annotations['checksum/audit-webhook']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('with a webhook the kubelet also waits for the 15 s audit flush after the drain', () => {
    const seconds = (file: string) => one(file, 'Deployment').spec.template.spec.terminationGracePeriodSeconds as number;
    // full-featured: preStop 10 + drain 120 + 10, + 15 for the webhook flush; minimal: 5 + 60 + 10.
    expect(seconds('full-featured-values.yaml')).toBe(155);
    expect(seconds('minimal-values.yaml')).toBe(75);
  });

  it('batch flags are rendered from values with kube-apiserver defaults; blocking mode renders none', () => {
    const batch = (file: string) => args(file).filter((a) => a.startsWith('--audit-webhook-'));
    expect(batch('full-featured-values.yaml')).toEqual([
      '--audit-webhook-config-file=/etc/kube-oidc-proxy/audit-webhook/kubeconfig',
      '--audit-webhook-mode=batch',
      '--audit-webhook-initial-backoff=5s',
      '--audit-webhook-batch-buffer-size=10000',
      '--audit-webhook-batch-max-size=200',
      '--audit-webhook-batch-max-wait=10s',
      '--audit-webhook-batch-throttle-enable=true',
      '--audit-webhook-batch-throttle-qps=2.5',
      '--audit-webhook-batch-throttle-burst=15',
    ]);
    expect(batch('existing-secret-values.yaml')).toEqual([
      '--audit-webhook-config-file=/etc/kube-oidc-proxy/audit-webhook/kubeconfig',
      '--audit-webhook-mode=blocking',
      '--audit-webhook-initial-backoff=10s',
    ]);
    expect(volumeOf('existing-secret-values.yaml', 'audit-webhook').secret.secretName).toBe('siem-audit-webhook');
    expect(find('existing-secret-values.yaml', 'Secret')).toEqual([]);
  });
});

describe('optional objects appear exactly when enabled', () => {
  it.each([
    ['Ingress', ['full-featured']],
    ['HorizontalPodAutoscaler', ['full-featured']],
    ['NetworkPolicy', ['full-featured']],
    ['ServiceMonitor', ['full-featured']],
    ['PodDisruptionBudget', ['full-featured', 'minimal', 'multi-issuer']],
  ])('%s: %j', (kind, expected) => {
    expect(ciFiles.filter((f) => find(f, kind).length > 0).map(ciName)).toEqual(expected);
  });

  it('the Ingress sends TLS through to the https port', () => {
    const ingress = one('full-featured-values.yaml', 'Ingress');
    expect(ingress.metadata.annotations!['nginx.ingress.kubernetes.io/ssl-passthrough']).toBe('true');
    expect(ingress.spec.rules[0].http.paths[0].backend.service.port).toEqual({ name: 'https' });
  });

  it('with an HPA the Deployment leaves replicas to it', () => {
    expect(one('full-featured-values.yaml', 'Deployment').spec.replicas).toBeUndefined();
    expect(one('full-featured-values.yaml', 'HorizontalPodAutoscaler').apiVersion).toBe('autoscaling/v2');
    expect(one('minimal-values.yaml', 'Deployment').spec.replicas).toBe(2);
  });

  it('the ServiceMonitor scrapes /metrics on the ops port the Service then exposes', () => {
    expect(one('full-featured-values.yaml', 'ServiceMonitor').spec.endpoints[0]).toMatchObject({ port: 'ops', path: '/metrics' });
    expect(one('full-featured-values.yaml', 'Service').spec.ports.map((p: { name: string }) => p.name)).toEqual(['https', 'discovery', 'ops']);
    expect(one('minimal-values.yaml', 'Service').spec.ports.map((p: { name: string }) => p.name)).toEqual(['https']);
  });

  it('the PodDisruptionBudget is policy/v1 and uses maxUnavailable when given', () => {
    expect(one('minimal-values.yaml', 'PodDisruptionBudget')).toMatchObject({ apiVersion: 'policy/v1', spec: { minAvailable: 1 } });
    expect(one('full-featured-values.yaml', 'PodDisruptionBudget').spec).not.toHaveProperty('minAvailable');
    expect(one('full-featured-values.yaml', 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
  });
});

describe('bad values are refused before anything is rendered', () => {
  const refused = async (extra: readonly string[]) => {
    const result = await helm(['template', RELEASE, chartDir, '-f', join(chartDir, 'ci', 'minimal-values.yaml'), ...extra]);
    expect(result.code).not.toBe(0);
    return result.stderr;
  };

  it.each([
    ['a typo in a key (oidc.issuerURL)', ['--set', 'oidc.issuerURL=https://x.example.com'], /issuerURL/],
    ['an unknown top-level key', ['--set', 'replicas=3'], /replicas/],
    ['a string where a number belongs', ['--set-string', 'replicaCount=two'], /replicaCount/],
    ['an http issuer', ['--set', 'oidc.issuerUrl=http://issuer.example.com'], /issuerUrl/],
    ['a symmetric signing algorithm', ['--set', 'oidc.signingAlgs={HS256}'], /signingAlgs/],
    ['a service-account issuer listed twice', ['--set', 'serviceAccountIssuers={https://sa.example.com,https://sa.example.com}'], /serviceAccountIssuers/],
    ['an empty service-account issuer', ['--set', 'serviceAccountIssuers[0]='], /serviceAccountIssuers/],
  ])('%s', async (_what, extra, message) => {
    expect(await refused(extra)).toMatch(message);
  });

  it('an authentication config together with oidc.issuerUrl', async () => {
    expect(await refused(['--set', 'authenticationConfig.kind=AuthenticationConfiguration', '--set', 'authenticationConfig.jwt[0].issuer.url=https://x.example.com'])).toContain(
      'authenticationConfig and oidc.issuerUrl/oidc.clientId are mutually exclusive',
    );
  });

  it.each([
    ['oidc.issuerUrl', ['--set', 'serviceAccountIssuers={https://kubernetes.default.svc,https://issuer.example.com}'], 'oidc.issuerUrl must not be one of serviceAccountIssuers'],
    [
      'an authenticationConfig issuer',
      ['--set', 'oidc.issuerUrl=', '--set', 'oidc.clientId=', '--set', 'authenticationConfig.kind=AuthenticationConfiguration', '--set', 'authenticationConfig.jwt[0].issuer.url=https://ok.example.com', '--set', 'authenticationConfig.jwt[1].issuer.url=https://sa.example.com', '--set', 'serviceAccountIssuers={https://sa.example.com}'],
      'authenticationConfig.jwt[1].issuer.url must not be one of serviceAccountIssuers',
    ],
  ])('%s equal to a service-account issuer, as the proxy would refuse it (vector 105)', async (_what, extra, message) => {
    expect(await refused(extra)).toContain(message);
  });

  it('a discovery port that collides with the https or ops port', async () => {
    expect(await refused(['--set', 'oidcDiscovery.port=8080'])).toMatch(/oidcDiscovery/);
  });

  it.each([
    ['a webhook without a policy', ['--set', 'audit.webhook.existingSecret=s'], 'audit.webhook is set but audit.policy is empty'],
    ['both a kubeconfig and an existing Secret', ['--set', 'audit.policy.kind=Policy', '--set', 'audit.webhook.existingSecret=s', '--set', 'audit.webhook.kubeconfig=x'], 'set kubeconfig or existingSecret, not both'],
    ['blocking-strict, which the proxy refuses', ['--set', 'audit.webhook.mode=blocking-strict'], 'mode'],
  ])('audit: %s', async (_what, extra, message) => {
    expect(await refused(extra)).toContain(message);
  });

  it('a missing issuer is named', async () => {
    const result = await helm(['template', RELEASE, chartDir, '--set', 'image.repository=r', '--set', 'oidc.clientId=c']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('oidc.issuerUrl is required');
  });

  it('a termination grace shorter than the drain is refused', async () => {
    expect(await refused(['--set', 'terminationGracePeriodSeconds=30'])).toContain('terminationGracePeriodSeconds must exceed');
  });
});

describe('against the e2e kube-apiserver', () => {
  let cp: ControlPlane;

  // Stand-ins for the cert-manager and Prometheus operator CRDs, so their objects can be dry-run too. They
  // accept any spec: the kinds, groups and versions are what is checked here, not cert-manager's schema.
  const STUB_CRDS = [
    ['cert-manager.io', 'Certificate', 'certificates'],
    ['monitoring.coreos.com', 'ServiceMonitor', 'servicemonitors'],
  ]
    .map(
      ([group, kind, plural]) => `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: ${plural}.${group}}
spec:
  group: ${group}
  scope: Namespaced
  names: {kind: ${kind}, plural: ${plural}, singular: ${kind!.toLowerCase()}}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`,
    )
    .join('---');

  beforeAll(async () => {
    cp = await ControlPlane.start({ controllers: true });
    await cp.applyYaml(STUB_CRDS);
    await cp.ensureNamespace(NAMESPACE);
    for (const plural of ['certificates.cert-manager.io', 'servicemonitors.monitoring.coreos.com']) {
      const wait = await cp.kubectl(['wait', '--for=condition=Established', '--timeout=30s', `crd/${plural}`]);
      if (wait.code !== 0) throw new Error(wait.stderr);
    }
  }, 120_000);

  afterAll(async () => {
    await cp?.stop();
  });

  it.each(ciFiles)('%s: every rendered object passes server-side dry-run', async (file) => {
    const result = await cp.kubectl(['apply', '--dry-run=server', '-n', NAMESPACE, '-f', '-'], { stdin: rendered.get(file)!.yaml });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const kinds = manifestsOf(file).map((m) => m.kind);
    expect(result.stdout.trim().split('\n')).toHaveLength(kinds.length);
  });

  it('helm install creates every object; an upgrade keeps the generated TLS pair', async () => {
    const ns = 'kop-helm';
    const valuesFile = join(chartDir, 'ci', 'minimal-values.yaml');
    const install = await helm(['install', RELEASE, chartDir, '-n', ns, '--create-namespace', '-f', valuesFile], cp.adminKubeconfig);
    expect(install.stderr).toBe('');
    expect(install.code).toBe(0);
    expect(install.stdout).toContain('STATUS: deployed');
    // NOTES: the Service port and the CA extraction from the Secret the chart generated.
    expect(install.stdout).toContain(`${RELEASE}-kube-oidc-proxy.${ns}.svc:443`);
    expect(install.stdout).toContain(`get secret ${RELEASE}-kube-oidc-proxy-tls -o jsonpath='{.data.ca\\.crt}'`);

    const names = await cp.kubectl(['get', 'deployment,service,serviceaccount,secret,poddisruptionbudget', '-n', ns, '-o', 'name']);
    expect(names.stdout.split('\n').filter(Boolean).sort()).toEqual(
      [
        `deployment.apps/${RELEASE}-kube-oidc-proxy`,
        `poddisruptionbudget.policy/${RELEASE}-kube-oidc-proxy`,
        `secret/${RELEASE}-kube-oidc-proxy-tls`,
        `secret/sh.helm.release.v1.${RELEASE}.v1`,
        `service/${RELEASE}-kube-oidc-proxy`,
        `serviceaccount/${RELEASE}-kube-oidc-proxy`,
      ].sort(),
    );
    const rbac = await cp.kubectl(['get', `clusterrole/${RELEASE}-kube-oidc-proxy`, `clusterrolebinding/${RELEASE}-kube-oidc-proxy`, '-o', 'name']);
    expect(rbac.code).toBe(0);

    // The controller manager and scheduler place both replicas on kwok's fake node, which reports them
    // Ready: the Deployment as rendered (securityContext, probes, volumes, spread) is schedulable.
    const available = await cp.kubectl(['wait', '--for=condition=Available', `deployment/${RELEASE}-kube-oidc-proxy`, '-n', ns, '--timeout=60s']);
    expect(available.stderr).toBe('');
    expect(available.code).toBe(0);
    const ready = await cp.kubectl(['get', 'deployment', `${RELEASE}-kube-oidc-proxy`, '-n', ns, '-o', 'jsonpath={.status.readyReplicas}']);
    expect(ready.stdout).toBe('2');

    const caBefore = await cp.kubectl(['get', 'secret', `${RELEASE}-kube-oidc-proxy-tls`, '-n', ns, '-o', 'jsonpath={.data.ca\\.crt}']);
    const upgrade = await helm(['upgrade', RELEASE, chartDir, '-n', ns, '-f', valuesFile, '--set', 'logLevel=debug'], cp.adminKubeconfig);
    expect(upgrade.code).toBe(0);
    const caAfter = await cp.kubectl(['get', 'secret', `${RELEASE}-kube-oidc-proxy-tls`, '-n', ns, '-o', 'jsonpath={.data.ca\\.crt}']);
    expect(caBefore.stdout.length).toBeGreaterThan(100);
    expect(caAfter.stdout).toBe(caBefore.stdout);
    const deployedArgs = await cp.kubectl(['get', 'deployment', `${RELEASE}-kube-oidc-proxy`, '-n', ns, '-o', 'jsonpath={.spec.template.spec.containers[0].args}']);
    expect(JSON.parse(deployedArgs.stdout)).toContain('--log-level=debug');
  }, 120_000);
});
