package io.jmpio.emu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jmpio.emu.controller.OwnershipBalancer;
import io.jmpio.emu.controller.PeerMonitor;
import io.jmpio.emu.controller.PeerMonitor.PeerState;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The time-driven decisions, on a clock the test advances. */
class TimersTest {
    static final long MS = 1_000_000L;

    @Test
    void deadOnlyWhenLinkAndMailboxAreBothSilent() {
        long t = 1_000 * MS;
        PeerMonitor m = new PeerMonitor(500 * MS, t);
        assertEquals(PeerState.PARTITIONED, m.evaluate(t), "unheard on the link, mailbox within its grace");
        m.linkHeartbeat(t + 10 * MS);
        assertEquals(PeerState.ALIVE, m.evaluate(t + 100 * MS));
        for (long now = t; now < t + 2000 * MS; now += 100 * MS) {
            m.mailbox(now, now); // mailbox keeps advancing, link silent after t+10ms
        }
        assertEquals(PeerState.PARTITIONED, m.evaluate(t + 1900 * MS), "partition: no takeover");
        assertEquals(PeerState.DEAD, m.evaluate(t + 1900 * MS + 501 * MS));
        m.linkHeartbeat(t + 3000 * MS);
        assertEquals(PeerState.ALIVE, m.evaluate(t + 3000 * MS));
    }

    @Test
    void restartObservationGivesTheMailboxAFullTimeout() {
        PeerMonitor m = new PeerMonitor(500 * MS, 0);
        assertEquals(PeerState.DEAD, m.evaluate(600 * MS));
        m.restartObservation(10_000 * MS);
        assertEquals(PeerState.PARTITIONED, m.evaluate(10_400 * MS));
        assertEquals(PeerState.DEAD, m.evaluate(10_501 * MS));
    }

    @Test
    void ownershipMovesWhenTheShippedShareReachesTheThreshold() {
        OwnershipBalancer b = new OwnershipBalancer(0.75, 1000 * MS, 10, 0);
        for (int i = 0; i < 74; i++) {
            b.recordShipped(1);
            b.recordShipped(2);
        }
        for (int i = 0; i < 26; i++) {
            b.recordLocal(1);
        }
        for (int i = 0; i < 24; i++) {
            b.recordLocal(2);
        }
        assertEquals(List.of(), b.evaluate(999 * MS), "window not over");
        assertEquals(List.of(2), b.evaluate(1000 * MS), "74/100 = 0.74 stays, 74/98 = 0.755 moves");
        b.recordShipped(1);
        assertEquals(List.of(), b.evaluate(2000 * MS), "fewer than the minimum I/Os");
    }
}
