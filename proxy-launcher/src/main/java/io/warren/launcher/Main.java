package io.warren.launcher;

import io.warren.api.ProviderLookupException;
import java.io.PrintStream;
import java.util.Map;
import picocli.CommandLine;

/**
 * {@code warren [options] [UPSTREAM_URL]}: the daemon's entry point ({@code warren ctl ...}: {@link Ctl}). Reads the configuration, then runs the
 * {@link Daemon} until SIGTERM or SIGINT. Nothing logs before the configuration has chosen the log level and format.
 *
 * <p>Exit codes: 0 after a normal stop (or --help, --version, --check-config), 1 when the daemon cannot start (a port
 * in use, for instance), 2 for a bad command line or configuration, 128 + signal number when a second signal cut the
 * drain short. Errors are one line on stderr, never a stack trace.
 */
public final class Main {
    static final int OK = 0;
    static final int CANNOT_START = 1;
    static final int BAD_CONFIG = 2;

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args, System.getenv(), System.out, System.err));
    }

    static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
        if (args.length > 0 && args[0].equals(Ctl.NAME)) {
            return Ctl.run(java.util.Arrays.copyOfRange(args, 1, args.length), env, out, err);
        }
        Cli cli = new Cli();
        Cli.Request request;
        try {
            request = cli.parse(args, env);
        } catch (CommandLine.ParameterException e) {
            err.println("warren: " + oneLine(e.getMessage()) + " (see warren --help)");
            return BAD_CONFIG;
        }
        if (request.help()) {
            out.print(cli.usage());
            return OK;
        }
        if (request.version()) {
            out.println(Cli.version());
            return OK;
        }
        LauncherConfig config;
        try {
            config = LauncherConfig.from(Settings.resolve(request.values(), env, request.configFile()));
            Logging.configure(config.logLevel(), config.logFormat()); // before any plugin class can log
            Daemon.Plugins plugins = Daemon.Plugins.load(config);
            if (request.checkConfig()) {
                out.print(config.describe());
                out.println("# found: transport " + plugins.transport().name() + ", credential-keyer "
                        + plugins.keyer().name() + ", reuse-policy " + plugins.policy().name());
                return OK;
            }
            return new Daemon(config, plugins, request, env).run(request.exitAfterStart());
        } catch (ConfigException e) {
            err.println("warren: " + oneLine(e.getMessage()));
            return BAD_CONFIG;
        } catch (Daemon.StartupException e) {
            err.println("warren: " + oneLine(e.getMessage()));
            return CANNOT_START;
        }
    }

    /** Keys and problems are reported on one line, whatever the message of the library underneath. */
    static String oneLine(String message) {
        return String.valueOf(message).strip().replaceAll("\\s*\\R\\s*", "; ");
    }

    /** For the ProviderLookupException of {@link io.warren.api.Providers}: which key chose the missing name. */
    static ConfigException lookupFailed(Setting setting, LauncherConfig config, ProviderLookupException e) {
        return LauncherConfig.bad(config.settings(), setting, e.getMessage());
    }
}
