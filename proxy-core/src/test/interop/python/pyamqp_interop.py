"""Interop check for Warren with the Python client py-amqp (the 'amqp' package that kombu and Celery use).

Usage: python3 pyamqp_interop.py HOST PORT
Prints one line "INTEROP-RESULT {json}" and exits 0, or prints "INTEROP-FAILURE <step>: <message>" to stderr
and exits 1. InteropClientsTest runs it against Warren and straight against the broker.
"""
import hashlib
import json
import os
import signal
import socket
import sys
import time
import traceback

import amqp
from amqp import exceptions as amqp_exceptions

step = "start"
result = {"client": "py-amqp", "client_version": amqp.__version__, "runtime": "python " + sys.version.split()[0]}


def check(cond, what):
    if not cond:
        raise AssertionError("check failed: " + what)


def text(v):
    return v.decode() if isinstance(v, (bytes, bytearray)) else v


def raw_body(m):
    # py-amqp hands back a str body when the message carries content_encoding: re-encode for the byte check
    if isinstance(m.body, str):
        return m.body.encode(m.properties.get("content_encoding") or "utf-8")
    return bytes(m.body)


def get_one(ch, queue):
    for _ in range(100):
        msg = ch.basic_get(queue=queue, no_ack=True)
        if msg is not None:
            return msg
        time.sleep(0.05)
    raise AssertionError("no message on %s after 5 s of basic.get" % queue)


def drain_until(conn, done, seconds, what):
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError("%s within %d s" % (what, seconds))
        try:
            conn.drain_events(timeout=0.2)
        except socket.timeout:
            pass


