package io.warren.core.admin;

import java.util.List;

/**
 * What a reload did to the engine.
 *
 * @param applied the {@link io.warren.core.config.ProxyConfig} components whose new values apply from now on
 * @param needsRestart components that changed but apply only to a new process; their old values stay
 * @param notes one line per consequence worth a log line (a node added, removed or restored)
 */
public record Reconfiguration(List<String> applied, List<String> needsRestart, List<String> notes) {
    public Reconfiguration {
        applied = List.copyOf(applied);
        needsRestart = List.copyOf(needsRestart);
        notes = List.copyOf(notes);
    }
}
