#!/usr/bin/env bash
# The test command: starts the real services the tests need (Kafka, PostgreSQL; Prometheus is
# installed here and started by its test with the cell's address), checks the event contracts,
# the dashboards and alert rules, and the Helm chart, then type-checks, lints and tests every
# project. Needs Java 17 and Maven for the broker, Go for Helm, apt for PostgreSQL and Prometheus,
# Python 3 with venv and pip for schemathesis.
set -euo pipefail
cd "$(dirname "$0")/.."

# Nx: no cloud, no daemon, plain output in logs.
export NX_NO_CLOUD=true NX_DAEMON=false NX_TUI=false NX_SKIP_NX_CACHE="${NX_SKIP_NX_CACHE:-${CI:+true}}"

# The real services the tests need, stopped on exit (only those this script started).
stop_kafka=false stop_postgres=false
stop_services() {
  if $stop_kafka; then bash scripts/kafka/kafka.sh stop; fi
  if $stop_postgres; then bash scripts/postgres/postgres.sh stop; fi
}
trap stop_services EXIT

# An Apache Kafka broker for the bus and cell tests (fetched from Maven Central once).
# PIPAC_KAFKA_BROKERS already set: use that cluster instead.
if [ -z "${PIPAC_KAFKA_BROKERS:-}" ]; then
  PIPAC_KAFKA_BROKERS=$(bash scripts/kafka/kafka.sh start)
  stop_kafka=true
fi
export PIPAC_KAFKA_BROKERS

# A PostgreSQL server for the persistence and cell tests (installed from the distribution's
# packages when missing). PIPAC_POSTGRES_URL already set: use that server instead (its role
# needs CREATEDB: each suite makes its own database).
if [ -z "${PIPAC_POSTGRES_URL:-}" ]; then
  PIPAC_POSTGRES_URL=$(bash scripts/postgres/postgres.sh start)
  stop_postgres=true
fi
export PIPAC_POSTGRES_URL

# Prometheus and promtool (the distribution's): the observability test scrapes the running cell.
PIPAC_PROMETHEUS_BIN=$(bash scripts/prometheus/prometheus.sh ensure)
export PIPAC_PROMETHEUS_BIN
export PATH="$PIPAC_PROMETHEUS_BIN:$PATH"

# Schemathesis (a pinned version in a virtual environment under .cache/, from the package index):
# the e2e suite erp-gateway.openapi fuzzes the gateway against its own OpenAPI document.
PIPAC_SCHEMATHESIS_BIN=$(bash scripts/schemathesis/schemathesis.sh ensure)
export PIPAC_SCHEMATHESIS_BIN

# asyncua (Python OPC UA client, a pinned version in a virtual environment under .cache/): the
# e2e suite opcua.asyncua reads the plant simulator with it, as an integrator's tool would.
PIPAC_ASYNCUA_PYTHON=$(bash scripts/asyncua/asyncua.sh ensure)
export PIPAC_ASYNCUA_PYTHON

# Event contracts: lint, no breaking change to released schemas, generated code up to date.
bash scripts/contracts.sh check

# Dashboards and alert rules against the metric catalogue (and promtool), then the Helm chart:
# lint, render over the CI value sets, every object validated against the Kubernetes schemas.
npx tsx --tsconfig tsconfig.base.json scripts/observability/check-dashboards.ts
bash scripts/helm/check.sh

npx nx run-many -t typecheck lint test --parallel=2 --outputStyle=stream
