package io.jmpio.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** When an overdue request fails its path: a path that answers nothing is dead; one still answering is slow. */
class IoTimeoutTest {
    private static final long MS = 1_000_000L;
    private static final long TIMEOUT = 1000 * MS;

    @Test
    void aPathThatAnswersNothingForTheTimeoutIsDeadOneStillAnsweringIsSlow() {
        long t = 50_000 * MS;
        assertNull(IoQueue.overdue(t, Long.MAX_VALUE, 0, TIMEOUT), "nothing outstanding");
        assertNull(IoQueue.overdue(t, t - 900 * MS, 0, TIMEOUT), "not yet overdue");
        assertEquals("no reply within 1000 ms", IoQueue.overdue(t, t - 1500 * MS, t - 1200 * MS, TIMEOUT),
            "overdue, and nothing answered for the timeout: killed or paused");
        assertEquals("no reply within 1000 ms", IoQueue.overdue(t, t - 1500 * MS, 0, TIMEOUT),
            "overdue, and nothing ever answered");
        assertNull(IoQueue.overdue(t, t - 1500 * MS, t - 20 * MS, TIMEOUT),
            "overdue, but the connection answered 20 ms ago: a deep queue on a busy target, not a dead one");
        assertNull(IoQueue.overdue(t, t - 9_000 * MS, t - 20 * MS, TIMEOUT), "still within 10 timeouts");
        assertEquals("a request unanswered for 10001 ms while others were answered",
            IoQueue.overdue(t, t - 10_001 * MS, t - 20 * MS, TIMEOUT), "a request the target lost");
    }
}
