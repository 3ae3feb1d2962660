package io.warren.core.internal.client;

import io.warren.api.ChannelContext;
import io.warren.api.ClientCredentials;
import io.warren.api.KeyedCredentials;
import io.warren.api.PoolKey;
import io.warren.core.internal.upstream.UpstreamConnection;
import java.util.ArrayList;
import java.util.List;

/**
 * Who an open client is: the credentials it presented, its pool key and login key, what it declared it understands,
 * and the upstream connection it authenticated through (its channels go there first). A connection.update-secret
 * moves it to the key of its new secret ({@link #moveTo}); the keys it left are remembered, since channels it opened
 * before stay on their connections.
 *
 * <p>Owned by the session's loop.
 */
final class ClientLogin {
    private ClientCredentials credentials;
    private KeyedCredentials keyed;
    /** The pool key of the login without its virtual host: what the broker checks at start-ok. */
    private PoolKey loginKey;
    private final ClientCapabilities capabilities;
    private final String connectionName;
    /** The upstream connection this client authenticated through; null once it died. */
    private UpstreamConnection home;
    /** Whether its key's pool counts it as a client (from authentication on; a dead home does not end that). */
    private boolean counted = true;
    /** Keys this client moved away from (update-secret); its channels opened before may still be on them. */
    private List<KeyedCredentials> formerKeys = List.of();

    ClientLogin(ClientCredentials credentials, KeyedCredentials keyed, PoolKey loginKey,
            ClientCapabilities capabilities, String connectionName, UpstreamConnection home) {
        this.credentials = credentials;
        this.keyed = keyed;
        this.loginKey = loginKey;
        this.capabilities = capabilities;
        this.connectionName = connectionName;
        this.home = home;
    }

    ClientCredentials credentials() {
        return credentials;
    }

    KeyedCredentials keyed() {
        return keyed;
    }

    PoolKey loginKey() {
        return loginKey;
    }

    ClientCapabilities capabilities() {
        return capabilities;
    }

    String connectionName() {
        return connectionName;
    }

    UpstreamConnection home() {
        return home;
    }

    void leaveHome() {
        home = null;
    }

    /** What the reuse policy is told about a channel of this client. */
    ChannelContext channelContext(boolean confirmMode) {
        return new ChannelContext(keyed.key(), credentials.virtualHost(), credentials.username(), confirmMode);
    }

    /** The new secret is proven: the client belongs to its key from now on, authenticated through {@code upstream}. */
    void moveTo(ClientCredentials renewed, KeyedCredentials next, PoolKey nextLogin, UpstreamConnection upstream) {
        if (formerKeys.isEmpty()) {
            formerKeys = new ArrayList<>(1);
        }
        formerKeys.add(keyed);
        credentials = renewed;
        keyed = next;
        loginKey = nextLogin;
        home = upstream;
    }

    /** The client is gone: its pools stop counting it and waiting for it. */
    void release(ClientSession session) {
        session.clients.pools().cancelWaits(keyed, session);
        if (counted) {
            counted = false;
            session.clients.pools().clientGone(keyed, session);
        }
        for (KeyedCredentials former : formerKeys) {
            session.clients.pools().forgetMember(former, session);
        }
    }
}
