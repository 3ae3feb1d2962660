package io.warren.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * CPU time another process has used, read from {@code /proc}: user + system time ({@code utime + stime} of
 * {@code /proc/PID/stat}, in clock ticks of 10 ms here), for the whole process and by thread name, so a JVM's event
 * loops can be told from its JIT compiler and collector threads. With {@code withChildren} the times of the process's
 * children count too: those it has reaped ({@code cutime + cstime}) and those still alive ({@code socat fork} serves
 * each connection in a child).
 *
 * <p>Resolution is one tick per thread per sample (10 ms): a phase must burn seconds of CPU to be read to 1 %.
 */
final class ProcessCpu {
    /** Clock ticks per second ({@code getconf CLK_TCK}; 100 on Linux for x86-64 and arm64). */
    static final long TICKS_PER_SECOND = 100;

    private final long pid;
    private final boolean withChildren;

    ProcessCpu(long pid, boolean withChildren) {
        this.pid = pid;
        this.withChildren = withChildren;
    }

    long pid() {
        return pid;
    }

    /**
     * One reading: the process's total and its threads grouped by {@link #group}.
     *
     * @param totalNanos user + system time of the process (and its children, if counted), in nanoseconds
     * @param byGroup    the same per thread group (threads alive at the reading; a thread that ended is only in the
     *                   total)
     */
    record Sample(long totalNanos, Map<String, Long> byGroup) {
        /** CPU used between {@code earlier} and this sample, in nanoseconds, total and per group. */
        Sample minus(Sample earlier) {
            Map<String, Long> d = new LinkedHashMap<>();
            for (Map.Entry<String, Long> e : byGroup.entrySet()) {
                d.put(e.getKey(), e.getValue() - earlier.byGroup.getOrDefault(e.getKey(), 0L));
            }
            return new Sample(totalNanos - earlier.totalNanos, d);
        }

        long group(String name) {
            return byGroup.getOrDefault(name, 0L);
        }
    }

    Sample sample() throws IOException {
        long[] self = times(Path.of("/proc/" + pid + "/stat"));
        long ticks = self[0] + self[1];
        if (withChildren) {
            ticks += self[2] + self[3];
            for (long child : children()) {
                try {
                    long[] c = times(Path.of("/proc/" + child + "/stat"));
                    ticks += c[0] + c[1] + c[2] + c[3];
                } catch (IOException e) {
                    rethrowUnlessGone(e); // reaped meanwhile: its time moved into our cutime (missed in this sample)
                }
            }
        }
        Map<String, Long> groups = new LinkedHashMap<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : tasks) {
                try {
                    String name = Files.readString(task.resolve("comm")).trim();
                    long[] t = times(task.resolve("stat"));
                    groups.merge(group(name), (t[0] + t[1]) * tickNanos(), Long::sum);
                } catch (IOException e) {
                    rethrowUnlessGone(e); // the thread ended while we looked
                }
            }
        }
        return new Sample(ticks * tickNanos(), groups);
    }

    /** Live children of the process (scanned by parent pid; they may be many for a relay that forks). */
    private long[] children() throws IOException {
        java.util.List<Long> out = new java.util.ArrayList<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString()
                .chars().allMatch(Character::isDigit))) {
            for (Path p : procs) {
                try {
                    String stat = Files.readString(p.resolve("stat"));
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    if (Long.parseLong(f[1]) == pid) {
                        out.add(Long.parseLong(p.getFileName().toString()));
                    }
                } catch (IOException e) {
                    rethrowUnlessGone(e); // ended while we looked
                }
            }
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    /** Live children now (a forking relay's connections still being served). */
    int childCount() throws IOException {
        return children().length;
    }

    /**
     * A process or thread that ends while its /proc files are read: the open fails with NoSuchFileException, or,
     * when it ended between the open and the read, the read fails with ESRCH ("No such process"). Anything else is
     * rethrown.
     */
    private static void rethrowUnlessGone(IOException e) throws IOException {
        if (!(e instanceof NoSuchFileException) && !"No such process".equals(e.getMessage())) {
            throw e;
        }
    }

    /** utime, stime, cutime, cstime of one stat file, in ticks. */
    private static long[] times(Path stat) throws IOException {
        String s = Files.readString(stat);
        // the command name is in parentheses and may hold spaces: fields are counted after the last ')'
        String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
        // f[0] is field 3 (state): utime is field 14
        return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12]), Long.parseLong(f[13]),
            Long.parseLong(f[14])};
    }

    private static long tickNanos() {
        return 1_000_000_000L / TICKS_PER_SECOND;
    }

    /**
     * The group a thread is counted in: Warren's event loops, the JIT compilers, the garbage collector and VM
     * threads, the rest.
     */
    static String group(String threadName) {
        if (threadName.startsWith("warren-loop")) {
            return "loops";
        }
        if (threadName.startsWith("C1 Compiler") || threadName.startsWith("C2 Compiler")) {
            return "jit";
        }
        if (threadName.startsWith("VM Thread") || threadName.startsWith("GC ") || threadName.startsWith("G1 ")
                || threadName.startsWith("VM Periodic")) {
            return "gc+vm";
        }
        return "other";
    }
}
