'use strict';
// Interop check for Warren with the Node.js client amqplib (promise API).
// Usage: node interop.js HOST PORT
// Prints one line "INTEROP-RESULT {json}" and exits 0, or prints "INTEROP-FAILURE <step>: <message>" to
// stderr and exits 1. InteropClientsTest runs it against Warren and straight against the broker.
const crypto = require('crypto');
const amqp = require('amqplib');
const fs = require('fs');
const path = require('path');
// amqplib's "exports" hides its package.json from require(): read it from the installed package's folder.
const amqplibVersion = (() => {
  let dir = path.dirname(require.resolve('amqplib'));
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
})();

const [host, port] = process.argv.slice(2);
if (!host || !port) {
  console.error('usage: node interop.js HOST PORT');
  process.exit(2);
}

let step = 'start';
const result = { client: 'amqplib', client_version: amqplibVersion, runtime: 'node ' + process.version };

function check(cond, what) {
  if (!cond) throw new Error('check failed: ' + what);
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('timed out after ' + ms + ' ms: ' + what)), ms); }),
  ]);
}

async function getOne(ch, queue) {
  for (let i = 0; i < 100; i++) {
    const m = await ch.get(queue, { noAck: true });
    if (m) return m;
    await new Promise(r => setTimeout(r, 50));
  }
  throw new Error('no message on ' + queue + ' after 5 s of basic.get');
}

