package io.jmpio.core;

import io.jmpio.api.BalancingPolicy;
import io.jmpio.api.BalancingPolicyProvider;
import io.jmpio.api.PolicyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/** The balancing policies installed (found by {@link ServiceLoader}), and creation by name with checked options. */
public final class Policies {
    private final Map<String, BalancingPolicyProvider> byName = new TreeMap<>();

    private Policies(ClassLoader loader) {
        for (BalancingPolicyProvider p : ServiceLoader.load(BalancingPolicyProvider.class, loader)) {
            byName.putIfAbsent(p.name(), p);
        }
    }

    /** The policies visible to the context class loader (the application's, plus any --plugin-path jars). */
    public static Policies installed() {
        ClassLoader cl = Thread.currentThread().getContextClassLoader();
        return new Policies(cl != null ? cl : Policies.class.getClassLoader());
    }

    public static Policies from(ClassLoader loader) {
        return new Policies(loader);
    }

    /** Refuses option names a plugin ({@code what}: "policy NAME", "bridge NAME") does not take, naming the ones it does. */
    static void checkOptions(String what, List<PolicyOption> declared, Map<String, String> options) {
        for (String key : options.keySet()) {
            if (declared.stream().noneMatch(o -> o.name().equals(key))) {
                List<String> known = new ArrayList<>();
                for (PolicyOption o : declared) {
                    known.add(o.name());
                }
                throw new IllegalArgumentException(what + " has no option '" + key + "' (options: "
                    + (known.isEmpty() ? "none" : String.join(", ", known)) + ")");
            }
        }
    }

    public List<BalancingPolicyProvider> all() {
        return new ArrayList<>(byName.values());
    }

    public BalancingPolicyProvider provider(String name) {
        BalancingPolicyProvider p = byName.get(name);
        if (p == null) {
            throw new IllegalArgumentException("unknown policy '" + name + "' (known: "
                + (byName.isEmpty() ? "none installed" : String.join(", ", byName.keySet())) + ")");
        }
        return p;
    }

    /** Creates a policy, refusing option names the policy does not take. */
    public BalancingPolicy create(String name, Map<String, String> options) {
        BalancingPolicyProvider p = provider(name);
        checkOptions("policy " + name, p.options(), options);
        return p.create(options);
    }
}
