package io.jmpio.api;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * The {@link java.util.ServiceLoader} entry of a kernel bridge: what exposes a {@link BlockDevice} to the
 * kernel or to clients (ublk, FUSE + loop, NBD). Register an implementation in
 * {@code META-INF/services/io.jmpio.api.KernelBridgeProvider}.
 */
public interface KernelBridgeProvider {
    /** The name users select it by ({@code --bridge NAME}). */
    String name();

    /** One line saying what it gives the user. */
    String description();

    /** Order for {@code --bridge auto}: the usable bridge with the lowest rank is chosen. */
    int autoRank();

    /** Options it takes ({@code --bridge-option KEY=VALUE}, or its own command-line flags). */
    List<PolicyOption> options();

    /** Whether it can run on this host now, and why not: checked without side effects. */
    Availability availability();

    /**
     * Exposes {@code device}. {@code options} holds only names from {@link #options()}. Fails with a message
     * naming what is missing or refused; on failure everything it set up is undone.
     */
    KernelBridge start(BlockDevice device, Map<String, String> options) throws IOException;

    /** Whether a bridge can run here; {@code reason} says why not (and what to do), or what it will use. */
    record Availability(boolean usable, String reason) {
        public static Availability yes(String how) {
            return new Availability(true, how);
        }

        public static Availability no(String why) {
            return new Availability(false, why);
        }
    }
}
