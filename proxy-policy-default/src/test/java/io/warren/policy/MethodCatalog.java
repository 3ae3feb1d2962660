package io.warren.policy;

import io.warren.codec.AccessMethod;
import io.warren.codec.AmqpMethod;
import io.warren.codec.BasicMethod;
import io.warren.codec.ChannelMethod;
import io.warren.codec.ConfirmMethod;
import io.warren.codec.ConnectionMethod;
import io.warren.codec.ExchangeMethod;
import io.warren.codec.FieldTable;
import io.warren.codec.LongString;
import io.warren.codec.QueueMethod;
import io.warren.codec.TxMethod;
import java.util.List;

/**
 * At least one instance of every method of AMQP 0-9-1, with the {@code publish-safe} decision expected when the client
 * sends it and when the broker sends it. {@link PublishSafePolicyTest#theCatalogCoversEveryMethodOfTheCodec} keeps it
 * complete.
 */
final class MethodCatalog {
    private MethodCatalog() {}

    /**
     * @param clientSafe whether a client that sends it leaves the channel reusable
     * @param serverSafe whether a broker that sends it leaves the channel reusable
     */
    record Case(AmqpMethod method, boolean clientSafe, boolean serverSafe) {
        @Override
        public String toString() {
            return method.toString();
        }
    }

    /** Safe from either side. */
    private static Case safe(AmqpMethod m) {
        return new Case(m, true, true);
    }

    /** Ends reuse when a client sends it; harmless (a reply, or something the engine owns) from the broker. */
    private static Case unsafe(AmqpMethod m) {
        return new Case(m, false, true);
    }

    /** Ends reuse from either side. */
    private static Case unsafeBothWays(AmqpMethod m) {
        return new Case(m, false, false);
    }

    private static final FieldTable NONE = FieldTable.EMPTY;

