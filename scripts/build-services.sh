#!/usr/bin/env bash
# Bundles each deployable into dist/<name>/main.js with esbuild (the same compiler tsx runs the
# sources with, so a bundle behaves like `npm run <service>`):
#
#   dist/step-agent/main.js  dist/device-adapter/main.js  dist/coordinator/main.js
#   dist/erp-gateway/main.js dist/plant-simulator/main.js dist/cli/main.js (+ candidate-worker.js)
#
#   scripts/build-services.sh            # all of them
#   scripts/build-services.sh cli coordinator
#
# Only the workspace's own code is bundled (`--packages=external`): node_modules is needed at
# run time (native addons such as better-sqlite3 and onnxruntime-node, and the .wasm and
# NodeSet2 files packages read beside their scripts, cannot be bundled). The `@pipac/*` paths
# resolve through tsconfig.base.json.
#
# What a bundle changes compared with tsx: `__dirname` is the bundle's folder (dist/<name>),
# not the source file's. Code that needs the repository root (the CLI's and the simulator's
# default recipe, models and folders; the version telemetry reports) finds it upward, as the
# folder whose package.json is the workspace's (libs/config findWorkspace): the repository, or
# the image's /app. Writable defaults under it are read-only in the image: the Helm chart
# passes those paths (--out, --pki) explicitly. Decorators need no metadata: Nest classes name their injection tokens (see
# services/README.md). `--keep-names` keeps class names, which Nest and TypeORM print and key on.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

esbuild=node_modules/.bin/esbuild
[ -x "$esbuild" ] || { echo "build-services.sh: $esbuild is missing; run npm ci" >&2; exit 1; }

common=(
  --bundle --platform=node --target=node22 --format=cjs
  --packages=external --tsconfig=tsconfig.base.json
  --sourcemap --keep-names --log-level=warning
  # tfjs-core's gradients exist only as ESM with extension-less imports, which Node's require
  # cannot load (tsx can); bundled, they register into tfjs's registries, which live on
  # globalThis and so are shared with the external CommonJS tfjs-core.
  --alias:@tensorflow/tfjs-core/dist/register_all_gradients=./node_modules/@tensorflow/tfjs-core/dist/register_all_gradients.js
)

all=(step-agent device-adapter coordinator erp-gateway plant-simulator cli)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${all[@]}")

for name in "${names[@]}"; do
  out=dist/$name
  rm -rf "$out"
  case "$name" in
    step-agent | device-adapter | coordinator | erp-gateway | plant-simulator)
      "$esbuild" "services/$name/src/main.ts" "${common[@]}" --outfile="$out/main.js"
      ;;
    cli)
      # apps/cli/src/main.ts exports run() (its bin calls it), so the bundle gets a one-line entry.
      echo "import { run } from './apps/cli/src/main'; run();" |
        "$esbuild" "${common[@]}" --sourcefile=pipac.ts --loader=ts --outfile="$out/main.js"
      # Population training starts worker threads from <bundle folder>/candidate-worker.js
      # (libs/rl worker-pool.ts); with the sources that file registers tsx, here it is the bundle.
      "$esbuild" libs/rl/src/lib/population/candidate.worker.ts "${common[@]}" \
        --outfile="$out/candidate-worker.js"
      ;;
    *)
      echo "build-services.sh: unknown service \"$name\" (${all[*]})" >&2
      exit 2
      ;;
  esac
  echo "built $out"
done
