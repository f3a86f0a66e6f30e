package io.jmpio.core;

import io.jmpio.transport.AccessState;
import java.util.ArrayList;
import java.util.List;

/**
 * Chooses the active path group. Paths are grouped as their transport says (an ALUA target port group: a
 * controller's ports; for NVMe the paths of one ANA state); a group ranks by the best access state among its
 * eligible paths (optimized 3, non-optimized 2, standby 1; inaccessible, persistent loss and change 0). Failover to the best group happens at once when the
 * active group has no eligible path; failback to a better group follows the {@link Failback} setting.
 * Paths found marginal form their own group, used only when no other group ranks above 0.
 * Not thread-safe: the device calls it under its topology lock.
 */
final class GroupSelector {
    private final Failback failback;
    private final Ticker ticker;
    private int active = -1;
    private long betterSinceNanos;
    private boolean failbackRequested;
    private long generation;

    GroupSelector(Failback failback, Ticker ticker) {
        this.failback = failback;
        this.ticker = ticker;
    }

    /** The next {@link #select} moves to the best group even under manual failback. */
    void requestFailback() {
        failbackRequested = true;
    }

    /** True while a better group waits for its failback delay (the device re-selects on its tick). */
    boolean failbackPending() {
        return betterSinceNanos != 0;
    }

    static int rank(AccessState s) {
        switch (s) {
            case OPTIMIZED: return 3;
            case NON_OPTIMIZED: return 2;
            case STANDBY: return 1;
            default: return 0;
        }
    }

    private static boolean eligible(Path p) {
        return p.usable() && !p.marginal;
    }

    /** The best access state among the group's eligible paths, or null when it has none. */
    private static AccessState groupState(List<Path> paths, int group) {
        AccessState best = null;
        for (Path p : paths) {
            if (p.group == group && eligible(p) && (best == null || rank(p.access) > rank(best))) {
                best = p.access;
            }
        }
        return best;
    }

    private static boolean groupPreferred(List<Path> paths, int group) {
        for (Path p : paths) {
            if (p.group == group && p.preferred) {
                return true;
            }
        }
        return false;
    }

    Topology select(List<Path> paths) {
        int best = -1;
        int bestRank = 0;
        boolean bestPreferred = false;
        for (Path p : paths) {
            if (!eligible(p) || p.group == best) {
                continue;
            }
            int r = rank(groupState(paths, p.group));
            boolean preferred = groupPreferred(paths, p.group);
            // Higher rank wins; on equal rank the preferred owner's group, then the lower group id.
            boolean better = r > bestRank
                || r == bestRank && r > 0 && (preferred && !bestPreferred || preferred == bestPreferred && p.group < best);
            if (better) {
                best = p.group;
                bestRank = r;
                bestPreferred = preferred;
            }
        }
        AccessState activeState = active < 0 ? null : groupState(paths, active);
        int activeRank = activeState == null ? 0 : rank(activeState);
        if (activeRank == 0) {
            // Failover; but when nothing ranks (everything transitioning) the active group is kept, so a
            // transition does not count as a failure for failback purposes.
            if (best != -1) {
                switchTo(best, paths);
            }
        } else if (bestRank > activeRank) {
            if (failbackRequested || failback.mode() == Failback.Mode.IMMEDIATE) {
                switchTo(best, paths);
            } else if (failback.mode() == Failback.Mode.DELAY) {
                long now = ticker.nanos();
                if (betterSinceNanos == 0) {
                    betterSinceNanos = now;
                }
                if (now - betterSinceNanos >= failback.delayMillis() * 1_000_000L) {
                    switchTo(best, paths);
                }
            } else if (failback.mode() == Failback.Mode.FOLLOWOVER && groupRecovered(paths, best)) {
                switchTo(best, paths);
            }
        } else {
            betterSinceNanos = 0;
        }
        failbackRequested = false;

        AccessState state = active < 0 ? null : groupState(paths, active);
        List<Path> usable = new ArrayList<>();
        int group = active;
        if (state != null) {
            for (Path p : paths) {
                if (p.group == active && eligible(p) && p.access == state) {
                    usable.add(p);
                }
            }
        } else {
            for (Path p : paths) {
                if (p.marginal && p.usable() && (state == null || rank(p.access) > rank(state))) {
                    state = p.access;
                }
            }
            for (Path p : paths) {
                if (p.marginal && p.usable() && p.access == state) {
                    usable.add(p);
                }
            }
            group = usable.isEmpty() ? -1 : Topology.MARGINAL_GROUP;
        }
        boolean transitioning = false;
        if (usable.isEmpty()) {
            for (Path p : paths) {
                // a path that answers but says "not through me now" (ANA change, or inaccessible told through its
                // own session while the target sorts out its controllers) is waited for, as Linux's NVMe multipath
                // queues on a live controller; a port another port reports unavailable is not
                transitioning |= p.health == Path.Health.UP && (p.access == AccessState.CHANGE
                    || p.access == AccessState.INACCESSIBLE && p.accessFromItself);
            }
        }
        return new Topology(usable.toArray(new Path[0]), group, usable.isEmpty() ? null : state, transitioning, ++generation);
    }

    private void switchTo(int group, List<Path> paths) {
        active = group;
        betterSinceNanos = 0;
        for (Path p : paths) {
            if (p.group == group) {
                p.recovered = false;
            }
        }
    }

    private static boolean groupRecovered(List<Path> paths, int group) {
        for (Path p : paths) {
            if (p.group == group && p.recovered) {
                return true;
            }
        }
        return false;
    }
}
