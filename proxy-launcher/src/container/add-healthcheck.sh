#!/bin/sh
# Adds the health check to the image Jib wrote (Docker format): Jib has no option for one (it only carries over a
# base image's), so config.json of the tarball gets a Healthcheck: ReadyProbe (GET /readyz) on the image's own Java
# runtime every 30 s, unhealthy after 3 failures, 20 s of grace at start. Kubernetes ignores it: give a pod an
# httpGet readinessProbe on /readyz and a livenessProbe on /healthz, port 15673.
# usage: add-healthcheck.sh IMAGE_TAR
set -eu
image=$(readlink -f "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xf "$image" -C "$work"
check='"Healthcheck":{"Test":["CMD","/opt/warren/runtime/bin/java","-Xshare:auto","-XX:TieredStopAtLevel=1","-XX:+UseSerialGC","-Xmx16m","-XX:-UsePerfData","-cp","/opt/warren/lib/probe","ReadyProbe"],"Interval":30000000000,"Timeout":10000000000,"StartPeriod":20000000000,"Retries":3}'
sed -i "s|\"config\":{|\"config\":{$check,|" "$work/config.json"
grep -q '"Healthcheck"' "$work/config.json" || { echo "add-healthcheck: no \"config\" object in $image" >&2; exit 1; }
# The same members again (GNU tar --delete cannot be trusted on Jib's archive: it dropped manifest.json).
(cd "$work" && tar --owner=0 --group=0 --numeric-owner --mtime=@1 -cf "$image.new" -- *)
mv "$image.new" "$image"
echo "add-healthcheck: $image"
