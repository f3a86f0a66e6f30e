package io.jmpio.emu.array;

import java.util.ArrayList;
import java.util.List;

/** The array's persistent metadata: its LUNs. {@code generation} grows with every change. */
public record ArrayMetadata(int version, long generation, List<LunRecord> luns) {
    public static final int VERSION = 1;

    public ArrayMetadata {
        luns = luns == null ? List.of() : List.copyOf(luns);
    }

    public static ArrayMetadata empty() {
        return new ArrayMetadata(VERSION, 0, List.of());
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
        return new ArrayMetadata(version, generation + 1, out);
    }

    public ArrayMetadata without(int id) {
        List<LunRecord> out = new ArrayList<>(luns);
        out.removeIf(l -> l.id() == id);
        return new ArrayMetadata(version, generation + 1, out);
    }
}
