package io.jmpio.transport.nvme;

import io.jmpio.netty.FailureText;
import io.jmpio.transport.AccessState;
import io.jmpio.transport.Discovery;
import io.jmpio.transport.PathSession;
import io.jmpio.transport.PathTransport;
import io.jmpio.transport.PortInfo;
import io.jmpio.transport.TargetInfo;
import io.jmpio.transport.TransportContext;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The NVMe/TCP transport: from one portal's discovery controller (and those it refers to) to every port of
 * the subsystem asked for, one namespace of it, and each port's ANA state. A target is named
 * {@code SUBNQN}, {@code SUBNQN#NSID} or {@code #NSID}; without one the only subsystem and its first namespace
 * are taken. One instance serves one multipath device (it remembers the subsystem and namespace found).
 *
 * <p>Ports are grouped by access state, as dm-multipath groups by priority: optimized paths form group 1,
 * non-optimized group 2, the rest group 3; each port is its own controller view ("P" + its port id), since
 * NVMe tells a host the state as seen through each controller, not which ports share one.
 */
final class NvmeTcpTransport implements PathTransport {
    private volatile String subnqn;
    private volatile Namespace namespace;
    /** Ports whose discovery entry lets a host disable SQ flow control (TREQ bit 2), as of the last discovery. */
    private volatile Set<String> sqFlowOffPorts = Set.of();

    @Override
    public String name() {
        return "nvme-tcp";
    }

    /** The group ports of a state form (see the class comment). */
    static int groupOf(AccessState s) {
        switch (s) {
            case OPTIMIZED: return 1;
            case NON_OPTIMIZED: return 2;
            default: return 3;
        }
    }

    /** The digests asked for by {@code digest=header|data|both} (none by default): [header, data]. */
    static boolean[] digests(TransportContext ctx) {
        String d = ctx.option("digest", "none");
        switch (d) {
            case "none": return new boolean[] {false, false};
            case "header": return new boolean[] {true, false};
            case "data": return new boolean[] {false, true};
            case "both": return new boolean[] {true, true};
            default: throw new IllegalArgumentException("digest must be none, header, data or both, got '" + d + "'");
        }
    }

    /**
     * Whether I/O queues give up SQ flow control where a port offers it ({@code sqflow=auto}, the default, as
     * nvme-cli's connect-all does), or keep it everywhere ({@code sqflow=keep}, as {@code nvme connect} without
     * {@code --disable-sqflow}).
     */
    static boolean sqFlowOffWhereOffered(TransportContext ctx) {
        String v = ctx.option("sqflow", "auto");
        switch (v) {
            case "auto": return true;
            case "keep": return false;
            default: throw new IllegalArgumentException("sqflow must be auto or keep, got '" + v + "'");
        }
    }

    static String idOf(int portId) {
        return "P" + portId;
    }

    @Override
    public Discovery discover(TransportContext ctx, String portal) throws IOException {
        sqFlowOffWhereOffered(ctx); // a bad option is named before anything is connected
        String wantedNqn = null;
        int wantedNsid = 0;
        String t = ctx.target();
        if (t != null && !t.isEmpty()) {
            int hash = t.lastIndexOf('#');
            wantedNqn = hash == 0 ? null : hash > 0 ? t.substring(0, hash) : t;
            if (hash >= 0) {
                try {
                    wantedNsid = Integer.parseInt(t.substring(hash + 1));
                } catch (NumberFormatException e) {
                    throw new TargetRefusedException("'" + t + "' names no namespace: use SUBNQN, SUBNQN#NSID or #NSID");
                }
                if (wantedNsid <= 0) {
                    throw new TargetRefusedException("'" + t + "': NSIDs start at 1");
                }
            }
        }
        List<DiscoveryLog.Entry> entries = DiscoveryLog.walk(ctx, portal);
        Set<String> subsystems = new LinkedHashSet<>();
        for (DiscoveryLog.Entry e : entries) {
            subsystems.add(e.subnqn());
        }
        String nqn;
        if (wantedNqn != null) {
            if (!subsystems.contains(wantedNqn)) {
                throw new TargetRefusedException("subsystem " + wantedNqn + " is not in the discovery log of " + portal
                    + " (it lists: " + (subsystems.isEmpty() ? "none" : String.join(", ", subsystems)) + ")");
            }
            nqn = wantedNqn;
        } else if (subsystems.size() == 1) {
            nqn = subsystems.iterator().next();
        } else {
            throw new TargetRefusedException(subsystems.isEmpty() ? "the discovery log of " + portal + " lists no subsystem for this host"
                : "the discovery log of " + portal + " lists several subsystems; name one: " + String.join(", ", subsystems));
        }
        List<DiscoveryLog.Entry> ports = new ArrayList<>();
        Set<String> addresses = new LinkedHashSet<>();
        for (DiscoveryLog.Entry e : entries) {
            if (e.subnqn().equals(nqn) && addresses.add(e.address())) {
                ports.add(e);
            }
        }
        Namespace ns = null;
        List<PortInfo> out = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        boolean refused = false;
        for (DiscoveryLog.Entry e : ports) {
            AccessState state = AccessState.INACCESSIBLE;
            boolean told = false;
            try (AdminQueue q = AdminQueue.open(ctx, e.address(), nqn, false, null)) {
                Namespace here = Namespace.read(q, ns == null ? wantedNsid : ns.nsid());
                if (ns == null) {
                    ns = here;
                } else if (!ns.id().equals(here.id())) {
                    throw new IOException("namespace " + ns.nsid() + " has id " + here.id() + " here, " + ns.id() + " elsewhere");
                }
                state = here.ana() ? AnaLog.stateOf(q.log(Sqe.LOG_ANA, 0xFFFFFFFF, here.anaLogLength(), 0), here.anagrpid())
                    : AccessState.OPTIMIZED;
                told = true;
            } catch (Namespace.NotVisible ex) {
                refused = true;
                problems.add(e.address() + ": " + FailureText.of(ex));
            } catch (IOException ex) {
                problems.add(e.address() + ": " + FailureText.of(ex));
            }
            out.add(new PortInfo(e.address(), idOf(e.portId()), idOf(e.portId()), groupOf(state), e.portId(), state, false,
                told));
        }
        if (ns == null) {
            String all = String.join("; ", problems);
            throw refused ? new TargetRefusedException("no port of " + nqn + " shows this host the namespace: " + all)
                : new IOException("no port of " + nqn + " answered: " + all);
        }
        Set<String> flowOff = new LinkedHashSet<>();
        for (DiscoveryLog.Entry e : ports) {
            if (e.sqFlowDisable()) {
                flowOff.add(e.address());
            }
        }
        this.sqFlowOffPorts = Set.copyOf(flowOff);
        this.subnqn = nqn;
        this.namespace = ns;
        TargetInfo target = ns.target(nqn);
        return new Discovery(target, out, "subsystem " + nqn + " namespace " + ns.nsid() + " through " + portal
            + (problems.isEmpty() ? "" : " (unreachable: " + String.join("; ", problems) + ")"));
    }

    /** The discovery log alone: the ports of the subsystem chosen at {@link #discover}, none of them logged in to. */
    @Override
    public List<PortInfo> listPorts(TransportContext ctx, String portal) throws IOException {
        String nqn = subnqn;
        if (nqn == null) {
            return discover(ctx, portal).ports();
        }
        List<PortInfo> out = new ArrayList<>();
        Set<String> addresses = new LinkedHashSet<>();
        for (DiscoveryLog.Entry e : DiscoveryLog.walk(ctx, portal)) {
            if (e.subnqn().equals(nqn) && addresses.add(e.address())) {
                out.add(new PortInfo(e.address(), idOf(e.portId()), idOf(e.portId()), groupOf(AccessState.INACCESSIBLE),
                    e.portId(), AccessState.INACCESSIBLE, false, false));
            }
        }
        return out;
    }

    @Override
    public PathSession openPath(TransportContext ctx, PortInfo port, Runnable notices) throws IOException {
        String nqn = subnqn;
        Namespace ns = namespace;
        if (nqn == null || ns == null) {
            throw new IllegalStateException("discover first: the transport does not know the subsystem yet");
        }
        return new NvmePath(ctx, port, nqn, ns, notices,
            sqFlowOffWhereOffered(ctx) && sqFlowOffPorts.contains(port.address()));
    }
}
