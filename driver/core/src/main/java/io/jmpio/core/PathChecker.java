package io.jmpio.core;

import io.jmpio.netty.FailureText;
import io.jmpio.transport.AccessState;
import io.jmpio.transport.PathSession;
import io.jmpio.transport.PortInfo;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The path checker: a probe per path on each check tick (on the probe pool, one at a time per path) through the
 * path's control session, opened when needed; a probe's answer brings a failed path back, updates a state the
 * probe told, or asks for a refresh when it disagrees with what the device believes.
 */
final class PathChecker {
    private static final Logger LOG = LoggerFactory.getLogger(PathChecker.class);

    private final MultipathDevice d;

    PathChecker(MultipathDevice device) {
        this.d = device;
    }

    void checkTick() {
        for (Path p : d.paths) {
            if (p.health != Path.Health.OFFLINE) {
                probeSoon(p);
            }
        }
        synchronized (d.topologyLock) {
            if (d.selector.failbackPending()) {
                d.republishLocked();
            }
        }
    }

    void probeSoon(Path p) {
        if (d.closed || !p.probing.compareAndSet(false, true)) {
            return;
        }
        try {
            d.probePool.execute(() -> probe(p));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            p.probing.set(false);
        }
    }

    /** A probe on the path's control session (opening it first when needed). */
    void probe(Path p) {
        try {
            PathSession s = p.session;
            if (s == null || !s.isOpen()) {
                closeSession(p);
                s = d.transport.openPath(d.context, portOf(p), () -> d.refresh.requestRefresh("notice from " + p.id));
                p.session = s;
            }
            probeAnswered(p, s.probe());
        } catch (PathSession.AccessDeniedException e) {
            closeSession(p);
            if (p.health == Path.Health.UP) {
                d.pathFailed(p, FailureText.of(e));
            } else if (p.health == Path.Health.FAILED) {
                p.reason = FailureText.of(e);
            }
        } catch (IOException | RuntimeException e) {
            closeSession(p);
            if (p.health == Path.Health.UP) {
                d.pathFailed(p, "probe: " + FailureText.of(e));
            } else if (p.health == Path.Health.FAILED) {
                p.reason = "probe: " + FailureText.of(e);
            }
        } finally {
            p.probing.set(false);
        }
    }

    private static PortInfo portOf(Path p) {
        return new PortInfo(p.address, p.id, p.controller, p.group, p.portId, p.access, p.preferred, false);
    }

    private void probeAnswered(Path p, PathSession.Probe probe) {
        boolean stale = probe.servesIo() != p.access.servesIo();
        if (probe.state() != null && probe.state() != p.access && !d.closed) {
            // the probe told the state itself (NVMe: the path's ANA state): take it as it is
            synchronized (d.topologyLock) {
                if (p.everUp) {
                    d.event("path " + p.id + " " + p.access.label() + " -> " + probe.state().label());
                }
                p.access = probe.state();
                p.accessFromItself = true;
                p.group = groupOf(p, probe.state());
                d.republishLocked();
            }
            stale = true;
        }
        if (p.health == Path.Health.FAILED && !d.closed) {
            synchronized (d.topologyLock) {
                if (p.health != Path.Health.FAILED) {
                    return;
                }
                p.health = Path.Health.UP;
                p.reason = "";
                p.recovered = p.everUp;
                d.event("path " + p.id + " (" + p.address + ") " + (p.everUp ? "restored" : "up"));
                p.everUp = true;
                d.republishLocked();
            }
            stale = true;
        }
        if (stale) {
            d.refresh.requestRefresh("probe of " + p.id + (probe.state() == null ? (probe.servesIo() ? ": serves I/O" : ": does not serve I/O")
                : ": " + probe.state().label()));
        }
    }

    /** A path's group after a state change its probe told: transports grouping by state move it, others keep it. */
    private int groupOf(Path p, AccessState state) {
        return d.refresh.reportsListEveryPort() ? p.group : state == AccessState.OPTIMIZED ? 1 : state == AccessState.NON_OPTIMIZED ? 2 : 3;
    }

    void closeSession(Path p) {
        PathSession s = p.session;
        p.session = null;
        if (s != null) {
            try {
                s.close();
            } catch (RuntimeException e) {
                LOG.debug("closing the session of {}", p.id, e);
            }
        }
    }

}
