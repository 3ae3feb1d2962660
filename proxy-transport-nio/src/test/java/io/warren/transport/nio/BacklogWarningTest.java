package io.warren.transport.nio;

import static org.assertj.core.api.Assertions.assertThat;

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
}
