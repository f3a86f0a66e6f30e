package io.jmpio.emu.controller;

import io.jmpio.emu.array.ArrayConfig;
import io.jmpio.emu.array.LunRecord;
import io.jmpio.emu.protocol.Frame;
import io.jmpio.emu.protocol.FrameHeader;
import io.jmpio.emu.protocol.InquiryData;
import io.jmpio.emu.protocol.LunList;
import io.jmpio.netty.NettyTransport;
import io.jmpio.emu.protocol.Opcode;
import io.jmpio.emu.protocol.PortGroupReport;
import io.jmpio.emu.protocol.Sense;
import io.jmpio.emu.protocol.Status;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The array's own front-end protocol on its ports: registration, LUN reports, inquiry, port-group reports and
 * block requests, each request handed to the controller's one host-I/O path; ALUA change notices to the
 * registered hosts; the ports' injected faults.
 */
final class ArrayFrontEnd implements Controller.HostFrontEnd {
    private static final Logger LOG = LoggerFactory.getLogger(ArrayFrontEnd.class);

    private final Controller c;
    final List<FrontEndPort> ports = new ArrayList<>();

    ArrayFrontEnd(Controller controller, NettyTransport transport, ArrayConfig cfg) {
        this.c = controller;
        for (int i = 0; i < cfg.portsPerController(); i++) {
            ports.add(new FrontEndPort(this, transport, i, cfg.listenAddress(), cfg.portFor(controller.id(), 2 + i),
                cfg.maxConnectionsPerPort(), cfg.idleTimeoutMillis(), cfg.partialFrameMillis()));
        }
    }

    String controllerId() {
        return c.id;
    }

    @Override
    public void bind() throws IOException {
        for (FrontEndPort p : ports) {
            if (!p.adminDown()) {
                p.bind();
            }
        }
    }

    @Override
    public void close() {
        for (FrontEndPort p : ports) {
            c.quietly("closing port " + p.address(), p::close);
        }
    }

    @Override
    public void accessChanged() {
        // notices name the LUNs that changed: see notifyChanged
    }

    @Override
    public List<String> addresses() {
        List<String> out = new ArrayList<>();
        for (FrontEndPort p : ports) {
            out.add(p.address());
        }
        return out;
    }

    /** The ports as the peer is told of them (address, up). */
    List<PeerInfo.PortInfo> portInfos() {
        List<PeerInfo.PortInfo> list = new ArrayList<>();
        for (FrontEndPort p : ports) {
            list.add(new PeerInfo.PortInfo(p.address(), p.isUp()));
        }
        return list;
    }

