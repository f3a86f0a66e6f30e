package io.jmpio.transport.array;

import io.jmpio.emu.protocol.AluaState;
import io.jmpio.emu.protocol.ArrayClient;
import io.jmpio.emu.protocol.Frame;
import io.jmpio.emu.protocol.InquiryData;
import io.jmpio.emu.protocol.LunList;
import io.jmpio.emu.protocol.Opcode;
import io.jmpio.emu.protocol.PortGroupReport;
import io.jmpio.transport.AccessState;
import io.jmpio.transport.Discovery;
import io.jmpio.transport.PathSession;
import io.jmpio.transport.PathTransport;
import io.jmpio.transport.PortInfo;
import io.jmpio.transport.TargetInfo;
import io.jmpio.transport.TransportContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The array protocol: a target is a LUN name or "#id" (the only LUN when not named). One instance serves one
 * multipath device: it remembers the LUN's id found by {@link #discover}.
 */
final class ArrayTransport implements PathTransport {
    private volatile int lunId = -1;

    @Override
    public String name() {
        return "array";
    }

    static AccessState state(AluaState s) {
        switch (s) {
            case ACTIVE_OPTIMIZED: return AccessState.OPTIMIZED;
            case ACTIVE_NON_OPTIMIZED: return AccessState.NON_OPTIMIZED;
            case STANDBY: return AccessState.STANDBY;
            case TRANSITIONING: return AccessState.CHANGE;
            default: return AccessState.INACCESSIBLE;
        }
    }

    static List<PortInfo> ports(PortGroupReport report) {
        List<PortInfo> out = new ArrayList<>();
        for (PortGroupReport.Port p : report.ports()) {
            // relative port ids are group * 16 + position + 1: "A0" is the first port of controller A
            String id = p.controller() + Math.floorMod(p.relativePortId() - 1, 16);
            // one port reports every port's state: none of them is "told by itself" (an unavailable port is down)
            out.add(new PortInfo(p.address(), id, p.controller(), p.group(), p.relativePortId(), state(p.state()),
                p.preferred(), false));
        }
        return out;
    }

    /** Connects to {@code address} and registers the host; notices go to {@code notices}. */
    static ArrayClient connect(TransportContext ctx, String address, Consumer<Frame> notices) throws IOException {
        ArrayClient c = ArrayClient.connect(ctx.controlGroup(), ctx.channelClass(), ArrayClient.parseAddress(address),
            notices, (int) ctx.connectTimeoutMillis());
        try {
            Frame r = ArrayClient.await(c.register(ctx.hostName()), ctx.commandTimeoutMillis());
            r.release();
            if (!r.good()) {
                throw new TargetRefusedException("host id " + ctx.hostName() + " refused by " + address + ": " + r.describe());
            }
            return c;
        } catch (IOException e) {
            c.close();
            throw e;
        }
    }

    static Frame call(TransportContext ctx, ArrayClient c, CompletableFuture<Frame> request, String what) throws IOException {
        Frame f = ArrayClient.await(request, ctx.commandTimeoutMillis());
        if (!f.good()) {
            f.release();
            throw new IOException(what + " refused by " + c.address() + ": " + f.describe());
        }
        return f;
    }

    @Override
    public Discovery discover(TransportContext ctx, String portal) throws IOException {
        try (ArrayClient c = connect(ctx, portal, null)) {
            Frame l = call(ctx, c, c.simple(Opcode.REPORT_LUNS, 0), "REPORT_LUNS");
            LunList luns = LunList.read(l.payload());
            l.release();
            LunList.Entry entry = find(luns, ctx.target());
            Frame inq = call(ctx, c, c.simple(Opcode.INQUIRY, entry.id()), "INQUIRY");
            InquiryData id = InquiryData.read(inq.payload());
            inq.release();
            Frame rep = call(ctx, c, c.simple(Opcode.REPORT_TARGET_PORT_GROUPS, entry.id()), "REPORT_TARGET_PORT_GROUPS");
            PortGroupReport report = PortGroupReport.read(rep.payload());
            rep.release();
            lunId = entry.id();
            TargetInfo t = new TargetInfo(id.wwidHex(), entry.name(), id.sizeBytes(), id.logicalBlockSize(),
                id.physicalBlockSize(), id.maxTransfer(), (id.flags() & InquiryData.FLAG_WRITE_CACHE) != 0,
                (id.flags() & InquiryData.FLAG_DISCARD) != 0, (id.flags() & InquiryData.FLAG_WRITE_ZEROES) != 0,
                (id.flags() & InquiryData.FLAG_FUA) != 0, 0);
            return new Discovery(t, ports(report), "LUN " + entry.name() + " (#" + entry.id() + ", " + id.sizeBytes()
                + " bytes) through " + portal);
        }
    }

    private static LunList.Entry find(LunList luns, String wanted) throws IOException {
        if (wanted == null && luns.luns().size() == 1) {
            return luns.luns().get(0);
        }
        for (LunList.Entry e : luns.luns()) {
            if (e.name().equals(wanted) || ("#" + e.id()).equals(wanted)) {
                return e;
            }
        }
        List<String> names = new ArrayList<>();
        luns.luns().forEach(e -> names.add(e.name()));
        throw new TargetRefusedException((wanted == null ? "several LUNs; name one" : "LUN '" + wanted + "' not found")
            + " (this host sees: " + (names.isEmpty() ? "no LUNs" : String.join(", ", names)) + ")");
    }

    @Override
    public PathSession openPath(TransportContext ctx, PortInfo port, Runnable notices) throws IOException {
        if (lunId < 0) {
            throw new IllegalStateException("discover first: the transport does not know the LUN yet");
        }
        return new ArrayPath(ctx, port, lunId, connect(ctx, port.address(), f -> {
            f.release();
            notices.run();
        }));
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
