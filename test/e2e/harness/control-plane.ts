/**
 * A real Kubernetes control plane for e2e tests: etcd, kube-apiserver and (optionally) kwok, all on
 * 127.0.0.1 with random ports, generated certificates and a temporary directory.
 *
 * What tests can rely on:
 * - kube-apiserver authenticates with client certificates (client CA) and service-account tokens only:
 *   `--anonymous-auth=false`, `--authorization-mode=RBAC`, no static tokens. `adminKubeconfig` is a
 *   client-cert user in `system:masters`.
 * - Service-account tokens come from the real TokenRequest API (`createServiceAccountToken`), signed by
 *   the harness's key, issuer `serviceAccountIssuer`, default audiences `apiAudiences`.
 * - The API server's own audit log (Metadata level, JSON lines) is readable through `auditEvents()`;
 *   the harness's own traffic (kwok, the apiserver's loopback client, health probes) is left out.
 * - With kwok, one Ready fake node (`fakeNodeName`) whose kubelet endpoint runs `kubectl exec` commands
 *   locally in `execWorkDir`, serves `podLogFile` for `kubectl logs`/`attach`, and forwards every pod
 *   port to a local TCP echo server. There is no scheduler and no controller-manager: `createFakePod`
 *   binds pods to the fake node, and `ensureNamespace` creates the `default` service account itself.
 *   For the same reason the aggregated ClusterRoles (`admin`, `edit`, `view`) have no rules: bind
 *   explicit Roles in tests.
 * - kwok v0.8.0 quirks: exec never closes the command's stdin, so a command reading stdin to EOF
 *   (`cat`, the `tar` behind `kubectl cp` *into* a pod) never ends — use `head -n N`; attach only shows
 *   lines written after it attached; a half-closed port-forward connection gets no FIN back.
 * - `stop()` always tears everything down; the directory (logs, audit log, etcd data) is kept and its
 *   path printed when a test failed (specs using e2e-environment.ts), a component died, or E2E_KEEP_LOGS=1.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestCa, type TestCa, type TestLeaf } from '../../fixtures/tls.js';
import { findKubectls, resolveControlPlaneBinaries, resolveControllerBinaries, type ControlPlaneBinaries, type KubectlBinaries } from './binaries.js';
import { runToCompletion, startInBackground, type KubectlResult } from './kubectl-runner.js';
import { criLogLine, FAKE_NODE_ANNOTATION, kwokConfigYaml } from './kwok-config.js';
import { freePort, ManagedProcess, waitFor } from './managed-process.js';

export { waitForOutput, type KubectlResult } from './kubectl-runner.js';

export interface ControlPlaneOptions {
  /** Start kwok and a fake node (default true). */
  readonly kwok?: boolean;
  /** Overrides binary discovery (see binaries.ts). */
  readonly binaries?: ControlPlaneBinaries;
  /** kube-apiserver `--v` (default 1). */
  readonly apiserverVerbosity?: number;
  /**
   * Also start kube-controller-manager (deployment and replicaset controllers only) and kube-scheduler, so a
   * Deployment gets pods scheduled onto kwok's fake node and becomes Available (default false).
   */
  readonly controllers?: boolean;
}

export interface KubectlOptions {
  /** Kubeconfig file (default: the admin kubeconfig). */
  readonly kubeconfig?: string;
  /** `1.NN` runs `kubectl.1.NN` (see `kubectlVersions()`); default: the `kubectl` on PATH. */
  readonly version?: string;
  readonly stdin?: string;
  readonly timeoutMs?: number;
}

export interface KubeconfigUser {
  readonly token?: string;
  readonly clientCertificate?: { readonly certFile: string; readonly keyFile: string };
}

export interface ApiResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
}

/** The fields of an audit.k8s.io/v1 Event the e2e cases look at. */
export interface AuditEvent {
  readonly auditID: string;
  readonly stage: string;
  readonly verb: string;
  readonly requestURI: string;
  readonly user: { readonly username?: string; readonly groups?: readonly string[]; readonly extra?: Record<string, readonly string[]> };
  readonly impersonatedUser?: { readonly username?: string; readonly groups?: readonly string[]; readonly extra?: Record<string, readonly string[]> };
  readonly sourceIPs?: readonly string[];
  readonly userAgent?: string;
  readonly objectRef?: { readonly resource?: string; readonly namespace?: string; readonly name?: string; readonly subresource?: string };
  readonly responseStatus?: { readonly code?: number };
}

