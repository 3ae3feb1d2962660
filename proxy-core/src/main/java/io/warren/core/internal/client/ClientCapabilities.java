package io.warren.core.internal.client;

import io.warren.codec.FieldTable;

/**
 * The server-initiated methods a client said it understands (client-properties.capabilities). Warren sends each
 * client only what it declared, as a broker would.
 */
record ClientCapabilities(boolean connectionBlocked, boolean consumerCancelNotify, boolean publisherConfirms,
        boolean authenticationFailureClose) {

    static final ClientCapabilities NONE = new ClientCapabilities(false, false, false, false);

    static ClientCapabilities from(FieldTable clientProperties) {
        FieldTable caps = clientProperties.getTable("capabilities").orElse(FieldTable.EMPTY);
        return new ClientCapabilities(
                caps.getBoolean("connection.blocked", false),
                caps.getBoolean("consumer_cancel_notify", false),
                caps.getBoolean("publisher_confirms", false),
                caps.getBoolean("authentication_failure_close", false));
    }
}
