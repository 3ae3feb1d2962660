package io.warren.launcher;

/**
 * A configuration problem, reported to the operator as one line (never a stack trace) with exit code 2. The message
 * names the key, where its value came from and what is wrong.
 */
final class ConfigException extends Exception {
    ConfigException(String message) {
        super(message, null, false, false);
    }
}
