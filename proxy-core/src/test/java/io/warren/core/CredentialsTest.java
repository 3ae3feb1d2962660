package io.warren.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AuthenticationFailureException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.LongString;
import com.rabbitmq.client.SaslConfig;
import com.rabbitmq.client.SaslMechanism;
import com.rabbitmq.client.ShutdownSignalException;
import com.rabbitmq.client.impl.CredentialsProvider;
import com.rabbitmq.client.impl.CredentialsRefreshService;
import com.rabbitmq.client.impl.LongStringHelper;
import io.warren.core.admin.PoolView;
import io.warren.core.config.ProxyConfig;
import io.warren.testsupport.RabbitBroker;
import io.warren.testsupport.WithRabbitBroker;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Credentials through Warren (issue 7, item 4): which clients may share an upstream connection, how long a login
 * vouches for a secret, what a changed password or a deleted user does, and connection.update-secret.
 *
 * <p>Broker management goes through rabbitmqctl, which takes seconds per call on a loaded machine: the users are
 * made in one {@code eval}, and the broker's own connection list is read only where it is the proof.
 */
@WithRabbitBroker
class CredentialsTest {
    static RabbitBroker broker;
    private static final String RUN = UUID.randomUUID().toString().substring(0, 8);
    /** One user per test, so that no test sees another's pools or broker connections. */
    private static final String MIXED = "cred-mixed-" + RUN;
    private static final String ROTATED = "cred-rotated-" + RUN;
    private static final String DELETED = "cred-deleted-" + RUN;
    private static final String TOKEN = "cred-token-" + RUN;
    private static final String REFUSED = "cred-refused-" + RUN;
    private static final String ACTIVE = "cred-active-" + RUN;
    private static final String VHOST = "cred-vh-" + RUN;
    private static final List<String> USERS = List.of(MIXED, ROTATED, DELETED, TOKEN, REFUSED, ACTIVE);

    /** amqp-client has no AMQPLAIN mechanism: RabbitMQ's field table of LOGIN and PASSWORD, without its length. */
    static final SaslConfig AMQPLAIN = serverMechanisms -> new SaslMechanism() {
        @Override
        public String getName() {
            return "AMQPLAIN";
        }

        @Override
        public LongString handleChallenge(LongString challenge, String username, String password) {
            ByteArrayOutputStream table = new ByteArrayOutputStream();
            longStringField(table, "LOGIN", username);
            longStringField(table, "PASSWORD", password);
            return LongStringHelper.asLongString(table.toByteArray());
        }
    };

    private WarrenHarness warren;
    private WarrenHarness second;

    @BeforeAll
    static void makeUsers() {
        StringBuilder eval = new StringBuilder("ok = rabbit_vhost:add(<<\"" + VHOST + "\">>, <<\"warren-test\">>), ");
        for (String user : USERS) {
            eval.append("ok = rabbit_auth_backend_internal:add_user(<<\"").append(user).append("\">>, <<\"")
                    .append(user).append("-1\">>, <<\"warren-test\">>), ");
            eval.append(permissions(user, "/"));
        }
        eval.append(permissions(MIXED, VHOST)).append("ok.");
        broker.rabbitmqctl("eval", eval.toString());
    }

    private static String permissions(String user, String vhost) {
        return "ok = rabbit_auth_backend_internal:set_permissions(<<\"" + user + "\">>, <<\"" + vhost
                + "\">>, <<\".*\">>, <<\".*\">>, <<\".*\">>, <<\"warren-test\">>), ";
    }

    @AfterAll
    static void removeUsers() {
        StringBuilder eval = new StringBuilder();
        for (String user : USERS) {
            // A user a test deleted is gone already: ignore the error.
            eval.append("catch rabbit_auth_backend_internal:delete_user(<<\"").append(user)
                    .append("\">>, <<\"warren-test\">>), ");
        }
        eval.append("rabbit_vhost:delete(<<\"").append(VHOST).append("\">>, <<\"warren-test\">>), ok.");
        broker.rabbitmqctl("eval", eval.toString());
    }

    @AfterEach
    void stopWarren() {
        if (warren != null) {
            warren.close();
        }
        if (second != null) {
            second.close();
        }
    }

    // ---------------------------------------------------------------- who shares an upstream connection