def main():
    global step
    tag = os.urandom(6).hex()

    step = "connect"
    conn = amqp.Connection(host="%s:%s" % (sys.argv[1], sys.argv[2]), userid="guest", password="guest",
                           login_method="PLAIN", virtual_host="/", heartbeat=0, connect_timeout=10)
    conn.connect()
    result["server_product"] = text(conn.server_properties.get("product", ""))
    result["frame_max"] = conn.frame_max

    step = "open channel"
    ch = conn.channel()

    step = "declare queue"
    q = "interop-pyamqp-" + tag
    # py-amqp defaults auto_delete to True, which would delete the queue when the consumer below is cancelled
    declared, _, _ = ch.queue_declare(queue=q, exclusive=True, auto_delete=False)
    check(declared == q, "declare-ok names the queue")
    result["declared_queue"] = declared

    step = "publish with properties and get"
    ts = 1700000000
    msg = amqp.Message(
        b"hello from py-amqp", content_type="text/plain", content_encoding="utf-8", delivery_mode=2, priority=3,
        correlation_id="corr-" + tag, reply_to="reply-" + tag, expiration="60000", message_id="mid-" + tag,
        timestamp=ts, type="interop",  # py-amqp packs the timestamp property as seconds
        app_id="interop-pyamqp", user_id="guest",
        application_headers={"x-str": "value", "x-int": 42, "x-bool": True})
    ch.basic_publish(msg, exchange="", routing_key=q)
    got = get_one(ch, q)
    p = got.properties
    headers = p.get("application_headers") or {}
    check(raw_body(got) == b"hello from py-amqp", "body round-trips (got %r)" % got.body)
    check(p.get("content_type") == "text/plain", "content_type")
    check(p.get("content_encoding") == "utf-8", "content_encoding")
    check(p.get("delivery_mode") == 2, "delivery_mode")
    check(p.get("priority") == 3, "priority")
    check(p.get("correlation_id") == "corr-" + tag, "correlation_id")
    check(p.get("reply_to") == "reply-" + tag, "reply_to")
    check(p.get("message_id") == "mid-" + tag, "message_id")
    check(p.get("timestamp") == ts, "timestamp (got %r)" % p.get("timestamp"))
    check(p.get("type") == "interop", "type")
    check(p.get("app_id") == "interop-pyamqp", "app_id")
    check(p.get("user_id") == "guest", "user_id")
    check(text(headers.get("x-str")) == "value", "header x-str (got %r)" % headers)
    check(headers.get("x-int") == 42, "header x-int")
    check(headers.get("x-bool") is True, "header x-bool")
    result["get_body"] = raw_body(got).decode()
    result["get_correlation_id"] = p.get("correlation_id")
    result["get_header_x_str"] = text(headers.get("x-str"))
    result["get_header_x_int"] = headers.get("x-int")
    result["get_timestamp"] = p.get("timestamp")

    step = "consume"
    consumed = []

    def on_message(m):
        m.channel.basic_ack(m.delivery_tag)
        consumed.append(m)

    ch.basic_consume(queue=q, consumer_tag="ctag-" + tag, no_ack=False, callback=on_message)
    ch.basic_publish(amqp.Message(b"consumed by py-amqp", message_id="consume-" + tag,
                                  application_headers={"x-n": 7}), exchange="", routing_key=q)
    drain_until(conn, lambda: consumed, 10, "basic.deliver")
    m = consumed[0]
    check(raw_body(m) == b"consumed by py-amqp", "consumed body")
    check(m.properties.get("message_id") == "consume-" + tag, "consumed message_id")
    check((m.properties.get("application_headers") or {}).get("x-n") == 7, "consumed header")
    check(m.delivery_info["consumer_tag"] == "ctag-" + tag, "consumer tag")
    ch.basic_cancel("ctag-" + tag)
    result["consume_body"] = raw_body(m).decode()
    result["consume_message_id"] = m.properties.get("message_id")

    step = "mandatory publish (basic.return)"
    returned = []
    ch.events["basic_return"].add(lambda exc, exchange, routing_key, message: returned.append((exc, message)))
    ch.basic_publish(amqp.Message(b"unroutable", message_id="ret-" + tag), exchange="",
                     routing_key="interop-no-such-queue-" + tag, mandatory=True)
    drain_until(conn, lambda: returned, 10, "basic.return")
    exc, rmsg = returned[0]
    check(exc.reply_code == 312, "return reply code 312 (got %s)" % exc.reply_code)
    check(raw_body(rmsg) == b"unroutable", "returned body")
    check(rmsg.properties.get("message_id") == "ret-" + tag, "returned message_id")
    result["return_code"] = exc.reply_code
    result["return_text"] = exc.reply_text
    result["return_body"] = raw_body(rmsg).decode()

    step = "channel error (passive declare of a missing queue)"
    ch2 = conn.channel()
    code = None
    try:
        ch2.queue_declare(queue="interop-missing-" + tag, passive=True)
    except amqp_exceptions.NotFound as e:
        code = e.reply_code
        result["channel_error_text"] = e.reply_text
    check(code == 404, "passive declare fails with 404 (got %s)" % code)
    result["channel_error_code"] = code
    # The NotFound above is raised from py-amqp's handler of the broker's channel.close, so the channel was
    # closed; py-amqp then answers close-ok and at once re-opens the same channel number ("revive"), so Warren
    # sees channel.open on a number whose close it has just relayed. Use the revived channel to prove it works.
    result["errored_channel_closed"] = True
    check(ch2.is_open, "py-amqp re-opened the errored channel")
    q2, _, _ = ch2.queue_declare(queue="", exclusive=True)
    ch2.basic_publish(amqp.Message(b"on the revived channel"), exchange="", routing_key=q2)
    check(raw_body(get_one(ch2, q2)) == b"on the revived channel", "message on the revived channel")
    result["errored_channel_reopened_ok"] = True
    check(conn.connected, "connection still open after the channel error")

    step = "new channel after the channel error"
    ch3 = conn.channel()
    q3, _, _ = ch3.queue_declare(queue="", exclusive=True)
    ch3.basic_publish(amqp.Message(b"after error"), exchange="", routing_key=q3)
    check(raw_body(get_one(ch3, q3)) == b"after error", "message after the channel error")
    ch.queue_declare(queue=q, passive=True)  # the first channel is unaffected too
    result["after_error_ok"] = True

    step = "publisher confirms"
    cch = conn.channel()
    cch.confirm_select()
    acks = []
    nacks = []
    cch.events["basic_ack"].add(lambda delivery_tag, multiple: acks.append((delivery_tag, multiple)))
    cch.events["basic_nack"].add(lambda delivery_tag, multiple: nacks.append((delivery_tag, multiple)))
    qc, _, _ = cch.queue_declare(queue="", exclusive=True)
    for i in range(20):
        cch.basic_publish(amqp.Message(("confirm %d" % i).encode(), application_headers={"i": i}),
                          exchange="", routing_key=qc)

    def confirmed_up_to():
        top = 0
        for delivery_tag, _ in acks:
            top = max(top, delivery_tag)
        return top

    drain_until(conn, lambda: confirmed_up_to() >= 20 or nacks, 15, "acks for 20 publishes")
    check(not nacks, "no nacks (got %r)" % nacks)
    _, depth, _ = cch.queue_declare(queue=qc, passive=True)
    check(depth == 20, "confirmed queue holds 20 (got %s)" % depth)
    result["confirms_acked"] = confirmed_up_to()
    result["confirmed_queue_depth"] = depth

    step = "large message"
    size = 1024 * 1024
    big = bytes(((i * 31 + (i >> 8)) & 0xFF) for i in range(size))
    big_hash = hashlib.sha256(big).hexdigest()
    qb, _, _ = cch.queue_declare(queue="", exclusive=True)
    acks.clear()
    cch.basic_publish(amqp.Message(big, content_type="application/octet-stream"), exchange="", routing_key=qb)
    drain_until(conn, lambda: acks or nacks, 15, "ack for the large message")
    check(not nacks, "large message acked")
    bmsg = get_one(cch, qb)
    check(len(raw_body(bmsg)) == size, "large body length (got %d)" % len(raw_body(bmsg)))
    got_hash = hashlib.sha256(raw_body(bmsg)).hexdigest()
    check(got_hash == big_hash, "large body sha256")
    result["large_bytes"] = len(raw_body(bmsg))
    result["large_sha256_match"] = got_hash == big_hash

    step = "clean close"
    ch.queue_delete(queue=q)
    ch.close()
    ch2.close()
    ch3.close()
    cch.close()
    conn.close()
    check(not conn.connected, "connection closed")
    result["closed_cleanly"] = True


def on_alarm(signum, frame):
    raise TimeoutError("whole script timed out after 60 s")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: python3 pyamqp_interop.py HOST PORT", file=sys.stderr)
        sys.exit(2)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(60)
    try:
        main()
    except BaseException as e:  # noqa: BLE001 - report every failure the same way
        print("INTEROP-FAILURE %s: %s: %s" % (step, type(e).__name__, e), file=sys.stderr)
        traceback.print_exc()
        sys.exit(1)
    print("INTEROP-RESULT " + json.dumps(result, sort_keys=True))
    sys.exit(0)
