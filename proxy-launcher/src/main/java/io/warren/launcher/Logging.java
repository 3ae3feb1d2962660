package io.warren.launcher;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.core.joran.spi.JoranException;
import java.util.Locale;
import org.slf4j.LoggerFactory;

/**
 * Hands the configured log level and format to Logback before the first logger exists. The configuration file
 * (conf/logback.xml in the distribution, selected by bin/warren with {@code -Dlogback.configurationFile}; the same
 * file inside the jar otherwise) reads them as {@code ${warren.log.level}} and {@code ${warren.log.format}}, so an
 * operator who edits it keeps both switches, or drops them.
 */
final class Logging {
    private Logging() {}

    static void configure(String level, String format) {
        System.setProperty("warren.log.level", level.toUpperCase(Locale.ROOT));
        System.setProperty("warren.log.format", format);
    }

    /**
     * A reload: the same configuration file read again with the new level and format. Lines logged meanwhile by other
     * threads may be lost (Logback's own reset); the reload's own lines come after it.
     *
     * @throws IllegalStateException when the file no longer parses (then Logback's defaults apply)
     */
    static void reconfigure(String level, String format) {
        configure(level, format);
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return; // another SLF4J binding: it has its own ways
        }
        context.reset();
        try {
            new ContextInitializer(context).autoConfig();
        } catch (JoranException e) {
            throw new IllegalStateException("logging configuration could not be read again: " + e.getMessage(), e);
        }
    }
}
