package io.jmpio.api;

import java.util.List;
import java.util.Map;

/**
 * The {@link java.util.ServiceLoader} entry of a balancing policy: its name, what it does, the options it
 * takes, and a factory. Register an implementation in
 * {@code META-INF/services/io.jmpio.api.BalancingPolicyProvider}.
 */
public interface BalancingPolicyProvider {
    /** The name users select it by ({@code --policy NAME}): lower case, words joined by '-'. */
    String name();

    /** One line saying what it does. */
    String description();

    List<PolicyOption> options();

    /**
     * Creates a policy. {@code options} holds only names from {@link #options()} (the device checks);
     * a bad value is answered with {@link IllegalArgumentException} naming the option.
     */
    BalancingPolicy create(Map<String, String> options);
}
