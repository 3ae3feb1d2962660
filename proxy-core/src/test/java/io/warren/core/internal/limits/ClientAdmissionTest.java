package io.warren.core.internal.limits;

import static org.assertj.core.api.Assertions.assertThat;

import io.warren.core.internal.limits.ClientAdmission.Verdict;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The admission arithmetic and the refusal log's rate limit (pure logic; the daemon test runs it for real). */
class ClientAdmissionTest {

    @Test
    void admitsWhileClientsAndUpstreamConnectionsFitWhatTheLimitLeaves() {
        AtomicLong upstream = new AtomicLong(2);
        // 300 descriptors, 100 open at start, 64 kept free: 136 for clients and upstream connections.
        ClientAdmission admission = new ClientAdmission(0, 300, 100, upstream::get);
        assertThat(admission.fdCapacity()).isEqualTo(136);
        assertThat(admission.describe()).startsWith("File-descriptor limit 300: 100 open at startup, 64 kept free")
                .contains("room for 136 clients").contains("max-connections unlimited");
        for (int i = 0; i < 134; i++) {
            assertThat(admission.admit().verdict()).isEqualTo(Verdict.ADMIT);
        }
        ClientAdmission.Decision refused = admission.admit();
        assertThat(refused.verdict()).isEqualTo(Verdict.REFUSE_WITH_530);
        assertThat(refused.closeText())
                .isEqualTo("NOT_ALLOWED - connection limit (136, set by the file-descriptor limit 300) is reached");
        assertThat(admission.admittedClients()).isEqualTo(134);
        admission.refusalDone();

        admission.left();
        assertThat(admission.admit().verdict()).as("a client left").isEqualTo(Verdict.ADMIT);
        upstream.set(1);
        assertThat(admission.admit().verdict()).as("an upstream connection closed").isEqualTo(Verdict.ADMIT);
    }

    @Test
    void maxConnectionsRefusesWithTheBrokersWording() {
        ClientAdmission admission = new ClientAdmission(2, -1, 0, () -> 0);
        assertThat(admission.admit().verdict()).isEqualTo(Verdict.ADMIT);
        assertThat(admission.admit().verdict()).isEqualTo(Verdict.ADMIT);
        ClientAdmission.Decision refused = admission.admit();
        assertThat(refused.verdict()).isEqualTo(Verdict.REFUSE_WITH_530);
        assertThat(refused.closeText()).isEqualTo("NOT_ALLOWED - connection limit (2) is reached");
        assertThat(admission.describe()).contains("File-descriptor limit unknown").contains("max-connections 2");
    }

    @Test
    void refusalsBeyondThoseInFlightCloseAtOnce() {
        ClientAdmission admission = new ClientAdmission(1, -1, 0, () -> 0);
        admission.admit();
        for (int i = 0; i < ClientAdmission.REFUSALS_IN_FLIGHT; i++) {
            assertThat(admission.admit().verdict()).isEqualTo(Verdict.REFUSE_WITH_530);
        }
        assertThat(admission.admit().verdict()).isEqualTo(Verdict.CLOSE_AT_ONCE);
        admission.refusalDone();
        assertThat(admission.admit().verdict()).isEqualTo(Verdict.REFUSE_WITH_530);
    }

    @Test
    void refusalsAreReportedOncePerIntervalWithTheCountSinceTheLastReport() {
        long interval = TimeUnit.SECONDS.toNanos(5);
        ClientAdmission.RateLimitedCount count = new ClientAdmission.RateLimitedCount(interval);
        long t = 1_000;
        assertThat(count.add(t)).isEqualTo(1);
        assertThat(count.add(t + 1)).isZero();
        assertThat(count.add(t + interval - 1)).isZero();
        assertThat(count.add(t + interval)).isEqualTo(3);
        assertThat(count.add(t + interval + 1)).isZero();
        assertThat(count.add(t + 10 * interval)).isEqualTo(2);
    }
}
