#!/usr/bin/env bash
# Schemathesis, the OpenAPI fuzzer the gateway's API test runs: `schemathesis.sh ensure`
# installs the pinned version into .cache/schemathesis/<version> once
# (scripts/python/pinned-venv.sh) and prints the path of the `schemathesis` binary. Nothing is
# started here.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/python/pinned-venv.sh

# Pinned: the 3.x and 4.x command lines differ, and new releases add checks and generators.
VERSION=4.32.5

case "${1:-}" in
  ensure)
    venv=$(pinned_venv schemathesis schemathesis "$VERSION")
    echo "$venv/bin/schemathesis"
    ;;
  *)
    echo "usage: $0 ensure" >&2
    exit 64
    ;;
esac