    @Override
    public List<Map<String, Object>> sessions() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (FrontEndPort p : ports) {
            for (Channel ch : p.sessions) {
                Session s = ch.attr(FrontEndHandler.SESSION).get();
                if (s != null) {
                    out.add(Map.of("host", s.host == null ? "" : s.host, "port", p.address(), "remote", s.remote,
                        "connectedAtMillis", s.connectedAtMillis));
                }
            }
        }
        return out;
    }

    /** Each port's state and counters, for status. */
    List<Object> portStatus() {
        List<Object> out = new ArrayList<>();
        for (FrontEndPort p : ports) {
            Map<String, Object> pm = new LinkedHashMap<>();
            pm.put("address", p.address());
            pm.put("up", p.isUp());
            pm.put("sessions", p.sessions.size());
            pm.put("latencyMs", p.latencyMillis());
            pm.put("flakyRate", p.flakyRate());
            pm.put("flakyMode", p.flakyMode().name().toLowerCase(Locale.ROOT));
            pm.put("requests", p.requests.sum());
            pm.put("errors", p.errors.sum());
            pm.put("injectedFaults", p.injected.sum());
            out.add(pm);
        }
        return out;
    }

    private FrontEndPort port(String address) {
        for (FrontEndPort p : ports) {
            if (p.address().equals(address)) {
                return p;
            }
        }
        return null;
    }

    @Override
    public boolean setPortDown(String address, boolean down) throws IOException {
        FrontEndPort p = port(address);
        if (p == null) {
            return false;
        }
        p.setAdminDown(down);
        c.links.announcePorts();
        return true;
    }

    @Override
    public boolean setPortLatency(String address, long millis) {
        FrontEndPort p = port(address);
        if (p != null) {
            p.setLatencyMillis(millis);
        }
        return p != null;
    }

    @Override
    public boolean setPortFlaky(String address, double rate, String mode) {
        FrontEndPort p = port(address);
        if (p != null) {
            p.setFlaky(rate, FrontEndPort.FlakyMode.valueOf(mode.toUpperCase(Locale.ROOT)));
        }
        return p != null;
    }

    // ------------------------------------------------------------------------------------------------
    // Requests

    void onFrame(ChannelHandlerContext ctx, FrontEndPort port, Session session, Frame frame) {
        Controller.State s = c.state;
        if (s == Controller.State.PAUSED) {
            c.backlog.add(() -> ctx.executor().execute(() -> onFrame(ctx, port, session, frame)));
            return;
        }
        if (s != Controller.State.RUNNING) {
            frame.release();
            ctx.close();
            return;
        }
        try {
            handle(ctx, port, session, frame);
        } catch (RuntimeException e) {
            LOG.error("controller {}: {} failed", c.id, frame.describe(), e);
            port.reply(ctx, frame.reply(Status.MEDIUM_ERROR, Sense.IO_ERROR, 0, null));
        } finally {
            frame.release();
        }
    }

    private void handle(ChannelHandlerContext ctx, FrontEndPort port, Session session, Frame f) {
        int op = f.opcode();
        if (!known(op) || op == Opcode.ALUA_CHANGED) {
            port.reply(ctx, f.reply(Status.INVALID_OPCODE, Sense.NONE, 0, null));
            return;
        }
        if ((f.flags() & ~FrameHeader.FLAG_FUA) != 0 || f.fua() && op != Opcode.WRITE) {
            port.reply(ctx, f.reply(Status.INVALID_FIELD, Sense.BAD_FLAGS, 0, null));
            return;
        }
        if (op == Opcode.REGISTER) {
            String host = f.payload().toString(StandardCharsets.UTF_8);
            if (f.payloadLength() == 0 || f.payloadLength() > 255 || !host.chars().allMatch(ch -> ch > 0x20 && ch < 0x7f)) {
                port.reply(ctx, f.reply(Status.INVALID_FIELD, Sense.BAD_HOST_ID, 0, null));
                return;
            }
            session.host = host;
            port.reply(ctx, f.reply(Status.GOOD, Sense.NONE, 0, null));
            return;
        }
        String host = session.host;
        if (host == null) {
            port.reply(ctx, f.reply(Status.ACCESS_DENIED, Sense.NOT_REGISTERED, 0, null));
            return;
        }
        if (op == Opcode.REPORT_LUNS) {
            List<LunList.Entry> visible = new ArrayList<>();
            for (Lun l : c.luns.values()) {
                if (l.record.allows(host)) {
                    visible.add(new LunList.Entry(l.id(), l.record.bytes(), l.name()));
                }
            }
            visible.sort((a, b) -> Integer.compare(a.id(), b.id()));
            ByteBuf out = ctx.alloc().buffer();
            new LunList(visible).write(out);
            port.reply(ctx, f.reply(Status.GOOD, Sense.NONE, 0, out));
            return;
        }
        Lun l = c.luns.get(f.lun());
        if (l == null) {
            port.reply(ctx, f.reply(Status.INVALID_FIELD, Sense.UNKNOWN_LUN, 0, null));
            return;
        }
        LunRecord r = l.record;
        if (!r.allows(host)) {
            port.reply(ctx, f.reply(Status.ACCESS_DENIED, Sense.HOST_NOT_ALLOWED, 0, null));
            return;
        }
        switch (op) {
            case Opcode.INQUIRY: {
                ByteBuf out = ctx.alloc().buffer();
                new InquiryData(r.bytes(), r.blockSize(), Math.max(r.blockSize(), 4096), FrameHeader.MAX_TRANSFER,
                    InquiryData.FLAG_WRITE_CACHE | InquiryData.FLAG_DISCARD | InquiryData.FLAG_WRITE_ZEROES
                        | InquiryData.FLAG_FUA, hex(r.wwid()), r.name()).write(out);
                port.reply(ctx, f.reply(Status.GOOD, Sense.NONE, 0, out));
                return;
            }
            case Opcode.REPORT_TARGET_PORT_GROUPS: {
                ByteBuf out = ctx.alloc().buffer();
                long gen = c.access.report(g -> {
                    new PortGroupReport(portGroups(l, port)).write(out);
                    return g;
                });
                port.reply(ctx, f.reply(Status.GOOD, Sense.NONE, gen, out));
                return;
            }
            case Opcode.TEST_UNIT_READY:
                port.reply(ctx, f.reply(c.access.state(l, c.id, port.isUp()).ioStatus(), Sense.NONE, 0, null));
                return;
            default:
                io(ctx, port, session, l, f);
        }
    }

    private static boolean known(int op) {
        return op >= Opcode.REGISTER && op <= Opcode.TEST_UNIT_READY || Opcode.isIo(op) || op == Opcode.ALUA_CHANGED;
    }

    private static byte[] hex(String s) {
        byte[] out = new byte[16];
        for (int i = 0; i < 16 && 2 * i + 1 < s.length(); i++) {
            out[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }

    private void io(ChannelHandlerContext ctx, FrontEndPort port, Session session, Lun l, Frame f) {
        int op = f.opcode();
        long cost = Math.max(Controller.MIN_REQUEST_COST,
            op == Opcode.READ || op == Opcode.WRITE ? Integer.toUnsignedLong(f.length()) : 0);
        boolean[] admitted = new boolean[1];
        byte[] data = op == Opcode.WRITE ? ByteBufUtil.getBytes(f.payload()) : null;
        Frame header = f.reply(Status.GOOD, Sense.NONE, 0, null);
        c.serve(l, op, f.fua(), f.offset(), f.length(), f.payloadLength(), data, port.index, () -> {
            FrontEndPort.FlakyMode fault = port.rollFlaky();
            if (fault == FrontEndPort.FlakyMode.DROP) {
                ctx.close();
                return Controller.DROPPED;
            }
            if (fault == FrontEndPort.FlakyMode.ERROR) {
                return IoResult.error(Status.TRANSPORT_ERROR, Sense.INJECTED);
            }
            // a host whose replies pile up unread (past the connection's high-water mark), or with too many
            // bytes of requests in progress, gets BUSY (a path status hosts retry) rather than the heap
            if (!ctx.channel().isWritable() || session.inflightBytes.addAndGet(cost) > Controller.SESSION_INFLIGHT_BYTES
                && session.inflightBytes.addAndGet(-cost) >= 0) {
                return IoResult.error(Status.BUSY, Sense.NONE);
            }
            admitted[0] = true;
            return null;
        }).whenComplete((res, err) -> {
            if (admitted[0]) {
                session.inflightBytes.addAndGet(-cost);
            }
            if (res == Controller.DROPPED) {
                return;
            }
            ByteBuf payload = res.data() == null ? null : Unpooled.wrappedBuffer(res.data());
            port.reply(ctx, header.reply(res.status(), res.sense(), res.position(), payload));
        });
    }

    // ------------------------------------------------------------------------------------------------
    // ALUA as this protocol reports it

    /** Both controllers' ports and their states for one LUN; {@code reporting} is flagged as the asking port. */
    List<PortGroupReport.Port> portGroups(Lun l, FrontEndPort reporting) {
        List<PortGroupReport.Port> out = new ArrayList<>();
        for (String ctl : ArrayConfig.PAIR) {
            int group = ArrayConfig.PAIR.indexOf(ctl) + 1;
            int prefFlag = ctl.equals(l.record.preferredOwner()) ? PortGroupReport.FLAG_PREFERRED : 0;
            if (ctl.equals(c.id)) {
                for (FrontEndPort p : ports) {
                    out.add(new PortGroupReport.Port(group, group * 16 + p.index + 1, c.access.state(l, ctl, p.isUp()),
                        prefFlag | (p == reporting ? PortGroupReport.FLAG_REPORTING_PORT : 0), ctl, p.address()));
                }
            } else if (c.peerInfo != null) {
                int i = 0;
                for (PeerInfo.PortInfo p : c.peerInfo.ports()) {
                    out.add(new PortGroupReport.Port(group, group * 16 + ++i, c.access.state(l, ctl, p.up()), prefFlag,
                        ctl, p.address()));
                }
            }
        }
        return out;
    }

    /** Tells every registered host allowed to see them that these LUNs' port states changed. */
    void notifyChanged(List<Integer> changed, long generation) {
        for (int lunId : changed) {
            Lun l = c.luns.get(lunId);
            if (l == null) {
                continue;
            }
            for (FrontEndPort p : ports) {
                for (Channel ch : p.sessions) {
                    Session s = ch.attr(FrontEndHandler.SESSION).get();
                    if (s != null && s.host != null && l.record.allows(s.host) && ch.isActive()) {
                        ch.writeAndFlush(new Frame(Opcode.ALUA_CHANGED, FrameHeader.FLAG_NOTICE, FrameHeader.NOTICE_TAG,
                            lunId, Status.GOOD, Sense.NONE, 0, 0, generation, null));
                    }
                }
            }
        }
    }
}
