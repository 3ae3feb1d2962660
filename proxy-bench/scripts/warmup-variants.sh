#!/usr/bin/env bash
# Prepares copies of the distribution for the warm-up comparison of docs/benchmarks.md (section 8, issue 15), then
# prints the --variants argument of CpuPerWorkBench that measures them in one run:
#   OUT/jdk17          no application CDS archive (the JDK's own base archive only)
#   OUT/jdk17-cds      bin/warren-cds as shipped: an archive of the classes loaded by a start without clients
#   OUT/jdk17-trained  a dynamic CDS archive written at exit after real traffic (short-lived clients, a flow, a storm)
#   OUT/jdk25          Temurin 25, no application archive
#   OUT/jdk25-aot      Temurin 25 with an AOT cache (JEP 483/514/515: classes loaded and linked, method profiles)
#                      recorded over the same traffic (-XX:AOTCacheOutput, written when Warren exits)
#   OUT/jdk25-aot-coh  the same recorded with compact object headers (a cache is only used with the header layout
#                      it was recorded with)
# usage: proxy-bench/scripts/warmup-variants.sh BROKER_PORT [OUT (default /tmp/warren-warmup)] [JDK25_HOME]
# Needs the distribution and the bench jar (mvn -B -DskipTests package -pl proxy-launcher,proxy-bench -am) and a
# broker on 127.0.0.1:BROKER_PORT (see docs/benchmarks.md); the training traffic is CpuPerWorkBench's own, against
# one Warren at a time.
set -euo pipefail
broker_port=${1:?usage: warmup-variants.sh BROKER_PORT [OUT] [JDK25_HOME]}
out=${2:-/tmp/warren-warmup}
jdk25=${3:-/usr/lib/jvm/temurin-25-jdk-amd64}
here=$(cd "$(dirname "$0")/../.." && pwd)
dist=$here/proxy-launcher/target/warren
jar=$here/proxy-bench/target/benchmarks.jar
[ -x "$dist/bin/warren" ] && [ -f "$jar" ] || {
  echo "build first: mvn -B -DskipTests package -pl proxy-launcher,proxy-bench -am" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)"
mkdir -p "$out"
for v in jdk17 jdk17-cds jdk17-trained jdk25 jdk25-aot jdk25-aot-coh; do
  rm -rf "${out:?}/$v"
  cp -r "$dist" "$out/$v"
  rm -f "$out/$v/lib/warren.jsa" "$out/$v/lib/warren.jsa.stamp"
done
"$out/jdk17-cds/bin/warren-cds"

# Training traffic: one CpuPerWorkBench round of short-lived clients (raw and PHP), a flow and a storm, against a
# daemon started with the recording options; the archive or cache is written when the bench stops it (SIGTERM).
train() { # NAME JAVA_HOME JAVA_OPTS
  java -cp "$jar" io.warren.bench.CpuPerWorkBench --broker-port "$broker_port" --targets warren --phases short,flow,storm \
    --rounds 1 --client raw,php --clients 2000 --warmup 2000 --flow-seconds 5 --flow-warmup-seconds 2 --storm 2000 \
    --storm-warmup 0 --warren-home "$out/$1" ${2:+--java-home "$2"} --java-opts "$3" --logs "$out/logs" >/dev/null
}
train jdk17-trained "" "-XX:ArchiveClassesAtExit=$out/jdk17-trained/lib/warren.jsa -Xlog:cds=off -Xlog:cds+dynamic=off"
echo "$out/jdk17-trained $(readlink -f "$(command -v java)")" > "$out/jdk17-trained/lib/warren.jsa.stamp"
train jdk25-aot "$jdk25" "-XX:AOTCacheOutput=$out/jdk25-aot/lib/warren.aot"
train jdk25-aot-coh "$jdk25" "-XX:AOTCacheOutput=$out/jdk25-aot-coh/lib/warren.aot -XX:+UseCompactObjectHeaders"
ls -la "$out"/*/lib/warren.jsa "$out"/*/lib/warren.aot
echo
echo "--variants \"jdk17|home=$out/jdk17;cds|home=$out/jdk17-cds;trained|home=$out/jdk17-trained;c1|java-opts=-XX:TieredStopAtLevel=1;jdk25|home=$out/jdk25|java-home=$jdk25;jdk25-coh|home=$out/jdk25|java-home=$jdk25|java-opts=-XX:+UseCompactObjectHeaders;jdk25-aot|home=$out/jdk25-aot|java-home=$jdk25|java-opts=-XX:AOTCache=$out/jdk25-aot/lib/warren.aot;jdk25-aot-coh|home=$out/jdk25-aot-coh|java-home=$jdk25|java-opts=-XX:AOTCache=$out/jdk25-aot-coh/lib/warren.aot -XX:+UseCompactObjectHeaders\""
