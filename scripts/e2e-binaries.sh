#!/usr/bin/env bash
# Builds (or reuses) the real control-plane binaries the e2e suite runs against:
#   kube-apiserver, kube-controller-manager, kube-scheduler and etcd from the wrapper module in
#   test/e2e/fixtures-go (versions pinned there; the controller manager and scheduler let the chart's
#   Deployment really become Available on kwok's fake node),
#   kwok from sigs.k8s.io/kwok at KWOK_VERSION below,
#   helm from helm.sh/helm/v3 at HELM_VERSION below (the chart tests lint, render and install with it).
# Binaries, Go module cache and Go build cache live under ~/.cache/kube-oidc-proxy-e2e, never in the repo.
#
# Machines without Go can supply binaries instead:
#   KUBEBUILDER_ASSETS=<dir holding kube-apiserver and etcd>
#   E2E_KUBE_APISERVER=<path>  E2E_KUBE_CONTROLLER_MANAGER=<path>  E2E_KUBE_SCHEDULER=<path>
#   E2E_ETCD=<path>  E2E_KWOK=<path>  E2E_HELM=<path>   (each wins over the cache)
#
# Usage: scripts/e2e-binaries.sh            build what is missing, print where everything is
#        scripts/e2e-binaries.sh --bin-dir  print only the cache's bin directory (no build)
set -euo pipefail

KWOK_VERSION=v0.8.0
HELM_VERSION=v3.22.0

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fixtures_dir="$repo_root/test/e2e/fixtures-go"
cache_root="${E2E_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-oidc-proxy-e2e}"

fail() {
  echo "e2e-binaries: error: $*" >&2
  exit 1
}

module_version() {
  # The version the wrapper module's go.mod resolves for a module, e.g. "k8s.io/kubernetes" -> v1.37.2.
  local version
  version="$(awk -v m="$1" '$1 == m && $2 ~ /^v/ { print $2; exit }' "$fixtures_dir/go.mod")"
  [[ -n "$version" ]] || fail "$1 is not required by $fixtures_dir/go.mod"
  echo "$version"
}

k8s_version="$(module_version k8s.io/kubernetes)"
etcd_version="$(module_version go.etcd.io/etcd/server/v3)"
bin_dir="$cache_root/$k8s_version/bin"

if [[ "${1:-}" == "--bin-dir" ]]; then
  echo "$bin_dir"
  exit 0
fi

started_at=$SECONDS
log_dir="$cache_root/logs"
mkdir -p "$bin_dir" "$log_dir"

# One build at a time per cache (CI, a demo and a test run may start together).
exec 9>"$cache_root/.lock"
if ! flock -n 9; then
  echo "e2e-binaries: another build is using $cache_root; waiting for it to finish…"
  flock 9
fi

explicit_path() {
  # Prints the binary supplied through the environment for $1, if any.
  local name="$1" var="$2"
  if [[ -n "${!var:-}" ]]; then
    echo "${!var}"
  elif [[ -n "${KUBEBUILDER_ASSETS:-}" && ("$name" == kube-apiserver || "$name" == etcd) ]]; then
    echo "$KUBEBUILDER_ASSETS/$name"
  fi
}

env_var_for() {
  # kube-apiserver -> E2E_KUBE_APISERVER
  echo "E2E_$(echo "$1" | tr 'a-z-' 'A-Z_')"
}

go_env() {
  # Caches outside the repo so later runs (and other checkouts) reuse downloads and compiled packages.
  # -p=1 and nice leave a core for whoever else is using this machine; -modcacherw keeps `rm -rf` working.
  env GOMODCACHE="$cache_root/go/mod" GOCACHE="$cache_root/go/build" GOTOOLCHAIN="${GOTOOLCHAIN:-local}" \
    GOFLAGS="-buildvcs=false -modcacherw -p=${E2E_GO_PARALLELISM:-1}" CGO_ENABLED=0 "$@"
}

run_logged() {
  # Runs a long build with its output in a log file, printing a heartbeat so progress stays visible.
  local label="$1" log="$2"
  shift 2
  local started=$SECONDS next_heartbeat=$((SECONDS + 30))
  "$@" >"$log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    if ((SECONDS >= next_heartbeat)) && kill -0 "$pid" 2>/dev/null; then
      echo "  … $label still building ($((SECONDS - started))s so far, log: $log)"
      next_heartbeat=$((SECONDS + 30))
    fi
  done
  if ! wait "$pid"; then
    echo "---- last lines of $log ----" >&2
    tail -n 30 "$log" >&2
    fail "$label failed after $((SECONDS - started))s (full log: $log)"
  fi
  echo "  ✓ $label built in $((SECONDS - started))s"
}

