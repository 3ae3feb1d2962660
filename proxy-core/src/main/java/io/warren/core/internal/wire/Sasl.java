package io.warren.core.internal.wire;

import io.warren.codec.ConnectionMethod;
import io.warren.codec.FieldTable;
import io.warren.codec.FieldValue;
import io.warren.codec.LongString;
import io.warren.codec.ProtocolException;
import io.warren.codec.ReplyCode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * SASL as AMQP carries it: the responses Warren accepts from clients (PLAIN and AMQPLAIN) and the PLAIN response it
 * sends upstream. Stateless.
 */
public final class Sasl {
    public static final String MECHANISMS = "PLAIN AMQPLAIN";

    private Sasl() {}

    /** A user name and password; the password bytes are never logged. */
    public record Credentials(String username, byte[] password) {
        @Override
        public String toString() {
            return "Credentials[username=" + username + ", password=***]";
        }
    }

    public static Credentials parse(String mechanism, LongString response) throws ProtocolException {
        return switch (mechanism) {
            case "PLAIN" -> plain(response.bytes());
            case "AMQPLAIN" -> amqplain(response.bytes());
            default -> throw new ProtocolException(ReplyCode.COMMAND_INVALID,
                    "unknown authentication mechanism '" + mechanism + "'", ConnectionMethod.StartOk.CLASS_ID,
                    ConnectionMethod.StartOk.METHOD_ID);
        };
    }

    /** RFC 4616: [authzid] NUL authcid NUL passwd. */
    private static Credentials plain(byte[] response) throws ProtocolException {
        int first = indexOf(response, 0);
        int second = first < 0 ? -1 : indexOf(response, first + 1);
        if (first < 0 || second < 0 || indexOf(response, second + 1) >= 0) {
            throw refused("PLAIN");
        }
        String user = new String(response, first + 1, second - first - 1, StandardCharsets.UTF_8);
        return new Credentials(user, Arrays.copyOfRange(response, second + 1, response.length));
    }

    /** RabbitMQ's AMQPLAIN: a field table without its length prefix, with LOGIN and PASSWORD. */
    private static Credentials amqplain(byte[] response) throws ProtocolException {
        ByteBuffer table = ByteBuffer.allocate(4 + response.length);
        table.putInt(response.length).put(response).flip();
        FieldTable fields = FieldTable.decode(table);
        FieldValue login = fields.get("LOGIN").orElse(null);
        FieldValue password = fields.get("PASSWORD").orElse(null);
        if (!(login instanceof LongString user) || !(password instanceof LongString secret)) {
            throw refused("AMQPLAIN");
        }
        return new Credentials(user.asString(), secret.bytes());
    }

    private static ProtocolException refused(String mechanism) {
        // What RabbitMQ answers for a response it cannot parse.
        return new ProtocolException(ReplyCode.ACCESS_REFUSED, refusedDetail(mechanism), ConnectionMethod.StartOk.CLASS_ID,
                ConnectionMethod.StartOk.METHOD_ID);
    }

    /** RabbitMQ's words for a login it refused (after "ACCESS_REFUSED - "), naming the mechanism used. */
    public static String refusedDetail(String mechanism) {
        return "Login was refused using authentication mechanism " + mechanism + ". For details see the broker logfile.";
    }

    private static int indexOf(byte[] bytes, int from) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == 0) {
                return i;
            }
        }
        return -1;
    }

    public static LongString plainResponse(String user, byte[] password) {
        byte[] u = user.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[2 + u.length + password.length];
        System.arraycopy(u, 0, out, 1, u.length);
        System.arraycopy(password, 0, out, 2 + u.length, password.length);
        return LongString.of(out);
    }
}
