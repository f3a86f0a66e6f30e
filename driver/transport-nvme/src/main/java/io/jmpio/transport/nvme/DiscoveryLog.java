package io.jmpio.transport.nvme;

import io.jmpio.netty.HostPort;
import io.jmpio.netty.PeerText;
import io.jmpio.transport.TransportContext;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The discovery log page (0x70) and the walk over discovery controllers: the portal's log, then the logs of the
 * discovery controllers it refers to, each read once.
 *
 * <pre>
 * Header (1024 B):  0 GENCTR u64 | 8 NUMREC u64 | 16 RECFMT u16
 * Entry (1024 B):   0 TRTYPE u8 (3 TCP) | 1 ADRFAM u8 (1 IPv4, 2 IPv6) | 2 SUBTYPE u8 (1 referral, 2 NVM, 3 this
 *                   discovery subsystem) | 3 TREQ u8 | 4 PORTID u16 | 6 CNTLID u16 | 8 ASQSZ u16 | 10 EFLAGS u16
 *                   32 TRSVCID (32 B ASCII) | 256 SUBNQN (256 B) | 512 TRADDR (256 B) | 768 TSAS (256 B)
 * </pre>
 */
final class DiscoveryLog {
    static final int RECORD = 1024;
    /** Records read from one discovery controller (a larger log is refused, not truncated silently). */
    static final int MAX_RECORDS = 256;
    /** Discovery controllers visited by one walk. */
    static final int MAX_CONTROLLERS = 16;

    static final int SUBTYPE_REFERRAL = 1;
    static final int SUBTYPE_NVM = 2;

    /** TREQ bit 2: the port lets a host disable SQ flow control at Connect. */
    static final int TREQ_SQ_FLOW_DISABLE = 0x04;

    /**
     * One NVM subsystem port: where, which subsystem, the port id, and whether the port lets hosts disable SQ flow
     * control (TREQ bit 2).
     */
    record Entry(int subtype, String address, String subnqn, int portId, boolean sqFlowDisable) {
    }

    private DiscoveryLog() {
    }

    /** Every NVM subsystem port the portal's discovery controller and those it refers to list. */
    static List<Entry> walk(TransportContext ctx, String portal) throws IOException {
        Set<String> visited = new LinkedHashSet<>();
        Deque<String> todo = new ArrayDeque<>();
        todo.add(portal);
        List<Entry> out = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        IOException first = null;
        while (!todo.isEmpty() && visited.size() < MAX_CONTROLLERS) {
            String at = todo.poll();
            if (!visited.add(at)) {
                continue;
            }
            List<Entry> entries;
            try {
                entries = read(ctx, at);
            } catch (IOException e) {
                if (at.equals(portal)) {
                    throw e;
                }
                first = first == null ? e : first; // an unreachable referral: the others may still answer
                continue;
            }
            for (Entry e : entries) {
                if (e.subtype() == SUBTYPE_REFERRAL) {
                    todo.add(e.address());
                } else if (e.subtype() == SUBTYPE_NVM && seen.add(e.subnqn() + "@" + e.address())) {
                    out.add(e);
                }
            }
        }
        if (out.isEmpty() && first != null) {
            throw first;
        }
        return out;
    }

    /** The log of the discovery controller at {@code address}. */
    static List<Entry> read(TransportContext ctx, String address) throws IOException {
        try (AdminQueue q = AdminQueue.open(ctx, address, Sqe.DISCOVERY_NQN, true, null)) {
            byte[] head = q.log(Sqe.LOG_DISCOVERY, 0, RECORD, 0);
            long numrec = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).getLong(8);
            if (numrec < 0 || numrec > MAX_RECORDS) {
                throw new IOException("the discovery log at " + address + " has " + numrec + " records (at most "
                    + MAX_RECORDS + " are read)");
            }
            if (numrec == 0) {
                return List.of();
            }
            byte[] records = q.log(Sqe.LOG_DISCOVERY, 0, (int) numrec * RECORD, RECORD);
            return parse(records, (int) numrec, address);
        }
    }

    static List<Entry> parse(byte[] records, int count, String from) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(records).order(ByteOrder.LITTLE_ENDIAN);
        List<Entry> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int at = i * RECORD;
            int trtype = b.get(at) & 0xFF;
            int adrfam = b.get(at + 1) & 0xFF;
            int subtype = b.get(at + 2) & 0xFF;
            if (trtype != 3 || adrfam != 1 && adrfam != 2) {
                continue; // not TCP over IP: another host's business
            }
            String svc = ascii(records, at + 32, 32);
            String addr = ascii(records, at + 512, 256);
            String nqn = ascii(records, at + 256, 256);
            if (svc.isEmpty() || addr.isEmpty()) {
                throw new IOException("discovery log of " + from + ": record " + i + " has no address");
            }
            int port;
            try {
                port = Integer.parseInt(svc);
            } catch (NumberFormatException e) {
                port = -1;
            }
            if (port < 1 || port > 65535) {
                throw new IOException("discovery log of " + from + ": record " + i + " has service id '"
                    + PeerText.printable(svc) + "' (a TCP port, 1-65535)");
            }
            String address = (adrfam == 2 ? "[" + addr + "]" : addr) + ":" + port;
            try {
                HostPort.check(address); // what the target wrote reaches no name lookup, log or socket unchecked
            } catch (IllegalArgumentException e) {
                throw new IOException("discovery log of " + from + ": record " + i + ": " + e.getMessage());
            }
            if (!nqn.chars().allMatch(c -> c > 0x20 && c < 0x7f) || nqn.length() > 223) {
                throw new IOException("discovery log of " + from + ": record " + i + " has subsystem NQN '"
                    + PeerText.printable(nqn) + "' (at most 223 printable characters)");
            }
            boolean sqFlowDisable = (b.get(at + 3) & TREQ_SQ_FLOW_DISABLE) != 0;
            out.add(new Entry(subtype, address, nqn, b.getShort(at + 4) & 0xFFFF, sqFlowDisable));
        }
        return out;
    }

    static String ascii(byte[] b, int at, int len) {
        int end = at;
        while (end < at + len && b[end] != 0) {
            end++;
        }
        return new String(b, at, end - at, StandardCharsets.US_ASCII).trim();
    }
}
