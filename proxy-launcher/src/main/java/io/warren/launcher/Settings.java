package io.warren.launcher;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The raw value of every {@link Setting} and where it came from, resolved with the precedence command line &gt;
 * environment &gt; configuration file &gt; built-in default.
 *
 * <p>The configuration file has one {@code key = value} per line, the keys being the long option names without
 * dashes; blank lines and lines starting with {@code #} are ignored, and so is white space around key and value.
 * An unknown key, a line without {@code =} or a key given twice is an error naming the file and line. Environment
 * variables are {@code WARREN_} plus the key in upper case with dashes as underscores; other {@code WARREN_*}
 * variables are ignored (the environment is shared with other tools).
 */
final class Settings {
    /** Where a value came from, as shown to the operator: {@code --listen}, {@code WARREN_LISTEN}, file:line. */
    record Value(String text, String source) {}

    private final Map<Setting, Value> values;
    /** What the configuration file said, whether or not it won. */
    private final Map<Setting, Value> file;

    private Settings(Map<Setting, Value> values, Map<Setting, Value> file) {
        this.values = values;
        this.file = file;
    }

    /**
     * @param cli values given on the command line
     * @param env the process environment
     * @param configFile the configuration file to read, if any
     */
    static Settings resolve(Map<Setting, Value> cli, Map<String, String> env, Optional<Path> configFile)
            throws ConfigException {
        Map<Setting, Value> file = configFile.isPresent() ? readFile(configFile.get()) : Map.of();
        Map<Setting, Value> out = new EnumMap<>(Setting.class);
        for (Setting s : Setting.values()) {
            Value fromCli = cli.get(s);
            String fromEnv = env.get(s.envVar());
            if (fromCli != null) {
                out.put(s, fromCli);
            } else if (fromEnv != null && !fromEnv.isBlank()) {
                out.put(s, new Value(fromEnv, s.envVar()));
            } else if (file.containsKey(s)) {
                out.put(s, file.get(s));
            } else if (s.defaultValue().isPresent()) {
                out.put(s, new Value(s.defaultValue().get(), "default"));
            }
        }
        return new Settings(out, file);
    }

    /** The file's value of {@code s}, even where the command line or the environment overrides it. */
    Optional<Value> inFile(Setting s) {
        return Optional.ofNullable(file.get(s));
    }

    /** These settings, with {@code older}'s value (and file value) for each key {@code keepOlder} names. */
    Settings keeping(Settings older, java.util.function.Predicate<Setting> keepOlder) {
        Map<Setting, Value> v = new EnumMap<>(Setting.class);
        Map<Setting, Value> f = new EnumMap<>(Setting.class);
        for (Setting s : Setting.values()) {
            Settings from = keepOlder.test(s) ? older : this;
            from.get(s).ifPresent(x -> v.put(s, x));
            from.inFile(s).ifPresent(x -> f.put(s, x));
        }
        return new Settings(v, f);
    }

    private static Map<Setting, Value> readFile(Path path) throws ConfigException {
        List<String> lines;
        try {
            lines = Files.readAllLines(path, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ConfigException("config: file " + path + " does not exist");
        } catch (IOException e) {
            throw new ConfigException("config: cannot read " + path + ": " + e.getMessage());
        }
        Map<Setting, Value> out = new EnumMap<>(Setting.class);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            String where = path + ":" + (i + 1);
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq <= 0) {
                throw new ConfigException(where + ": expected 'key = value', got a line without a key and '='");
            }
            String key = line.substring(0, eq).strip();
            String value = line.substring(eq + 1).strip();
            Setting setting = Setting.byKey(key).orElseThrow(() -> new ConfigException(where + ": unknown key '"
                    + key + "'; keys are the long option names, see warren --help"));
            if (out.containsKey(setting)) {
                throw new ConfigException(where + ": key '" + key + "' is already set at " + out.get(setting).source());
            }
            out.put(setting, new Value(value, where));
        }
        return out;
    }

    Optional<Value> get(Setting s) {
        return Optional.ofNullable(values.get(s));
    }

    /** The value, or a {@link ConfigException} saying it is missing (only the upstream has no default). */
    Value require(Setting s, String hint) throws ConfigException {
        Value v = values.get(s);
        if (v == null || v.text().isBlank()) {
            throw new ConfigException(s.key() + ": missing; " + hint);
        }
        return v;
    }

    Map<Setting, Value> all() {
        return values;
    }
}
