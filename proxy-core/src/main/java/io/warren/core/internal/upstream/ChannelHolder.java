package io.warren.core.internal.upstream;

/**
 * One holding of an upstream channel: its owner, and the channel number the owner knows it by (a client's own
 * channel number, written into every frame routed to it). A new holding is a new object, so a frame routed before a
 * channel changed hands is known by the holding it was routed to.
 */
public interface ChannelHolder {
    ChannelOwner owner();

    int ownerChannel();
}