build_one() {
  # build_one NAME VERSION ENV_VAR BUILD_FUNCTION: reuse a supplied or cached binary, else build it.
  local name="$1" version="$2" var="$3" build="$4"
  local supplied
  supplied="$(explicit_path "$name" "$var")"
  if [[ -n "$supplied" ]]; then
    [[ -x "$supplied" ]] || fail "$name from the environment ($supplied) is not an executable file"
    echo "• $name: using $supplied (from environment)"
    return
  fi
  local target="$bin_dir/$name" stamp="$bin_dir/.$name.version"
  if [[ -x "$target" && -f "$stamp" && "$(cat "$stamp")" == "$version" ]]; then
    echo "• $name $version: cached at $target"
    return
  fi
  command -v go >/dev/null 2>&1 ||
    fail "$name is not built and Go is not installed: install Go ≥ 1.26, or set $var (or KUBEBUILDER_ASSETS)"
  echo "• $name $version: building (cold, on 2 cores: kube-apiserver ~11 min, controller manager and scheduler a few min more, kwok ~3 min, helm ~4 min, etcd ~1 min)"
  rm -f "$stamp" "$target.tmp"
  run_logged "$name $version" "$log_dir/$name-$version.log" "$build" "$target.tmp"
  mv -f "$target.tmp" "$target"
  echo "$version" >"$stamp"
}

build_kubernetes_command() {
  # build_kubernetes_command CMD OUT: one of k8s.io/kubernetes/cmd/*, stamped with the release.
  local minor="${k8s_version#v1.}"
  minor="${minor%%.*}"
  # The stamps Kubernetes' own build sets, so /version and kubectl's skew warnings see the real release.
  local ldflags="-s -w" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $p.gitVersion=$k8s_version -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  cd "$fixtures_dir" &&
    go_env nice -n 10 go build -v -trimpath -ldflags="$ldflags" -o "$2" "k8s.io/kubernetes/cmd/$1"
}

build_kube_apiserver() { build_kubernetes_command kube-apiserver "$1"; }
build_kube_controller_manager() { build_kubernetes_command kube-controller-manager "$1"; }
build_kube_scheduler() { build_kubernetes_command kube-scheduler "$1"; }

build_etcd() {
  cd "$fixtures_dir" &&
    go_env nice -n 10 go build -v -trimpath -ldflags="-s -w" -o "$1" go.etcd.io/etcd/server/v3
}

build_helm() {
  # helm's go.mod has no replace directives either. The -X stamps are the ones Helm's own Makefile sets:
  # without them `helm version` reports a development build and `helm template`/`lint` assume Kubernetes
  # v1.20 (failing any chart with a newer kubeVersion); the Kubernetes version is the client-go helm uses.
  local gobin gomod client_go k8s_minor
  gomod="$(go_env go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | awk -F'"' '$2 == "GoMod" { print $4 }')" &&
    client_go="$(awk '$1 == "k8s.io/client-go" { print $2; exit }' "$gomod")" || return 1
  k8s_minor="${client_go#v0.}"
  k8s_minor="${k8s_minor%%.*}"
  local ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" p
  for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    ldflags+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$k8s_minor"
  done
  gobin="$(mktemp -d)"
  go_env GOBIN="$gobin" nice -n 10 go install -v -trimpath -ldflags="$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" &&
    mv "$gobin/helm" "$1" && rmdir "$gobin"
}

build_kwok() {
  # kwok has no replace directives, so a plain module-mode build at the pinned version works.
  local gobin
  gobin="$(mktemp -d)"
  go_env GOBIN="$gobin" nice -n 10 go install -v -trimpath -ldflags="-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" &&
    mv "$gobin/kwok" "$1" && rmdir "$gobin"
}

echo "e2e-binaries: Kubernetes $k8s_version, etcd $etcd_version, kwok $KWOK_VERSION, helm $HELM_VERSION"
echo "e2e-binaries: cache $cache_root"
# A wrong path from the environment should fail now, not after a long build of the others.
for name in kube-apiserver kube-controller-manager kube-scheduler etcd kwok helm; do
  supplied="$(explicit_path "$name" "$(env_var_for "$name")")"
  [[ -z "$supplied" || -x "$supplied" ]] ||
    fail "$name from the environment ($supplied) is not an executable file"
done
build_one kube-apiserver "$k8s_version" E2E_KUBE_APISERVER build_kube_apiserver
build_one kube-controller-manager "$k8s_version" E2E_KUBE_CONTROLLER_MANAGER build_kube_controller_manager
build_one kube-scheduler "$k8s_version" E2E_KUBE_SCHEDULER build_kube_scheduler
build_one etcd "$etcd_version" E2E_ETCD build_etcd
build_one kwok "$KWOK_VERSION" E2E_KWOK build_kwok
build_one helm "$HELM_VERSION" E2E_HELM build_helm

for name in kube-apiserver kube-controller-manager kube-scheduler etcd kwok helm; do
  path="$(explicit_path "$name" "$(env_var_for "$name")")"
  path="${path:-$bin_dir/$name}"
  "$path" --version >/dev/null 2>&1 || "$path" version >/dev/null 2>&1 ||
    fail "$path does not run; delete it and run this script again"
done
echo "e2e-binaries: ready in $((SECONDS - started_at))s: $bin_dir ($(du -sh "$bin_dir" | cut -f1) of binaries, $(du -sh "$cache_root/go" 2>/dev/null | cut -f1 || echo '0') of Go caches)"