    static final List<Case> ALL = List.of(
            // connection: never on a channel
            unsafe(new ConnectionMethod.Start(0, 9, NONE, LongString.of("PLAIN"), LongString.of("en_US"))),
            unsafe(new ConnectionMethod.StartOk(NONE, "PLAIN", LongString.of("\0guest\0guest"), "en_US")),
            unsafe(new ConnectionMethod.Secure(LongString.EMPTY)),
            unsafe(new ConnectionMethod.SecureOk(LongString.EMPTY)),
            unsafe(new ConnectionMethod.Tune(2047, 131072, 60)),
            unsafe(new ConnectionMethod.TuneOk(2047, 131072, 60)),
            unsafe(new ConnectionMethod.Open("/", "", false)),
            unsafe(new ConnectionMethod.OpenOk("")),
            unsafe(new ConnectionMethod.Close(320, "forced", 0, 0)),
            unsafe(ConnectionMethod.CloseOk.INSTANCE),
            unsafe(new ConnectionMethod.Blocked("low memory")),
            unsafe(ConnectionMethod.Unblocked.INSTANCE),
            unsafe(new ConnectionMethod.UpdateSecret(LongString.of("token"), "refresh")),
            unsafe(ConnectionMethod.UpdateSecretOk.INSTANCE),

            // channel
            safe(new ChannelMethod.Open("")),
            unsafe(new ChannelMethod.OpenOk(LongString.EMPTY)),
            unsafeBothWays(new ChannelMethod.Flow(true)),
            unsafeBothWays(new ChannelMethod.Flow(false)),
            unsafe(new ChannelMethod.FlowOk(true)),
            new Case(new ChannelMethod.Close(200, "bye", 0, 0), true, false),
            new Case(new ChannelMethod.Close(404, "NOT_FOUND - no queue 'q'", 60, 70), true, false),
            unsafe(new ChannelMethod.CloseOk()),

            // access
            unsafe(new AccessMethod.Request("/data", false, false, true, true, true)),
            unsafe(new AccessMethod.RequestOk(1)),

            // exchange
            safe(new ExchangeMethod.Declare(0, "orders", "topic", false, true, false, false, false, NONE)),
            safe(new ExchangeMethod.Declare(0, "orders", "topic", true, false, false, false, false, NONE)),
            safe(new ExchangeMethod.Declare(0, "tmp", "fanout", false, false, true, true, true, NONE)),
            unsafe(ExchangeMethod.DeclareOk.INSTANCE),
            safe(new ExchangeMethod.Delete(0, "orders", false, false)),
            safe(new ExchangeMethod.Delete(0, "orders", true, true)),
            unsafe(ExchangeMethod.DeleteOk.INSTANCE),
            safe(new ExchangeMethod.Bind(0, "dst", "src", "a.#", false, NONE)),
            unsafe(ExchangeMethod.BindOk.INSTANCE),
            safe(new ExchangeMethod.Unbind(0, "dst", "src", "a.#", true, NONE)),
            unsafe(ExchangeMethod.UnbindOk.INSTANCE),

            // queue
            safe(new QueueMethod.Declare(0, "jobs", false, true, false, false, false, NONE)),
            safe(new QueueMethod.Declare(0, "jobs", true, false, false, false, false, NONE)),
            safe(new QueueMethod.Declare(0, "jobs", true, false, true, false, false, NONE)), // passive ignores exclusive
            safe(new QueueMethod.Declare(0, "", false, false, false, true, true, NONE)),
            unsafe(new QueueMethod.Declare(0, "", false, false, true, true, false, NONE)), // RPC reply queue
            unsafe(new QueueMethod.Declare(0, "mine", false, true, true, false, true, NONE)),
            unsafe(new QueueMethod.DeclareOk("amq.gen-abc", 0, 0)),
            safe(new QueueMethod.Bind(0, "jobs", "orders", "eu.*", false, NONE)),
            unsafe(QueueMethod.BindOk.INSTANCE),
            safe(new QueueMethod.Unbind(0, "jobs", "orders", "eu.*", NONE)),
            unsafe(QueueMethod.UnbindOk.INSTANCE),
            safe(new QueueMethod.Purge(0, "jobs", false)),
            unsafe(new QueueMethod.PurgeOk(3)),
            safe(new QueueMethod.Delete(0, "jobs", false, false, false)),
            safe(new QueueMethod.Delete(0, "jobs", true, true, true)),
            unsafe(new QueueMethod.DeleteOk(0)),

            // basic
            safe(new BasicMethod.Qos(0, 10, false)),
            safe(new BasicMethod.Qos(0, 0, true)),
            unsafe(BasicMethod.QosOk.INSTANCE),
            unsafe(new BasicMethod.Consume(0, "jobs", "", false, false, false, false, NONE)),
            unsafe(new BasicMethod.Consume(0, "amq.rabbitmq.reply-to", "", false, true, false, false, NONE)),
            unsafe(new BasicMethod.ConsumeOk("ctag-1")),
            unsafeBothWays(new BasicMethod.Cancel("ctag-1", false)),
            unsafe(new BasicMethod.CancelOk("ctag-1")),
            safe(new BasicMethod.Publish(0, "", "jobs", false, false)),
            safe(new BasicMethod.Publish(0, "orders", "eu.de", true, false)),
            safe(new BasicMethod.Publish(0, "orders", "eu.de", false, true)),
            unsafe(new BasicMethod.Return(312, "NO_ROUTE", "orders", "nowhere")),
            unsafe(new BasicMethod.Deliver("ctag-1", 1, false, "orders", "eu.de")),
            safe(new BasicMethod.Get(0, "jobs", true)),
            unsafe(new BasicMethod.Get(0, "jobs", false)),
            unsafe(new BasicMethod.Get(0, "", false)),
            unsafe(new BasicMethod.GetOk(1, false, "orders", "eu.de", 0)),
            unsafe(new BasicMethod.GetEmpty("")),
            unsafe(new BasicMethod.Ack(1, false)), // from the broker: a publisher confirm, which the engine owns
            unsafe(new BasicMethod.Ack(5, true)),
            unsafe(new BasicMethod.Reject(1, true)),
            unsafe(new BasicMethod.Reject(1, false)),
            unsafe(new BasicMethod.RecoverAsync(true)),
            unsafe(new BasicMethod.Recover(true)),
            unsafe(new BasicMethod.Recover(false)),
            unsafe(new BasicMethod.RecoverOk()),
            unsafe(new BasicMethod.Nack(1, false, true)), // from the broker: a negative publisher confirm
            unsafe(new BasicMethod.Nack(3, true, false)),

            // confirm
            safe(new ConfirmMethod.Select(false)),
            safe(new ConfirmMethod.Select(true)),
            unsafe(ConfirmMethod.SelectOk.INSTANCE),

            // tx
            unsafe(TxMethod.Select.INSTANCE),
            unsafe(TxMethod.SelectOk.INSTANCE),
            unsafe(TxMethod.Commit.INSTANCE),
            unsafe(TxMethod.CommitOk.INSTANCE),
            unsafe(TxMethod.Rollback.INSTANCE),
            unsafe(TxMethod.RollbackOk.INSTANCE));

    static List<AmqpMethod> clientSafe() {
        return ALL.stream().filter(Case::clientSafe).map(Case::method).toList();
    }

    static List<AmqpMethod> clientUnsafe() {
        return ALL.stream().filter(c -> !c.clientSafe()).map(Case::method).toList();
    }
}
