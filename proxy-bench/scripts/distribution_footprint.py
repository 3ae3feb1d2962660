#!/usr/bin/python3
"""Start time and memory of Warren distributions, side by side in one run (issue 16; docs/benchmarks.md, section 9).

usage: distribution_footprint.py --broker-port P [--rounds N] [--clients N] VARIANT...
  VARIANT is LABEL=DIST_DIR or LABEL=DIST_DIR:JAVA_OPTS (JAVA_OPTS added after bin/warren's defaults), e.g.
    today=/tmp/base/proxy-launcher/target/warren  new=proxy-launcher/target/warren  c1=proxy-launcher/target/warren:-XX:TieredStopAtLevel=1

Each round runs every variant once, in an order rotated each round (the machine is shared and noisy), each as an
operator would: `bin/warren --listen 127.0.0.1:FREE --http off amqp://127.0.0.1:P` with a clean environment
(PATH=/usr/bin:/bin, nothing else). Per variant and round:
  start    exec of bin/warren until its AMQP port accepts a TCP connection (polled every 2 ms)
  idle     VmRSS (and RssAnon, the part not backed by files) 5 s after that
  clients  VmRSS with --clients clients (pika: connection.open + one channel.open each, heartbeat off) held 3 s
Prints every sample, then the medians, and each median as a ratio to the first variant's (the baseline).
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import pika


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {key} for pid {pid}")


def accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.05):
            return True
    except OSError:
        return False


def measure(dist, java_opts, broker_port, clients, log):
    port = free_port()
    env = {"PATH": "/usr/bin:/bin"}
    if java_opts:
        env["JAVA_OPTS"] = java_opts
    cmd = [os.path.join(dist, "bin/warren"), "--listen", f"127.0.0.1:{port}", "--http", "off",
           f"amqp://127.0.0.1:{broker_port}"]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        while not accepts(port):
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd} exited with {proc.returncode}; see {log.name}")
            if time.monotonic() - t0 > 30:
                raise RuntimeError(f"{cmd} did not listen within 30 s")
            time.sleep(0.002)
        start_ms = (time.monotonic() - t0) * 1000
        time.sleep(5)
        idle = status(proc.pid, "VmRSS"), status(proc.pid, "RssAnon")
        held = []
        params = pika.ConnectionParameters("127.0.0.1", port, heartbeat=0, blocked_connection_timeout=None,
                                           connection_attempts=1, socket_timeout=10)
        try:
            for _ in range(clients):
                c = pika.BlockingConnection(params)
                c.channel()
                held.append(c)
            time.sleep(3)
            loaded = status(proc.pid, "VmRSS"), status(proc.pid, "RssAnon")
        finally:
            for c in held:
                try:
                    c.close()
                except Exception:
                    pass
        return start_ms, idle, loaded
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--broker-port", type=int, required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("variants", nargs="+")
    a = ap.parse_args()
    variants = []
    for v in a.variants:
        label, _, rest = v.partition("=")
        dist, _, opts = rest.partition(":")
        if not os.access(os.path.join(dist, "bin/warren"), os.X_OK):
            sys.exit(f"{label}: no bin/warren in {dist}")
        variants.append((label, os.path.abspath(dist), opts))
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}; {os.cpu_count()} CPUs; {os.uname().release}; "
          f"load average {open('/proc/loadavg').read().split()[:3]}; {a.rounds} rounds, {a.clients} clients")
    samples = {label: [] for label, _, _ in variants}
    with tempfile.NamedTemporaryFile("w", prefix="warren-footprint-", suffix=".log", delete=False) as log:
        for r in range(a.rounds):
            order = variants[r % len(variants):] + variants[:r % len(variants)]
            for label, dist, opts in order:
                s = measure(dist, opts, a.broker_port, a.clients, log)
                samples[label].append(s)
                print(f"round {r + 1} {label}: start {s[0]:.0f} ms, idle RSS {s[1][0]} KiB (anon {s[1][1]}), "
                      f"{a.clients} clients RSS {s[2][0]} KiB (anon {s[2][1]})", flush=True)
    print(f"load average after: {open('/proc/loadavg').read().split()[:3]}")
    med = {}
    for label, _, _ in variants:
        ss = samples[label]
        med[label] = [statistics.median(x) for x in (
            [s[0] for s in ss], [s[1][0] for s in ss], [s[1][1] for s in ss], [s[2][0] for s in ss],
            [s[2][1] for s in ss])]
    base = med[variants[0][0]]
    print(f"\n| variant | JAVA_OPTS | start ms | idle RSS KiB | idle anon KiB | RSS {a.clients} clients KiB "
          f"| anon {a.clients} clients KiB |")
    print("|---|---|---|---|---|---|---|")
    for label, _, opts in variants:
        m = med[label]
        cells = " | ".join(f"{v:,.0f} ({v / b:.2f}x)" for v, b in zip(m, base))
        print(f"| {label} | {opts or '-'} | {cells} |")


if __name__ == "__main__":
    main()
