package io.warren.core;

import io.warren.api.transport.EventLoop;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * Snapshots of state that event loops own, taken on those loops: one task per loop for all of its items, so a view of
 * ten thousand clients costs each loop one task, not ten thousand.
 */
final class OnOwnLoops {
    private OnOwnLoops() {}

    /**
     * Runs {@code view} on each item's loop and gathers the results (nulls dropped), sorted by {@code order}. A loop
     * that has shut down fails the whole future.
     */
    static <T, V> CompletableFuture<List<V>> map(Collection<T> items, Function<T, EventLoop> loopOf,
            Function<T, V> view, Comparator<V> order) {
        Map<EventLoop, List<T>> byLoop = new LinkedHashMap<>();
        for (T item : items) {
            byLoop.computeIfAbsent(loopOf.apply(item), l -> new ArrayList<>()).add(item);
        }
        List<CompletableFuture<List<V>>> parts = new ArrayList<>(byLoop.size());
        for (Map.Entry<EventLoop, List<T>> e : byLoop.entrySet()) {
            CompletableFuture<List<V>> part = new CompletableFuture<>();
            parts.add(part);
            try {
                e.getKey().execute(() -> {
                    try {
                        List<V> out = new ArrayList<>(e.getValue().size());
                        for (T item : e.getValue()) {
                            V v = view.apply(item);
                            if (v != null) {
                                out.add(v);
                            }
                        }
                        part.complete(out);
                    } catch (RuntimeException | Error t) {
                        part.completeExceptionally(t);
                    }
                });
            } catch (RuntimeException rejected) {
                part.completeExceptionally(rejected);
            }
        }
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenApply(done -> {
            List<V> all = new ArrayList<>();
            for (CompletableFuture<List<V>> part : parts) {
                all.addAll(part.join());
            }
            all.sort(order);
            return all;
        });
    }
}