async function main() {
  const tag = crypto.randomBytes(6).toString('hex');

  step = 'connect';
  const conn = await amqp.connect({
    protocol: 'amqp', hostname: host, port: Number(port), username: 'guest', password: 'guest',
    vhost: '/', heartbeat: 0,
  }, { credentials: amqp.credentials.plain('guest', 'guest') });
  let connClosedUnexpectedly = null;
  conn.on('error', e => { connClosedUnexpectedly = e.message; });
  const sp = conn.connection.serverProperties || {};
  result.server_product = String(sp.product || '');
  result.frame_max = conn.connection.frameMax;

  step = 'open channel';
  const ch = await conn.createChannel();
  ch.on('error', () => {});

  step = 'declare queue';
  const q = 'interop-node-' + tag;
  const ok = await ch.assertQueue(q, { exclusive: true, autoDelete: false, durable: false });
  check(ok.queue === q, 'declare-ok names the queue');
  result.declared_queue = ok.queue;

  step = 'publish with properties and get';
  const ts = 1700000000;
  const props = {
    contentType: 'text/plain', contentEncoding: 'utf-8', deliveryMode: 2, priority: 3,
    correlationId: 'corr-' + tag, replyTo: 'reply-' + tag, expiration: '60000', messageId: 'mid-' + tag,
    timestamp: ts, type: 'interop', appId: 'interop-node', userId: 'guest',
    headers: { 'x-str': 'value', 'x-int': 42, 'x-bool': true },
  };
  check(ch.publish('', q, Buffer.from('hello from amqplib'), props), 'publish returned true');
  const got = await getOne(ch, q);
  const p = got.properties;
  check(got.content.toString() === 'hello from amqplib', 'body round-trips (got ' + got.content.toString() + ')');
  check(p.contentType === 'text/plain', 'content_type');
  check(p.contentEncoding === 'utf-8', 'content_encoding');
  check(p.deliveryMode === 2, 'delivery_mode');
  check(p.priority === 3, 'priority');
  check(p.correlationId === 'corr-' + tag, 'correlation_id');
  check(p.replyTo === 'reply-' + tag, 'reply_to');
  check(p.messageId === 'mid-' + tag, 'message_id');
  check(p.timestamp === ts, 'timestamp');
  check(p.type === 'interop', 'type');
  check(p.appId === 'interop-node', 'app_id');
  check(p.userId === 'guest', 'user_id');
  check(p.headers['x-str'] === 'value', 'header x-str (got ' + JSON.stringify(p.headers) + ')');
  check(p.headers['x-int'] === 42, 'header x-int');
  check(p.headers['x-bool'] === true, 'header x-bool');
  result.get_body = got.content.toString();
  result.get_correlation_id = p.correlationId;
  result.get_header_x_str = p.headers['x-str'];
  result.get_header_x_int = p.headers['x-int'];
  result.get_timestamp = p.timestamp;

  step = 'consume';
  const delivered = new Promise((resolve, reject) => {
    ch.consume(q, msg => {
      if (msg === null) { reject(new Error('consumer cancelled by server')); return; }
      ch.ack(msg);
      resolve(msg);
    }, { noAck: false, consumerTag: 'ctag-' + tag }).catch(reject);
  });
  ch.publish('', q, Buffer.from('consumed by amqplib'), { messageId: 'consume-' + tag, headers: { 'x-n': 7 } });
  const msg = await withTimeout(delivered, 10000, 'basic.deliver');
  check(msg.content.toString() === 'consumed by amqplib', 'consumed body');
  check(msg.properties.messageId === 'consume-' + tag, 'consumed message_id');
  check(msg.properties.headers['x-n'] === 7, 'consumed header');
  check(msg.fields.consumerTag === 'ctag-' + tag, 'consumer tag');
  await ch.cancel('ctag-' + tag);
  result.consume_body = msg.content.toString();
  result.consume_message_id = msg.properties.messageId;

  step = 'mandatory publish (basic.return)';
  const returned = new Promise(resolve => ch.once('return', resolve));
  ch.publish('', 'interop-no-such-queue-' + tag, Buffer.from('unroutable'), { mandatory: true, messageId: 'ret-' + tag });
  const ret = await withTimeout(returned, 10000, 'basic.return');
  check(ret.fields.replyCode === 312, 'return reply code 312 (got ' + ret.fields.replyCode + ')');
  check(ret.content.toString() === 'unroutable', 'returned body');
  check(ret.properties.messageId === 'ret-' + tag, 'returned message_id');
  result.return_code = ret.fields.replyCode;
  result.return_text = ret.fields.replyText;
  result.return_body = ret.content.toString();

  step = 'channel error (passive declare of a missing queue)';
  const ch2 = await conn.createChannel();
  let ch2Closed = false;
  ch2.on('error', () => {});
  ch2.on('close', () => { ch2Closed = true; });
  let code = null;
  try {
    await ch2.checkQueue('interop-missing-' + tag);
  } catch (e) {
    code = e.code;
    result.channel_error_text = String(e.message).split('\n')[0];
  }
  check(code === 404, 'passive declare fails with 404 (got ' + code + ')');
  result.channel_error_code = code;
  await new Promise(r => setTimeout(r, 100));
  result.errored_channel_closed = ch2Closed;

  step = 'new channel after the channel error';
  const ch3 = await conn.createChannel();
  ch3.on('error', () => {});
  const q3 = await ch3.assertQueue('', { exclusive: true });
  ch3.publish('', q3.queue, Buffer.from('after error'));
  const after = await getOne(ch3, q3.queue);
  check(after.content.toString() === 'after error', 'message after the channel error');
  // the first channel must be unaffected too
  await ch.checkQueue(q);
  result.after_error_ok = true;
  check(connClosedUnexpectedly === null, 'connection still open (' + connClosedUnexpectedly + ')');

  step = 'publisher confirms';
  const cch = await conn.createConfirmChannel();
  cch.on('error', () => {});
  const qc = (await cch.assertQueue('', { exclusive: true })).queue;
  let acked = 0;
  const confirms = [];
  for (let i = 0; i < 20; i++) {
    confirms.push(new Promise((resolve, reject) => {
      cch.publish('', qc, Buffer.from('confirm ' + i), { headers: { i } }, (err) => {
        if (err) reject(new Error('nack for message ' + i)); else { acked++; resolve(); }
      });
    }));
  }
  await withTimeout(Promise.all(confirms), 15000, 'publisher confirms');
  await withTimeout(cch.waitForConfirms(), 15000, 'waitForConfirms');
  const qcInfo = await cch.checkQueue(qc);
  check(acked === 20, 'all 20 confirmed (got ' + acked + ')');
  check(qcInfo.messageCount === 20, 'confirmed queue holds 20 (got ' + qcInfo.messageCount + ')');
  result.confirms_acked = acked;
  result.confirmed_queue_depth = qcInfo.messageCount;

  step = 'large message';
  const size = 1024 * 1024;
  const big = Buffer.alloc(size);
  for (let i = 0; i < size; i++) big[i] = (i * 31 + (i >> 8)) & 0xff;
  const bigHash = crypto.createHash('sha256').update(big).digest('hex');
  const qb = (await cch.assertQueue('', { exclusive: true })).queue;
  await new Promise((resolve, reject) => cch.publish('', qb, big, { contentType: 'application/octet-stream' },
    err => err ? reject(new Error('large message nacked')) : resolve()));
  const bigGot = await getOne(cch, qb);
  const gotHash = crypto.createHash('sha256').update(bigGot.content).digest('hex');
  check(bigGot.content.length === size, 'large body length (got ' + bigGot.content.length + ')');
  check(gotHash === bigHash, 'large body sha256');
  result.large_bytes = bigGot.content.length;
  result.large_sha256_match = gotHash === bigHash;

  step = 'clean close';
  await ch.deleteQueue(q);
  await ch.close();
  await ch3.close();
  await cch.close();
  await conn.close();
  check(connClosedUnexpectedly === null, 'no connection error (' + connClosedUnexpectedly + ')');
  result.closed_cleanly = true;
}

const deadline = setTimeout(() => {
  console.error('INTEROP-FAILURE ' + step + ': whole script timed out after 60 s');
  process.exit(1);
}, 60000);

main().then(() => {
  clearTimeout(deadline);
  console.log('INTEROP-RESULT ' + JSON.stringify(result));
  process.exit(0);
}, err => {
  clearTimeout(deadline);
  console.error('INTEROP-FAILURE ' + step + ': ' + (err && err.stack || err));
  process.exit(1);
});
