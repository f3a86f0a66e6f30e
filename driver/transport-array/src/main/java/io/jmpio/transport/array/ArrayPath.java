package io.jmpio.transport.array;

import io.jmpio.emu.protocol.ArrayClient;
import io.jmpio.emu.protocol.Frame;
import io.jmpio.emu.protocol.Opcode;
import io.jmpio.emu.protocol.PortGroupReport;
import io.jmpio.emu.protocol.Status;
import io.jmpio.transport.AccessState;
import io.jmpio.transport.PathSession;
import io.jmpio.transport.PortInfo;
import io.jmpio.transport.QueueChannel;
import io.jmpio.transport.QueueListener;
import io.jmpio.transport.TransportContext;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import java.io.IOException;

/** One path's registered admin connection: TEST UNIT READY probes, port-group reports, ALUA notices. */
final class ArrayPath implements PathSession {
    private final TransportContext ctx;
    private final PortInfo port;
    private final int lunId;
    private final ArrayClient admin;

    ArrayPath(TransportContext ctx, PortInfo port, int lunId, ArrayClient admin) {
        this.ctx = ctx;
        this.port = port;
        this.lunId = lunId;
        this.admin = admin;
    }

    @Override
    public boolean isOpen() {
        return admin.isOpen();
    }

    @Override
    public Probe probe() throws IOException {
        Frame r = ArrayClient.await(admin.simple(Opcode.TEST_UNIT_READY, lunId), ctx.commandTimeoutMillis());
        int status = r.status();
        r.release();
        switch (status) {
            case Status.GOOD: return new Probe(null, true);
            case Status.ACCESS_DENIED:
                throw new AccessDeniedException("access denied: this host is not allowed the LUN on " + port.id());
            case Status.STANDBY: return new Probe(AccessState.STANDBY, false);
            case Status.TRANSITIONING: return new Probe(AccessState.CHANGE, false);
            case Status.UNAVAILABLE: return new Probe(null, false); // a port taken down: the report says more
            default: return new Probe(null, false);
        }
    }

    @Override
    public Report report() throws IOException {
        Frame f = ArrayTransport.call(ctx, admin, admin.simple(Opcode.REPORT_TARGET_PORT_GROUPS, lunId),
            "REPORT_TARGET_PORT_GROUPS");
        try {
            return new Report(ArrayTransport.ports(PortGroupReport.read(f.payload())), true);
        } finally {
            f.release();
        }
    }

    @Override
    public QueueChannel openQueue(EventLoop loop, Class<? extends Channel> channelClass, int queueIndex,
                                  QueueListener listener) {
        ArrayQueueChannel c = new ArrayQueueChannel(ctx, port, lunId, loop, listener);
        c.connect(channelClass);
        return c;
    }

    @Override
    public void close() {
        admin.close();
    }
}
