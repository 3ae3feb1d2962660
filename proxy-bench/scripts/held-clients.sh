#!/usr/bin/env bash
# Many long-lived idle clients, straight to the broker and through the Warren daemon, in one run (issue 8's
# benchmark; docs/benchmarks.md, section 6). Runs io.warren.bench.HeldClientsBench against a Warren started here from
# the distribution as its own process, so that its RSS and heap can be read from outside.
#
# usage: proxy-bench/scripts/held-clients.sh BROKER_PORT NODE [HeldClientsBench options...]
#   e.g. proxy-bench/scripts/held-clients.sh 56970 heldrmq --clients 1000 --hold-seconds 60     (a trial)
#        proxy-bench/scripts/held-clients.sh 56970 heldrmq                                      (10,000 clients, 10 min)
# Needs the distribution and the bench jar (mvn -B -DskipTests package -pl proxy-launcher,proxy-bench -am), and a
# broker on 127.0.0.1:BROKER_PORT started as node NODE by /work/shared/tools/private-rabbit.sh under a raised file
# limit (its pid file is /tmp/rmq-NODE/NODE.pid; rabbitmqctl -n NODE@localhost must reach it). The `ulimit` before
# private-rabbit.sh does not reach the node (rabbitmq-server re-runs itself through su, which resets the soft limit
# to 1024); an env file that rabbitmq-env sources as the rabbitmq user does:
#   mkdir -p /tmp/rmq-heldrmq && echo 'tcp_listen_options.backlog = 4096' > /tmp/rmq-heldrmq/rabbitmq.conf
#   echo 'ulimit -n "$(ulimit -Hn)"' > /tmp/rmq-heldrmq/rabbitmq-env.conf
#   chown -R rabbitmq:rabbitmq /tmp/rmq-heldrmq
#   sh -c 'ulimit -n "$(ulimit -Hn)"; RABBITMQ_CONF_ENV_FILE=/tmp/rmq-heldrmq/rabbitmq-env.conf \
#       /work/shared/tools/private-rabbit.sh start heldrmq 56970 56971 /tmp/rmq-heldrmq/rabbitmq.conf'
#   grep 'open files' /proc/$(cat /tmp/rmq-heldrmq/heldrmq.pid)/limits      # both 20000 here
# Environment: WARREN_ARGS extra command-line options for Warren (e.g. "--heartbeat 30s"); JAVA_OPTS of bin/warren
# apply as usual. The file limit is raised to the hard limit here, for Warren and for the bench JVM alike.
set -euo pipefail
broker_port=${1:?usage: held-clients.sh BROKER_PORT NODE [options...]}
node=${2:?usage: held-clients.sh BROKER_PORT NODE [options...]}
shift 2
here=$(cd "$(dirname "$0")/../.." && pwd)
dist=$here/proxy-launcher/target/warren
jar=$here/proxy-bench/target/benchmarks.jar
[ -x "$dist/bin/warren" ] && [ -f "$jar" ] || {
  echo "build first: mvn -B -DskipTests package -pl proxy-launcher,proxy-bench -am" >&2; exit 1; }
pidfile=/tmp/rmq-$node/$node.pid
[ -f "$pidfile" ] || { echo "no pid file $pidfile: start the broker with private-rabbit.sh first" >&2; exit 1; }
broker_pid=$(cat "$pidfile")
echo "broker's file limit: $(awk '/open files/ {print $4 " soft, " $5 " hard"}' "/proc/$broker_pid/limits")"

ulimit -n "$(ulimit -Hn)"
echo "file limit $(ulimit -n); $(nproc) CPUs; $(uname -r); load average $(cut -d' ' -f1-3 /proc/loadavg)"

work=$(mktemp -d)
warren_pid=
cleanup() {
  if [ -n "$warren_pid" ]; then kill "$warren_pid" 2>/dev/null || true; wait "$warren_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
# shellcheck disable=SC2086
"$dist/bin/warren" --listen "127.0.0.1:$port" --http off ${WARREN_ARGS:-} "amqp://127.0.0.1:$broker_port" \
  > "$work/warren.log" 2>&1 &
warren_pid=$!
i=0
until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
  i=$((i + 1)); [ $i -gt 3000 ] && { echo "Warren did not start:" >&2; cat "$work/warren.log" >&2; exit 1; }
  kill -0 "$warren_pid" 2>/dev/null || { echo "Warren exited:" >&2; cat "$work/warren.log" >&2; exit 1; }
  sleep 0.01
done
echo "Warren pid $warren_pid on 127.0.0.1:$port ($(grep -o 'DEFAULT_JVM_OPTS=.*' "$dist/bin/warren")" \
  "${JAVA_OPTS:-}); broker pid $broker_pid"

java -cp "$jar" io.warren.bench.HeldClientsBench --broker-port "$broker_port" --warren-port "$port" \
  --warren-pid "$warren_pid" --broker-pid "$broker_pid" --rabbitmq-node "$node@localhost" "$@"

echo "Warren's log: $(grep -c . "$work/warren.log") lines, $(grep -c -E 'WARN|ERROR' "$work/warren.log") WARN/ERROR"
grep -E 'WARN|ERROR' "$work/warren.log" | head -20 || true
