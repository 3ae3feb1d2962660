package io.warren.launcher;

import io.warren.core.config.UpstreamNode;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The upstream: a comma-separated list of {@code amqp://host[:port]} or {@code amqps://host[:port]} URLs, the nodes
 * of one cluster (the same users, virtual hosts and TLS settings, so all amqp or all amqps). A host that resolves to
 * several addresses is several nodes. Only {@link #masked()} forms are ever printed.
 *
 * @param urls the entries, in the order given
 */
record UpstreamUrls(List<UpstreamUrl> urls) {

    static UpstreamUrls parse(String text) {
        List<UpstreamUrl> urls = new ArrayList<>();
        String[] entries = text.split(",", -1);
        for (int i = 0; i < entries.length; i++) {
            String entry = entries[i].trim();
            if (entry.isEmpty()) {
                throw new IllegalArgumentException(entries.length == 1 ? "no URL given; expected amqp://host[:port]"
                        : "entry " + (i + 1) + " of " + entries.length + " is empty; expected a comma-separated list"
                                + " of amqp://host[:port]");
            }
            UpstreamUrl url;
            try {
                url = UpstreamUrl.parse(entry);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(entries.length == 1 ? e.getMessage()
                        : "entry " + (i + 1) + ": " + e.getMessage());
            }
            if (!urls.isEmpty() && url.tls() != urls.get(0).tls()) {
                throw new IllegalArgumentException("entry " + url.masked() + " is " + (url.tls() ? "amqps" : "amqp")
                        + " but " + urls.get(0).masked() + " is " + (urls.get(0).tls() ? "amqps" : "amqp")
                        + ": the nodes of one cluster are all amqp:// or all amqps://");
            }
            for (UpstreamUrl earlier : urls) {
                if (earlier.host().equalsIgnoreCase(url.host()) && earlier.port() == url.port()) {
                    throw new IllegalArgumentException("entry " + url.masked() + " is given twice");
                }
            }
            urls.add(url);
        }
        return new UpstreamUrls(List.copyOf(urls));
    }

    boolean tls() {
        return urls.get(0).tls();
    }

    /** The first entry: its host is the TLS server name of a single broker. */
    UpstreamUrl first() {
        return urls.get(0);
    }

    /** Every entry masked, comma-separated: the only form printed. */
    String masked() {
        return String.join(",", urls.stream().map(UpstreamUrl::masked).toList());
    }

    /**
     * The nodes: each entry's host resolved now, one node per address it resolves to.
     *
     * @throws IllegalArgumentException naming the entry whose host does not resolve, or two entries that are one node
     */
    List<UpstreamNode> resolve() {
        List<UpstreamNode> nodes = new ArrayList<>();
        Set<InetSocketAddress> seen = new LinkedHashSet<>();
        for (UpstreamUrl url : urls) {
            InetAddress[] addresses;
            try {
                addresses = InetAddress.getAllByName(url.host());
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("entry " + url.masked() + ": host '" + url.host()
                        + "' does not resolve");
            }
            for (InetAddress a : addresses) {
                InetSocketAddress address = new InetSocketAddress(a, url.port());
                if (!seen.add(address)) {
                    throw new IllegalArgumentException("entry " + url.masked() + " is the same node as an earlier"
                            + " entry (" + a.getHostAddress() + ":" + url.port() + ")");
                }
                nodes.add(new UpstreamNode(url.host(), address));
            }
        }
        return List.copyOf(nodes);
    }
}