    /**
     * The default keyer keys by virtual host, user, mechanism and secret. PLAIN and AMQPLAIN with the same user and
     * password therefore get separate pools although Warren logs in upstream with PLAIN for both: the mechanism is
     * part of what the client presented, the keyer promises sharing only between identical presentations, and a
     * third-party keyer may judge the mechanisms differently. Same credentials and mechanism share one connection.
     */
    @Test
    void onlyClientsPresentingIdenticalCredentialsShareAnUpstreamConnection() throws Exception {
        warren = WarrenHarness.start(broker);
        String password = MIXED + "-1";
        String q = "cred-q-" + UUID.randomUUID();
        try (Connection plain = connect(warren.factory(), MIXED, password, "/", false);
                Connection amqplain = connect(warren.factory(), MIXED, password, "/", true);
                Connection plainAgain = connect(warren.factory(), MIXED, password, "/", false);
                Connection otherVhost = connect(warren.factory(), MIXED, password, VHOST, false)) {
            Channel viaPlain = plain.createChannel();
            viaPlain.queueDeclare(q, false, false, true, null);
            Channel viaAmqplain = amqplain.createChannel();
            viaAmqplain.basicPublish("", q, null, "from AMQPLAIN".getBytes(StandardCharsets.UTF_8));
            plainAgain.createChannel().queueDeclarePassive(q);
            Channel inOtherVhost = otherVhost.createChannel();
            // The queue lives in "/": the other virtual host's connection cannot see it.
            assertThatThrownBy(() -> inOtherVhost.queueDeclarePassive(q)).hasStackTraceContaining("404");
            await().atMost(10, TimeUnit.SECONDS).until(() -> viaPlain.messageCount(q) == 1);
            GetResponse got = viaPlain.basicGet(q, true);
            assertThat(new String(got.getBody(), StandardCharsets.UTF_8)).isEqualTo("from AMQPLAIN");

            // PLAIN (twice: shared), AMQPLAIN, other vhost: three upstream connections, as the broker sees them.
            assertThat(warren.proxy.upstreamConnectionCount()).isEqualTo(3);
            List<Map<String, String>> rows = warrenConnectionsOf(MIXED);
            assertThat(rows).hasSize(3);
            assertThat(rows).extracting(r -> r.get("vhost")).containsExactlyInAnyOrder("/", "/", VHOST);
        }
    }

    /**
     * A wrong password for a user whose right password has a warm, proven pool is refused at login with 403, with
     * the exact reply text the broker gives a direct client of the same mechanism, every time, and never reaches
     * the pool.
     */
    @Test
    void wrongPasswordIsRefusedAsByTheBrokerAndNeverServedFromThePool() throws Exception {
        warren = WarrenHarness.start(broker);
        String password = MIXED + "-1";
        try (Connection warm = connect(warren.factory(), MIXED, password, "/", false)) {
            warm.createChannel().queueDeclare("", false, true, true, null);
            int upstream = warren.proxy.upstreamConnectionCount();
            for (boolean amqplain : new boolean[] {false, true}) {
                String direct = refusal(warren.directFactory(), MIXED, "wrong", amqplain);
                assertThat(direct).startsWith("ACCESS_REFUSED - Login was refused using authentication mechanism "
                        + (amqplain ? "AMQPLAIN" : "PLAIN"));
                for (int attempt = 0; attempt < 3; attempt++) {
                    assertThat(refusal(warren.factory(), MIXED, "wrong", amqplain)).isEqualTo(direct);
                }
                // The right password's key is proven, the wrong one's never is: the last two refusals came from
                // the broker too (a 403 is not remembered as a backoff).
            }
            assertThat(warren.proxy.stats().handshakesFailed()).containsEntry("access_refused", 6L);
            assertThat(warren.proxy.stats().upstreamLogins()).containsEntry("client", 7L);
            assertThat(warren.proxy.upstreamConnectionCount()).isEqualTo(upstream);
            assertThat(warm.isOpen()).isTrue();
        }
    }

    // ---------------------------------------------------------------- re-authentication