const KWOK_USER = 'e2e-kwok-controller';

interface Pki {
  readonly servingCa: TestCa;
  readonly serving: TestLeaf;
  readonly admin: TestLeaf;
  readonly kubeletClient: TestLeaf;
  readonly saKeyFile: string;
  readonly saPublicKeyFile: string;
}

/** Versions of the real kubectl binaries available here (`['1.27', …, '1.33']`). */
export function kubectlVersions(): string[] {
  return [...findKubectls().byVersion.keys()];
}

/**
 * kubectl 1.27's `auth whoami` only speaks SelfSubjectReview v1beta1/v1alpha1; v1beta1 was removed in
 * Kubernetes 1.33 (its prerelease lifecycle), so against this API server whoami needs kubectl ≥ 1.28.
 */
export function kubectlHasWhoami(version: string): boolean {
  return Number(version.split('.')[1]) >= 28;
}

export class ControlPlane {
  readonly dir: string;
  readonly logDir: string;
  readonly adminKubeconfig: string;
  readonly auditLogFile: string;
  /** Issues client certificates the API server accepts (CN = user, O = groups). */
  readonly clientCa: TestCa;
  /** CA of the API server's (and the fake kubelet's) serving certificates. */
  readonly servingCaFile: string;
  readonly execWorkDir: string;
  readonly podLogFile: string;
  readonly fakeNodeName = 'kwok-node-0';
  readonly kubectls: KubectlBinaries;
  url = '';
  serviceAccountIssuer = '';
  apiAudiences: readonly string[] = [];
  /** Every pod port on the fake node forwards here; it echoes what it receives. */
  portForwardTarget = { address: '127.0.0.1', port: 0 };

  private readonly processes: ManagedProcess[] = [];
  private readonly backgroundKubectls = new Set<ChildProcess>();
  private echoServer: Server | undefined;
  private admin: { cert: string; key: string; ca: string } | undefined;
  private kwokEnabled = false;
  private stopped = false;
  private failed = false;

  private constructor(private readonly binaries: ControlPlaneBinaries) {
    this.kubectls = findKubectls();
    this.dir = mkdtempSync(join(tmpdir(), 'kop-e2e-'));
    this.logDir = join(this.dir, 'logs');
    this.execWorkDir = join(this.dir, 'kwok/exec-root');
    for (const sub of ['logs', 'pki/serving', 'pki/clients', 'pki/apiserver', 'kwok/exec-root', 'kwok/home', 'etcd', 'kubectl-cache']) {
      mkdirSync(join(this.dir, sub), { recursive: true });
    }
    this.adminKubeconfig = join(this.dir, 'admin.kubeconfig');
    this.auditLogFile = join(this.logDir, 'audit.log');
    this.podLogFile = join(this.dir, 'kwok/pod.log');
    writeFileSync(this.podLogFile, '');
    this.clientCa = createTestCa(join(this.dir, 'pki/clients'));
    this.servingCaFile = join(this.dir, 'pki/serving/ca.crt');
  }

