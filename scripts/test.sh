#!/usr/bin/env bash
# The test command: type-check, lint and test every project. Installs nothing by itself
# beyond what `npm ci` brought; later issues start their real services (Kafka, PostgreSQL,
# Prometheus) from here, before the tests that need them.
set -euo pipefail
cd "$(dirname "$0")/.."

# Nx: no cloud, no daemon, plain output in logs.
export NX_NO_CLOUD=true NX_DAEMON=false NX_TUI=false NX_SKIP_NX_CACHE="${NX_SKIP_NX_CACHE:-${CI:+true}}"

# Event contracts: lint, no breaking change to released schemas, generated code up to date.
bash scripts/contracts.sh check

npx nx run-many -t typecheck lint test --parallel=2 --outputStyle=stream
