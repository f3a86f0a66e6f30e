package io.jmpio.netty;

import java.nio.channels.ClosedChannelException;
import java.nio.channels.UnresolvedAddressException;
import java.util.concurrent.TimeoutException;

/**
 * What went wrong, for an error message or a path's reason: the exception's message, or, for the many that have
 * none (a closed channel, a timeout, a bug's NullPointerException), the kind of failure and what caused it, so a
 * message never ends in "null" (the guest once showed {@code cannot connect to 127.0.0.1:7402: null}).
 */
public final class FailureText {
    private static final int MAX_DEPTH = 8;

    private FailureText() {
    }

    public static String of(Throwable t) {
        return of(t, 0);
    }

    private static String of(Throwable t, int depth) {
        if (t == null) {
            return "an unknown failure";
        }
        String m = t.getMessage();
        if (m != null && !m.isBlank()) {
            return m;
        }
        Throwable cause = t.getCause();
        if (cause != null && cause != t && depth < MAX_DEPTH) {
            return kind(t) + ": " + of(cause, depth + 1);
        }
        return kind(t);
    }

    private static String kind(Throwable t) {
        if (t instanceof ClosedChannelException) {
            return "the connection was closed";
        }
        if (t instanceof TimeoutException) {
            return "timed out";
        }
        if (t instanceof UnresolvedAddressException) {
            return "the host name does not resolve to an address";
        }
        return t.getClass().getSimpleName();
    }
}
