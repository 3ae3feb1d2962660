package io.warren.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** {@code warren ctl}'s readable output: the admin API's JSON as aligned columns, or a line for an action. */
final class CtlTables {
    private CtlTables() {}

    /** A column: its header and how a row's JSON shows in it. */
    private record Column(String header, Function<JsonNode, String> value) {
        static Column of(String header, String field) {
            return new Column(header, n -> text(n.path(field)));
        }
    }

    static String render(String command, String arg, JsonNode json) {
        return switch (command) {
            case "clients" -> table(json, List.of(Column.of("ID", "id"), Column.of("PEER", "peer"),
                    Column.of("USER", "user"), Column.of("VHOST", "vhost"), Column.of("NAME", "connection_name"),
                    new Column("CLIENT", n -> (text(n.path("product")) + " " + text(n.path("version"))).strip()),
                    new Column("TLS", n -> n.path("tls").asBoolean() ? "yes" : "no"), Column.of("STATE", "state"),
                    Column.of("SINCE", "connected_since"), new Column("CHANNELS", n -> "" + n.path("channels").size()),
                    Column.of("BYTES_IN", "bytes_received"), Column.of("BYTES_OUT", "bytes_sent"),
                    Column.of("PUBLISHED", "messages_published"), Column.of("DELIVERED", "messages_delivered"),
                    Column.of("QUEUED", "write_queue_bytes")));
            case "client" -> client(json);
            case "upstreams" -> table(json, List.of(Column.of("ID", "id"), Column.of("NODE", "node"),
                    Column.of("USER", "user"), Column.of("VHOST", "vhost"), Column.of("STATE", "state"),
                    Column.of("IN_USE", "channels_in_use"), Column.of("IDLE", "channels_idle"),
                    Column.of("CLIENTS", "clients"), Column.of("OPENED", "opened_at"),
                    new Column("HEARTBEAT", n -> n.path("heartbeat_seconds").asInt() + "s, heard "
                            + n.path("last_heard_millis").asLong() + " ms ago"),
                    new Column("BLOCKED", n -> n.path("blocked").asBoolean() ? "yes" : "no"),
                    Column.of("POOL_KEY", "pool_key")));
            case "pools" -> table(json, List.of(Column.of("USER", "user"), Column.of("VHOST", "vhost"),
                    Column.of("CONNECTIONS", "connections"), Column.of("IN_USE", "channels_in_use"),
                    Column.of("IDLE", "channels_idle"), Column.of("SCRUBBING", "channels_scrubbing"),
                    Column.of("TARGET", "channel_target"),
                    new Column("SCRUB_RTT_MS", n -> String.format(java.util.Locale.ROOT, "%.1f",
                            n.path("scrub_round_trip_millis").asDouble())),
                    Column.of("CLIENTS", "clients"),
                    new Column("NODES", n -> join(n.path("nodes"))), Column.of("BLOCKED", "blocked"),
                    Column.of("POOL_KEY", "pool_key")));
            case "nodes" -> table(json, nodeColumns(n -> n));
            case "vhosts" -> json.isEmpty() ? "no virtual host is paused\n"
                    : table(json, List.of(Column.of("VHOST", "vhost"), Column.of("WAITING", "waiting")));
            case "kill" -> "closed client " + text(json.path("closed")) + ": " + text(json.path("text")) + "\n";
            case "pause" -> "virtual host '" + text(json.path("vhost")) + "' "
                    + (json.path("changed").asBoolean() ? "paused" : "was paused already") + "\n";
            case "resume" -> "virtual host '" + text(json.path("vhost")) + "' "
                    + (json.path("changed").asBoolean() ? "resumed; " + json.path("released").asInt()
                    + " waiting client(s) go on" : "was not paused") + "\n";
            case "drain", "undrain" -> table(json, nodeColumns(n -> n.path("node")));
            case "reload" -> reload(json);
            default -> json.toPrettyString() + "\n";
        };
    }

    private static List<Column> nodeColumns(Function<JsonNode, JsonNode> node) {
        return List.of(new Column("NODE", n -> text(node.apply(n).path("name"))),
                new Column("STATE", n -> text(node.apply(n).path("state"))),
                new Column("SINCE", n -> text(node.apply(n).path("since"))),
                new Column("CONNECTIONS", n -> text(node.apply(n).path("connections"))),
                new Column("FAILED_DIALS", n -> text(node.apply(n).path("connect_failures"))),
                new Column("FAILOVERS", n -> text(node.apply(n).path("failovers"))),
                new Column("REASON", n -> text(node.apply(n).path("reason"))));
    }

    private static String client(JsonNode c) {
        StringBuilder out = new StringBuilder();
        for (String f : List.of("id", "peer", "user", "vhost", "connection_name", "product", "version", "tls",
                "connected_since", "state", "bytes_received", "bytes_sent", "messages_published",
                "messages_delivered", "write_queue_bytes")) {
            out.append(String.format("%-19s %s%n", f + ":", text(c.path(f))));
        }
        if (c.path("channels").isEmpty()) {
            return out.append("no open channels\n").toString();
        }
        return out.append('\n').append(table(c.path("channels"), List.of(Column.of("CHANNEL", "number"),
                Column.of("NODE", "node"), Column.of("UPSTREAM", "upstream_connection"),
                Column.of("UPSTREAM_CHANNEL", "upstream_channel"),
                new Column("LENT", n -> n.path("lent").asBoolean() ? "yes" : "no"), Column.of("STATE", "state"),
                Column.of("REUSE", "reuse")))).toString();
    }

    private static String reload(JsonNode r) {
        StringBuilder out = new StringBuilder();
        section(out, "applied", r.path("applied"));
        section(out, "needs a restart (left as it was)", r.path("needs_restart"));
        section(out, "overridden", r.path("overridden"));
        section(out, "notes", r.path("notes"));
        return out.length() == 0 ? "reloaded: nothing changed\n" : out.toString();
    }

    private static void section(StringBuilder out, String title, JsonNode lines) {
        if (lines.isEmpty()) {
            return;
        }
        out.append(title).append(":\n");
        lines.forEach(l -> out.append("  ").append(l.asText()).append('\n'));
    }

    /** Rows under headers, each column as wide as its widest cell. */
    static String table(JsonNode rows, List<Column> columns) {
        List<String[]> cells = new ArrayList<>();
        cells.add(columns.stream().map(Column::header).toArray(String[]::new));
        rows.forEach(row -> cells.add(columns.stream().map(c -> c.value().apply(row)).toArray(String[]::new)));
        int[] width = new int[columns.size()];
        for (String[] line : cells) {
            for (int i = 0; i < line.length; i++) {
                width[i] = Math.max(width[i], line[i].length());
            }
        }
        StringBuilder out = new StringBuilder();
        for (String[] line : cells) {
            StringBuilder l = new StringBuilder();
            for (int i = 0; i < line.length; i++) {
                l.append(i == line.length - 1 ? line[i] : String.format("%-" + width[i] + "s  ", line[i]));
            }
            out.append(l.toString().stripTrailing()).append('\n');
        }
        return out.toString();
    }

    private static String text(JsonNode n) {
        return n.isMissingNode() || n.isNull() ? "" : n.isTextual() ? n.asText() : n.toString();
    }

    private static String join(JsonNode array) {
        List<String> parts = new ArrayList<>();
        array.forEach(n -> parts.add(n.asText()));
        return String.join(",", parts);
    }
}
