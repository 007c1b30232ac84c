#!/usr/bin/env bash
# What reading the chart from the registry costs one helm process, against the rest of an
# apply's render: is a per-digest chart cache on the worker worth having?
#
#   npm run stack:up && bash bench/chart-pull.sh [runs]     (default 20 runs of each)
#
# Pushes the example chart to the stack's registry, pins it by digest, and times, on the same
# machine one after the other:
#   1. `helm pull` by digest alone (what a cache would save per helm process),
#   2. `helm template` from the registry by digest (what every apply's helm does today),
#   3. `helm template` from the pulled .tgz (the same with a cache),
#   4. the check's server-side dry run (`upgrade --install --dry-run=server`) from the registry,
#      into a scratch namespace, as the worker runs it before each upgrade,
#   5. the upgrade itself (no --wait), with and without helm's OpenAPI validation.
# Prints wall and CPU (user + sys of helm) per call. Reads the stack from .local/stack.env.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
set -a
# shellcheck disable=SC1091
. .local/stack.env
set +a
helm="$CAELUS_TOOLS_BIN/helm"
registry="$CAELUS_OCI_REGISTRY"
work="$(mktemp -d)"
ns="chart-pull-$RANDOM"
trap 'rm -rf "$work"; "$CAELUS_TOOLS_BIN/kubectl" delete namespace "$ns" --wait=false >/dev/null 2>&1 || true' EXIT

"$helm" package charts/examples/webapp-1.0.0 -d "$work" >/dev/null
repo="oci://$registry/chart-pull-$RANDOM"
digest="$("$helm" push "$work"/webapp-1.0.0.tgz "$repo" --plain-http 2>&1 | sed -n 's/^Digest: //p')"
[ -n "$digest" ] || { echo "push to $repo gave no digest" >&2; exit 1; }
ref="$repo/webapp@$digest"
mkdir "$work/pulled" "$work/pulled-again"
"$helm" pull "$ref" --plain-http -d "$work/pulled" >/dev/null 2>&1
tgz="$(ls "$work"/pulled/*.tgz)"
"$CAELUS_TOOLS_BIN/kubectl" create namespace "$ns" >/dev/null
printf 'caelus:\n  deploymentUid: %s\n  domainName: bench.example.com\n' "$ns" >"$work/values.yaml"

TIMEFORMAT='%R %U %S'
measure() {
  local label="$1"
  shift
  local t
  t="$({ time (for _ in $(seq "$runs"); do "$@" >/dev/null 2>&1; done); } 2>&1)"
  read -r real user sys <<<"$t"
  awk -v l="$label" -v r="$real" -v u="$user" -v s="$sys" -v n="$runs" \
    'BEGIN { printf "%-58s wall %6.1f ms  cpu %6.1f ms\n", l, 1000 * r / n, 1000 * (u + s) / n }'
}

echo "chart $ref, $runs runs each"
measure "1. helm pull by digest" "$helm" pull "$ref" --plain-http -d "$work/pulled-again"
measure "2. helm template from the registry" "$helm" template r "$ref" --plain-http -f "$work/values.yaml"
measure "3. helm template from the pulled .tgz" "$helm" template r "$tgz" -f "$work/values.yaml"
measure "4. server-side dry run from the registry (the check)" "$helm" upgrade --install r "$ref" --plain-http -n "$ns" \
  -f "$work/values.yaml" --dry-run=server --disable-openapi-validation -o json
measure "5. server-side dry run from the pulled .tgz" "$helm" upgrade --install r "$tgz" -n "$ns" \
  -f "$work/values.yaml" --dry-run=server --disable-openapi-validation -o json
# The upgrade itself (the release exists after the first run; no --wait, so the cluster's pace is not timed).
measure "6. upgrade --install from the pulled .tgz" "$helm" upgrade --install r "$tgz" -n "$ns" -f "$work/values.yaml" -o json
measure "7. the same, --disable-openapi-validation" "$helm" upgrade --install r "$tgz" -n "$ns" -f "$work/values.yaml" \
  --disable-openapi-validation -o json
