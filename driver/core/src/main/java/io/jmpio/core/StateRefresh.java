package io.jmpio.core;

import io.jmpio.netty.FailureText;
import io.jmpio.transport.PathSession;
import io.jmpio.transport.PortInfo;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the device's picture of the ports and their access states current: takes in reports (at attach,
 * from the paths' sessions, from periodic rescans of the portals), collapses concurrent refresh requests into
 * one more run, and turns new ports into paths and missing ones into failures.
 */
final class StateRefresh {
    private static final Logger LOG = LoggerFactory.getLogger(StateRefresh.class);
    private final AtomicBoolean refreshRunning = new AtomicBoolean();
    private final AtomicBoolean refreshAgain = new AtomicBoolean();
    /** Whether the last refresh heard every port (array reports); if not, the periodic scan rediscovers. */
    private volatile boolean reportsListEveryPort = true;

    private final MultipathDevice d;

    StateRefresh(MultipathDevice device) {
        this.d = device;
    }

    /**
     * Takes in ports and their states: new ports become paths, states are updated; when {@code everyPort},
     * ports missing from the list have gone and fail.
     */
    void applyReport(List<PortInfo> ports, boolean everyPort, boolean byScan) {
        applyReport(ports, everyPort, byScan, true);
    }

    /**
     * As {@link #applyReport(List, boolean, boolean)}; {@code withStates} false for a bare listing of the ports
     * (a rescan): new ports become paths, but known paths keep the states their own sessions told.
     */
    private void applyReport(List<PortInfo> ports, boolean everyPort, boolean byScan, boolean withStates) {
        List<Path> gone = new ArrayList<>();
        synchronized (d.topologyLock) {
            if (everyPort) {
                for (Path p : d.paths) {
                    p.reported = false;
                }
            }
            for (PortInfo port : ports) {
                Path p = pathAt(port.address());
                boolean known = p != null;
                if (!known) {
                    p = new Path(d.paths.size(), port, d.queueCount());
                    d.paths.add(p);
                    if (byScan) {
                        d.event("discovered path " + p.id + " (" + p.address + ") by scan");
                        d.checker.probeSoon(p);
                    }
                }
                p.reported = true;
                if (known && !withStates) {
                    continue; // a known path keeps the state its own session told
                }
                p.accessFromItself = port.reporting();
                p.preferred = port.preferred();
                p.group = port.group();
                if (p.access != port.state()) {
                    if (!d.closed && p.everUp) {
                        d.event("path " + p.id + " " + p.access.label() + " -> " + port.state().label());
                    }
                    p.access = port.state();
                }
            }
            if (everyPort) {
                for (Path p : d.paths) {
                    if (!p.reported && p.health == Path.Health.UP) {
                        gone.add(p);
                    }
                }
            }
            d.republishLocked();
        }
        for (Path p : gone) {
            d.pathFailed(p, "no longer reported by the target");
        }
    }

    private Path pathAt(String address) {
        for (Path p : d.paths) {
            if (p.address.equals(address)) {
                return p;
            }
        }
        return null;
    }

    /** Asks for a fresh port-group report; concurrent asks collapse into one more report after the current. */
    void requestRefresh(String why) {
        if (d.closed) {
            return;
        }
        if (!refreshRunning.compareAndSet(false, true)) {
            refreshAgain.set(true);
            return;
        }
        LOG.debug("refreshing access states: {}", why);
        try {
            d.probePool.execute(this::runRefresh);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            refreshRunning.set(false);
        }
    }

    private void runRefresh() {
        try {
            do {
                refreshAgain.set(false);
                refreshOnce();
            } while (refreshAgain.get() && !d.closed);
        } finally {
            refreshRunning.set(false);
        }
        if (refreshAgain.get()) {
            requestRefresh("asked again meanwhile");
        }
    }

    /** Asks the paths' sessions for their states, up paths first; a report naming every port ends it. */
    private void refreshOnce() {
        List<Path> order = new ArrayList<>();
        for (Path p : d.paths) {
            if (p.health == Path.Health.UP) {
                order.add(0, p);
            } else {
                order.add(p);
            }
        }
        boolean everyPort = false;
        for (Path p : order) {
            PathSession s = p.session;
            if (s == null || !s.isOpen() || d.closed) {
                continue;
            }
            try {
                PathSession.Report r = s.report();
                applyReport(r.ports(), r.everyPort(), true);
                if (r.everyPort()) {
                    everyPort = true;
                    break;
                }
            } catch (IOException | RuntimeException e) {
                LOG.debug("state report from {} failed: {}", p.id, FailureText.of(e));
            }
        }
        reportsListEveryPort = everyPort;
    }

    /** The periodic scan: fresh states, and (when reports name only their own port) the portals asked again. */
    void scan() {
        requestRefresh("periodic scan");
        if (reportsListEveryPort || d.closed) {
            return;
        }
        for (String portal : d.config.portals()) {
            try {
                // new ports become paths; a port missing from the listing is not failed for that alone: a
                // controller that has just started lists only its own ports until it hears from its peer, and
                // a port that really went closes its connections, which fails its path
                applyReport(d.transport.listPorts(d.context, portal), false, true, false);
                return;
            } catch (IOException | RuntimeException e) {
                LOG.debug("rescan through {} failed: {}", portal, FailureText.of(e));
            }
        }
    }

    boolean reportsListEveryPort() {
        return reportsListEveryPort;
    }
}
