"""Interop check for Warren with the Python client pika (BlockingConnection).

Usage: python3 pika_interop.py HOST PORT
Prints one line "INTEROP-RESULT {json}" and exits 0, or prints "INTEROP-FAILURE <step>: <message>" to stderr
and exits 1. InteropClientsTest runs it against Warren and straight against the broker.
"""
import hashlib
import json
import os
import signal
import sys
import time
import traceback

import pika
import pika.exceptions

step = "start"
result = {"client": "pika", "client_version": pika.__version__, "runtime": "python " + sys.version.split()[0]}


def check(cond, what):
    if not cond:
        raise AssertionError("check failed: " + what)


def get_one(ch, queue):
    for _ in range(100):
        method, props, body = ch.basic_get(queue, auto_ack=True)
        if method is not None:
            return method, props, body
        time.sleep(0.05)
    raise AssertionError("no message on %s after 5 s of basic.get" % queue)


def main():
    global step
    tag = os.urandom(6).hex()

    step = "connect"
    params = pika.ConnectionParameters(
        host=sys.argv[1], port=int(sys.argv[2]), virtual_host="/",
        credentials=pika.PlainCredentials("guest", "guest"), heartbeat=0,
        connection_attempts=1, socket_timeout=10, blocked_connection_timeout=30)
    conn = pika.BlockingConnection(params)
    server_props = conn._impl.server_properties or {}
    product = server_props.get("product", b"")
    result["server_product"] = product.decode() if isinstance(product, bytes) else str(product)
    result["frame_max"] = conn._impl.params.frame_max

    step = "open channel"
    ch = conn.channel()

    step = "declare queue"
    q = "interop-pika-" + tag
    ok = ch.queue_declare(q, exclusive=True)
    check(ok.method.queue == q, "declare-ok names the queue")
    result["declared_queue"] = ok.method.queue

    step = "publish with properties and get"
    ts = 1700000000
    props = pika.BasicProperties(
        content_type="text/plain", content_encoding="utf-8", delivery_mode=2, priority=3,
        correlation_id="corr-" + tag, reply_to="reply-" + tag, expiration="60000", message_id="mid-" + tag,
        timestamp=ts, type="interop", app_id="interop-pika", user_id="guest",
        headers={"x-str": "value", "x-int": 42, "x-bool": True})
    ch.basic_publish("", q, b"hello from pika", properties=props)
    method, p, body = get_one(ch, q)
    check(body == b"hello from pika", "body round-trips (got %r)" % body)
    check(p.content_type == "text/plain", "content_type")
    check(p.content_encoding == "utf-8", "content_encoding")
    check(p.delivery_mode == 2, "delivery_mode")
    check(p.priority == 3, "priority")
    check(p.correlation_id == "corr-" + tag, "correlation_id")
    check(p.reply_to == "reply-" + tag, "reply_to")
    check(p.message_id == "mid-" + tag, "message_id")
    check(p.timestamp == ts, "timestamp")
    check(p.type == "interop", "type")
    check(p.app_id == "interop-pika", "app_id")
    check(p.user_id == "guest", "user_id")
    headers = p.headers or {}
    x_str = headers.get("x-str")
    x_str = x_str.decode() if isinstance(x_str, bytes) else x_str
    check(x_str == "value", "header x-str (got %r)" % headers)
    check(headers.get("x-int") == 42, "header x-int")
    check(headers.get("x-bool") is True, "header x-bool")
    result["get_body"] = body.decode()
    result["get_correlation_id"] = p.correlation_id
    result["get_header_x_str"] = x_str
    result["get_header_x_int"] = headers.get("x-int")
    result["get_timestamp"] = p.timestamp

    step = "consume"
    got = []

    def on_message(channel, deliver, properties, msg_body):
        channel.basic_ack(deliver.delivery_tag)
        got.append((deliver, properties, msg_body))

    ctag = ch.basic_consume(q, on_message, auto_ack=False, consumer_tag="ctag-" + tag)
    ch.basic_publish("", q, b"consumed by pika",
                     properties=pika.BasicProperties(message_id="consume-" + tag, headers={"x-n": 7}))
    deadline = time.monotonic() + 10
    while not got and time.monotonic() < deadline:
        conn.process_data_events(time_limit=0.2)
    check(got, "basic.deliver within 10 s")
    deliver, cp, cbody = got[0]
    check(cbody == b"consumed by pika", "consumed body")
    check(cp.message_id == "consume-" + tag, "consumed message_id")
    check((cp.headers or {}).get("x-n") == 7, "consumed header")
    check(deliver.consumer_tag == "ctag-" + tag, "consumer tag")
    ch.basic_cancel(ctag)
    result["consume_body"] = cbody.decode()
    result["consume_message_id"] = cp.message_id

    step = "mandatory publish (basic.return)"
    returned = []
    ch.add_on_return_callback(lambda channel, method, properties, rbody: returned.append((method, properties, rbody)))
    ch.basic_publish("", "interop-no-such-queue-" + tag, b"unroutable",
                     properties=pika.BasicProperties(message_id="ret-" + tag), mandatory=True)
    deadline = time.monotonic() + 10
    while not returned and time.monotonic() < deadline:
        conn.process_data_events(time_limit=0.2)
    check(returned, "basic.return within 10 s")
    rmethod, rprops, rbody = returned[0]
    check(rmethod.reply_code == 312, "return reply code 312 (got %s)" % rmethod.reply_code)
    check(rbody == b"unroutable", "returned body")
    check(rprops.message_id == "ret-" + tag, "returned message_id")
    result["return_code"] = rmethod.reply_code
    result["return_text"] = rmethod.reply_text
    result["return_body"] = rbody.decode()

    step = "channel error (passive declare of a missing queue)"
    ch2 = conn.channel()
    code = None
    try:
        ch2.queue_declare("interop-missing-" + tag, passive=True)
    except pika.exceptions.ChannelClosedByBroker as e:
        code = e.reply_code
        result["channel_error_text"] = e.reply_text
    check(code == 404, "passive declare fails with 404 (got %s)" % code)
    result["channel_error_code"] = code
    result["errored_channel_closed"] = ch2.is_closed
    check(conn.is_open, "connection still open after the channel error")

    step = "new channel after the channel error"
    ch3 = conn.channel()
    q3 = ch3.queue_declare("", exclusive=True).method.queue
    ch3.basic_publish("", q3, b"after error")
    _, _, abody = get_one(ch3, q3)
    check(abody == b"after error", "message after the channel error")
    ch.queue_declare(q, passive=True)  # the first channel is unaffected too
    result["after_error_ok"] = True

    step = "publisher confirms"
    cch = conn.channel()
    cch.confirm_delivery()
    qc = cch.queue_declare("", exclusive=True).method.queue
    acked = 0
    for i in range(20):
        # with confirms on, basic_publish returns once the broker acks, and raises NackError on a nack
        cch.basic_publish("", qc, ("confirm %d" % i).encode(), properties=pika.BasicProperties(headers={"i": i}))
        acked += 1
    depth = cch.queue_declare(qc, passive=True).method.message_count
    check(acked == 20, "all 20 confirmed")
    check(depth == 20, "confirmed queue holds 20 (got %s)" % depth)
    result["confirms_acked"] = acked
    result["confirmed_queue_depth"] = depth

    step = "mandatory publish on the confirm channel (UnroutableError)"
    try:
        cch.basic_publish("", "interop-no-such-queue-" + tag, b"unroutable-confirmed", mandatory=True)
        raise AssertionError("mandatory unroutable publish with confirms did not raise UnroutableError")
    except pika.exceptions.UnroutableError as e:
        check(len(e.messages) == 1 and e.messages[0].body == b"unroutable-confirmed", "returned message in UnroutableError")
    result["confirm_unroutable_returned"] = True

    step = "large message"
    size = 1024 * 1024
    big = bytes(((i * 31 + (i >> 8)) & 0xFF) for i in range(size))
    big_hash = hashlib.sha256(big).hexdigest()
    qb = cch.queue_declare("", exclusive=True).method.queue
    cch.basic_publish("", qb, big, properties=pika.BasicProperties(content_type="application/octet-stream"))
    _, _, bbody = get_one(cch, qb)
    check(len(bbody) == size, "large body length (got %d)" % len(bbody))
    got_hash = hashlib.sha256(bbody).hexdigest()
    check(got_hash == big_hash, "large body sha256")
    result["large_bytes"] = len(bbody)
    result["large_sha256_match"] = got_hash == big_hash

    step = "clean close"
    ch.queue_delete(q)
    ch.close()
    ch3.close()
    cch.close()
    conn.close()
    check(conn.is_closed, "connection closed")
    result["closed_cleanly"] = True


def on_alarm(signum, frame):
    raise TimeoutError("whole script timed out after 60 s")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: python3 pika_interop.py HOST PORT", file=sys.stderr)
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
