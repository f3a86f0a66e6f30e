package io.jmpio.core;

import io.jmpio.api.PathView;
import io.jmpio.transport.AccessState;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * An immutable snapshot of where I/O goes: the usable paths of the active group. I/O threads read the
 * device's current snapshot once per request; the admin side publishes a new one on every change.
 */
final class Topology {
    /** Group id of the marginal group (paths found marginal, used only when nothing else is left). */
    static final int MARGINAL_GROUP = 0;
    static final Topology EMPTY = new Topology(new Path[0], -1, null, false, 0);

    final Path[] usable;
    /** The usable paths as each I/O queue's policy sees them (its own in-flight counts), by queue. */
    private final List<PathView>[] queueViews;
    final int activeGroup;
    final AccessState activeState;
    /** No usable path, but some reachable path is transitioning: requests wait for the transition. */
    final boolean waitForTransition;
    final long generation;
    private final boolean[] member;

    Topology(Path[] usable, int activeGroup, AccessState activeState, boolean waitForTransition, long generation) {
        this.usable = usable;
        int queues = usable.length == 0 ? 0 : usable[0].queues();
        @SuppressWarnings("unchecked")
        List<PathView>[] byQueue = new List[queues];
        for (int q = 0; q < queues; q++) {
            PathView[] v = new PathView[usable.length];
            for (int i = 0; i < usable.length; i++) {
                v[i] = usable[i].viewFor(q);
            }
            byQueue[q] = Collections.unmodifiableList(Arrays.asList(v));
        }
        this.queueViews = byQueue;
        this.activeGroup = activeGroup;
        this.activeState = activeState;
        this.waitForTransition = waitForTransition;
        this.generation = generation;
        int max = 0;
        for (Path p : usable) {
            max = Math.max(max, p.index + 1);
        }
        member = new boolean[max];
        for (Path p : usable) {
            member[p.index] = true;
        }
    }

    /** The usable paths as I/O queue {@code queue}'s policy sees them. */
    List<PathView> viewsOf(int queue) {
        return queueViews.length == 0 ? List.of() : queueViews[queue % queueViews.length];
    }

    boolean contains(Path p) {
        return p.index < member.length && member[p.index];
    }

    boolean sameRoute(Topology o) {
        return activeGroup == o.activeGroup && activeState == o.activeState && waitForTransition == o.waitForTransition
            && Arrays.equals(usable, o.usable);
    }
}
