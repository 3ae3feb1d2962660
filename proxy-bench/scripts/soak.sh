#!/usr/bin/env bash
# Soak of the Warren daemon (issue 7, item 5; not part of CI; results in docs/reliability.md).
# usage: proxy-bench/scripts/soak.sh [DURATION_S] [more io.warren.bench.SoakBench options, e.g. --rate 200]
#
# Needs the distribution and the bench jar (mvn -B -DskipTests package), run as root (private-rabbit.sh starts the
# node as user rabbitmq). Starts, with the hard file limit as soft limit:
#   - a private RabbitMQ node SOAK_NODE (default soak) on 127.0.0.1:SOAK_BROKER_PORT (56980; distribution port
#     SOAK_DIST_PORT, 56981),
#   - the Warren daemon (proxy-launcher/target/warren/bin/warren, its default JVM options and configuration) on
#     127.0.0.1:SOAK_WARREN_PORT (56982), HTTP endpoints on 127.0.0.1:SOAK_HTTP_PORT (56983), upstream the node;
#     any WARREN_* variable (e.g. WARREN_IDLE_CHANNEL_TIMEOUT=30s) reaches the daemon as usual;
# then runs SoakBench against them (default 600 s, 200 short-lived clients/s with confirms, 20 consumers, a sample
# every 20 s) and stops both. Output: stdout and SOAK_OUT (default /tmp/warren-soak): soak.txt (the bench's
# table and verdict), warren.log, histo-start.txt / histo-end.txt (jmap -histo:live of Warren at both ends).
# Exit status: the bench's (0 when the verdict passes).
set -euo pipefail
duration=${1:-600}
shift || true
node=${SOAK_NODE:-soak}
broker_port=${SOAK_BROKER_PORT:-56980}
dist_port=${SOAK_DIST_PORT:-56981}
warren_port=${SOAK_WARREN_PORT:-56982}
http_port=${SOAK_HTTP_PORT:-56983}
out=${SOAK_OUT:-/tmp/warren-soak}
here=$(cd "$(dirname "$0")/../.." && pwd)
dist=$here/proxy-launcher/target/warren
jar=$here/proxy-bench/target/benchmarks.jar
rabbit=/work/shared/tools/private-rabbit.sh
[ -x "$dist/bin/warren" ] && [ -f "$jar" ] || { echo "build first: mvn -B -DskipTests package" >&2; exit 1; }
mkdir -p "$out"

warren_pid=
cleanup() {
  if [ -n "$warren_pid" ]; then kill "$warren_pid" 2>/dev/null || true; wait "$warren_pid" 2>/dev/null || true; fi
  "$rabbit" stop "$node" "$broker_port" "$dist_port" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# Its own plain listener on loopback; nothing else (no Prometheus: rabbitmqctl is enough for connection counts).
mkdir -p "/tmp/rmq-$node"
echo "listeners.tcp.default = 127.0.0.1:$broker_port" > "/tmp/rmq-$node/rabbitmq.conf"
# A ulimit in this shell does not reach the node (rabbitmq-server re-runs itself through su, which resets the soft
# limit); rabbitmq-env.conf is sourced by the node's own start script, so the raise goes there too.
echo 'ulimit -n "$(ulimit -Hn)"' > "/tmp/rmq-$node/rabbitmq-env.conf"
chown -R rabbitmq:rabbitmq "/tmp/rmq-$node"
sh -c "ulimit -n \"\$(ulimit -Hn)\"; RABBITMQ_CONF_ENV_FILE=/tmp/rmq-$node/rabbitmq-env.conf \
  $rabbit start $node $broker_port $dist_port /tmp/rmq-$node/rabbitmq.conf"

# bin/warren execs java, so $! is the JVM's pid.
ulimit -n "$(ulimit -Hn)"
"$dist/bin/warren" --listen "127.0.0.1:$warren_port" --http "127.0.0.1:$http_port" \
  "amqp://127.0.0.1:$broker_port" > "$out/warren.log" 2>&1 &
warren_pid=$!
i=0
until (exec 3<>"/dev/tcp/127.0.0.1/$warren_port") 2>/dev/null; do
  i=$((i + 1)); [ $i -gt 300 ] && { echo "warren did not start; see $out/warren.log" >&2; exit 1; }; sleep 0.1
done
echo "broker $node@localhost on $broker_port (file limit $(ulimit -Hn)), warren pid $warren_pid on $warren_port," \
  "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

# A class histogram after the warm-up, to compare with the one at the end if anything grows.
warm=$(( duration / 10 < 60 ? duration / 10 : 60 ))
(sleep "$warm"; jmap -histo:live "$warren_pid" > "$out/histo-start.txt" 2>&1 || true) &
histo_pid=$!
status=0
java -cp "$jar" io.warren.bench.SoakBench --warren-port "$warren_port" --broker-port "$broker_port" \
  --warren-pid "$warren_pid" --broker-pid "$(cat "/tmp/rmq-$node/$node.pid")" --warren-http "$http_port" --broker-node "$node@localhost" \
  --duration-s "$duration" "$@" | tee "$out/soak.txt" || status=$?
wait "$histo_pid" || true
jmap -histo:live "$warren_pid" > "$out/histo-end.txt" 2>&1 || true
echo "class histogram of Warren after the run: $out/histo-end.txt (top 15 below)"
head -18 "$out/histo-end.txt"
exit $status
