package io.warren.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.warren.api.ChannelContext;
import io.warren.api.ChannelTracker;
import io.warren.api.PoolKey;
import io.warren.codec.AmqpMethod;
import io.warren.codec.BasicMethod;
import io.warren.codec.ConfirmMethod;
import io.warren.codec.FieldTable;
import io.warren.codec.QueueMethod;
import io.warren.codec.TxMethod;
import io.warren.testsupport.gen.Generator;
import io.warren.testsupport.gen.Generators;
import io.warren.testsupport.gen.Property;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

class PublishSafePolicyTest {
    private static final ChannelContext CONTEXT = new ChannelContext(new PoolKey("k"), "/", "guest", false);

    private final PublishSafePolicy policy = new PublishSafePolicy();

    private ChannelTracker afterClient(AmqpMethod... methods) {
        ChannelTracker tracker = policy.track(CONTEXT);
        for (AmqpMethod m : methods) {
            tracker.onClientMethod(m);
        }
        return tracker;
    }

    @Test
    void isNamedPublishSafe() {
        assertThat(policy.name()).isEqualTo("publish-safe").isEqualTo(PublishSafePolicy.NAME);
    }

    @Test
    void aChannelTheClientDidNothingOnIsReusable() {
        assertThat(afterClient().mayReuse()).isTrue();
    }

    @ParameterizedTest
    @FieldSource("io.warren.policy.MethodCatalog#ALL")
    void decidesEveryMethodSentByTheClient(MethodCatalog.Case c) {
        assertThat(afterClient(c.method()).mayReuse()).as(c.method().name()).isEqualTo(c.clientSafe());
    }

    @ParameterizedTest
    @FieldSource("io.warren.policy.MethodCatalog#ALL")
    void decidesEveryMethodSentByTheBroker(MethodCatalog.Case c) {
        ChannelTracker tracker = policy.track(CONTEXT);
        tracker.onServerMethod(c.method());
        assertThat(tracker.mayReuse()).as(c.method().name()).isEqualTo(c.serverSafe());
    }

    @Test
    void theCatalogCoversEveryMethodOfTheCodec() {
        Set<Class<?>> all = leaves(AmqpMethod.class);
        Set<Class<?>> covered = MethodCatalog.ALL.stream().map(c -> c.method().getClass()).collect(Collectors.toSet());
        assertThat(all).hasSizeGreaterThanOrEqualTo(66);
        assertThat(covered).containsExactlyInAnyOrderElementsOf(all);
    }

    /** Every record of the codec's sealed method hierarchy. */
    private static Set<Class<?>> leaves(Class<?> type) {
        if (!type.isSealed()) {
            return Set.of(type);
        }
        Set<Class<?>> out = new HashSet<>();
        for (Class<?> sub : type.getPermittedSubclasses()) {
            out.addAll(leaves(sub));
        }
        return out;
    }

    @Test
    void exactlyTheMethodsOfTheDesignAreSafeFromTheClient() {
        Set<String> safe = MethodCatalog.clientSafe().stream().map(AmqpMethod::name).collect(Collectors.toSet());
        assertThat(safe).containsExactlyInAnyOrder(
                "channel.open", "channel.close",
                "basic.publish", "basic.get", "basic.qos", "confirm.select",
                "exchange.declare", "exchange.delete", "exchange.bind", "exchange.unbind",
                "queue.declare", "queue.bind", "queue.unbind", "queue.purge", "queue.delete");
    }

    @Test
    void basicGetIsSafeOnlyWithNoAck() {
        assertThat(afterClient(new BasicMethod.Get(0, "q", true)).mayReuse()).isTrue();
        assertThat(afterClient(new BasicMethod.Get(0, "q", false)).mayReuse()).isFalse();
    }

    @Test
    void queueDeclareIsSafeUnlessItCreatesAnExclusiveQueue() {
        assertThat(afterClient(declare(false, false)).mayReuse()).as("plain").isTrue();
        assertThat(afterClient(declare(false, true)).mayReuse()).as("exclusive").isFalse();
        assertThat(afterClient(declare(true, false)).mayReuse()).as("passive").isTrue();
        assertThat(afterClient(declare(true, true)).mayReuse()).as("passive, exclusive flag ignored").isTrue();
    }

