package io.warren.codec;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.util.List;

/** Method frame payloads ({@code class-id method-id arguments}) to {@link AmqpMethod} records and back. */
public final class MethodCodec {
    private MethodCodec() {}

    /**
     * Decodes the method in {@code payload} from its position to its limit, without moving the position.
     *
     * @throws ProtocolException NOT_IMPLEMENTED for an unknown class or method, FRAME_ERROR when the bytes do
     *     not match the method's layout, SYNTAX_ERROR for malformed field table contents
     */
    public static AmqpMethod decode(ByteBuffer payload) throws ProtocolException {
        Reader r = new Reader(payload, payload.position(), payload.limit());
        // RabbitMQ analyze_frame needs <<ClassId:16, MethodId:16, _/binary>>; shorter is frame_error (501)
        int classId = r.shortUint();
        int methodId = r.shortUint();
        r.method(classId, methodId);
        AmqpMethod m = switch (classId) {
            case ConnectionMethod.Start.CLASS_ID -> ConnectionCodec.decode(methodId, r);
            case ChannelMethod.Open.CLASS_ID -> ChannelCodec.decode(methodId, r);
            case AccessMethod.Request.CLASS_ID -> AccessCodec.decode(methodId, r);
            case ExchangeMethod.Declare.CLASS_ID -> ExchangeCodec.decode(methodId, r);
            case QueueMethod.Declare.CLASS_ID -> QueueCodec.decode(methodId, r);
            case BasicMethod.Publish.CLASS_ID -> BasicCodec.decode(methodId, r);
            case ConfirmMethod.Select.CLASS_ID -> ConfirmCodec.decode(methodId, r);
            case TxMethod.Select.CLASS_ID -> TxCodec.decode(methodId, r);
            default -> null;
        };
        if (m == null) {
            // RabbitMQ lookup_method_name exits {unknown_method_id, Id} and drops the socket with no code;
            // 540 is the spec's "functionality not implemented", the closest code for the proxy to send
            throw r.error(ReplyCode.NOT_IMPLEMENTED, "unknown method " + classId + "/" + methodId);
        }
        r.expectEnd();
        return m;
    }

    /**
     * Writes {@code m} (ids and arguments) at {@code out}'s position and advances it.
     *
     * @throws BufferOverflowException if it does not fit; nothing is written then
     */
    public static void encode(AmqpMethod m, ByteBuffer out) {
        if (out.remaining() < encodedSize(m)) {
            throw new BufferOverflowException();
        }
        encodeUnchecked(m, out);
    }

    /** Writes without the size pre-check: the caller has reserved {@link #encodedSize} bytes. */
    static void encodeUnchecked(AmqpMethod m, ByteBuffer out) {
        Wire.putShort(out, m.classId());
        Wire.putShort(out, m.methodId());
        if (m instanceof ConnectionMethod x) {
            ConnectionCodec.encode(x, out);
        } else if (m instanceof ChannelMethod x) {
            ChannelCodec.encode(x, out);
        } else if (m instanceof AccessMethod x) {
            AccessCodec.encode(x, out);
        } else if (m instanceof ExchangeMethod x) {
            ExchangeCodec.encode(x, out);
        } else if (m instanceof QueueMethod x) {
            QueueCodec.encode(x, out);
        } else if (m instanceof BasicMethod x) {
            BasicCodec.encode(x, out);
        } else if (m instanceof ConfirmMethod x) {
            ConfirmCodec.encode(x, out);
        } else if (m instanceof TxMethod x) {
            TxCodec.encode(x, out);
        } else {
            throw new AssertionError(m);
        }
    }

    /** Bytes {@link #encode} writes for {@code m}: the method frame's payload size. */
    public static int encodedSize(AmqpMethod m) {
        int args;
        if (m instanceof ConnectionMethod x) {
            args = ConnectionCodec.size(x);
        } else if (m instanceof ChannelMethod x) {
            args = ChannelCodec.size(x);
        } else if (m instanceof AccessMethod x) {
            args = AccessCodec.size(x);
        } else if (m instanceof ExchangeMethod x) {
            args = ExchangeCodec.size(x);
        } else if (m instanceof QueueMethod x) {
            args = QueueCodec.size(x);
        } else if (m instanceof BasicMethod x) {
            args = BasicCodec.size(x);
        } else if (m instanceof ConfirmMethod x) {
            args = ConfirmCodec.size(x);
        } else if (m instanceof TxMethod x) {
            args = TxCodec.size(x);
        } else {
            throw new AssertionError(m);
        }
        return 4 + args;
    }

    /** Every method this codec knows (the 66 of RabbitMQ's AMQP 0-9-1), in spec order. */
    public static List<MethodInfo> methodTable() {
        return MethodTable.METHODS;
    }
}