    /**
     * After change_password the old password is refused once the re-authentication interval runs out (2 s here;
     * a Warren with an hour's interval still vouches for it, which is what the interval means). The new password
     * gets its own upstream connection, never the old one's, and clients already connected carry on, as the broker
     * itself keeps connections whose password changed.
     */
    @Test
    void changedPasswordIsRefusedOnceTheReauthIntervalRunsOut() throws Exception {
        warren = WarrenHarness.start(broker, reauth(Duration.ofSeconds(2)));
        second = WarrenHarness.start(broker, reauth(Duration.ofHours(1)));
        String oldPassword = ROTATED + "-1";
        String newPassword = ROTATED + "-2";
        String q = "cred-q-" + UUID.randomUUID();
        try (Connection early = connect(warren.factory(), ROTATED, oldPassword, "/", false);
                Connection earlyLong = connect(second.factory(), ROTATED, oldPassword, "/", false)) {
            Channel earlyChannel = early.createChannel();
            earlyChannel.queueDeclare(q, false, false, false, null);
            broker.changePassword(ROTATED, newPassword);

            // Within its interval a login vouches for the secret (the documented window), from the pool.
            try (Connection vouched = connect(second.factory(), ROTATED, oldPassword, "/", false)) {
                vouched.createChannel().queueDeclarePassive(q);
            }
            assertThat(keysConnected(second)).isEqualTo(1);

            await().atMost(15, TimeUnit.SECONDS).pollInterval(Duration.ofMillis(200)).untilAsserted(() ->
                    assertThatThrownBy(() -> connect(warren.factory(), ROTATED, oldPassword, "/", false).close())
                            .isInstanceOf(AuthenticationFailureException.class)
                            .hasMessageStartingWith("ACCESS_REFUSED - Login was refused"));
            assertThatThrownBy(() -> connect(warren.factory(), ROTATED, oldPassword, "/", false).close())
                    .isInstanceOf(AuthenticationFailureException.class);

            try (Connection rotated = connect(warren.factory(), ROTATED, newPassword, "/", false)) {
                rotated.createChannel().basicPublish("", q, null, new byte[] {1});
                assertThat(keysConnected(warren)).isEqualTo(2);
                // Old secret (Warren 1), new secret (Warren 1), old secret (Warren 2): the broker holds what the
                // two Warrens hold, one connection per key and event loop its clients are on.
                await().atMost(10, TimeUnit.SECONDS).untilAsserted(() -> assertThat(warrenConnectionsOf(ROTATED))
                        .hasSize(warren.proxy.upstreamConnectionCount() + second.proxy.upstreamConnectionCount()));
            }
            earlyChannel.basicPublish("", q, null, new byte[] {2});
            await().atMost(10, TimeUnit.SECONDS).until(() -> earlyChannel.messageCount(q) == 2);
            earlyChannel.queueDelete(q);
        }
    }

    /**
     * RabbitMQ closes a deleted user's connections with 320. Warren's pooled connections of that user go with
     * them, every client on them hears the broker's own code and text, and the next login with the old secret is
     * refused at once (403 at login, as by the broker), not after the re-authentication interval (60 s).
     */
    @Test
    void deletedUsersPooledConnectionsCloseAndItsSecretIsRefusedAtOnce() throws Exception {
        warren = WarrenHarness.start(broker);
        String password = DELETED + "-1";
        Connection direct = connect(warren.directFactory(), DELETED, password, "/", false);
        Connection plain = connect(warren.factory(), DELETED, password, "/", false);
        Connection amqplain = connect(warren.factory(), DELETED, password, "/", true);
        try {
            plain.createChannel().queueDeclare("", false, true, true, null);
            amqplain.createChannel();
            connect(warren.factory(), DELETED, password, "/", false).close(); // a pooled client that left
            assertThat(warren.proxy.upstreamConnectionCount()).isEqualTo(2);

            broker.deleteUser(DELETED);

            await().atMost(10, TimeUnit.SECONDS).until(() -> !direct.isOpen() && !plain.isOpen()
                    && !amqplain.isOpen());
            AMQP.Connection.Close byBroker = (AMQP.Connection.Close) direct.getCloseReason().getReason();
            assertThat(byBroker.getReplyCode()).isEqualTo(320);
            assertThat(byBroker.getReplyText()).isEqualTo("CONNECTION_FORCED - user '" + DELETED + "' is deleted");
            for (Connection c : List.of(plain, amqplain)) {
                AMQP.Connection.Close viaWarren = (AMQP.Connection.Close) c.getCloseReason().getReason();
                assertThat(viaWarren.getReplyCode()).isEqualTo(byBroker.getReplyCode());
                assertThat(viaWarren.getReplyText()).isEqualTo(byBroker.getReplyText());
            }
            await().atMost(10, TimeUnit.SECONDS).until(() -> warren.proxy.upstreamConnectionCount() == 0);
            for (boolean mechanism : new boolean[] {false, true}) {
                assertThat(refusal(warren.factory(), DELETED, password, mechanism))
                        .isEqualTo(refusal(warren.directFactory(), DELETED, password, mechanism));
            }
            assertThat(warren.proxy.upstreamConnectionCount()).isZero();
        } finally {
            for (Connection c : List.of(direct, plain, amqplain)) {
                if (c.isOpen()) {
                    c.close();
                }
            }
        }
    }

