package io.jmpio.core;

import java.util.Locale;

/**
 * When I/O returns to a better path group that became usable again (dm-multipath's {@code failback}):
 * at once, only by command, only when the group's paths come back from failure (not when it merely
 * becomes better), or after it has stayed better for a delay.
 */
public record Failback(Mode mode, long delayMillis) {
    public enum Mode { IMMEDIATE, MANUAL, FOLLOWOVER, DELAY }

    public static final Failback IMMEDIATE = new Failback(Mode.IMMEDIATE, 0);

    /** Parses "immediate", "manual", "followover" or a number of seconds. */
    public static Failback parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        switch (t) {
            case "immediate": return IMMEDIATE;
            case "manual": return new Failback(Mode.MANUAL, 0);
            case "followover": return new Failback(Mode.FOLLOWOVER, 0);
            default:
                long ms = Seconds.millis(t);
                if (ms < 0) {
                    throw new IllegalArgumentException("failback must be immediate, manual, followover or a number of"
                        + " seconds from 0 to 9999999.999, got '" + text + "'");
                }
                return new Failback(Mode.DELAY, ms);
        }
    }

    @Override
    public String toString() {
        return mode == Mode.DELAY ? (delayMillis / 1000.0) + "s" : mode.name().toLowerCase(Locale.ROOT);
    }
}
