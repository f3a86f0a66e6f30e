package io.jmpio.emu.controller;

import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;

/**
 * One kind of failure that repeats — a full disk fails every journal append, every destage cycle and every host
 * write — told to the log once when it starts (with its cause), then at most once a minute with how often it
 * recurred, and once when it stops: the operator learns what is wrong without a line and a stack trace per
 * request or per cycle. Thread-safe; times come from the caller's clock.
 */
final class RepeatedFailure {
    private static final long REPORT_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);
    private final Logger log;
    private final String what;
    private volatile boolean failing;
    private long lastReportNanos;
    private long unreported;

    /** {@code what} begins every line, e.g. "controller A: host I/O to the drives or journal". */
    RepeatedFailure(Logger log, String what) {
        this.log = log;
        this.what = what;
    }

    /** One more occurrence of the failure, at {@code nowNanos}, caused by {@code cause}. */
    synchronized void failed(long nowNanos, String detail, Throwable cause) {
        if (!failing) {
            failing = true;
            lastReportNanos = nowNanos;
            unreported = 0;
            if (cause == null || cause instanceof java.io.IOException) {
                log.error("{}: {}: {}", what, detail, describe(cause));
            } else {
                log.error("{}: {}", what, detail, cause); // unexpected: its stack trace, the first time
            }
            return;
        }
        unreported++;
        if (nowNanos - lastReportNanos >= REPORT_EVERY_NANOS) {
            log.error("{}: still failing ({} more time(s) in the last {} s); latest: {}: {}", what, unreported,
                TimeUnit.NANOSECONDS.toSeconds(nowNanos - lastReportNanos), detail, describe(cause));
            lastReportNanos = nowNanos;
            unreported = 0;
        }
    }

    /** The operation worked: says so once if it had been failing. */
    void worked() {
        if (!failing) {
            return; // the common case, on the I/O path: no lock
        }
        boolean wasFailing;
        long missed;
        synchronized (this) {
            wasFailing = failing;
            missed = unreported;
            failing = false;
            unreported = 0;
        }
        if (wasFailing) {
            log.warn("{}: works again{}", what, missed == 0 ? "" : " (" + missed + " failure(s) since the last report)");
        }
    }

    /** The failure no longer matters (what it was retrying is done another way): forgotten without a word. */
    synchronized void settled() {
        failing = false;
        unreported = 0;
    }

    private static String describe(Throwable cause) {
        if (cause == null) {
            return "no cause given";
        }
        // an I/O error's message is the story ("No space left on device"); anything else keeps its class
        return cause instanceof java.io.IOException && cause.getMessage() != null ? cause.getMessage() : cause.toString();
    }
}
