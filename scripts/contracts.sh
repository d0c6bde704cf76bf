#!/usr/bin/env bash
# The event contracts: proto/ is the source, libs/contracts/src/generated is generated from it.
#
#   scripts/contracts.sh generate   # regenerate the TypeScript (never edit it by hand)
#   scripts/contracts.sh release    # record the current schemas as released (proto/released/)
#   scripts/contracts.sh check      # lint; refuse breaking changes to the released schemas;
#                                   # refuse generated code that is not what proto/ gives
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/proto"
buf=("$root/node_modules/.bin/buf")
released="$root/proto/released/pipac-v1.json"

case "${1:-}" in
  generate)
    rm -rf "$root/libs/contracts/src/generated"
    "${buf[@]}" generate
    ;;
  release)
    "${buf[@]}" build --exclude-source-info -o "$released"
    echo "recorded $released"
    ;;
  check)
    "${buf[@]}" lint
    # WIRE_JSON: no change that breaks a reader or writer of released events (buf.yaml).
    "${buf[@]}" breaking --against "$released"
    fresh=$(mktemp -d)
    trap 'rm -rf "$fresh"' EXIT
    # buf.gen.yaml writes to ../libs/contracts/src/generated relative to the output root.
    "${buf[@]}" generate -o "$fresh/proto"
    if ! diff -r "$fresh/libs/contracts/src/generated" "$root/libs/contracts/src/generated"; then
      echo "contracts.sh: libs/contracts/src/generated is stale; run scripts/contracts.sh generate" >&2
      exit 1
    fi
    echo "contracts: lint, compatibility and generated code OK"
    ;;
  *)
    echo "usage: $0 generate|release|check" >&2
    exit 2
    ;;
esac
