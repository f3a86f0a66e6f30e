package io.jmpio.transport;

import io.jmpio.api.IoErrorKind;

/**
 * How a command ended, in the core's terms: done; retried on another path (the path failed it); retried on
 * this or another path after a pause (busy, not ready; a transition also asks to re-read the states); the
 * access states are stale (re-read them, retry elsewhere); or failed for the caller (media, range, access,
 * invalid) with the reason.
 */
public record Outcome(Disposition disposition, IoErrorKind error, String detail, boolean refreshStates) {
    public enum Disposition { DONE, RETRY_ELSEWHERE, RETRY_LATER, STALE_STATE, FAILED }

    public static final Outcome DONE = new Outcome(Disposition.DONE, null, "", false);

    public static Outcome retryElsewhere(String detail) {
        return new Outcome(Disposition.RETRY_ELSEWHERE, null, detail, false);
    }

    public static Outcome retryLater(String detail) {
        return new Outcome(Disposition.RETRY_LATER, null, detail, false);
    }

    /** A state transition: retry after a pause, and re-read the access states meanwhile. */
    public static Outcome inTransition(String detail) {
        return new Outcome(Disposition.RETRY_LATER, null, detail, true);
    }

    public static Outcome staleState(String detail) {
        return new Outcome(Disposition.STALE_STATE, null, detail, true);
    }

    public static Outcome failed(IoErrorKind kind, String detail) {
        return new Outcome(Disposition.FAILED, kind, detail, false);
    }

    public boolean done() {
        return disposition == Disposition.DONE;
    }
}
