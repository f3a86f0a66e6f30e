package io.jmpio.core;

import java.util.Locale;

/**
 * What happens to a request when no path is usable: fail at once, wait (in a bounded queue) until a path
 * returns, or wait at most a number of seconds. Detaching fails whatever is waiting.
 */
public record NoPathRetry(Mode mode, long timeoutMillis) {
    public enum Mode { FAIL, QUEUE, TIMED }

    public static final NoPathRetry FAIL = new NoPathRetry(Mode.FAIL, 0);
    public static final NoPathRetry QUEUE = new NoPathRetry(Mode.QUEUE, 0);

    /** Parses "fail", "queue" or a number of seconds. */
    public static NoPathRetry parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.equals("fail")) {
            return FAIL;
        }
        if (t.equals("queue")) {
            return QUEUE;
        }
        long ms = Seconds.millis(t);
        if (ms <= 0) {
            throw new IllegalArgumentException("no-path-retry must be fail, queue or a number of seconds from 0.001 to"
                + " 9999999.999, got '" + text + "'");
        }
        return new NoPathRetry(Mode.TIMED, ms);
    }

    @Override
    public String toString() {
        return mode == Mode.TIMED ? (timeoutMillis / 1000.0) + "s" : mode.name().toLowerCase(Locale.ROOT);
    }
}
