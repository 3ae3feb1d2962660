package io.warren.testsupport;

/** The identity of a cluster: how many nodes and their config. Equal specs share a cluster. */
record ClusterSpec(int size, NodeSpec node) {

    static final int MIN_SIZE = 2;
    static final int MAX_SIZE = 5;

    ClusterSpec {
        if (size < MIN_SIZE || size > MAX_SIZE) {
            throw new IllegalArgumentException("@WithRabbitCluster(nodes = " + size + "): a cluster has " + MIN_SIZE
                    + " to " + MAX_SIZE + " nodes (for one node use @WithRabbitBroker)");
        }
    }

    @Override
    public String toString() {
        return size + "-node cluster, " + node;
    }
}
