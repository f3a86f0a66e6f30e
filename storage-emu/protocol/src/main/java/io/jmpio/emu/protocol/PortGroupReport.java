package io.jmpio.emu.protocol;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * Reply payload of REPORT_TARGET_PORT_GROUPS: every front-end port of the array with its ALUA state for
 * the LUN, so a host that knows one port discovers the rest. The header's aux carries the ALUA generation.
 *
 * <pre>
 *  +-------------------------------+-------------------------------+
 *  |       port count (u16)        |         reserved (u16)        |  0
 *  +-------------------------------+-------------------------------+
 *  per port:
 *  +-------------------------------+-------------------------------+
 *  |   target port group (u16)     |    relative port id (u16)     |  0
 *  +---------------+---------------+---------------+---------------+
 *  | ALUA state u8 |   flags u8    | ctrl id len u8| addr len u8   |  4
 *  +---------------+---------------+---------------+---------------+
 *  | controller id (UTF-8) | address "host:port" (ASCII) ...          8
 *  +---------------------------------------------------------------+
 *  flags: bit 0 = group of the LUN's preferred owner, bit 1 = the port this report came from
 * </pre>
 */
public record PortGroupReport(List<Port> ports) {
    public static final int PORT_FIXED_LENGTH = 8;
    public static final int FLAG_PREFERRED = 0x1;
    public static final int FLAG_REPORTING_PORT = 0x2;

    public record Port(int group, int relativePortId, AluaState state, int flags, String controller, String address) {
        public boolean preferred() {
            return (flags & FLAG_PREFERRED) != 0;
        }

        public boolean reportingPort() {
            return (flags & FLAG_REPORTING_PORT) != 0;
        }
    }

    public void write(ByteBuf out) {
        out.writeShortLE(ports.size());
        out.writeShortLE(0);
        for (Port p : ports) {
            out.writeShortLE(p.group());
            out.writeShortLE(p.relativePortId());
            out.writeByte(p.state().code());
            out.writeByte(p.flags());
            byte[] c = p.controller().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            byte[] a = p.address().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            if (c.length > 255 || a.length > 255) {
                throw new ProtocolException("controller id or address longer than 255 bytes");
            }
            out.writeByte(c.length);
            out.writeByte(a.length);
            out.writeBytes(c);
            out.writeBytes(a);
        }
    }

    public static PortGroupReport read(ByteBuf in) {
        Strings.need(in, 4, "port group report");
        int count = in.readUnsignedShortLE();
        in.skipBytes(2);
        List<Port> list = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            Strings.need(in, PORT_FIXED_LENGTH, "port descriptor");
            int group = in.readUnsignedShortLE();
            int rel = in.readUnsignedShortLE();
            AluaState state = AluaState.ofCode(in.readUnsignedByte());
            int flags = in.readUnsignedByte();
            int cl = in.readUnsignedByte();
            int al = in.readUnsignedByte();
            String controller = Strings.read(in, cl, "controller id");
            String address = Strings.read(in, al, "port address");
            list.add(new Port(group, rel, state, flags, controller, address));
        }
        return new PortGroupReport(List.copyOf(list));
    }
}
