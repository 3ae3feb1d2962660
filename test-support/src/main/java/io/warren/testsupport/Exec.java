package io.warren.testsupport;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a command with stdout/stderr sent to temp files, never pipes: a daemon the command leaves behind
 * (an Erlang VM, epmd) must not hold a pipe we wait on.
 */
final class Exec {

    record Result(int exitCode, String stdout, String stderr) {
    }

    private Exec() {
    }

    static Result run(List<String> command, Map<String, String> env, Path cwd, Duration timeout) {
        File out = null;
        File err = null;
        try {
            out = File.createTempFile("warren-exec-", ".out");
            err = File.createTempFile("warren-exec-", ".err");
            ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out).redirectError(err)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            if (cwd != null) {
                pb.directory(cwd.toFile());
            }
            if (env != null) {
                pb.environment().keySet().removeIf(k -> k.startsWith("RABBITMQ_"));
                pb.environment().putAll(env);
            }
            Process p = pb.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                throw new IllegalStateException("timed out after " + timeout.toSeconds() + " s: " + command
                        + "\nstdout: " + read(out) + "\nstderr: " + read(err));
            }
            return new Result(p.exitValue(), read(out), read(err));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command, e);
        } finally {
            if (out != null) {
                out.delete();
            }
            if (err != null) {
                err.delete();
            }
        }
    }

    private static String read(File f) throws IOException {
        return Files.readString(f.toPath(), StandardCharsets.UTF_8);
    }
}
