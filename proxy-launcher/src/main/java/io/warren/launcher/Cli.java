package io.warren.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.ParseResult;

/**
 * The command line, {@code warren [options] [UPSTREAM_URL]}, built from {@link Setting} so that every key is an
 * option. Values stay text here: {@link Settings} merges them with the environment and file, and
 * {@link LauncherConfig} parses them, so an error names the key and source alike whatever the source.
 */
final class Cli {
    static final String CHECK_CONFIG = "--check-config";
    static final String CONFIG = "--config";
    /** Starts everything, then shuts down at once: the packaging step trains the class-data-sharing archive with it. */
    static final String EXIT_AFTER_START = "--exit-after-start";

    /** What the command line asked for. */
    record Request(boolean help, boolean version, boolean checkConfig, boolean exitAfterStart,
            Optional<Path> configFile, Map<Setting, Settings.Value> values) {}

    /** How the upstream given as the positional argument is named in messages. */
    static final String UPSTREAM_ARGUMENT = "argument UPSTREAM_URL";

    private final CommandSpec spec;

    Cli() {
        spec = CommandSpec.create().name("warren");
        spec.usageMessage()
                .description("Warren: an AMQP 0-9-1 proxy daemon. Clients connect to Warren; Warren keeps pooled"
                        + " upstream connections and channels to the broker and lends them out.",
                        "",
                        "Every option is also an environment variable (--listen: WARREN_LISTEN) and a key of the"
                        + " config file (listen = 127.0.0.1:5673). Precedence: command line > environment > file >"
                        + " defaults. Durations: 250ms, 30s, 5m, 1h. Sizes: bytes or 512k, 128m, 1g.",
                        "",
                        "SIGHUP reloads the config file. 'warren ctl COMMAND' asks a running Warren through its"
                        + " admin API (see warren ctl --help).")
                .footer("", "Exit codes: 0 stopped normally, 1 could not start, 2 bad command line or"
                        + " configuration.");
        spec.addPositional(PositionalParamSpec.builder().paramLabel("UPSTREAM_URL").arity("0..1").type(String.class)
                .description("The broker, amqp://host[:port] or amqps://host[:port] (same as --upstream).").build());
        for (Setting s : Setting.values()) {
            String def = s.defaultValue().map(d -> " Default: " + d + ".").orElse("");
            if (s.flag()) {
                spec.addOption(OptionSpec.builder(s.option()).arity("0").description(s.description()).build());
            } else {
                spec.addOption(OptionSpec.builder(s.option()).paramLabel(s.label()).type(String.class)
                        .description(s.description() + def).build());
            }
        }
        spec.addOption(OptionSpec.builder(CONFIG).paramLabel("FILE").type(String.class)
                .description("Read settings from FILE (key = value lines; also WARREN_CONFIG).").build());
        spec.addOption(OptionSpec.builder(CHECK_CONFIG).arity("0")
                .description("Validate the configuration, print it with secrets masked, and exit.").build());
        spec.addOption(OptionSpec.builder(EXIT_AFTER_START).arity("0").hidden(true).build());
        spec.addOption(OptionSpec.builder("-V", "--version").arity("0").versionHelp(true)
                .description("Print the version and exit.").build());
        spec.addOption(OptionSpec.builder("-h", "--help").arity("0").usageHelp(true)
                .description("Print this help and exit.").build());
    }

    /** @throws CommandLine.ParameterException for an unknown option or a missing option value */
    Request parse(String[] args, Map<String, String> env) {
        ParseResult r = new CommandLine(spec).parseArgs(args);
        Map<Setting, Settings.Value> values = new EnumMap<>(Setting.class);
        for (Setting s : Setting.values()) {
            String v = s.flag() ? (r.hasMatchedOption(s.option()) ? "true" : null)
                    : r.matchedOptionValue(s.option(), null);
            if (v != null) {
                values.put(s, new Settings.Value(v, s.option()));
            }
        }
        String positional = r.matchedPositionalValue(0, null);
        if (positional != null) {
            if (values.containsKey(Setting.UPSTREAM)) {
                throw new CommandLine.ParameterException(new CommandLine(spec),
                        "the upstream is given twice, as --upstream and as UPSTREAM_URL");
            }
            values.put(Setting.UPSTREAM, new Settings.Value(positional, UPSTREAM_ARGUMENT));
        }
        String config = r.matchedOptionValue(CONFIG, null);
        if (config == null) {
            config = env.get("WARREN_CONFIG");
        }
        return new Request(r.isUsageHelpRequested(), r.isVersionHelpRequested(), r.hasMatchedOption(CHECK_CONFIG),
                r.hasMatchedOption(EXIT_AFTER_START),
                config == null || config.isBlank() ? Optional.empty() : Optional.of(Path.of(config)), values);
    }

    String usage() {
        return new CommandLine(spec).getUsageMessage();
    }

    static String version() {
        Properties p = new Properties();
        try (InputStream in = Cli.class.getResourceAsStream("version.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return "warren " + p.getProperty("version", "dev") + " (Java " + Runtime.version() + ", "
                + System.getProperty("java.vm.name") + ")";
    }
}
