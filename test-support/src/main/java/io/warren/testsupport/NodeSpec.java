package io.warren.testsupport;

import java.util.Arrays;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

/** The identity of a node: its conf lines and plugins. Equal specs share a node. */
record NodeSpec(List<String> conf, SortedSet<String> plugins) {

    static final NodeSpec DEFAULT = new NodeSpec(List.of(), new TreeSet<>());

    static NodeSpec of(BrokerConfig config) {
        if (config == null) {
            return DEFAULT;
        }
        List<String> conf = Arrays.stream(config.conf()).map(String::strip).filter(s -> !s.isEmpty()).toList();
        SortedSet<String> plugins = new TreeSet<>();
        Arrays.stream(config.plugins()).map(String::strip).filter(s -> !s.isEmpty()).forEach(plugins::add);
        return new NodeSpec(conf, plugins);
    }

    boolean isDefault() {
        return conf.isEmpty() && plugins.isEmpty();
    }

    boolean hasPluginLike(String token) {
        return plugins.stream().anyMatch(p -> p.contains(token));
    }

    @Override
    public String toString() {
        return "BrokerConfig(conf=" + conf + ", plugins=" + plugins + ")";
    }
}