    /**
     * For a key in use, Warren proves the login again in the background once half the interval has passed, so no
     * client waits for an upstream login when the proof would have run out. Only the first client waited here.
     */
    @Test
    void activeLoginIsProvenAgainBeforeItsProofRunsOut() throws Exception {
        Duration interval = Duration.ofSeconds(6);
        warren = WarrenHarness.start(broker, reauth(interval));
        String password = ACTIVE + "-1";
        connect(warren.factory(), ACTIVE, password, "/", false).close();
        long firstLoginDone = System.nanoTime(); // the broker accepted the login before this
        sleepUntil(firstLoginDone + interval.toNanos() / 2 + 200_000_000L);
        connect(warren.factory(), ACTIVE, password, "/", false).close(); // vouched for, and starts the refresh
        await().atMost(10, TimeUnit.SECONDS).until(() ->
                warren.proxy.stats().upstreamLogins().getOrDefault("refresh", 0L) >= 1);
        sleepUntil(firstLoginDone + interval.toNanos() + 300_000_000L); // the first proof has run out
        connect(warren.factory(), ACTIVE, password, "/", false).close();
        assertThat(warren.proxy.stats().upstreamLogins()).containsEntry("client", 1L);
    }

    // ---------------------------------------------------------------- connection.update-secret

    /**
     * connection.update-secret never goes up a shared connection: the client moves to the pool of its new secret's
     * key once the broker accepted a login with it, then gets update-secret-ok. Its earlier channel stays on the
     * old connection and works; its new channels, and another client presenting the new secret, share the new one.
     * The same secret again changes nothing.
     */
    @Test
    void updateSecretMovesTheClientToAnUpstreamConnectionOfItsNewSecret() throws Exception {
        warren = WarrenHarness.start(broker);
        String q = "cred-q-" + UUID.randomUUID();
        try (RefreshingClient client = new RefreshingClient(warren.factory(), TOKEN, TOKEN + "-1")) {
            Channel before = client.connection.createChannel();
            before.queueDeclare(q, false, false, false, null);
            assertThat(client.updateSecret(TOKEN + "-1")).isTrue();
            assertThat(keysConnected(warren)).isEqualTo(1);

            broker.changePassword(TOKEN, TOKEN + "-2"); // the token is rotated
            assertThat(client.updateSecret(TOKEN + "-2")).isTrue();
            assertThat(client.connection.isOpen()).isTrue();
            assertThat(keysConnected(warren)).isEqualTo(2);

            Channel after = client.connection.createChannel();
            after.basicPublish("", q, null, "after refresh".getBytes(StandardCharsets.UTF_8));
            try (Connection other = connect(warren.factory(), TOKEN, TOKEN + "-2", "/", false)) {
                other.createChannel().basicPublish("", q, null, "other".getBytes(StandardCharsets.UTF_8));
                assertThat(keysConnected(warren)).isEqualTo(2);
            }
            await().atMost(10, TimeUnit.SECONDS).until(() -> before.messageCount(q) == 2);
            assertThat(new String(before.basicGet(q, true).getBody(), StandardCharsets.UTF_8))
                    .isEqualTo("after refresh");
            after.queueDelete(q);
        }
    }

