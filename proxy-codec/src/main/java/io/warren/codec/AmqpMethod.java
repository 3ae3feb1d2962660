package io.warren.codec;

/**
 * One decoded AMQP 0-9-1 method. Each class of the spec is a sealed sub-interface holding one record
 * per method (e.g. {@link BasicMethod.Publish}); every record also has {@code CLASS_ID} and
 * {@code METHOD_ID} constants so that callers can switch on ids peeked from a frame.
 */
public sealed interface AmqpMethod
        permits ConnectionMethod, ChannelMethod, AccessMethod, ExchangeMethod, QueueMethod, BasicMethod,
                ConfirmMethod, TxMethod {

    int classId();

    int methodId();

    /** Spec name, e.g. {@code basic.publish}. */
    String name();

    /** Whether a content header and body frames follow this method. */
    boolean hasContent();
}
