package io.warren.core.internal.upstream;

import io.warren.codec.ConnectionMethod;
import io.warren.codec.ReplyCode;

/**
 * Why an upstream connection failed, in the words its clients are told, and whether the failure says the node is
 * down or only something of the connection's users. Stateless.
 */
final class UpstreamFailures {
    private UpstreamFailures() {}

    /**
     * The socket closed or could not be opened.
     *
     * @param opened whether the connection (and its TLS handshake) was ever established
     * @param inHandshake whether the AMQP handshake was still under way
     * @param tlsWithoutClientCertificate whether it is TLS and Warren presents no client certificate
     */
    static UpstreamError socketClosed(Node node, boolean opened, boolean inHandshake,
            boolean tlsWithoutClientCertificate, Throwable cause) {
        String why = cause == null ? "closed by the broker" : cause.getMessage();
        if (!opened && why != null && why.startsWith("TLS ")) {
            // Never opened: the transport's text already names the address and says why ("TLS handshake with
            // host:port failed: certificate is not trusted (...)"); "lost" would mislead.
            return UpstreamError.of(ReplyCode.CONNECTION_FORCED, "upstream " + why);
        }
        if (opened && inHandshake && tlsWithoutClientCertificate) {
            // TLS 1.3 lets a broker refuse a missing client certificate only after our side finished the
            // handshake: all we see is the connection dropped before the broker said a word of AMQP.
            return lost(node, why + " (the broker dropped the TLS connection before the AMQP handshake; if it"
                    + " requires client certificates, set --upstream-cert and --upstream-key)");
        }
        if (!opened) {
            return UpstreamError.of(ReplyCode.CONNECTION_FORCED, "upstream broker " + node.name() + " unreachable: "
                    + why);
        }
        if (inHandshake) {
            return UpstreamError.of(ReplyCode.CONNECTION_FORCED, "upstream broker " + node.name()
                    + " dropped the connection during the AMQP handshake: " + why);
        }
        return lost(node, why);
    }

    static UpstreamError lost(Node node, String why) {
        return UpstreamError.of(ReplyCode.CONNECTION_FORCED, "upstream connection to " + node.name() + " lost: "
                + why);
    }

    /** Refusals at login that are the client's doing: its credentials (403) or its virtual host (530). */
    static boolean isClientsFault(int replyCode) {
        return replyCode == ReplyCode.ACCESS_REFUSED.code() || replyCode == ReplyCode.NOT_ALLOWED.code();
    }

    /**
     * Whether the broker closed the connection because its node is going away (stop_app, shutdown, maintenance
     * mode), rather than for something of this connection's users (a user or vhost deleted, an operator's close).
     */
    static boolean isNodeGoing(ConnectionMethod.Close close) {
        String text = close.replyText();
        return close.replyCode() == ReplyCode.CONNECTION_FORCED.code()
                && (text.contains("shutdown") || text.contains("maintenance"));
    }

    /** What the clients of a connection the broker closed are told: the broker's words, naming a node that went. */
    static UpstreamError brokerClosed(Node node, ConnectionMethod.Close close) {
        if (isNodeGoing(close)) {
            return UpstreamError.of(ReplyCode.CONNECTION_FORCED, "upstream node " + node.name()
                    + " closed the connection: " + close.replyText());
        }
        return new UpstreamError(close.replyCode(), close.replyText(), close.failingClassId(),
                close.failingMethodId());
    }
}
