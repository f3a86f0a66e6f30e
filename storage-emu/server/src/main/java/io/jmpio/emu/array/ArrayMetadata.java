package io.jmpio.emu.array;

import java.util.ArrayList;
import java.util.List;

/**
 * The array's persistent metadata: its LUNs and the hosts registered with it. {@code generation} grows with
 * every change.
 */
public record ArrayMetadata(int version, long generation, List<LunRecord> luns, List<HostRecord> hosts) {
    public static final int VERSION = 1;

    public ArrayMetadata {
        luns = luns == null ? List.of() : List.copyOf(luns);
        hosts = hosts == null ? List.of() : List.copyOf(hosts);
    }

    public static ArrayMetadata empty() {
        return new ArrayMetadata(VERSION, 0, List.of(), List.of());
    }

    public HostRecord host(String nqn) {
        for (HostRecord h : hosts) {
            if (h.nqn().equals(nqn)) {
                return h;
            }
        }
        return null;
    }

    /** Records a host's connection: added (replacing the one seen longest ago when full) or updated. */
    public ArrayMetadata withHostSeen(String nqn, String hostId, long nowMillis, String controller) {
        List<HostRecord> out = new ArrayList<>(hosts);
        HostRecord old = host(nqn);
        if (old != null) {
            out.set(out.indexOf(old), old.seenAgain(hostId, nowMillis, controller));
        } else {
            if (out.size() >= HostRecord.MAX_HOSTS) {
                out.sort((a, b) -> Long.compare(a.lastSeenMillis(), b.lastSeenMillis()));
                out.remove(0);
            }
            out.add(new HostRecord(nqn, hostId, nowMillis, nowMillis, controller));
        }
        return new ArrayMetadata(version, generation + 1, luns, out);
    }

    public LunRecord byName(String name) {
        for (LunRecord l : luns) {
            if (l.name().equals(name)) {
                return l;
            }
        }
        return null;
    }

    public LunRecord byId(int id) {
        for (LunRecord l : luns) {
            if (l.id() == id) {
                return l;
            }
        }
        return null;
    }

    public int nextId() {
        int max = -1;
        for (LunRecord l : luns) {
            max = Math.max(max, l.id());
        }
        return max + 1;
    }

    public ArrayMetadata with(LunRecord changed) {
        List<LunRecord> out = new ArrayList<>(luns.size() + 1);
        boolean replaced = false;
        for (LunRecord l : luns) {
            if (l.id() == changed.id()) {
                out.add(changed);
                replaced = true;
            } else {
                out.add(l);
            }
        }
        if (!replaced) {
            out.add(changed);
        }
        return new ArrayMetadata(version, generation + 1, out, hosts);
    }

    public ArrayMetadata without(int id) {
        List<LunRecord> out = new ArrayList<>(luns);
        out.removeIf(l -> l.id() == id);
        return new ArrayMetadata(version, generation + 1, out, hosts);
    }
}
