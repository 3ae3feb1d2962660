package io.warren.transport.nio;

/** What a selection key of a {@link NioEventLoop} is attached to: a connection or a listener. Loop only. */
interface Selectable {
    /** The key was selected with {@code readyOps}. May throw: the loop then calls {@link #onFailure}. */
    void onSelected(int readyOps) throws Exception;

    /** {@link #onSelected} threw; close this selectable only. Must not throw. */
    void onFailure(Throwable failure);

    /** The loop is shutting down: release everything, notify whoever must be told. Must not throw. */
    void onLoopShutdown(Throwable cause);
}
