package io.warren.launcher;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * Asks the broker, without credentials, whether it would accept an AMQP connection: sends the protocol header and
 * waits for connection.start, then hangs up (the broker logs that the client closed during the handshake). Used by
 * /readyz only while no upstream connection is open, and at most once a second.
 */
final class UpstreamProbe {
    private static final byte[] HEADER = {'A', 'M', 'Q', 'P', 0, 0, 9, 1};
    private static final long CACHE_NANOS = 1_000_000_000L;

    private final InetSocketAddress broker;
    private final int timeoutMillis;
    /** Guarded by this: the last answer and when it was found. */
    private String lastProblem;
    private long lastAt;
    private boolean probed;

    UpstreamProbe(InetSocketAddress broker, int timeoutMillis) {
        this.broker = broker;
        this.timeoutMillis = timeoutMillis;
    }

    /** Null when the broker answered with connection.start, else what went wrong. */
    synchronized String problem() {
        long now = System.nanoTime();
        if (!probed || now - lastAt > CACHE_NANOS) {
            lastProblem = probe();
            lastAt = System.nanoTime();
            probed = true;
        }
        return lastProblem;
    }

    private String probe() {
        try (Socket socket = new Socket()) {
            socket.connect(broker, timeoutMillis);
            socket.setSoTimeout(timeoutMillis);
            OutputStream out = socket.getOutputStream();
            out.write(HEADER);
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            int type = in.readUnsignedByte();
            int channel = in.readUnsignedShort();
            in.readInt(); // payload size
            int classId = in.readUnsignedShort();
            int methodId = in.readUnsignedShort();
            if (type != 1 || channel != 0 || classId != 10 || methodId != 10) {
                return "the broker did not answer the AMQP 0-9-1 header with connection.start";
            }
            return null;
        } catch (IOException e) {
            return "cannot reach the broker at " + Values.formatAddress(broker) + ": " + e.getMessage();
        }
    }

    @Override
    public String toString() {
        return "UpstreamProbe[" + Values.formatAddress(broker) + "]";
    }
}
