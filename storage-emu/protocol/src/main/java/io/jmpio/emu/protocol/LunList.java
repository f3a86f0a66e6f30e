package io.jmpio.emu.protocol;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * Reply payload of REPORT_LUNS: the LUNs the registered host may see.
 *
 * <pre>
 *  +---------------------------------------------------------------+
 *  |                       entry count (u32)                       |  0
 *  +---------------------------------------------------------------+
 *  | entry: lun id (u32) | size in bytes (u64) | name length (u16) | name (UTF-8) ...
 *  +---------------------------------------------------------------+
 * </pre>
 */
public record LunList(List<Entry> luns) {
    public static final int ENTRY_FIXED_LENGTH = 14;

    public record Entry(int id, long sizeBytes, String name) {
    }

    public void write(ByteBuf out) {
        out.writeIntLE(luns.size());
        for (Entry e : luns) {
            out.writeIntLE(e.id());
            out.writeLongLE(e.sizeBytes());
            Strings.writeU16(out, e.name());
        }
    }

    public static LunList read(ByteBuf in) {
        Strings.need(in, 4, "LUN list");
        long count = in.readUnsignedIntLE();
        if (count > in.readableBytes() / ENTRY_FIXED_LENGTH) {
            throw new ProtocolException("LUN list announces " + count + " entries but holds " + in.readableBytes() + " bytes");
        }
        List<Entry> list = new ArrayList<>((int) count);
        for (int i = 0; i < count; i++) {
            Strings.need(in, ENTRY_FIXED_LENGTH, "LUN list entry");
            int id = in.readIntLE();
            long size = in.readLongLE();
            list.add(new Entry(id, size, Strings.read(in, in.readUnsignedShortLE(), "LUN name")));
        }
        return new LunList(List.copyOf(list));
    }

    public Entry byName(String name) {
        for (Entry e : luns) {
            if (e.name().equals(name)) {
                return e;
            }
        }
        return null;
    }
}
