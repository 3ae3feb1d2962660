package io.warren.core.internal.screen;

import io.warren.codec.AccessMethod;
import io.warren.codec.AmqpMethod;
import io.warren.codec.BasicMethod;
import io.warren.codec.ChannelMethod;
import io.warren.codec.ConfirmMethod;
import io.warren.codec.ExchangeMethod;
import io.warren.codec.QueueMethod;
import io.warren.codec.TxMethod;

/**
 * Which channel methods a client sends that the broker answers, and which broker methods are those answers. The
 * scrub of a reused channel counts them: its barrier's -ok is only final once every earlier request was answered.
 */
public final class SyncMethods {
    private SyncMethods() {}

    /** Whether the broker will answer this client method with a reply on the same channel. */
    public static boolean expectsReply(AmqpMethod m) {
        if (m instanceof BasicMethod.Publish || m instanceof BasicMethod.Ack || m instanceof BasicMethod.Nack
                || m instanceof BasicMethod.Reject) {
            return false; // the message path's methods, decided at once: each test below costs a call without C2
        }
        if (m instanceof ExchangeMethod.Declare d) {
            return !d.nowait();
        } else if (m instanceof ExchangeMethod.Delete d) {
            return !d.nowait();
        } else if (m instanceof ExchangeMethod.Bind b) {
            return !b.nowait();
        } else if (m instanceof ExchangeMethod.Unbind u) {
            return !u.nowait();
        } else if (m instanceof QueueMethod.Declare d) {
            return !d.nowait();
        } else if (m instanceof QueueMethod.Bind b) {
            return !b.nowait();
        } else if (m instanceof QueueMethod.Purge p) {
            return !p.nowait();
        } else if (m instanceof QueueMethod.Delete d) {
            return !d.nowait();
        } else if (m instanceof BasicMethod.Consume c) {
            return !c.nowait();
        } else if (m instanceof BasicMethod.Cancel c) {
            return !c.nowait();
        } else if (m instanceof ConfirmMethod.Select s) {
            return !s.nowait();
        }
        return m instanceof QueueMethod.Unbind || m instanceof BasicMethod.Qos || m instanceof BasicMethod.Get
                || m instanceof BasicMethod.Recover || m instanceof ChannelMethod.Flow || m instanceof TxMethod.Select
                || m instanceof TxMethod.Commit || m instanceof TxMethod.Rollback || m instanceof AccessMethod.Request;
    }

    /** Whether a broker method with these ids answers a client request (an -ok, or get-ok/get-empty). */
    public static boolean isReply(int classId, int methodId) {
        return switch (classId) {
            case ChannelMethod.FlowOk.CLASS_ID -> methodId == ChannelMethod.FlowOk.METHOD_ID;
            case AccessMethod.RequestOk.CLASS_ID -> methodId == AccessMethod.RequestOk.METHOD_ID;
            // every exchange.*-ok and queue.*-ok: their method ids are the request's plus one (11, 21, ...)
            case ExchangeMethod.DeclareOk.CLASS_ID, QueueMethod.DeclareOk.CLASS_ID -> methodId % 10 == 1;
            case BasicMethod.QosOk.CLASS_ID -> methodId == BasicMethod.QosOk.METHOD_ID
                    || methodId == BasicMethod.ConsumeOk.METHOD_ID || methodId == BasicMethod.CancelOk.METHOD_ID || methodId == BasicMethod.GetOk.METHOD_ID
                    || methodId == BasicMethod.GetEmpty.METHOD_ID || methodId == BasicMethod.RecoverOk.METHOD_ID;
            case ConfirmMethod.SelectOk.CLASS_ID -> methodId == ConfirmMethod.SelectOk.METHOD_ID;
            case TxMethod.SelectOk.CLASS_ID -> methodId % 10 == 1; // select-ok, commit-ok, rollback-ok
            default -> false;
        };
    }
}
