#!/usr/bin/env bash
# Idle footprint of the Warren daemon against a plain JVM hello-world in the same run (issue 5 benchmark).
# usage: proxy-bench/scripts/footprint.sh BROKER_PORT [ROUNDS]
# Needs the distribution (mvn -B -DskipTests package) and a broker on 127.0.0.1:BROKER_PORT.
# Reports, per round: time from exec to ready (Warren: its listen port accepts; baseline: its first line printed)
# and RSS after 5 s idle, then the median of each and the ratio Warren/baseline.
set -euo pipefail
broker_port=${1:?usage: footprint.sh BROKER_PORT [ROUNDS]}
rounds=${2:-5}
here=$(cd "$(dirname "$0")/../.." && pwd)
dist=$here/proxy-launcher/target/warren
[ -x "$dist/bin/warren" ] || { echo "build the distribution first: mvn -B -DskipTests package" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The baseline gets bin/warren's own default JVM options, so the comparison is of the program, not of flags.
opts=$(sed -n 's/^DEFAULT_JVM_OPTS="\(.*\)"$/\1/p' "$dist/bin/warren")
cat > "$work/HelloIdle.java" <<'JAVA'
public class HelloIdle {
    public static void main(String[] args) throws Exception {
        System.out.println("ready");
        Thread.sleep(Long.MAX_VALUE);
    }
}
JAVA
javac -d "$work" "$work/HelloIdle.java"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
now_ms() { date +%s%3N; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

: > "$work/warren.txt"; : > "$work/hello.txt"
i=0
while [ $i -lt "$rounds" ]; do
  i=$((i + 1))
  # baseline
  t0=$(now_ms)
  # shellcheck disable=SC2086
  java $opts -cp "$work" HelloIdle > "$work/hello.out" 2>&1 &
  pid=$!
  until grep -q ready "$work/hello.out" 2>/dev/null; do sleep 0.01; done
  t1=$(now_ms)
  sleep 5
  echo "$((t1 - t0)) $(rss_kb $pid)" >> "$work/hello.txt"
  kill "$pid"; wait "$pid" 2>/dev/null || true

  # warren
  port=$(free_port)
  t0=$(now_ms)
  "$dist/bin/warren" --listen "127.0.0.1:$port" --http off "amqp://127.0.0.1:$broker_port" > "$work/warren.out" 2>&1 &
  pid=$!
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do sleep 0.01; done
  t1=$(now_ms)
  sleep 5
  echo "$((t1 - t0)) $(rss_kb $pid)" >> "$work/warren.txt"
  kill "$pid"; wait "$pid" 2>/dev/null || true
done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
hs=$(cut -d' ' -f1 "$work/hello.txt" | median); hr=$(cut -d' ' -f2 "$work/hello.txt" | median)
ws=$(cut -d' ' -f1 "$work/warren.txt" | median); wr=$(cut -d' ' -f2 "$work/warren.txt" | median)
echo "jvm options: $opts"
echo "rounds: $rounds"
echo "baseline hello-world: start ${hs} ms, idle RSS ${hr} KiB"
echo "warren daemon:        start ${ws} ms, idle RSS ${wr} KiB"
awk -v ws="$ws" -v hs="$hs" -v wr="$wr" -v hr="$hr" \
  'BEGIN { printf "ratio warren/baseline: start %.2fx, idle RSS %.2fx\n", ws / hs, wr / hr }'
