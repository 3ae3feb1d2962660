package io.warren.bench;

import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * Reads a JDK Flight Recording of the Warren daemon and prints where its event loops spend CPU and what they allocate,
 * per unit of work when {@code --units} is given (the clients or messages the recording covered):
 *
 * <ul>
 *   <li>CPU: {@code jdk.ExecutionSample} on {@code warren-loop-*} threads, the top frames by self samples and by
 *       inclusive samples (a frame anywhere on the stack), as shares of all loop samples;</li>
 *   <li>allocation: bytes allocated by the loop threads between the first and last {@code
 *       jdk.ThreadAllocationStatistics} event (exact, per thread), and {@code jdk.ObjectAllocationSample} weights by
 *       class and by the first Warren frame that allocated (sampled: shares, not exact bytes).</li>
 * </ul>
 *
 * Record with {@code JAVA_OPTS="-XX:StartFlightRecording=filename=warren.jfr,settings=profile"} (profile samples
 * every 10 ms per thread and allocations at 300 per second) or start one with {@code jcmd PID JFR.start}.
 *
 * <pre>java -cp proxy-bench/target/benchmarks.jar io.warren.bench.JfrSummary warren.jfr [--units N] [--top 25]
 *     [--from ISO-INSTANT --to ISO-INSTANT]</pre>
 */
public final class JfrSummary {
    private JfrSummary() {}

    public static void main(String[] argv) throws Exception {
        if (argv.length < 1) {
            throw new IllegalArgumentException("usage: JfrSummary FILE.jfr [--units N] [--top N] [--from T --to T]");
        }
        Path file = Path.of(argv[0]);
        Args a = new Args(java.util.Arrays.copyOfRange(argv, 1, argv.length));
        long units = a.longValue("units", 0);
        int top = a.intValue("top", 25);
        String fromText = a.value("from", null);
        String toText = a.value("to", null);
        a.done();
        Instant from = fromText == null ? Instant.MIN : Instant.parse(fromText);
        Instant to = toText == null ? Instant.MAX : Instant.parse(toText);

        Map<String, Long> self = new HashMap<>();
        Map<String, Long> inclusive = new HashMap<>();
        long loopSamples = 0;
        long allSamples = 0;
        Map<String, Long> allocByClass = new HashMap<>();
        Map<String, Long> allocBySite = new HashMap<>();
        long allocWeight = 0;
        Map<String, long[]> threadAlloc = new LinkedHashMap<>(); // first, last
        for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
            Instant t = e.getStartTime();
            if (t.isBefore(from) || t.isAfter(to)) {
                continue;
            }
            String type = e.getEventType().getName();
            switch (type) {
                case "jdk.ExecutionSample" -> {
                    allSamples++;
                    RecordedThread th = e.getThread("sampledThread");
                    if (th == null || th.getJavaName() == null || !th.getJavaName().startsWith("warren-loop")) {
                        continue;
                    }
                    loopSamples++;
                    RecordedStackTrace st = e.getStackTrace();
                    if (st == null || st.getFrames().isEmpty()) {
                        continue;
                    }
                    List<RecordedFrame> frames = st.getFrames();
                    self.merge(name(frames.get(0)), 1L, Long::sum);
                    java.util.Set<String> seen = new java.util.HashSet<>();
                    for (RecordedFrame f : frames) {
                        String n = name(f);
                        if (seen.add(n)) {
                            inclusive.merge(n, 1L, Long::sum);
                        }
                    }
                }
                case "jdk.ObjectAllocationSample" -> {
                    RecordedThread th = e.getThread("eventThread");
                    if (th == null || th.getJavaName() == null || !th.getJavaName().startsWith("warren-loop")) {
                        continue;
                    }
                    long w = e.getLong("weight");
                    allocWeight += w;
                    allocByClass.merge(e.getClass("objectClass").getName(), w, Long::sum);
                    allocBySite.merge(site(e.getStackTrace()), w, Long::sum);
                }
                case "jdk.ThreadAllocationStatistics" -> {
                    RecordedThread th = e.getThread("thread");
                    if (th == null || th.getJavaName() == null || !th.getJavaName().startsWith("warren-loop")) {
                        continue;
                    }
                    long bytes = e.getLong("allocated");
                    threadAlloc.compute(th.getJavaName(), (k, v) -> v == null ? new long[] {bytes, bytes}
                            : new long[] {Math.min(v[0], bytes), Math.max(v[1], bytes)});
                }
                default -> { }
            }
        }
        System.out.printf(Locale.ROOT, "%s: %d execution samples, %d on warren-loop threads%s%n", file, allSamples,
                loopSamples, units > 0 ? String.format(Locale.ROOT, "; %d units of work", units) : "");
        print("top frames by self samples (event loops)", self, loopSamples, top);
        print("top frames by inclusive samples (event loops)", inclusive, loopSamples, top);
        long allocated = threadAlloc.values().stream().mapToLong(v -> v[1] - v[0]).sum();
        System.out.printf(Locale.ROOT, "%nallocated by the event loops (ThreadAllocationStatistics, first to last): "
                + "%,d bytes%s %s%n", allocated, units > 0 ? String.format(Locale.ROOT, " = %,.0f bytes per unit",
                        allocated / (double) units) : "", threadAlloc.entrySet().stream()
                        .map(en -> en.getKey() + "=" + (en.getValue()[1] - en.getValue()[0]))
                        .collect(Collectors.joining(", ", "(", ")")));
        print("allocation samples by class (event loops, share of sampled weight)", allocByClass, allocWeight, top);
        print("allocation samples by allocating site (first io.warren frame)", allocBySite, allocWeight, top);
    }

    private static String name(RecordedFrame f) {
        return f.getMethod().getType().getName().replaceFirst("^.*\\.", "") + "." + f.getMethod().getName();
    }

    /** The innermost io.warren frame of an allocation, with its line: where Warren's code asked for the object. */
    private static String site(RecordedStackTrace st) {
        if (st == null) {
            return "?";
        }
        String first = null;
        for (RecordedFrame f : st.getFrames()) {
            if (first == null) {
                first = name(f);
            }
            if (f.getMethod().getType().getName().startsWith("io.warren.")) {
                return name(f) + ":" + f.getLineNumber() + (first.equals(name(f)) ? "" : " (" + first + ")");
            }
        }
        return first;
    }

    private static void print(String title, Map<String, Long> counts, long total, int top) {
        System.out.printf(Locale.ROOT, "%n%s:%n", title);
        counts.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(top)
                .forEach(en -> System.out.printf(Locale.ROOT, "  %6.2f %%  %s%n", 100.0 * en.getValue() / total,
                        en.getKey()));
    }
}
