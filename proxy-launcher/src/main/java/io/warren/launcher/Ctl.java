package io.warren.launcher;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.ParseResult;

/**
 * {@code warren ctl COMMAND}: the admin API from a shell. It finds the daemon's HTTP endpoint and admin token the way
 * the daemon does (command line, environment, the config file), so {@code warren ctl clients} next to a running
 * {@code warren --config FILE} needs the same {@code --config FILE} and nothing else. Prints tables by default and the
 * API's JSON with {@code --json}.
 *
 * <p>Exit codes: 0 done, 1 the daemon could not be reached or refused the request (its error is printed), 2 a bad
 * command line or configuration.
 */
final class Ctl {
    static final String NAME = "ctl";
    private static final Duration TIMEOUT = Duration.ofSeconds(15);

    /** A command: its name, its argument (if any) and what it asks of the API. */
    private record Command(String name, String argument, String help) {}

    private static final List<Command> COMMANDS = List.of(
            new Command("clients", null, "List the connected clients."),
            new Command("client", "ID", "Show one client and its channels."),
            new Command("upstreams", null, "List the upstream connections."),
            new Command("pools", null, "List the pools (one per credentials), their connections in sum."),
            new Command("nodes", null, "List the upstream nodes and their state."),
            new Command("vhosts", null, "List the paused virtual hosts."),
            new Command("kill", "ID", "Close client ID with 320 CONNECTION_FORCED (--reason adds a text)."),
            new Command("pause", "VHOST", "New clients of VHOST wait at connection.open (until resume or"
                    + " upstream-hold); connected ones carry on."),
            new Command("resume", "VHOST", "Let VHOST's waiting and new clients in."),
            new Command("drain", "NODE", "No new connections to NODE (host:port); idle ones close, busy ones"
                    + " finish."),
            new Command("undrain", "NODE", "NODE takes new connections again."),
            new Command("reload", null, "Re-read the configuration file (as SIGHUP) and say what changed."));

    private Ctl() {}

    private static CommandSpec spec() {
        CommandSpec spec = CommandSpec.create().name("warren ctl");
        StringBuilder commands = new StringBuilder();
        for (Command c : COMMANDS) {
            commands.append(String.format("  %-16s %s%n", c.name() + (c.argument() == null ? "" : " " + c.argument()),
                    c.help()));
        }
        spec.usageMessage().description("Asks a running Warren through its admin API (HTTP, /admin/).", "",
                "Commands:", commands.toString().stripTrailing(), "",
                "The endpoint and token come from --http and --admin-token-file, WARREN_HTTP and"
                + " WARREN_ADMIN_TOKEN_FILE, or the config file, as for the daemon.")
                .footer("", "Exit codes: 0 done, 1 Warren unreachable or the request refused, 2 bad command line or"
                        + " configuration.");
        spec.addPositional(PositionalParamSpec.builder().paramLabel("COMMAND").arity("1").type(String.class)
                .description("One of the commands above.").build());
        spec.addPositional(PositionalParamSpec.builder().paramLabel("ARG").arity("0..1").type(String.class)
                .description("The command's argument: ID, VHOST or NODE.").build());
        for (Setting s : List.of(Setting.HTTP, Setting.ADMIN_TOKEN_FILE)) {
            spec.addOption(OptionSpec.builder(s.option()).paramLabel(s.label()).type(String.class)
                    .description(s == Setting.HTTP ? "Warren's HTTP endpoint." : "The admin token's file.").build());
        }
        spec.addOption(OptionSpec.builder(Cli.CONFIG).paramLabel("FILE").type(String.class)
                .description("Warren's config file (also WARREN_CONFIG).").build());
        spec.addOption(OptionSpec.builder("--json").arity("0").description("Print the API's JSON.").build());
        spec.addOption(OptionSpec.builder("--reason").paramLabel("TEXT").type(String.class)
                .description("kill: added to the 320's text.").build());
        spec.addOption(OptionSpec.builder("-h", "--help").arity("0").usageHelp(true)
                .description("Print this help and exit.").build());
        return spec;
    }

