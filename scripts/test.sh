#!/usr/bin/env bash
# The test command: starts the real services the tests need (Kafka), checks the event
# contracts, then type-checks, lints and tests every project. Needs Java 17 and Maven for the
# broker; later issues add PostgreSQL and Prometheus here.
set -euo pipefail
cd "$(dirname "$0")/.."

# Nx: no cloud, no daemon, plain output in logs.
export NX_NO_CLOUD=true NX_DAEMON=false NX_TUI=false NX_SKIP_NX_CACHE="${NX_SKIP_NX_CACHE:-${CI:+true}}"

# A real Apache Kafka broker for the bus tests (fetched from Maven Central once), stopped on exit.
# PIPAC_KAFKA_BROKERS already set: use that cluster instead.
if [ -z "${PIPAC_KAFKA_BROKERS:-}" ]; then
  PIPAC_KAFKA_BROKERS=$(bash scripts/kafka/kafka.sh start)
  trap 'bash scripts/kafka/kafka.sh stop' EXIT
fi
export PIPAC_KAFKA_BROKERS

# Event contracts: lint, no breaking change to released schemas, generated code up to date.
bash scripts/contracts.sh check

npx nx run-many -t typecheck lint test --parallel=2 --outputStyle=stream
