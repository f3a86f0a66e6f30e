package io.jmpio.transport;

import io.jmpio.api.IoErrorKind;

/**
 * How a command ended, in the core's terms: done; retried on another path (the path failed it); retried on
 * this or another path after a pause (transition, busy, not ready); the access states are stale (re-read them,
 * retry elsewhere); or failed for the caller (media, range, access, invalid) with the reason.
 */
public record Outcome(Disposition disposition, IoErrorKind error, String detail) {
    public enum Disposition { DONE, RETRY_ELSEWHERE, RETRY_LATER, STALE_STATE, FAILED }

    public static final Outcome DONE = new Outcome(Disposition.DONE, null, "");

    public static Outcome retryElsewhere(String detail) {
        return new Outcome(Disposition.RETRY_ELSEWHERE, null, detail);
    }

    public static Outcome retryLater(String detail) {
        return new Outcome(Disposition.RETRY_LATER, null, detail);
    }

    public static Outcome staleState(String detail) {
        return new Outcome(Disposition.STALE_STATE, null, detail);
    }

    public static Outcome failed(IoErrorKind kind, String detail) {
        return new Outcome(Disposition.FAILED, kind, detail);
    }

    public boolean done() {
        return disposition == Disposition.DONE;
    }
}