    /**
     * A new secret the broker refuses at login ends that client with 530 and RabbitMQ's text for a refused secret;
     * a client sharing its upstream connection is untouched. (RabbitMQ's internal backend itself ignores the new
     * secret and answers update-secret-ok, shown on a direct connection; Warren can judge a secret only by logging
     * in with it, and will not move a client onto a secret the broker refused.)
     */
    @Test
    void refusedNewSecretEndsThatClientWith530AndSparesItsNeighbour() throws Exception {
        warren = WarrenHarness.start(broker);
        String password = REFUSED + "-1";
        try (RefreshingClient direct = new RefreshingClient(warren.directFactory(), REFUSED, password)) {
            assertThat(direct.updateSecret("not-the-password")).isTrue();
            assertThat(direct.connection.isOpen()).isTrue();
        }
        try (Connection neighbour = connect(warren.factory(), REFUSED, password, "/", false);
                RefreshingClient client = new RefreshingClient(warren.factory(), REFUSED, password)) {
            Channel ch = neighbour.createChannel();
            String q = ch.queueDeclare("", false, true, true, null).getQueue();
            assertThat(keysConnected(warren)).isEqualTo(1);

            assertThat(client.updateSecret("not-the-password")).isFalse();
            await().atMost(10, TimeUnit.SECONDS).until(() -> !client.connection.isOpen());
            AMQP.Connection.Close close = (AMQP.Connection.Close) client.connection.getCloseReason().getReason();
            assertThat(close.getReplyCode()).isEqualTo(530);
            assertThat(close.getReplyText()).isEqualTo("NOT_ALLOWED - New secret was refused by one of the backends");
            assertThat(close.getClassId()).isEqualTo(10);
            assertThat(close.getMethodId()).isEqualTo(70);

            ch.basicPublish("", q, null, new byte[] {7});
            await().atMost(10, TimeUnit.SECONDS).until(() -> ch.messageCount(q) == 1);
            assertThat(neighbour.isOpen()).isTrue();
            assertThat(keysConnected(warren)).isEqualTo(1);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static UnaryOperator<ProxyConfig> reauth(Duration interval) {
        return c -> c.toBuilder().reauthInterval(interval).build();
    }

    private static Connection connect(ConnectionFactory f, String user, String password, String vhost,
            boolean amqplain) throws Exception {
        f.setUsername(user);
        f.setPassword(password);
        f.setVirtualHost(vhost);
        if (amqplain) {
            f.setSaslConfig(AMQPLAIN);
        }
        return f.newConnection();
    }

    /** The reply text of the 403 the login is refused with (amqp-client raises it at connect). */
    private static String refusal(ConnectionFactory f, String user, String password, boolean amqplain) {
        try {
            connect(f, user, password, "/", amqplain).close();
        } catch (AuthenticationFailureException e) {
            return e.getMessage();
        } catch (Exception e) {
            throw new AssertionError("expected a refused login, got " + e, e);
        }
        throw new AssertionError("the login of " + user + " was accepted");
    }

    /** Pool keys with an upstream connection now; none of them has more than one per event loop. */
    private static int keysConnected(WarrenHarness w) throws Exception {
        List<PoolView> pools = w.proxy.pools().get(10, TimeUnit.SECONDS);
        for (PoolView p : pools) {
            assertThat(p.connections()).as("connections of " + p.poolKey()).isLessThanOrEqualTo(w.eventLoops());
        }
        return (int) pools.stream().filter(p -> p.connections() > 0).count();
    }

    /** The broker's connections of this user that Warren opened. */
    private static List<Map<String, String>> warrenConnectionsOf(String user) {
        return broker.listConnections("user", "vhost", "client_properties").stream()
                .filter(row -> user.equals(row.get("user"))
                        && row.getOrDefault("client_properties", "").contains("Warren"))
                .toList();
    }

    private static void sleepUntil(long nanoTime) throws InterruptedException {
        long left = nanoTime - System.nanoTime();
        if (left > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }

    private static void longStringField(ByteArrayOutputStream out, String name, String value) {
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        byte[] v = value.getBytes(StandardCharsets.UTF_8);
        out.write(n.length);
        out.write(n, 0, n.length);
        out.write('S');
        out.write(ByteBuffer.allocate(4).putInt(v.length).array(), 0, 4);
        out.write(v, 0, v.length);
    }

    /**
     * An amqp-client connection that sends connection.update-secret when the test says so, through the client's own
     * token refresh path (a credentials provider that expires, and a refresh service the test drives).
     */
    private static final class RefreshingClient implements AutoCloseable {
        final Connection connection;
        private volatile String secret;
        private volatile Callable<Boolean> refresh;

        RefreshingClient(ConnectionFactory f, String user, String initialSecret) throws Exception {
            secret = initialSecret;
            f.setCredentialsProvider(new CredentialsProvider() {
                @Override
                public String getUsername() {
                    return user;
                }

                @Override
                public String getPassword() {
                    return secret;
                }

                @Override
                public Duration getTimeBeforeExpiration() {
                    return Duration.ofHours(1);
                }
            });
            f.setCredentialsRefreshService(new CredentialsRefreshService() {
                @Override
                public String register(CredentialsProvider provider, Callable<Boolean> action) {
                    refresh = action;
                    return "test";
                }

                @Override
                public void unregister(CredentialsProvider provider, String id) {}

                @Override
                public boolean isApproachingExpiration(Duration timeBeforeExpiration) {
                    return false;
                }
            });
            connection = f.newConnection();
        }

        /** Sends update-secret and waits for update-secret-ok: false if the connection was closed instead. */
        boolean updateSecret(String newSecret) throws Exception {
            secret = newSecret;
            try {
                return refresh.call();
            } catch (IOException | ShutdownSignalException e) {
                return false;
            }
        }

        @Override
        public void close() throws Exception {
            if (connection.isOpen()) {
                connection.close();
            }
        }
    }
}
