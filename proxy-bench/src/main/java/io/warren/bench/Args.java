package io.warren.bench;

import java.util.HashMap;
import java.util.Map;

/** {@code --name value} command-line options of the bench mains; unknown options are an error. */
final class Args {
    private final Map<String, String> values = new HashMap<>();

    Args(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("expected --name value, got " + a);
            }
            String name = a.substring(2);
            int eq = name.indexOf('=');
            if (eq >= 0) {
                values.put(name.substring(0, eq), name.substring(eq + 1));
            } else if (i + 1 < args.length) {
                values.put(name, args[++i]);
            } else {
                throw new IllegalArgumentException("missing value for " + a);
            }
        }
    }

    String value(String name, String dflt) {
        String v = values.remove(name);
        return v == null ? dflt : v;
    }

    int intValue(String name, int dflt) {
        return Integer.parseInt(value(name, Integer.toString(dflt)));
    }

    long longValue(String name, long dflt) {
        return Long.parseLong(value(name, Long.toString(dflt)));
    }

    /** Fails on any option nobody asked for (a typo must not silently run the default). */
    void done() {
        if (!values.isEmpty()) {
            throw new IllegalArgumentException("unknown options: " + values.keySet());
        }
    }
}
