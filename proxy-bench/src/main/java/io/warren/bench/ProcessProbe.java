package io.warren.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Memory of another process, read from outside: RSS from {@code /proc/PID/status}, and for a JVM the heap in use
 * after a full collection ({@code jcmd PID GC.run}, then {@code jcmd PID GC.heap_info}; this works with
 * {@code -XX:-UsePerfData}, which leaves jstat blind). Also runs rabbitmqctl.
 */
final class ProcessProbe {
    private static final Pattern USED = Pattern.compile("total (\\d+)K, used (\\d+)K");

    private ProcessProbe() {}

    /** VmRSS of {@code pid}, in KiB. */
    static long rssKiB(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("no VmRSS in /proc/" + pid + "/status");
    }

    /** Heap after a forced full GC: used and committed (Java heap only, not metaspace), in KiB. */
    record Heap(long usedKiB, long committedKiB) {}

    /** A JVM's heap after {@code GC.run}, and its RSS read right after. */
    record JvmMemory(long rssKiB, Heap heap) {}

    static JvmMemory jvmAfterGc(long pid) throws IOException, InterruptedException {
        run(List.of(jcmd(), Long.toString(pid), "GC.run"));
        String info = run(List.of(jcmd(), Long.toString(pid), "GC.heap_info"));
        long used = 0;
        long committed = 0;
        boolean found = false;
        for (String line : info.split("\n")) {
            // SerialGC: "def new generation total 4928K, used 1234K", "tenured generation total ..., used ...";
            // G1: "garbage-first heap total ..., used ..."; metaspace lines have no "total NK, used NK" of this form
            if (line.contains("Metaspace") || line.contains("class space")) {
                continue;
            }
            Matcher m = USED.matcher(line);
            if (m.find()) {
                committed += Long.parseLong(m.group(1));
                used += Long.parseLong(m.group(2));
                found = true;
            }
        }
        if (!found) {
            throw new IOException("could not read the heap from jcmd GC.heap_info:\n" + info);
        }
        return new JvmMemory(rssKiB(pid), new Heap(used, committed));
    }

    /** Live objects by class ({@code jcmd PID GC.class_histogram}, which collects first), the first lines. */
    static String histogram(long pid, int lines) throws IOException, InterruptedException {
        String all = run(List.of(jcmd(), Long.toString(pid), "GC.class_histogram"));
        String[] l = all.split("\n");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < Math.min(lines, l.length); i++) {
            sb.append(l[i]).append('\n');
        }
        return sb.toString();
    }

    /** Connections to the broker and the channels on them, from {@code rabbitmqctl list_connections channels}. */
    record BrokerConnections(int connections, long channels) {}

    static BrokerConnections brokerConnections(String node) throws IOException, InterruptedException {
        String out = run(List.of("rabbitmqctl", "-n", node, "list_connections", "--quiet", "--no-table-headers",
                "channels"));
        int connections = 0;
        long channels = 0;
        for (String line : out.split("\n")) {
            String t = line.trim();
            if (t.matches("\\d+")) {
                connections++;
                channels += Long.parseLong(t);
            }
        }
        return new BrokerConnections(connections, channels);
    }

    /** The jcmd of the running JDK (so it can attach to a JVM of the same version), or the one on the PATH. */
    static String jcmd() {
        Path p = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        return Files.isExecutable(p) ? p.toString() : "jcmd";
    }

    static String run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("timed out: " + command);
        }
        String s = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException(command + " exited " + p.exitValue() + ": " + s);
        }
        return s;
    }
}
