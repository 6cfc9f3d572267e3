/**
 * Where the control-plane binaries and the real kubectl builds come from.
 *
 * kube-apiserver, etcd and kwok: E2E_KUBE_APISERVER / E2E_ETCD / E2E_KWOK, else KUBEBUILDER_ASSETS (apiserver
 * and etcd), else the cache scripts/e2e-binaries.sh builds into (~/.cache/kube-oidc-proxy-e2e/<k8s version>/bin).
 * kube-controller-manager and kube-scheduler (only for specs that need workloads scheduled, e.g. the chart's
 * Deployment becoming Available): E2E_KUBE_CONTROLLER_MANAGER / E2E_KUBE_SCHEDULER, else the same cache.
 * helm: E2E_HELM, else the same cache (pinned in scripts/e2e-binaries.sh).
 * kubectl: the `kubectl.1.NN` builds that sit beside the real path of `kubectl` on PATH.
 * A missing binary is an error that says how to get it: the e2e suite never skips silently.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readdirSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ControlPlaneBinaries {
  readonly kubeApiserver: string;
  readonly etcd: string;
  readonly kwok: string;
}

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const buildScript = join(repoRoot, 'scripts/e2e-binaries.sh');

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The cache's bin directory, computed by the build script itself so the version lives in one place. */
export function cacheBinDir(): string {
  return execFileSync('bash', [buildScript, '--bin-dir'], { encoding: 'utf8' }).trim();
}

export function resolveControlPlaneBinaries(env: NodeJS.ProcessEnv = process.env): ControlPlaneBinaries {
  const binDir = cacheBinDir();
  const pick = (name: string, explicit: string | undefined, fromAssets: boolean): { path: string; source: string } => {
    if (explicit) return { path: explicit, source: `$E2E_${name.toUpperCase().replace('-', '_')}` };
    if (fromAssets && env.KUBEBUILDER_ASSETS) return { path: join(env.KUBEBUILDER_ASSETS, name), source: '$KUBEBUILDER_ASSETS' };
    return { path: join(binDir, name), source: 'the e2e binary cache' };
  };
  const chosen = {
    kubeApiserver: pick('kube-apiserver', env.E2E_KUBE_APISERVER, true),
    etcd: pick('etcd', env.E2E_ETCD, true),
    kwok: pick('kwok', env.E2E_KWOK, false),
  };
  const missing = Object.values(chosen).filter((b) => !isExecutable(b.path));
  if (missing.length > 0) {
    throw new Error(
      [
        `The e2e suite needs real control-plane binaries; missing: ${missing.map((b) => `${b.path} (from ${b.source})`).join(', ')}.`,
        'Build them once (Go ≥ 1.26; a cold build takes about 15 minutes on 2 cores and 4.5 GB of cache; later runs reuse it):',
        '    scripts/e2e-binaries.sh',
        'or point the suite at existing binaries: KUBEBUILDER_ASSETS=<dir with kube-apiserver and etcd>,',
        'E2E_KUBE_APISERVER, E2E_ETCD, E2E_KWOK=<path>.',
      ].join('\n'),
    );
  }
  return { kubeApiserver: chosen.kubeApiserver.path, etcd: chosen.etcd.path, kwok: chosen.kwok.path };
}

export interface ControllerBinaries {
  readonly kubeControllerManager: string;
  readonly kubeScheduler: string;
}

/** kube-controller-manager and kube-scheduler, built by scripts/e2e-binaries.sh from the same release. */
export function resolveControllerBinaries(env: NodeJS.ProcessEnv = process.env): ControllerBinaries {
  const binDir = cacheBinDir();
  const chosen = {
    kubeControllerManager: env.E2E_KUBE_CONTROLLER_MANAGER || join(binDir, 'kube-controller-manager'),
    kubeScheduler: env.E2E_KUBE_SCHEDULER || join(binDir, 'kube-scheduler'),
  };
  const missing = Object.values(chosen).filter((path) => !isExecutable(path));
  if (missing.length > 0) {
    throw new Error(
      [
        `This spec runs workloads, so it needs kube-controller-manager and kube-scheduler; missing: ${missing.join(', ')}.`,
        'Build them once (Go ≥ 1.26): scripts/e2e-binaries.sh',
        'or point the suite at existing binaries: E2E_KUBE_CONTROLLER_MANAGER, E2E_KUBE_SCHEDULER=<path>.',
      ].join('\n'),
    );
  }
  return chosen;
}

/** The helm binary the chart spec lints, renders and installs with. */
export function resolveHelm(env: NodeJS.ProcessEnv = process.env): string {
  const path = env.E2E_HELM || join(cacheBinDir(), 'helm');
  if (!isExecutable(path)) {
    throw new Error(
      [
        `The chart e2e spec needs helm; missing: ${path} (from ${env.E2E_HELM ? '$E2E_HELM' : 'the e2e binary cache'}).`,
        'Build it once (Go ≥ 1.26; about 5 minutes cold on 2 cores): scripts/e2e-binaries.sh',
        'or point the suite at an existing helm v3: E2E_HELM=<path>.',
      ].join('\n'),
    );
  }
  return path;
}

function findOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

export interface KubectlBinaries {
  /** The `kubectl` on PATH, resolved through symlinks. */
  readonly default: string;
  /** `1.NN` → path of `kubectl.1.NN`, in version order. */
  readonly byVersion: ReadonlyMap<string, string>;
}

export function findKubectls(env: NodeJS.ProcessEnv = process.env): KubectlBinaries {
  const onPath = findOnPath('kubectl', env);
  if (!onPath) throw new Error('The e2e suite runs real kubectl binaries, but there is no `kubectl` on PATH.');
  const real = realpathSync(onPath);
  const dir = dirname(real);
  const versions = readdirSync(dir)
    .map((file) => /^kubectl\.(1\.\d+)$/.exec(file)?.[1])
    .filter((v): v is string => v !== undefined && isExecutable(join(dir, `kubectl.${v}`)))
    .sort((a, b) => Number(a.split('.')[1]) - Number(b.split('.')[1]));
  return { default: real, byVersion: new Map(versions.map((v) => [v, join(dir, `kubectl.${v}`)])) };
}
