package io.jmpio.core;

import io.jmpio.api.KernelBridgeProvider;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/** The kernel bridges installed (found by {@link ServiceLoader}), the {@code auto} choice, and option checks. */
public final class Bridges {
    private final Map<String, KernelBridgeProvider> byName = new TreeMap<>();

    private Bridges(ClassLoader loader) {
        for (KernelBridgeProvider p : ServiceLoader.load(KernelBridgeProvider.class, loader)) {
            byName.putIfAbsent(p.name(), p);
        }
    }

    public static Bridges from(ClassLoader loader) {
        return new Bridges(loader);
    }

    /** Every installed bridge, in {@code auto} order. */
    public List<KernelBridgeProvider> all() {
        List<KernelBridgeProvider> l = new ArrayList<>(byName.values());
        l.sort(Comparator.comparingInt(KernelBridgeProvider::autoRank).thenComparing(KernelBridgeProvider::name));
        return l;
    }

    public KernelBridgeProvider provider(String name) {
        KernelBridgeProvider p = byName.get(name);
        if (p == null) {
            throw new IllegalArgumentException("unknown bridge '" + name + "' (installed: "
                + (byName.isEmpty() ? "none" : String.join(", ", byName.keySet())) + ", or auto)");
        }
        return p;
    }

    /** The choice of {@code auto}: the first usable bridge in rank order, and a line saying why. */
    public Choice auto() {
        List<String> skipped = new ArrayList<>();
        for (KernelBridgeProvider p : all()) {
            KernelBridgeProvider.Availability a = p.availability();
            if (a.usable()) {
                String why = skipped.isEmpty() ? a.reason() : a.reason() + "; not " + String.join("; not ", skipped);
                return new Choice(p, why);
            }
            skipped.add(p.name() + ": " + a.reason());
        }
        throw new IllegalStateException("no bridge can run on this host: " + String.join("; ", skipped));
    }

    /** A bridge chosen by {@code auto}, with the reason. */
    public record Choice(KernelBridgeProvider provider, String reason) {
    }

    /** Refuses option names the bridge does not take, naming the ones it does. */
    public static void checkOptions(KernelBridgeProvider p, Map<String, String> options) {
        Policies.checkOptions("bridge " + p.name(), p.options(), options);
    }
}
