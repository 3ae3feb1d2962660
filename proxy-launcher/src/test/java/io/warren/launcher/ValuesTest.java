package io.warren.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ValuesTest {
    @Test
    void durations() {
        assertThat(Values.parseDuration("250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(Values.parseDuration("30s")).isEqualTo(Duration.ofSeconds(30));
        assertThat(Values.parseDuration("5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(Values.parseDuration("0")).isZero();
        assertThatThrownBy(() -> Values.parseDuration("30")).hasMessageContaining("not a duration");
        for (String d : new String[] {"0", "250ms", "30s", "5m", "1h", "1d", "1500ms"}) {
            assertThat(Values.formatDuration(Values.parseDuration(d))).isEqualTo(d);
        }
    }

    @Test
    void sizes() {
        assertThat(Values.parseSize("128m")).isEqualTo(128L << 20);
        assertThat(Values.parseSize("512k")).isEqualTo(512L << 10);
        assertThat(Values.parseSize("1000")).isEqualTo(1000);
        assertThat(Values.formatSize(128L << 20)).isEqualTo("128m");
        assertThatThrownBy(() -> Values.parseSize("lots")).hasMessageContaining("not a size");
        assertThat(Values.parseSizeOrAuto("auto")).isEqualTo(io.warren.core.config.ProxyConfig.AUTO_SIZE);
        assertThat(Values.parseSizeOrAuto("64m")).isEqualTo(64L << 20);
        assertThatThrownBy(() -> Values.parseSizeOrAuto("0")).hasMessageContaining("or auto");
        assertThatThrownBy(() -> Values.parseSizeOrAuto("half")).hasMessageContaining("not a size");
    }

    @Test
    void addresses() {
        assertThat(Values.formatAddress(Values.parseAddress("[::1]:5673"))).isEqualTo("[::1]:5673");
        assertThat(Values.parseAddress("127.0.0.1:0").getPort()).isZero();
        assertThatThrownBy(() -> Values.parseAddress("127.0.0.1")).hasMessageContaining("HOST:PORT");
        assertThatThrownBy(() -> Values.parseAddress("::1:5673")).hasMessageContaining("brackets");
    }

    @Test
    void upstreamUrlsAreMaskedAndNeverEchoed() {
        UpstreamUrl url = UpstreamUrl.parse("amqp://bob:s3cret@broker.local:5673/vh");
        assertThat(url.masked()).isEqualTo("amqp://bob:***@broker.local:5673/vh");
        assertThat(url.ignoredParts()).isEqualTo("user info and virtual host");
        assertThat(UpstreamUrl.parse("amqp://[::1]").masked()).isEqualTo("amqp://[::1]:5672");
        assertThat(UpstreamUrl.parse("amqps://h").tls()).isTrue();
        assertThat(UpstreamUrl.parse("amqps://h").port()).isEqualTo(5671);
        assertThat(UpstreamUrl.parse("amqps://h:1234").port()).isEqualTo(1234);
        assertThatThrownBy(() -> UpstreamUrl.parse("amqp://bob:s3cret@bad host/"))
                .hasMessageNotContaining("s3cret");
    }

    @Test
    void tlsListenAddressesAndFlags() {
        assertThat(Values.parseAddress("127.0.0.1", 5674).getPort()).isEqualTo(5674);
        assertThat(Values.parseAddress("127.0.0.1:6000", 5674).getPort()).isEqualTo(6000);
        assertThat(Values.formatAddress(Values.parseAddress("[::1]", 5674))).isEqualTo("[::1]:5674");
        assertThatThrownBy(() -> Values.parseAddress(":5674", 5674)).hasMessageContaining("no host");
        assertThat(Values.parseBoolean("true")).isTrue();
        assertThat(Values.parseBoolean(" FALSE ")).isFalse();
        assertThatThrownBy(() -> Values.parseBoolean("maybe")).hasMessageContaining("true or false");
    }
}
