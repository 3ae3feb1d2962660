<?php
// A short-lived PHP publisher, as a PHP-FPM worker runs one per request: php-amqplib connects, opens a channel,
// publishes one message, closes the channel and the connection; N times in one PHP process (the PHP start-up is not
// timed, the client is). Prints one line per client: its wall time in ms, from before connect to the return of
// close(). Bench-only (apt-get install -y php-cli php-amqplib); used by io.warren.bench.ShortLivedClients.
// usage: php php-publisher.php PORT N QUEUE
require_once '/usr/share/php/PhpAmqpLib/autoload.php';

use PhpAmqpLib\Connection\AMQPStreamConnection;
use PhpAmqpLib\Message\AMQPMessage;

if ($argc != 4) {
    fwrite(STDERR, "usage: php php-publisher.php PORT N QUEUE\n");
    exit(2);
}
$port = (int) $argv[1];
$n = (int) $argv[2];
$queue = $argv[3];
for ($i = 0; $i < $n; $i++) {
    $t0 = hrtime(true);
    $connection = new AMQPStreamConnection('127.0.0.1', $port, 'guest', 'guest', '/');
    $channel = $connection->channel();
    $channel->basic_publish(new AMQPMessage('short-lived client says hello'), '', $queue);
    $channel->close();
    $connection->close();
    $t1 = hrtime(true);
    fwrite(STDOUT, sprintf("%.3f\n", ($t1 - $t0) / 1e6));
}
