package io.warren.transport.nio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

class BacklogWarningTest {

    @Test
    void warnsWithTheSysctlToRaiseWhenTheKernelWouldCapTheBacklog() {
        assertThat(NioRuntime.backlogWarning(16384, "4096\n")).hasValueSatisfying(w -> assertThat(w)
                .contains("accept-backlog 16384 exceeds net.core.somaxconn 4096")
                .contains("sysctl -w net.core.somaxconn=16384"));
        assertThat(NioRuntime.backlogWarning(4096, "4096\n")).isEmpty();
        assertThat(NioRuntime.backlogWarning(128, "65535")).isEmpty();
    }

    @Test
    void readsTheWholeSysctlValueAsCatDoes() throws Exception {
        assumeTrue(Files.isReadable(NioRuntime.SOMAXCONN), "Linux only");
        Process cat = new ProcessBuilder("cat", NioRuntime.SOMAXCONN.toString()).start();
        String expected = new String(cat.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
        assertThat(cat.waitFor()).isZero();
        assertThat(expected).hasSizeGreaterThan(1); // a one-digit value could not tell a whole read from a first byte

        assertThat(NioRuntime.readSysctl(NioRuntime.SOMAXCONN)).isEqualTo(expected);
    }
}
