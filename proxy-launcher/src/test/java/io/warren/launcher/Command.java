package io.warren.launcher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A command run to completion (dpkg, tar, openssl, jdeps...), its output (stdout and stderr together) kept. */
record Command(List<String> command, int exitCode, String output) {
    static Command run(String... command) {
        return run(null, Duration.ofMinutes(2), command);
    }

    /** @param env the whole environment of the command, or null for the test JVM's */
    static Command run(Map<String, String> env, Duration timeout, String... command) {
        try {
            Path out = Files.createTempFile("command-", ".out");
            try {
                ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile());
                if (env != null) {
                    pb.environment().clear();
                    pb.environment().putAll(env);
                }
                Process p = pb.start();
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly().waitFor();
                    throw new AssertionError(String.join(" ", command) + " still running after " + timeout + ":\n"
                            + Files.readString(out, StandardCharsets.UTF_8));
                }
                return new Command(List.of(command), p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Fails with the command and its output unless it exited 0. */
    Command ok() {
        if (exitCode != 0) {
            throw new AssertionError(String.join(" ", command) + " exited " + exitCode + ":\n" + output);
        }
        return this;
    }
}
