package io.jmpio.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.transport.AccessState;
import io.jmpio.transport.PortInfo;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Group choice and failback timing on a hand-driven clock: no sleeping. */
class GroupSelectorTest {
    private long now = 1;
    private final Ticker ticker = () -> now;

    private static Path path(int index, String controller, int group, AccessState state) {
        Path p = new Path(index, new PortInfo("127.0.0.1:" + (7000 + index), controller + index % 2, controller, group,
            group * 16 + index % 2 + 1, state, false, false));
        p.access = state;
        p.health = Path.Health.UP;
        p.everUp = true;
        return p;
    }

    private final Path a0 = path(0, "A", 1, AccessState.OPTIMIZED);
    private final Path a1 = path(1, "A", 1, AccessState.OPTIMIZED);
    private final Path b0 = path(2, "B", 2, AccessState.NON_OPTIMIZED);
    private final Path b1 = path(3, "B", 2, AccessState.NON_OPTIMIZED);
    private final List<Path> all = List.of(a0, a1, b0, b1);

    private void failA() {
        a0.health = Path.Health.FAILED;
        a1.health = Path.Health.FAILED;
        b0.access = AccessState.OPTIMIZED;
        b1.access = AccessState.OPTIMIZED;
    }

    /** A returns and the array gives it the LUN back: A optimized, B non-optimized. */
    private void restoreA() {
        a0.health = Path.Health.UP;
        a1.health = Path.Health.UP;
        a0.recovered = true;
        a1.recovered = true;
        b0.access = AccessState.NON_OPTIMIZED;
        b1.access = AccessState.NON_OPTIMIZED;
    }

    @Test
    void optimizedGroupFirstAndFailoverAtOnce() {
        GroupSelector s = new GroupSelector(Failback.parse("manual"), ticker);
        Topology t = s.select(all);
        assertEquals(1, t.activeGroup);
        assertEquals(List.of(a0, a1), List.of(t.usable));
        failA();
        assertEquals(2, s.select(all).activeGroup, "failover ignores the failback mode");
    }

    @Test
    void unavailableAndTransitioningPathsCarryNoIoAndATransitionKeepsTheGroup() {
        GroupSelector s = new GroupSelector(Failback.parse("manual"), ticker);
        a1.access = AccessState.INACCESSIBLE;
        assertEquals(List.of(a0), List.of(s.select(all).usable));
        for (Path p : all) {
            p.access = AccessState.CHANGE;
        }
        Topology t = s.select(all);
        assertEquals(0, t.usable.length);
        assertTrue(t.waitForTransition);
        a0.access = AccessState.NON_OPTIMIZED;
        a1.access = AccessState.NON_OPTIMIZED;
        b0.access = AccessState.OPTIMIZED;
        b1.access = AccessState.OPTIMIZED;
        assertEquals(1, s.select(all).activeGroup, "manual: the group in use before the transition stays");
    }

    @Test
    void delayedFailbackWaitsItsTime() {
        GroupSelector s = new GroupSelector(Failback.parse("2.5"), ticker);
        s.select(all);
        failA();
        assertEquals(2, s.select(all).activeGroup);
        restoreA();
        assertEquals(2, s.select(all).activeGroup);
        assertTrue(s.failbackPending());
        now += TimeUnit.MILLISECONDS.toNanos(2499);
        assertEquals(2, s.select(all).activeGroup);
        now += TimeUnit.MILLISECONDS.toNanos(1);
        assertEquals(1, s.select(all).activeGroup);
        assertFalse(s.failbackPending());
    }

    @Test
    void immediateManualAndFollowover() {
        GroupSelector immediate = new GroupSelector(Failback.IMMEDIATE, ticker);
        immediate.select(all);
        failA();
        immediate.select(all);
        restoreA();
        assertEquals(1, immediate.select(all).activeGroup);

        GroupSelector manual = new GroupSelector(Failback.parse("manual"), ticker);
        manual.select(all);
        failA();
        manual.select(all);
        restoreA();
        assertEquals(2, manual.select(all).activeGroup);
        manual.requestFailback();
        assertEquals(1, manual.select(all).activeGroup);

        GroupSelector follow = new GroupSelector(Failback.parse("followover"), ticker);
        follow.select(all);
        failA();
        follow.select(all);
        restoreA();
        assertEquals(1, follow.select(all).activeGroup, "A came back from failure: follow it");
        // Ownership moved by the array alone (no path of the better group recovered): stay.
        a0.access = AccessState.NON_OPTIMIZED;
        a1.access = AccessState.NON_OPTIMIZED;
        b0.access = AccessState.OPTIMIZED;
        b1.access = AccessState.OPTIMIZED;
        a0.health = Path.Health.FAILED;
        a1.health = Path.Health.FAILED;
        assertEquals(2, follow.select(all).activeGroup);
        a0.health = Path.Health.UP;
        a1.health = Path.Health.UP;
        b0.recovered = false;
        b1.recovered = false;
        a0.access = AccessState.OPTIMIZED;
        a1.access = AccessState.OPTIMIZED;
        b0.access = AccessState.NON_OPTIMIZED;
        b1.access = AccessState.NON_OPTIMIZED;
        assertEquals(2, follow.select(all).activeGroup, "A is better now but did not come back from failure");
    }

    @Test
    void marginalPathsAreALastResort() {
        GroupSelector s = new GroupSelector(Failback.IMMEDIATE, ticker);
        a0.marginal = true;
        assertEquals(List.of(a1), List.of(s.select(all).usable));
        a1.marginal = true;
        assertEquals(2, s.select(all).activeGroup, "the non-optimized group beats marginal paths");
        b0.health = Path.Health.FAILED;
        b1.health = Path.Health.FAILED;
        Topology t = s.select(all);
        assertEquals(Topology.MARGINAL_GROUP, t.activeGroup);
        assertEquals(List.of(a0, a1), List.of(t.usable));
    }

    @Test
    void parsesSettings() {
        assertEquals(Failback.Mode.DELAY, Failback.parse("10").mode());
        assertEquals(10_000, Failback.parse("10").delayMillis());
        assertEquals(NoPathRetry.Mode.TIMED, NoPathRetry.parse("0.5").mode());
        assertEquals(500, NoPathRetry.parse("0.5").timeoutMillis());
        assertEquals(NoPathRetry.QUEUE, NoPathRetry.parse("queue"));
    }
}
