package io.warren.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** A cluster whose nodes cannot boot fails at once, says why, and leaves nothing behind. */
class RabbitClusterBootFailureTest {

    @Test
    void aNodeThatCannotBootFailsTheClusterWithItsLogAndLeavesNothingBehind() {
        ClusterSpec spec = new ClusterSpec(2, new NodeSpec(List.of("no_such_setting_for_warren = 1"), new TreeSet<>()));
        long t0 = System.nanoTime();
        Throwable failure = catchThrowable(() -> Brokers.cluster(spec));
        RabbitClusterTest.log("boot failure reported", t0);
        assertThat(failure).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("boot of the nodes of a 2-node cluster")
                .hasMessageContaining("failed to start")
                .hasMessageContaining("no_such_setting_for_warren"); // from the node's log tail
        Matcher dirs = Pattern.compile("node dir: (\\S+)").matcher(failure.getMessage());
        int count = 0;
        while (dirs.find()) {
            count++;
            assertThat(Path.of(dirs.group(1))).matches(dir -> !Files.exists(dir), "deleted");
        }
        assertThat(count).isEqualTo(2);

        assertThatThrownBy(() -> Brokers.cluster(spec)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("failed to start earlier in this JVM");
    }

    @Test
    void aClusterHasTwoToFiveNodes() {
        assertThatThrownBy(() -> new ClusterSpec(1, NodeSpec.DEFAULT)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("nodes = 1").hasMessageContaining("@WithRabbitBroker");
        assertThatThrownBy(() -> new ClusterSpec(6, NodeSpec.DEFAULT)).isInstanceOf(IllegalArgumentException.class);
    }
}
