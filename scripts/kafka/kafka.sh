#!/usr/bin/env bash
# A single-node Apache Kafka (KRaft: broker and controller in one process) on 127.0.0.1,
# for development and tests. The broker jars come from Maven Central through Maven, once,
# into .cache/kafka (reused afterwards); data lives in a fresh directory per start.
#
#   scripts/kafka/kafka.sh start     # prints the bootstrap address, waits until it accepts connections
#   scripts/kafka/kafka.sh stop
#   scripts/kafka/kafka.sh resume    # starts again on the data of the last run (a broker restart)
#   scripts/kafka/kafka.sh status
#   scripts/kafka/kafka.sh pause     # freezes the broker process (SIGSTOP): a broker that hangs
#   scripts/kafka/kafka.sh unpause   # lets it go on (SIGCONT), with what it had received meanwhile
#
# Settings (environment): PIPAC_KAFKA_PORT (default 19092; the controller uses port + 1),
# PIPAC_KAFKA_HOME (default .cache/kafka in the repository).
# People with their own cluster skip this and point the services at it (see README).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
home=${PIPAC_KAFKA_HOME:-$root/.cache/kafka}
port=${PIPAC_KAFKA_PORT:-19092}
controller_port=$((port + 1))
libs=$home/libs
run=$home/run-$port
pidfile=$run/broker.pid

fetch() {
  if [ -f "$libs/.complete" ]; then return; fi
  command -v mvn >/dev/null || { echo "kafka.sh: Maven (mvn) is needed to fetch the broker jars" >&2; exit 1; }
  command -v java >/dev/null || { echo "kafka.sh: Java 17 or later is needed to run the broker" >&2; exit 1; }
  echo "kafka.sh: fetching the broker jars into $libs (once)" >&2
  rm -rf "$libs"
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$libs" >&2
  touch "$libs/.complete"
}

running() {
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

accepting() {
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

start() {
  fetch
  if running; then echo "127.0.0.1:$port"; return; fi
  local keep=${1:-fresh}
  if [ "$keep" = keep ] && [ -f "$run/data/meta.properties" ]; then
    launch
    return
  fi
  rm -rf "$run"
  mkdir -p "$run/data"
  cat > "$run/server.properties" <<PROPERTIES
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$run/data
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPERTIES
  local java_opts=(-Xmx512m "-Dlog4j.configuration=file:$here/log4j.properties")
  local cluster
  cluster=$(java "${java_opts[@]}" -cp "$libs/*" kafka.tools.StorageTool random-uuid | tail -n 1)
  java "${java_opts[@]}" -cp "$libs/*" kafka.tools.StorageTool format -t "$cluster" -c "$run/server.properties" >/dev/null
  launch
}

launch() {
  local java_opts=(-Xmx512m "-Dlog4j.configuration=file:$here/log4j.properties")
  nohup java "${java_opts[@]}" -cp "$libs/*" kafka.Kafka "$run/server.properties" >"$run/broker.log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 120); do
    if accepting; then echo "127.0.0.1:$port"; return; fi
    if ! running; then echo "kafka.sh: the broker exited; see $run/broker.log" >&2; tail -n 20 "$run/broker.log" >&2; exit 1; fi
    sleep 0.5
  done
  echo "kafka.sh: the broker did not open port $port within 60 s; see $run/broker.log" >&2
  exit 1
}

stop() {
  if running; then
    kill -CONT "$(cat "$pidfile")" # a paused broker would not see the TERM
    kill "$(cat "$pidfile")"
    for _ in $(seq 1 60); do running || break; sleep 0.5; done
    if running; then kill -9 "$(cat "$pidfile")"; fi
  fi
  rm -f "$pidfile"
}

case "${1:-}" in
  start) start ;;
  resume) start keep ;;
  stop) stop ;;
  pause) running && kill -STOP "$(cat "$pidfile")" ;;
  unpause) running && kill -CONT "$(cat "$pidfile")" ;;
  status) if running && accepting; then echo "running on 127.0.0.1:$port"; else echo "not running"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|resume|pause|unpause|status" >&2; exit 2 ;;
esac
