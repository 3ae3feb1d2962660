package io.warren.core.internal.client;

import io.warren.api.ClientCredentials;
import io.warren.api.CredentialRejectedException;
import io.warren.api.KeyedCredentials;
import io.warren.codec.ConnectionMethod;
import io.warren.codec.ReplyCode;
import io.warren.core.internal.pool.Reply;
import io.warren.core.internal.upstream.UpstreamConnection;
import io.warren.core.internal.upstream.UpstreamError;
import io.warren.core.internal.wire.Frames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * connection.update-secret (an OAuth 2 token refresh). The new secret is never sent up a shared connection: the other
 * clients on it never presented it (DESIGN.md: a pooled connection carries only its key's secret). The new secret
 * makes a new key, so the client moves to that key's pool once the broker accepted a login with it (a fresh one, or
 * one within the re-authentication interval); update-secret-ok follows. Channels it opened before stay where they
 * are, on connections opened with a secret it presented. A secret the broker refuses ends the client with 530, as
 * RabbitMQ answers a secret its auth backend refuses.
 *
 * <p>One per update under way; owned by the session's loop, which reads nothing from the client meanwhile.
 */
final class SecretUpdate {
    private static final Logger log = LoggerFactory.getLogger(SecretUpdate.class);

    private final ClientSession session;
    private final ClientCredentials renewed;
    private final KeyedCredentials next;
    private final KeyedCredentials nextLogin;

    private SecretUpdate(ClientSession session, ClientCredentials renewed, KeyedCredentials next,
            KeyedCredentials nextLogin) {
        this.session = session;
        this.renewed = renewed;
        this.next = next;
        this.nextLogin = nextLogin;
    }

    static void start(ClientSession session, ConnectionMethod.UpdateSecret update) {
        ClientCredentials current = session.login.credentials();
        ClientCredentials renewed = new ClientCredentials(current.mechanism(), current.username(),
                update.newSecret().bytes(), current.virtualHost(), current.peer(), current.clientCertificate());
        KeyedCredentials next;
        KeyedCredentials nextLogin;
        try {
            next = session.clients.keyer().key(renewed);
            nextLogin = session.clients.keyer().key(new ClientCredentials(renewed.mechanism(), renewed.username(),
                    renewed.secret(), "", renewed.peer(), renewed.clientCertificate()));
        } catch (CredentialRejectedException e) {
            refused(session);
            return;
        }
        if (next.key().equals(session.login.keyed().key())) {
            session.write(Frames.method(0, new ConnectionMethod.UpdateSecretOk())); // the same secret: nothing changes
            return;
        }
        SecretUpdate u = new SecretUpdate(session, renewed, next, nextLogin);
        session.secretUpdate = u;
        session.suspend();
        session.clients.logins().login(nextLogin, session.login.connectionName(), session, u.new Proven());
    }

    /** The broker's verdict on a login with the new secret. */
    private final class Proven implements Reply<UpstreamConnection> {
        @Override
        public void ok(UpstreamConnection proof) {
            assert session.onLoop();
            if (!current()) {
                if (proof != null) {
                    proof.abandon();
                }
                return;
            }
            session.clients.pools().authenticate(next, session.login.connectionName(), nextLogin.key(), session,
                    proof, new Authenticated());
        }

        @Override
        public void failed(UpstreamError error) {
            SecretUpdate.this.failed(error);
        }
    }

    /** A connection of the new secret's pool for the client. */
    private final class Authenticated implements Reply<UpstreamConnection> {
        @Override
        public void ok(UpstreamConnection upstream) {
            assert session.onLoop();
            if (!session.isReading()) {
                // Gone while the pool served it: the pool counted it, and nothing else will uncount it.
                session.clients.pools().clientGone(upstream.keyed(), session);
                return;
            }
            if (!current()) {
                return;
            }
            session.secretUpdate = null;
            ClientLogin login = session.login;
            session.clients.pools().clientLeft(login.keyed());
            log.debug("client {} updated its secret: {} -> {} on upstream {}", session.id(), login.keyed().key(),
                    next.key(), upstream.id());
            login.moveTo(renewed, next, nextLogin.key(), upstream);
            session.write(Frames.method(0, new ConnectionMethod.UpdateSecretOk()));
            session.resume();
        }

        @Override
        public void failed(UpstreamError error) {
            SecretUpdate.this.failed(error);
        }
    }

    /** Whether this update is still the one under way on an open client. */
    private boolean current() {
        return session.secretUpdate == this && session.state == ClientSession.State.OPEN;
    }

    private void failed(UpstreamError error) {
        assert session.onLoop();
        if (!current()) {
            return;
        }
        session.secretUpdate = null;
        if (error.code() == ReplyCode.ACCESS_REFUSED.code()) {
            refused(session);
        } else {
            session.closeConnection(error.code(), error.text(), error.classId(), error.methodId());
        }
    }

    private static void refused(ClientSession session) {
        // RabbitMQ's words when an auth backend refuses a new secret (rabbit_reader, connection.update-secret).
        session.closeConnection(ReplyCode.NOT_ALLOWED.code(), ReplyCode.NOT_ALLOWED.text()
                + " - New secret was refused by one of the backends", ConnectionMethod.UpdateSecret.CLASS_ID,
                ConnectionMethod.UpdateSecret.METHOD_ID);
    }

    /** The client is gone mid-update: the new key's pool no longer waits for it. */
    void cancel() {
        session.clients.pools().cancelWaits(next, session);
        session.secretUpdate = null;
    }
}
