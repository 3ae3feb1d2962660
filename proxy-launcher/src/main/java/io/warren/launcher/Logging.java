package io.warren.launcher;

import java.util.Locale;

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
}
