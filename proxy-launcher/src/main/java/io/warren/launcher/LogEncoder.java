package io.warren.launcher;

import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.encoder.EncoderBase;
import java.util.Locale;

/**
 * A Logback encoder that writes either readable lines (a {@link PatternLayoutEncoder} with {@link #setPattern}) or
 * JSON lines (Logback's {@link JsonEncoder}), chosen by {@link #setFormat}; conf/logback.xml sets the format from
 * {@code ${warren.log.format}}. One appender with this encoder keeps the configuration free of unused appenders.
 */
public final class LogEncoder extends EncoderBase<ILoggingEvent> {
    private String format = "text";
    private String pattern = "%d %-5level [%thread] %logger - %msg%n";
    private Encoder<ILoggingEvent> delegate;

    /** {@code text} or {@code json}. */
    public void setFormat(String format) {
        this.format = format.strip().toLowerCase(Locale.ROOT);
    }

    /** The layout of a text line, as for Logback's PatternLayoutEncoder. */
    public void setPattern(String pattern) {
        this.pattern = pattern;
    }

    @Override
    public void start() {
        if (format.equals("json")) {
            JsonEncoder json = new JsonEncoder();
            json.setWithSequenceNumber(false);
            json.setWithNanoseconds(false);
            json.setWithContext(false);
            json.setWithMessage(false); // the template; the formatted message replaces it and its arguments
            json.setWithArguments(false);
            json.setWithFormattedMessage(true);
            delegate = json;
        } else {
            if (!format.equals("text")) {
                addWarn("unknown log format '" + format + "', using text");
            }
            PatternLayoutEncoder text = new PatternLayoutEncoder();
            text.setPattern(pattern);
            delegate = text;
        }
        delegate.setContext(getContext());
        delegate.start();
        super.start();
    }

    @Override
    public void stop() {
        if (delegate != null) {
            delegate.stop();
        }
        super.stop();
    }

    @Override
    public byte[] headerBytes() {
        return delegate.headerBytes();
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        return delegate.encode(event);
    }

    @Override
    public byte[] footerBytes() {
        return delegate.footerBytes();
    }
}