  /** Starts etcd, kube-apiserver and (by default) kwok; on any failure tears down what started and keeps the logs. */
  static async start(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const plane = new ControlPlane(opts.binaries ?? resolveControlPlaneBinaries());
    try {
      await plane.startAll(opts);
      return plane;
    } catch (error) {
      await plane.stop({ failed: true });
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`control plane failed to start: ${message}\n(logs kept in ${plane.logDir})`);
    }
  }

  private async startAll(opts: ControlPlaneOptions): Promise<void> {
    const pki = this.issueCertificates();
    const etcdUrl = await this.startEtcd();
    await this.startApiserver(pki, etcdUrl, opts.apiserverVerbosity ?? 1);
    if (opts.kwok ?? true) await this.startKwok(pki.servingCa);
    if (opts.controllers) await this.startControllers(pki.admin);
  }

  /** The two controllers a Deployment needs, as the admin (a test cluster: no per-controller identities). */
  private async startControllers(admin: TestLeaf): Promise<void> {
    const binaries = resolveControllerBinaries();
    const kubeconfig = join(this.dir, 'controllers.kubeconfig');
    writeFileSync(kubeconfig, this.kubeconfigYaml({ clientCertificate: admin }), { mode: 0o600 });
    const common = [`--kubeconfig=${kubeconfig}`, '--leader-elect=false', '--secure-port=0', '--v=1'];
    const manager = this.spawn('kube-controller-manager', binaries.kubeControllerManager, [
      ...common,
      '--controllers=deployment-controller,replicaset-controller',
      '--use-service-account-credentials=false',
    ]);
    const scheduler = this.spawn('kube-scheduler', binaries.kubeScheduler, common);
    // Specs wait on the objects they create (with every process watched), so here it is enough that
    // neither refused its flags and exited at once.
    await new Promise((r) => setTimeout(r, 1000));
    for (const process of [manager, scheduler]) if (process.diedUnexpectedly) throw new Error(process.describeExit());
  }

  /** Serving CA (API server, fake kubelet), client certificates, and the service-account signing key. */
  private issueCertificates(): Pki {
    const servingCa = createTestCa(join(this.dir, 'pki/serving'));
    const saKeyFile = join(this.dir, 'pki/service-account.key');
    const saPublicKeyFile = join(this.dir, 'pki/service-account.pub');
    execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', saKeyFile], { stdio: 'ignore' });
    execFileSync('openssl', ['pkey', '-in', saKeyFile, '-pubout', '-out', saPublicKeyFile], { stdio: 'ignore' });
    const admin = this.clientCa.issue('admin', { commonName: 'e2e-admin', organizations: ['system:masters'] });
    this.admin = { cert: readFileSync(admin.certFile, 'utf8'), key: readFileSync(admin.keyFile, 'utf8'), ca: servingCa.caPem };
    return {
      servingCa,
      serving: servingCa.issue('kube-apiserver', {
        dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
        ips: ['127.0.0.1'],
      }),
      admin,
      kubeletClient: this.clientCa.issue('kubelet-client', { commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters'] }),
      saKeyFile,
      saPublicKeyFile,
    };
  }

  private async startApiserver(pki: Pki, etcdUrl: string, verbosity: number): Promise<void> {
    const port = await freePort();
    this.url = `https://127.0.0.1:${port}`;
    this.serviceAccountIssuer = this.url;
    this.apiAudiences = [this.url];
    const auditPolicy = join(this.dir, 'audit-policy.json');
    writeFileSync(auditPolicy, JSON.stringify(auditPolicyDocument()));
    const apiserver = this.spawn('kube-apiserver', this.binaries.kubeApiserver, [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${port}`,
      `--cert-dir=${join(this.dir, 'pki/apiserver')}`,
      `--tls-cert-file=${pki.serving.certFile}`,
      `--tls-private-key-file=${pki.serving.keyFile}`,
      `--client-ca-file=${this.clientCa.caCertFile}`,
      '--anonymous-auth=false',
      '--authorization-mode=RBAC',
      `--service-account-issuer=${this.serviceAccountIssuer}`,
      `--service-account-key-file=${pki.saPublicKeyFile}`,
      `--service-account-signing-key-file=${pki.saKeyFile}`,
      `--api-audiences=${this.apiAudiences.join(',')}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      // The `kubernetes` Service endpoint may not be a loopback address, and nothing in-cluster needs it.
      '--endpoint-reconciler-type=none',
      `--audit-policy-file=${auditPolicy}`,
      `--audit-log-path=${this.auditLogFile}`,
      '--audit-log-format=json',
      `--kubelet-client-certificate=${pki.kubeletClient.certFile}`,
      `--kubelet-client-key=${pki.kubeletClient.keyFile}`,
      `--kubelet-certificate-authority=${pki.servingCa.caCertFile}`,
      '--kubelet-preferred-address-types=InternalIP',
      '--profiling=false',
      `--v=${verbosity}`,
    ]);
    await waitFor('kube-apiserver /readyz', async () => (await this.api('GET', '/readyz')).status === 200, {
      timeoutMs: 90_000,
      watch: [apiserver],
    });
    writeFileSync(this.adminKubeconfig, this.kubeconfigYaml({ clientCertificate: pki.admin }));
  }

  private async startEtcd(): Promise<string> {
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    const clientUrl = `http://127.0.0.1:${clientPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const etcd = this.spawn('etcd', this.binaries.etcd, [
      '--name=e2e',
      `--data-dir=${join(this.dir, 'etcd')}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=e2e=${peerUrl}`,
      '--unsafe-no-fsync', // a throwaway test store: durability only costs time
      '--log-level=warn',
    ]);
    await waitFor(
      'etcd /health',
      async () => {
        const response = await fetch(`${clientUrl}/health`);
        return response.ok && ((await response.json()) as { health?: string }).health === 'true';
      },
      { timeoutMs: 30_000, watch: [etcd] },
    );
    return clientUrl;
  }

  private async startKwok(servingCa: TestCa): Promise<void> {
    this.echoServer = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => this.echoServer!.listen(0, '127.0.0.1', resolve));
    const echoAddress = this.echoServer.address();
    this.portForwardTarget = { address: '127.0.0.1', port: typeof echoAddress === 'object' && echoAddress ? echoAddress.port : 0 };

    const kwokCert = this.clientCa.issue('kwok', { commonName: KWOK_USER, organizations: ['system:masters'] });
    const kwokKubeconfig = join(this.dir, 'kwok/kwok.kubeconfig');
    writeFileSync(kwokKubeconfig, this.kubeconfigYaml({ clientCertificate: kwokCert }));
    const kubeletServing = servingCa.issue('kwok-kubelet', { dnsNames: [this.fakeNodeName], ips: ['127.0.0.1'] });
    const kwokConfig = join(this.dir, 'kwok/kwok.yaml');
    writeFileSync(kwokConfig, kwokConfigYaml({ execWorkDir: this.execWorkDir, podLogFile: this.podLogFile, portForwardTarget: this.portForwardTarget }));

    const nodePort = await freePort();
    const kwok = this.spawn(
      'kwok',
      this.binaries.kwok,
      [
        `--kubeconfig=${kwokKubeconfig}`,
        `--config=${kwokConfig}`,
        '--manage-all-nodes=false',
        `--manage-nodes-with-annotation-selector=${FAKE_NODE_ANNOTATION.key}=${FAKE_NODE_ANNOTATION.value}`,
        '--node-ip=127.0.0.1',
        `--node-port=${nodePort}`,
        `--server-address=127.0.0.1:${nodePort}`,
        `--tls-cert-file=${kubeletServing.certFile}`,
        `--tls-private-key-file=${kubeletServing.keyFile}`,
      ],
      // kwok also reads ~/.kwok/kwok.yaml when it exists: give it a HOME of its own.
      { ...process.env, HOME: join(this.dir, 'kwok/home') },
    );
    this.kwokEnabled = true;
    await this.expectOk(
      await this.api('POST', '/api/v1/nodes', {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name: this.fakeNodeName,
          annotations: { [FAKE_NODE_ANNOTATION.key]: FAKE_NODE_ANNOTATION.value, 'node.alpha.kubernetes.io/ttl': '0' },
          labels: { 'kubernetes.io/hostname': this.fakeNodeName, type: 'kwok' },
        },
      }),
      'create the fake node',
    );
    await waitFor(
      `fake node ${this.fakeNodeName} Ready`,
      async () => {
        const node = await this.api<{ status?: { conditions?: { type: string; status: string }[] } }>('GET', `/api/v1/nodes/${this.fakeNodeName}`);
        return node.body.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
      },
      { timeoutMs: 30_000, watch: [kwok] },
    );
    // The API server taints a new node not-ready; the node lifecycle controller would lift it once the node
    // is Ready, but none runs here. Lift it, so kube-scheduler (when started) can place pods on it.
    await this.expectOk(
      await this.api('PATCH', `/api/v1/nodes/${this.fakeNodeName}`, { spec: { taints: null } }, 'application/merge-patch+json'),
      'untaint the fake node',
    );
  }

  private spawn(name: string, binary: string, args: readonly string[], env?: NodeJS.ProcessEnv): ManagedProcess {
    const child = ManagedProcess.start(name, binary, args, { logFile: join(this.logDir, `${name}.log`), env });
    this.processes.push(child);
    return child;
  }

  /** A kubeconfig for `user` against `server` (default: this API server) and the serving CA. */
  kubeconfigYaml(user: KubeconfigUser, opts: { server?: string; caFile?: string } = {}): string {
    const userEntry: Record<string, string> = {};
    if (user.token) userEntry.token = user.token;
    if (user.clientCertificate) {
      userEntry['client-certificate'] = user.clientCertificate.certFile;
      userEntry['client-key'] = user.clientCertificate.keyFile;
    }
    return JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'e2e', cluster: { server: opts.server ?? this.url, 'certificate-authority': opts.caFile ?? this.servingCaFile } }],
      users: [{ name: 'e2e', user: userEntry }],
      contexts: [{ name: 'e2e', context: { cluster: 'e2e', user: 'e2e', namespace: 'default' } }],
      'current-context': 'e2e',
    });
  }

  /** Writes a kubeconfig under the run directory and returns its path. */
  writeKubeconfig(name: string, user: KubeconfigUser, opts: { server?: string; caFile?: string } = {}): string {
    const path = join(this.dir, `${name}.kubeconfig`);
    writeFileSync(path, this.kubeconfigYaml(user, opts), { mode: 0o600 });
    return path;
  }

  private kubectlBinary(version: string | undefined): string {
    if (version === undefined) return this.kubectls.default;
    const binary = this.kubectls.byVersion.get(version);
    if (!binary) throw new Error(`no kubectl ${version} here; available: ${[...this.kubectls.byVersion.keys()].join(', ')}`);
    return binary;
  }

  private kubectlEnv(kubeconfig: string | undefined): NodeJS.ProcessEnv {
    return { ...process.env, KUBECONFIG: kubeconfig ?? this.adminKubeconfig, KUBECACHEDIR: join(this.dir, 'kubectl-cache') };
  }

  /** Runs a real kubectl to completion; inspect `code`, `stdout` and `stderr` (a failing kubectl does not throw). */
  kubectl(args: readonly string[], opts: KubectlOptions = {}): Promise<KubectlResult> {
    const binary = this.kubectlBinary(opts.version);
    return runToCompletion(binary, [`--cache-dir=${join(this.dir, 'kubectl-cache')}`, ...args], {
      env: this.kubectlEnv(opts.kubeconfig),
      stdin: opts.stdin,
      timeoutMs: opts.timeoutMs ?? 60_000,
    });
  }

  /** Starts a long-running kubectl (watch, logs -f, port-forward, exec -i); killed by `stop()` if still running. */
  startKubectl(args: readonly string[], opts: Omit<KubectlOptions, 'stdin' | 'timeoutMs'> = {}): ChildProcess {
    const child = startInBackground(this.kubectlBinary(opts.version), [`--cache-dir=${join(this.dir, 'kubectl-cache')}`, ...args], this.kubectlEnv(opts.kubeconfig));
    this.backgroundKubectls.add(child);
    child.on('exit', () => this.backgroundKubectls.delete(child));
    return child;
  }

  /** An HTTPS request to the API server as the admin user. Bodies are JSON. */
  api<T = unknown>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<ApiResponse<T>> {
    const admin = this.admin;
    if (!admin) throw new Error('control plane not started');
    const url = new URL(path, this.url);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          ca: admin.ca,
          cert: admin.cert,
          key: admin.key,
          headers: payload ? { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) } : {},
          timeout: 10_000,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // readyz and friends answer in plain text
            }
            resolve({ status: res.statusCode ?? 0, body: parsed as T });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  private expectOk<T>(response: ApiResponse<T>, what: string, allowConflict = false): ApiResponse<T> {
    if (response.status < 300 || (allowConflict && response.status === 409)) return response;
    throw new Error(`${what}: HTTP ${response.status} ${JSON.stringify(response.body)}`);
  }

  /** Creates a namespace and its `default` service account (no controller-manager runs to do it). Idempotent. */
  async ensureNamespace(namespace: string): Promise<void> {
    this.expectOk(await this.api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }), `create namespace ${namespace}`, true);
    await this.ensureServiceAccount(namespace, 'default');
  }

  async ensureServiceAccount(namespace: string, name: string): Promise<void> {
    this.expectOk(
      await this.api('POST', `/api/v1/namespaces/${namespace}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } }),
      `create service account ${namespace}/${name}`,
      true,
    );
  }

  /**
   * A token for `namespace/name` from the TokenRequest API (creating the namespace and service account
   * if needed). Audiences default to the API server's (`apiAudiences`); the API server's minimum lifetime is 600 s.
   */
  async createServiceAccountToken(namespace: string, name: string, audiences?: readonly string[], seconds = 3600): Promise<string> {
    await this.ensureNamespace(namespace);
    await this.ensureServiceAccount(namespace, name);
    const response = this.expectOk(
      await this.api<{ status?: { token?: string } }>('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { audiences: audiences ?? null, expirationSeconds: seconds },
      }),
      `TokenRequest for ${namespace}/${name}`,
    );
    const token = response.body.status?.token;
    if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
    return token;
  }

  /** `kubectl apply --server-side` as admin; throws with kubectl's message on failure. */
  async applyYaml(yaml: string): Promise<string> {
    const result = await this.kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=e2e-harness', '-f', '-'], { stdin: yaml });
    if (result.code !== 0) throw new Error(`kubectl apply failed (exit ${result.code}): ${result.stderr}`);
    return result.stdout;
  }

  /** A pod bound to the fake node, Running once kwok has seen it. Needs kwok. */
  async createFakePod(namespace: string, name: string, containers: readonly string[] = ['main']): Promise<void> {
    if (!this.kwokEnabled) throw new Error('createFakePod needs the control plane started with kwok');
    await this.ensureNamespace(namespace);
    this.expectOk(
      await this.api('POST', `/api/v1/namespaces/${namespace}/pods`, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, labels: { app: name } },
        spec: {
          nodeName: this.fakeNodeName,
          automountServiceAccountToken: false,
          containers: containers.map((c) => ({ name: c, image: 'fake.example/none:latest', ports: [{ containerPort: 8080 }] })),
        },
      }),
      `create pod ${namespace}/${name}`,
    );
    await waitFor(
      `pod ${namespace}/${name} Running`,
      async () => (await this.api<{ status?: { phase?: string } }>('GET', `/api/v1/namespaces/${namespace}/pods/${name}`)).body.status?.phase === 'Running',
      { timeoutMs: 30_000, watch: this.processes },
    );
  }

  /** Appends a line to the log every fake container serves (`kubectl logs [-f]`, `kubectl attach`). */
  appendPodLog(text: string, stream: 'stdout' | 'stderr' = 'stdout'): void {
    appendFileSync(this.podLogFile, criLogLine(text, stream));
  }

  /** The API server's audit events so far (harness traffic excluded by the policy). */
  auditEvents(): AuditEvent[] {
    if (!existsSync(this.auditLogFile)) return [];
    return readFileSync(this.auditLogFile, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as AuditEvent);
  }

  /** Waits for an audit event matching `predicate` (events are written when a response completes). */
  async waitForAuditEvent(predicate: (event: AuditEvent) => boolean, timeoutMs = 10_000): Promise<AuditEvent> {
    let found: AuditEvent | undefined;
    await waitFor('a matching audit event', async () => (found = this.auditEvents().find(predicate)) !== undefined, { timeoutMs });
    return found!;
  }

  /** Components that died on their own since start (a sign the run failed). */
  deadComponents(): string[] {
    return this.processes.filter((p) => p.diedUnexpectedly).map((p) => p.describeExit({ tailLines: 0 }));
  }

  /**
   * Stops everything. Keeps the run directory (and prints where) when `failed`, when a test or hook of
   * the spec failed (with e2e-environment.ts), when a component died, or when E2E_KEEP_LOGS=1;
   * otherwise deletes it. Safe to call twice.
   */
  async stop(opts: { failed?: boolean } = {}): Promise<void> {
    this.failed ||= opts.failed === true || testRunFailed();
    if (this.stopped) return;
    this.stopped = true;
    const dead = this.deadComponents();
    for (const child of this.backgroundKubectls) child.kill('SIGKILL');
    for (const component of [...this.processes].reverse()) await component.stop();
    await new Promise<void>((resolve) => (this.echoServer ? this.echoServer.close(() => resolve()) : resolve()));
    if (this.failed || dead.length > 0 || process.env.E2E_KEEP_LOGS === '1') {
      const why = dead.length > 0 ? `\n${dead.join('\n')}` : '';
      process.stderr.write(
        `\ne2e control plane: run directory kept at ${this.dir}\n` +
          this.processes.map((p) => `  ${p.name}: ${p.logFile}`).join('\n') +
          `\n  audit log: ${this.auditLogFile}${why}\n`,
      );
    } else {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/** Set by e2e-environment.ts on the test global when a test or hook failed. */
function testRunFailed(): boolean {
  return (globalThis as Record<string, unknown>).__kubeOidcProxyE2eFailed === true;
}

/** Metadata for every request, minus the harness's own noise. */
function auditPolicyDocument(): unknown {
  return {
    apiVersion: 'audit.k8s.io/v1',
    kind: 'Policy',
    omitStages: ['RequestReceived'],
    rules: [
      { level: 'None', users: ['system:apiserver', KWOK_USER] },
      { level: 'None', nonResourceURLs: ['/readyz', '/readyz/*', '/healthz', '/healthz/*', '/livez', '/livez/*'] },
      { level: 'Metadata' },
    ],
  };
}