    private static QueueMethod.Declare declare(boolean passive, boolean exclusive) {
        return new QueueMethod.Declare(0, "q", passive, false, exclusive, false, false, FieldTable.EMPTY);
    }

    @Test
    void theFirstUnsafeMethodTaintsTheChannelForGood() {
        ChannelTracker tracker = afterClient(
                new ConfirmMethod.Select(false),
                new BasicMethod.Publish(0, "", "q", false, false),
                TxMethod.Select.INSTANCE,
                new BasicMethod.Publish(0, "", "q", false, false),
                new BasicMethod.Get(0, "q", true));
        assertThat(tracker.mayReuse()).isFalse();
        assertThat(tracker).hasToString("RuleTracker[not reusable: client tx.select]");
        assertThat(tracker.verdictSoFar()).isEqualTo("not reusable: client tx.select");
    }

    @Test
    void aTaintFromTheBrokerIsNamed() {
        ChannelTracker tracker = afterClient(new BasicMethod.Publish(0, "", "q", false, false));
        tracker.onServerMethod(new BasicMethod.Return(312, "NO_ROUTE", "", "q"));
        assertThat(tracker.mayReuse()).isTrue();
        assertThat(tracker).hasToString("RuleTracker[reusable]");
        assertThat(tracker.verdictSoFar()).isEqualTo("reusable so far");
        tracker.onServerMethod(new io.warren.codec.ChannelMethod.Flow(false));
        assertThat(tracker.mayReuse()).isFalse();
        assertThat(tracker).hasToString("RuleTracker[not reusable: server channel.flow]");
        assertThat(tracker.verdictSoFar()).isEqualTo("not reusable: server channel.flow");
        assertThat(tracker.mayReuse()).as("asking for the verdict changes nothing").isFalse();
    }

    @Test
    void trackersAreIndependent() {
        ChannelTracker tainted = afterClient(new BasicMethod.Consume(0, "q", "", false, true, false, false,
                FieldTable.EMPTY));
        ChannelTracker clean = afterClient(new BasicMethod.Publish(0, "", "q", false, false));
        assertThat(tainted.mayReuse()).isFalse();
        assertThat(clean.mayReuse()).isTrue();
    }

    @Test
    void aConfirmModeChannelIsTrackedLikeAnyOther() {
        ChannelTracker tracker = policy.track(new ChannelContext(new PoolKey("k"), "/", "guest", true));
        tracker.onClientMethod(new ConfirmMethod.Select(false));
        tracker.onClientMethod(new BasicMethod.Publish(0, "", "q", false, false));
        assertThat(tracker.mayReuse()).isTrue();
    }

    private static final Generator<List<AmqpMethod>> SAFE_SEQUENCES =
            Generators.elements(MethodCatalog.clientSafe()).list(0, 20);

    @Test
    void anySequenceOfSafeMethodsIsReusable() {
        Property.forAll(SAFE_SEQUENCES).cases(1000).check(methods ->
                assertThat(afterClient(methods.toArray(AmqpMethod[]::new)).mayReuse()).isTrue());
    }

    @Test
    void oneUnsafeMethodAnywhereEndsReuse() {
        Generator<AmqpMethod> unsafe = Generators.elements(MethodCatalog.clientUnsafe());
        Generator<List<AmqpMethod>> sequences = r -> {
            List<AmqpMethod> all = new ArrayList<>(SAFE_SEQUENCES.next(r));
            all.add(unsafe.next(r));
            all.addAll(SAFE_SEQUENCES.next(r));
            return all;
        };
        Property.forAll(sequences).cases(1000).check(all ->
                assertThat(afterClient(all.toArray(AmqpMethod[]::new)).mayReuse()).isFalse());
    }

    @Test
    void neverReusePolicyRefusesEverything() {
        NeverReusePolicy never = new NeverReusePolicy();
        assertThat(never.name()).isEqualTo("never");
        ChannelTracker empty = never.track(CONTEXT);
        assertThat(empty.mayReuse()).isFalse();
        ChannelTracker used = never.track(CONTEXT);
        MethodCatalog.clientSafe().forEach(used::onClientMethod);
        MethodCatalog.ALL.forEach(c -> used.onServerMethod(c.method()));
        assertThat(used.mayReuse()).isFalse();
    }
}