    static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
        CommandSpec spec = spec();
        ParseResult r;
        try {
            r = new CommandLine(spec).parseArgs(args);
        } catch (CommandLine.ParameterException e) {
            err.println("warren ctl: " + Main.oneLine(e.getMessage()) + " (see warren ctl --help)");
            return Main.BAD_CONFIG;
        }
        if (r.isUsageHelpRequested()) {
            out.print(new CommandLine(spec).getUsageMessage());
            return Main.OK;
        }
        String name = r.matchedPositionalValue(0, "");
        String arg = r.matchedPositionalValue(1, null);
        Optional<Command> command = COMMANDS.stream().filter(c -> c.name().equals(name)).findFirst();
        if (command.isEmpty()) {
            err.println("warren ctl: unknown command '" + name + "'; commands: "
                    + String.join(", ", COMMANDS.stream().map(Command::name).toList()));
            return Main.BAD_CONFIG;
        }
        if (command.get().argument() != null && (arg == null || arg.isEmpty())) {
            err.println("warren ctl: " + name + " needs " + command.get().argument());
            return Main.BAD_CONFIG;
        }
        if (command.get().argument() == null && arg != null) {
            err.println("warren ctl: " + name + " takes no argument, got '" + arg + "'");
            return Main.BAD_CONFIG;
        }
        if (r.hasMatchedOption("--reason") && !name.equals("kill")) {
            err.println("warren ctl: --reason is for kill only");
            return Main.BAD_CONFIG;
        }
        Endpoint endpoint;
        try {
            endpoint = endpoint(r, env);
        } catch (ConfigException e) {
            err.println("warren ctl: " + Main.oneLine(e.getMessage()));
            return Main.BAD_CONFIG;
        }
        HttpRequest request = request(endpoint, name, arg, r.matchedOptionValue("--reason", null));
        HttpResponse<String> response;
        try {
            response = HttpClient.newBuilder().connectTimeout(TIMEOUT).build()
                    .send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (ConnectException e) {
            err.println("warren ctl: cannot connect to Warren's HTTP endpoint at " + endpoint.shown()
                    + " (is Warren running, with this --http / config file?)");
            return Main.CANNOT_START;
        } catch (HttpTimeoutException e) {
            err.println("warren ctl: no answer from " + endpoint.shown() + " within " + Values.formatDuration(TIMEOUT));
            return Main.CANNOT_START;
        } catch (IOException e) {
            err.println("warren ctl: " + endpoint.shown() + ": " + e);
            return Main.CANNOT_START;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Main.CANNOT_START;
        }
        JsonNode json;
        try {
            json = AdminJson.read(response.body());
        } catch (JsonProcessingException e) {
            err.println("warren ctl: " + endpoint.shown() + " answered HTTP " + response.statusCode()
                    + " with something that is not the admin API's JSON (is this Warren?)");
            return Main.CANNOT_START;
        }
        if (response.statusCode() / 100 != 2) {
            err.println("warren ctl: " + json.path("error").asText("HTTP " + response.statusCode()) + " (HTTP "
                    + response.statusCode() + ")");
            return Main.CANNOT_START;
        }
        if (r.hasMatchedOption("--json")) {
            out.println(json.toPrettyString());
        } else {
            out.print(CtlTables.render(name, arg, json));
        }
        return Main.OK;
    }

    /** Where the admin API is, and its token. */
    private record Endpoint(URI base, Optional<AdminAccess.Token> token) {
        String shown() {
            return base.getHost() + ":" + base.getPort();
        }
    }

    private static Endpoint endpoint(ParseResult r, Map<String, String> env) throws ConfigException {
        Map<Setting, Settings.Value> cli = new EnumMap<>(Setting.class);
        for (Setting s : List.of(Setting.HTTP, Setting.ADMIN_TOKEN_FILE)) {
            String v = r.matchedOptionValue(s.option(), null);
            if (v != null) {
                cli.put(s, new Settings.Value(v, s.option()));
            }
        }
        String config = r.matchedOptionValue(Cli.CONFIG, env.get("WARREN_CONFIG"));
        Settings settings = Settings.resolve(cli, env, config == null || config.isBlank() ? Optional.empty()
                : Optional.of(Path.of(config)));
        Settings.Value http = settings.get(Setting.HTTP).orElseThrow();
        if (http.text().strip().equalsIgnoreCase("off")) {
            throw LauncherConfig.bad(settings, Setting.HTTP, "is off, and the admin API is served there; give"
                    + " --http HOST:PORT of the running Warren");
        }
        InetSocketAddress a;
        try {
            a = Values.parseAddress(http.text());
        } catch (IllegalArgumentException e) {
            throw LauncherConfig.bad(settings, Setting.HTTP, e.getMessage());
        }
        // A daemon listening on every address is reached on loopback.
        InetAddress host = a.getAddress() == null || a.getAddress().isAnyLocalAddress()
                ? InetAddress.getLoopbackAddress() : a.getAddress();
        String literal = host.getHostAddress().contains(":") ? "[" + host.getHostAddress() + "]"
                : host.getHostAddress();
        return new Endpoint(URI.create("http://" + literal + ":" + a.getPort()), LauncherConfig.adminToken(settings));
    }

    private static HttpRequest request(Endpoint e, String command, String arg, String reason) {
        String path;
        String method = "GET";
        String body = "";
        switch (command) {
            case "client" -> path = "clients/" + segment(arg);
            case "kill" -> {
                path = "clients/" + segment(arg);
                method = "DELETE";
                if (reason != null) {
                    body = new String(AdminJson.write(Map.of("reason", reason)), StandardCharsets.UTF_8);
                }
            }
            case "pause", "resume" -> {
                path = "vhosts/" + segment(arg) + "/" + command;
                method = "POST";
            }
            case "drain", "undrain" -> {
                path = "nodes/" + segment(arg) + "/" + command;
                method = "POST";
            }
            case "reload" -> {
                path = "reload";
                method = "POST";
            }
            default -> path = command;
        }
        HttpRequest.Builder b = HttpRequest.newBuilder(e.base().resolve(AdminApi.PREFIX + path)).timeout(TIMEOUT)
                .method(method, body.isEmpty() ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
        e.token().ifPresent(t -> b.header("Authorization", "Bearer " + t.value()));
        return b.build();
    }

    /** One path segment: a vhost's '/' becomes %2F. */
    private static String segment(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
