#!/usr/bin/env bash
# Throwaway TLS material and a rabbitmq.conf for the connection-per-publish-over-TLS benchmark
# (docs/benchmarks.md, section 5). Nothing here is secret or committed: run it before each benchmark.
#
# usage: proxy-bench/scripts/tls-broker.sh DIR [AMQP_PORT] [AMQPS_PORT] [PROMETHEUS_PORT]
#   defaults: 56960 56962 56963 (the node's Erlang distribution port, given to private-rabbit.sh, is 56961)
#
# Writes into DIR (created, mode 755; files 644 because the node runs as user rabbitmq, except ca.key: 600):
#   ca.pem / ca.key           a self-signed test CA (RSA 2048, 2 days)
#   server.pem / server.key   the broker's certificate, CN localhost, SAN DNS:localhost, IP:127.0.0.1, signed by the CA
#   rabbitmq.conf             plain listener 127.0.0.1:AMQP_PORT, amqps listener 127.0.0.1:AMQPS_PORT with the above,
#                             no client certificates; Prometheus on PROMETHEUS_PORT (0: leave it out)
#   enabled_plugins           [rabbitmq_prometheus]. (or [].), also copied to /tmp/rmq-tlsbench/ for private-rabbit.sh
#
# Then (as root; the node name tlsbench gives it the data dir /tmp/rmq-tlsbench):
#   sh -c 'ulimit -n "$(ulimit -Hn)"; /work/shared/tools/private-rabbit.sh start tlsbench 56960 56961 DIR/rabbitmq.conf'
#   ... bench ...
#   /work/shared/tools/private-rabbit.sh stop tlsbench 56960 56961
set -euo pipefail
dir=${1:?usage: tls-broker.sh DIR [AMQP_PORT] [AMQPS_PORT] [PROMETHEUS_PORT]}
amqp_port=${2:-56960}
amqps_port=${3:-56962}
prom_port=${4:-56963}

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
cd "$dir"
rm -f ca.pem ca.key ca.srl server.pem server.key server.csr server.ext

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -sha256 \
    -subj "/CN=Warren benchmark test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout ca.key -out ca.pem 2>/dev/null
openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=localhost" -keyout server.key -out server.csr 2>/dev/null
cat > server.ext <<'EXT'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1
EXT
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -sha256 \
    -extfile server.ext -out server.pem 2>/dev/null
rm -f server.csr server.ext ca.srl
openssl verify -CAfile ca.pem server.pem >/dev/null

{
    echo "listeners.tcp.default = 127.0.0.1:$amqp_port"
    echo "listeners.ssl.default = 127.0.0.1:$amqps_port"
    echo "ssl_options.cacertfile = $dir/ca.pem"
    echo "ssl_options.certfile = $dir/server.pem"
    echo "ssl_options.keyfile = $dir/server.key"
    echo "ssl_options.verify = verify_none"
    echo "ssl_options.fail_if_no_peer_cert = false"
    if [ "$prom_port" != 0 ]; then
        echo "prometheus.tcp.port = $prom_port"
        echo "prometheus.return_per_object_metrics = false"
    fi
} > rabbitmq.conf
if [ "$prom_port" != 0 ]; then echo '[rabbitmq_prometheus].' > enabled_plugins; else echo '[].' > enabled_plugins; fi

chmod 755 "$dir"
chmod 644 "$dir"/*
chmod 600 ca.key   # not needed by the node
# private-rabbit.sh keeps an existing /tmp/rmq-NAME/enabled_plugins: put ours there before the node starts.
if [ "$(id -u)" = 0 ] && id rabbitmq >/dev/null 2>&1; then
    mkdir -p /tmp/rmq-tlsbench
    cp enabled_plugins /tmp/rmq-tlsbench/enabled_plugins
    chown -R rabbitmq:rabbitmq /tmp/rmq-tlsbench
fi
echo "TLS material and rabbitmq.conf in $dir (CA: $dir/ca.pem; amqp $amqp_port, amqps $amqps_port," \
    "prometheus ${prom_port})"
