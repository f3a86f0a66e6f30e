package io.jmpio.emu;

import static io.jmpio.emu.Harness.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.controller.PeerMonitor.PeerState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The array's NVMe/TCP target driven by a host written from the specifications (SpecNvmeHost). */
class NvmeTcpTargetTest {
    private static final String HOST = "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555";

    @TempDir
    Path dir;

    private static void bothLinkedUp(ArrayServer a) throws InterruptedException {
        await("link up", 5000, () -> a.controller("A").peerState() == PeerState.ALIVE
            && a.controller("B").peerState() == PeerState.ALIVE);
    }

    @SuppressWarnings("unchecked")
    private static List<String> nvmePorts(ArrayServer a, String controller) throws IOException {
        for (Object o : (List<Object>) a.readyInfo().get("controllers")) {
            Map<String, Object> m = (Map<String, Object>) o;
            if (controller.equals(m.get("id"))) {
                return (List<String>) m.get("ports");
            }
        }
        throw new AssertionError("no controller " + controller);
    }

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static String ascii(byte[] b, int at, int len) {
        int end = at;
        while (end < at + len && b[end] != 0) {
            end++;
        }
        return new String(b, at, end - at, StandardCharsets.US_ASCII).trim();
    }

    @Test
    void discoveryListsEveryPortOfBothControllers() throws Exception {
        try (ArrayServer a = ArrayServer.start(Harness.config(dir))) {
            bothLinkedUp(a);
            await("peer's NVMe ports known", 5000, () -> !a.controller("A").peerFrontEndAddresses().isEmpty());
            try (SpecNvmeHost h = new SpecNvmeHost(nvmePorts(a, "A").get(0))) {
                h.connectTransport(false, false);
                h.adminQueue(SpecNvmeHost.DISCOVERY, HOST);
                byte[] id = h.identify(1, 0).data();
                assertEquals(2, id[111], "CNTRLTYPE discovery");
                SpecNvmeHost.Reply log = h.getLog(0x70, 1024 * 5);
                assertEquals(0, log.status());
                ByteBuffer b = le(log.data());
                assertEquals(4, b.getLong(8), "NUMREC: two ports on each controller");
                List<String> listed = new ArrayList<>();
                for (int i = 1; i <= 4; i++) {
                    int at = 1024 * i;
                    assertEquals(3, b.get(at), "TRTYPE TCP");
                    assertEquals(2, b.get(at + 2), "SUBTYPE NVM subsystem");
                    assertEquals(4, b.get(at + 3), "TREQ: hosts may disable SQ flow control");
                    assertEquals(a.subsystemNqn(), ascii(log.data(), at + 256, 256));
                    listed.add(ascii(log.data(), at + 512, 256) + ":" + ascii(log.data(), at + 32, 32));
                }
                List<String> all = new ArrayList<>(nvmePorts(a, "A"));
                all.addAll(nvmePorts(a, "B"));
                assertEquals(all, listed);

                // a host that asked for discovery log change notices hears of a port going down (on either
                // controller), and the log then lists only ports it can reach
                assertEquals(0, h.setFeature(0x0B, 1 << 31).status());
                for (String[] t : new String[][] {{"B", "3"}, {"A", "2"}}) {
                    h.sendCommand(h.sqe(0x0C, 0, 0x5A, 0), null);
                    a.controller(t[0]).setPortDown(nvmePorts(a, t[0]).get(1), true);
                    SpecNvmeHost.Reply notice = h.await(null);
                    assertEquals(0, notice.status());
                    assertEquals(0x0070F002, notice.dw0(), "AER: notice, discovery log page change, log 70h");
                    int expected = Integer.parseInt(t[1]);
                    await("the log lists " + expected + " ports", 5000, () -> {
                        try {
                            return le(h.getLog(0x70, 1024 * 5).data()).getLong(8) == expected;
                        } catch (IOException e) {
                            return false;
                        }
                    });
                }
            }
        }
    }

    @Test
    void aHostConnectsIdentifiesReadsAndWritesWithAndWithoutDigests() throws Exception {
        try (ArrayServer a = ArrayServer.start(Harness.config(dir))) {
            bothLinkedUp(a);
            for (boolean digests : new boolean[] {false, true}) {
                for (String c : List.of("A", "B")) {
                    String port = nvmePorts(a, c).get(0);
                    try (SpecNvmeHost admin = new SpecNvmeHost(port); SpecNvmeHost io = new SpecNvmeHost(port)) {
                        admin.connectTransport(digests, digests);
                        assertEquals(digests, admin.hdgst && admin.ddgst, "digests granted as asked");
                        int cntlid = admin.adminQueue(a.subsystemNqn(), HOST);
                        assertTrue(c.equals("A") ? cntlid < 0x8000 : cntlid >= 0x8000, "CNTLIDs unique across the pair");
                        long cap = Integer.toUnsignedLong(admin.propertyGet(0, true).dw0())
                            | (long) admin.propertyGet(0, true).dw1() << 32;
                        assertEquals(127, cap & 0xFFFF, "MQES");
                        assertEquals(0x00010400, admin.propertyGet(8, false).dw0(), "VS 1.4");
                        byte[] ctrl = admin.identify(1, 0).data();
                        assertEquals(cntlid, le(ctrl).getShort(78) & 0xFFFF, "Identify CNTLID = Connect's");
                        assertEquals(0x0B, ctrl[76], "CMIC: multi-port, multi-controller, ANA");
                        assertEquals(a.subsystemNqn(), ascii(ctrl, 768, 256));
                        byte[] list = admin.identify(2, 0).data();
                        assertEquals(1, le(list).getInt(0), "lun0 is NSID 1");
                        assertEquals(0, le(list).getInt(4));
                        byte[] ns = admin.identify(0, 1).data();
                        assertEquals((64L << 20) / 512, le(ns).getLong(0), "NSZE");
                        assertEquals(1, ns[30], "NMIC shared");
                        assertEquals(1, le(ns).getInt(92), "ANAGRPID");
                        byte[] desc = admin.identify(3, 1).data();
                        assertEquals(2, desc[0], "NGUID descriptor");
                        assertEquals(0, admin.setFeature(0x0B, 1 << 11 | 1 << 8).status());
                        SpecNvmeHost.Reply q = admin.setFeature(0x07, 3 | 3 << 16);
                        assertEquals(0, q.status());
                        SpecNvmeHost.Reply ana = admin.getLog(0x0C, 16 + 32 + 4);
                        assertEquals(0, ana.status());
                        ByteBuffer al = le(ana.data());
                        assertEquals(1, al.getShort(8), "one ANA group");
                        assertEquals(1, al.getInt(16), "group 1");
                        assertEquals(c.equals("A") ? 1 : 2, al.get(32), "optimized on the owner, non-optimized on B");
                        assertEquals(1, al.getInt(48), "NSID 1 in it");

                        io.connectTransport(digests, digests);
                        assertEquals(0, io.connect(1, 127, 0, a.subsystemNqn(), HOST, cntlid).status(), "I/O queue");
                        byte[] small = Harness.random(4096, 1 + (digests ? 10 : 0) + c.hashCode());
                        byte[] big = Harness.random(256 << 10, 2 + (digests ? 10 : 0) + c.hashCode());
                        assertEquals(0, io.write(1, 8, small, true).status(), "in-capsule write");
                        assertEquals(0, io.write(1, 1024, big, false).status(), "R2T write");
                        SpecNvmeHost.Reply r1 = io.read(1, 8, 8);
                        assertEquals(0, r1.status());
                        assertArrayEquals(small, r1.data());
                        SpecNvmeHost.Reply r2 = io.read(1, 1024, big.length / 512);
                        assertEquals(0, r2.status());
                        assertArrayEquals(big, r2.data());
                        ByteBuffer flush = io.sqe(0x00, 1, 0x5A, 0);
                        io.sendCommand(flush, null);
                        assertEquals(0, io.await(null).status(), "flush");
                    }
                }
            }
        }
    }

    @Test
    void aQueueWithoutSqFlowControlCompletesReadsByTheirDataAndEverythingElseByCapsuleResp() throws Exception {
        try (ArrayServer a = ArrayServer.start(Harness.config(dir))) {
            bothLinkedUp(a);
            String port = nvmePorts(a, "A").get(0);
            for (boolean digests : new boolean[] {false, true}) {
                try (SpecNvmeHost admin = new SpecNvmeHost(port); SpecNvmeHost io = new SpecNvmeHost(port);
                     SpecNvmeHost plain = new SpecNvmeHost(port)) {
                    admin.connectTransport(digests, digests);
                    int cntlid = admin.adminQueue(a.subsystemNqn(), HOST);
                    assertEquals(0, admin.setFeature(0x07, 1 | 1 << 16).status());
                    io.connectTransport(digests, digests);
                    SpecNvmeHost.Reply connected = io.connect(1, 127, 0, a.subsystemNqn(), HOST, cntlid, 0x04);
                    assertEquals(0, connected.status());
                    assertEquals(0xFFFF, connected.sqhd(), "SQHD of a queue without SQ flow control");
                    byte[] block = Harness.random(8192, 77 + (digests ? 1 : 0));
                    SpecNvmeHost.Reply written = io.write(1, 64, block, true);
                    assertEquals(0, written.status());
                    assertFalse(written.byData(), "a write ends with its CapsuleResp");
                    assertEquals(0xFFFF, written.sqhd());
                    for (int i = 0; i < 3; i++) {
                        SpecNvmeHost.Reply read = io.read(1, 64, 16);
                        assertTrue(read.byData(), "a read ends with its C2HData, SUCCESS set");
                        assertArrayEquals(block, read.data());
                    }
                    SpecNvmeHost.Reply outside = io.read(1, (64L << 20) / 512, 8);
                    assertFalse(outside.byData(), "a failed read gets only a CapsuleResp");
                    assertEquals(0x80, outside.sc(), "LBA out of range");
                    // a second host queue with flow control keeps CapsuleResps and a moving SQHD
                    plain.connectTransport(false, false);
                    assertEquals(0, plain.connect(2, 127, 0, a.subsystemNqn(), HOST, cntlid).status());
                    SpecNvmeHost.Reply read = plain.read(1, 64, 16);
                    assertFalse(read.byData());
                    assertArrayEquals(block, read.data());
                    assertNotEquals(0xFFFF, read.sqhd());
                }
            }
        }
    }

    @Test
    void badCommandsGetTheirStatusesAndBadPdusEndTheConnectionOthersStillServed() throws Exception {
        try (ArrayServer a = ArrayServer.start(Harness.config(dir))) {
            bothLinkedUp(a);
            String port = nvmePorts(a, "A").get(0);
            try (SpecNvmeHost admin = new SpecNvmeHost(port); SpecNvmeHost io = new SpecNvmeHost(port)) {
                admin.connectTransport(false, false);
                // commands before Connect
                assertEquals(0x00C, admin.identify(1, 0).sc(), "Identify before Connect: command sequence error");
                assertEquals(0x182, admin.connect(0, 31, 5000, "nqn.2099-01.evil:nothing", HOST, 0xFFFF).sc(),
                    "unknown subsystem NQN");
                assertEquals(0x182, admin.connect(0, 0, 5000, a.subsystemNqn(), HOST, 0xFFFF).sc(), "SQSIZE 0");
                try (SpecNvmeHost early = new SpecNvmeHost(port)) {
                    early.connectTransport(false, false);
                    assertEquals(0, early.connect(0, 31, 0, a.subsystemNqn(), HOST, 0xFFFF).status());
                    assertEquals(0x00C, early.identify(1, 0).sc(), "Identify before CC.EN: command sequence error");
                    assertEquals(0, early.propertyGet(0x00, true).status(), "Fabrics commands are what enables it");
                }
                int cntlid = admin.adminQueue(a.subsystemNqn(), HOST);
                assertEquals(0x001, admin.admin(0xEE, 0, 0, 0, 0, 0).sc(), "unknown admin opcode");
                assertEquals(0x00B, admin.identify(0, -1).sc(), "Identify NSID FFFFFFFFh");
                assertEquals(0x109, admin.getLog(0x33, 512).sc(), "unknown log page");
                assertEquals(0, admin.setFeature(0x07, 1 | 1 << 16).status());

                io.connectTransport(false, false);
                assertEquals(0x182, io.connect(1, 127, 0, a.subsystemNqn(), HOST, cntlid + 7).sc(),
                    "an I/O queue for a controller that does not exist");
                assertEquals(0x182, io.connect(5, 127, 0, a.subsystemNqn(), HOST, cntlid).sc(), "QID above the granted");
                assertEquals(0, io.connect(1, 127, 0, a.subsystemNqn(), HOST, cntlid).status());
                try (SpecNvmeHost twin = new SpecNvmeHost(port)) {
                    twin.connectTransport(false, false);
                    assertEquals(0x00C, twin.connect(1, 127, 0, a.subsystemNqn(), HOST, cntlid).sc(),
                        "a QID the association already has: sequence error");
                }
                ByteBuffer keyed = io.sqe(0x02, 1, 0x40, 4096);
                keyed.putInt(48, 7);
                io.sendCommand(keyed, null);
                assertEquals(0x011, io.await(null).sc(), "a keyed (RDMA) SGL on TCP: SGL descriptor type invalid");
                long blocks = (64L << 20) / 512;
                SpecNvmeHost.Reply past = io.read(1, blocks - 4, 8);
                assertEquals(0x080, past.sc(), "read past the end: LBA out of range");
                assertTrue(past.dnr());
                assertEquals(0x080, io.write(1, blocks, new byte[512], true).sc(), "write past the end");
                assertEquals(0x00B, io.read(7, 0, 1).sc(), "unknown namespace");
                ByteBuffer unknown = io.sqe(0x77, 1, 0x5A, 0);
                io.sendCommand(unknown, null);
                assertEquals(0x001, io.await(null).sc(), "unknown I/O opcode");
                assertEquals(0x016, io.write(1, 0, new byte[32 << 10], true).sc(), "in-capsule data over the limit");
                ByteBuffer readWithData = io.sqe(0x02, 1, 0x01, 512);
                readWithData.putInt(48, 0);
                io.sendCommand(readWithData, new byte[512]);
                assertEquals(0x002, io.await(null).sc(), "in-capsule data on a read");
                assertEquals(0, io.write(1, 0, new byte[4096], true).status(), "the queue still works");
            }
            // transport errors: bad PDU type, bad hlen, wrong header digest, capsule before ICReq
            byte[][] bad = {
                {0x08, 0, 24, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
                {0x04, 0, 24, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
            };
            for (byte[] pdu : bad) {
                try (SpecNvmeHost h = new SpecNvmeHost(port)) {
                    h.connectTransport(false, false);
                    h.out.write(pdu);
                    byte[] term = h.readN(8);
                    assertEquals(0x03, term[0], "C2HTermReq");
                    h.readN(le(term).getInt(4) - 8);
                    assertEquals(-1, h.in.read(), "then the connection closes");
                }
            }
            try (SpecNvmeHost h = new SpecNvmeHost(port)) {
                h.connectTransport(true, false);
                byte[] cmd = new byte[72 + 4];
                cmd[0] = 0x04;
                cmd[1] = 1;
                cmd[2] = 72;
                le(cmd).putInt(4, 76).putInt(72, 0xDEADBEEF);
                h.out.write(cmd);
                assertEquals(0x03, h.readN(8)[0], "a wrong header digest: C2HTermReq");
            }
            try (SpecNvmeHost h = new SpecNvmeHost(port)) {
                h.sendCommand(h.sqe(0x06, 0, 0x5A, 4096), null);
                assertEquals(0x03, h.readN(8)[0], "a capsule before ICReq: C2HTermReq");
            }
            try (SpecNvmeHost off = new SpecNvmeHost(port); SpecNvmeHost early = new SpecNvmeHost(port)) {
                off.connectTransport(false, false);
                SpecNvmeHost.Reply joined = off.connect(0, 31, 5000, a.subsystemNqn(), HOST + "3", 0xFFFF);
                assertEquals(0, joined.status());
                early.connectTransport(false, false);
                assertEquals(0x00C, early.connect(1, 31, 0, a.subsystemNqn(), HOST + "3", joined.dw0() & 0xFFFF).sc(),
                    "an I/O queue for a controller not yet enabled: sequence error");
            }
            try (SpecNvmeHost h = new SpecNvmeHost(port)) {
                h.connectTransport(false, true);
                h.adminQueue(a.subsystemNqn(), HOST + "2");
                assertEquals(0, h.identify(1, 0).status(), "other hosts are served throughout");
            }
        }
    }

    @Test
    void anaStatesFollowAKillAndTheSurvivorServesTheData() throws Exception {
        try (ArrayServer a = ArrayServer.start(Harness.config(dir))) {
            bothLinkedUp(a);
            byte[] data = Harness.random(64 << 10, 77);
            try (SpecNvmeHost admin = new SpecNvmeHost(nvmePorts(a, "B").get(1));
                 SpecNvmeHost io = new SpecNvmeHost(nvmePorts(a, "B").get(1))) {
                admin.connectTransport(false, false);
                int cntlid = admin.adminQueue(a.subsystemNqn(), HOST);
                assertEquals(0, admin.setFeature(0x0B, 1 << 11).status());
                assertEquals(0, admin.setFeature(0x07, 0).status());
                io.connectTransport(false, false);
                assertEquals(0, io.connect(1, 127, 0, a.subsystemNqn(), HOST, cntlid).status());
                assertEquals(0, io.write(1, 100, data, false).status(), "shipped write through B");
                @SuppressWarnings("unchecked")
                Map<String, Object> bStats = (Map<String, Object>) ((Map<String, Object>) ((List<?>) a.controller("B")
                    .localStatus().get("luns")).get(0)).get("stats");
                assertEquals(1L, ((Number) bStats.get("streamedWrites")).longValue(),
                    "B asked for the data on A's behalf and passed it on as it came");
                // an AER outstanding, then A dies: B takes over, the AER completes with an ANA notice
                ByteBuffer aer = admin.sqe(0x0C, 0, 0x5A, 0);
                admin.sendCommand(aer, null);
                a.controller("A").kill();
                SpecNvmeHost.Reply notice = admin.await(null);
                assertEquals(0, notice.status());
                assertEquals(0x000C0302, notice.dw0(), "AER: notice, ANA change, log 0Ch");
                await("B optimized", 5000, () -> {
                    try {
                        return le(admin.getLog(0x0C, 52).data()).get(32) == 1;
                    } catch (IOException e) {
                        return false;
                    }
                });
                SpecNvmeHost.Reply r = io.read(1, 100, data.length / 512);
                assertEquals(0, r.status());
                assertArrayEquals(data, r.data(), "the acknowledged write, from the survivor");

                // the host is registered with the array (its NQN and host identifier, in the metadata) and its
                // I/O through B is counted under its NQN
                await("host registered", 5000, () -> {
                    try {
                        return a.controller("B").registeredHosts().stream().anyMatch(h -> HOST.equals(h.nqn())
                            && h.hostId().matches("[0-9a-f]{32}") && "B".equals(h.lastController()));
                    } catch (IOException e) {
                        return false;
                    }
                });
                @SuppressWarnings("unchecked")
                Map<String, Map<String, Long>> hostIo = (Map<String, Map<String, Long>>) a.controller("B").localStatus()
                    .get("hostIo");
                assertEquals(1L, hostIo.get(HOST).get("writes"));
                assertEquals((long) data.length, hostIo.get(HOST).get("writeBytes"));
                assertEquals(1L, hostIo.get(HOST).get("reads"));

                // connecting again (every queue of every path does, and again after every fault) writes nothing
                // new: each metadata write holds the array's cross-process lock
                long generation = a.metadata().load().generation();
                for (int i = 0; i < 5; i++) {
                    try (SpecNvmeHost again = new SpecNvmeHost(nvmePorts(a, "B").get(0))) {
                        again.connectTransport(false, false);
                        again.adminQueue(a.subsystemNqn(), HOST);
                    }
                }
                // registrations run one after another on B's ops thread: once a new host's lands, those before
                // it have run, and it must be the only write
                String newcomer = "nqn.2014-08.org.nvmexpress:uuid:66666666-7777-8888-9999-000000000000";
                try (SpecNvmeHost other = new SpecNvmeHost(nvmePorts(a, "B").get(0))) {
                    other.connectTransport(false, false);
                    other.adminQueue(a.subsystemNqn(), newcomer);
                }
                await("the newcomer recorded", 5000, () -> {
                    try {
                        return a.metadata().load().host(newcomer) != null;
                    } catch (IOException e) {
                        return false;
                    }
                });
                assertEquals(generation + 1, a.metadata().load().generation(),
                    "reconnections of a known host rewrote the metadata");
            }
        }
    }

    @Test
    void dataDigestErrorsQueueOverflowAndTheOtherCommands() throws Exception {
        try (ArrayServer a = ArrayServer.start(Harness.config(dir))) {
            bothLinkedUp(a);
            String port = nvmePorts(a, "A").get(0);
            try (SpecNvmeHost admin = new SpecNvmeHost(port); SpecNvmeHost io = new SpecNvmeHost(port)) {
                admin.connectTransport(false, false);
                int cntlid = admin.adminQueue(a.subsystemNqn(), HOST);
                assertEquals(0, admin.admin(0x18, 0, 0, 0, 0, 0).status(), "Keep Alive");
                assertEquals(0, admin.setFeature(0x0F, 7000).status(), "Set KATO");
                assertEquals(7000, admin.admin(0x0A, 0, 0x0F, 0, 0, 0).dw0(), "Get KATO");
                assertEquals(1, admin.admin(0x0A, 0, 0x06, 0, 0, 0).dw0(), "volatile write cache present");
                assertEquals(1 << 2, admin.admin(0x0A, 0, 0x0F | 3 << 8, 0, 0, 0).dw0(), "KATO: changeable (SEL 3)");
                assertEquals(0, admin.admin(0x0A, 0, 0x06 | 3 << 8, 0, 0, 0).dw0(), "VWC: not changeable");
                assertEquals(0x002, admin.admin(0x0A, 0, 0x0F | 7 << 8, 0, 0, 0).sc(), "SEL 7 is reserved");
                assertEquals(0x10D, admin.admin(0x09, 0, 0x0F | 1 << 31, 7000, 0, 0).sc(), "SV: not saveable");
                SpecNvmeHost.Reply abort = admin.admin(0x08, 0, 1 | 5 << 16, 0, 0, 0);
                assertEquals(0, abort.status(), "Abort is mandatory");
                assertEquals(1, abort.dw0() & 1, "and aborts nothing: every command is answered in its turn");
                assertEquals(512, admin.getLog(0x02, 512).data().length, "SMART log");
                assertEquals(4096, admin.getLog(0x04, 4096).data().length, "changed namespace list");
                assertEquals(0, admin.setFeature(0x07, 0).status());

                io.connectTransport(false, true);
                assertEquals(0, io.connect(1, 1, 0, a.subsystemNqn(), HOST, cntlid).status(), "a 2-entry I/O queue");
                // a data digest that does not match: the command fails with Data Transfer Error, the queue lives
                byte[] data = Harness.random(4096, 3);
                ByteBuffer w = io.sqe(0x01, 1, 0x01, 4096);
                w.putLong(40, 0).putInt(48, 7);
                byte[] h = new byte[72];
                h[0] = 0x04;
                h[1] = 0x02;
                h[2] = 72;
                h[3] = 72;
                System.arraycopy(w.array(), 0, h, 8, 64);
                ByteBuffer pdu = ByteBuffer.allocate(72 + 4096 + 4).order(ByteOrder.LITTLE_ENDIAN);
                pdu.put(h).put(data).putInt(0x12345678);
                pdu.putInt(4, pdu.capacity());
                io.out.write(pdu.array());
                assertEquals(0x004, io.await(null).sc(), "data digest error: Data Transfer Error");
                assertEquals(0, io.write(1, 0, data, true).status(), "the next write with a good digest works");
                // Write Zeroes and Dataset Management (deallocate) read back as zeroes
                ByteBuffer wz = io.sqe(0x08, 1, 0x5A, 0);
                wz.putLong(40, 0).putInt(48, 3);
                io.sendCommand(wz, null);
                assertEquals(0, io.await(null).status(), "Write Zeroes");
                assertArrayEquals(new byte[2048], java.util.Arrays.copyOf(io.read(1, 0, 8).data(), 2048));
                assertEquals(0, io.write(1, 64, data, true).status());
                ByteBuffer dsm = io.sqe(0x09, 1, 0x01, 16);
                dsm.putInt(40, 0).putInt(44, 1 << 2);
                io.sendCommand(dsm, SpecNvmeHost.le(16).putInt(4, 8).putLong(8, 64).array());
                assertEquals(0, io.await(null).status(), "DSM deallocate");
                assertArrayEquals(new byte[4096], io.read(1, 64, 8).data(), "deallocated blocks read as zeroes");
                // more commands in flight than the queue has entries: two R2T writes wait for data, a third overflows
                for (int i = 0; i < 3; i++) {
                    ByteBuffer big = io.sqe(0x01, 1, 0x5A, 65536);
                    big.putLong(40, 1024 + 128L * i).putInt(48, 127);
                    io.sendCommand(big, null);
                }
                byte[] first = io.readN(8);
                while (first[0] == 0x09) { // the R2Ts of the first two
                    io.readN((ByteBuffer.wrap(first).order(ByteOrder.LITTLE_ENDIAN).getInt(4)) - 8);
                    first = io.readN(8);
                }
                byte[] resp = io.readN(ByteBuffer.wrap(first).order(ByteOrder.LITTLE_ENDIAN).getInt(4) - 8);
                byte[] whole = new byte[8 + resp.length];
                System.arraycopy(first, 0, whole, 0, 8);
                System.arraycopy(resp, 0, whole, 8, resp.length);
                assertEquals(0x05, whole[0], "the third command is answered at once");
                assertEquals(0x00C, (le(whole).getShort(22) & 0xFFFF) >>> 1 & 0x7FF, "queue overflow: sequence error");
            }
        }
    }

    /**
     * A data digest error in the middle of an R2T transfer (a corruption on the wire): the target takes the rest of
     * the range, then fails the command with Data Transfer Error; the connection lives and the blocks keep what
     * they held. Failing the command at the bad PDU made the host's next H2CData one that no R2T asked for, and the
     * connection ended.
     */
    @Test
    void aDataDigestErrorInTheMiddleOfAnR2tTransferFailsTheCommandNotTheConnection() throws Exception {
        try (ArrayServer a = ArrayServer.start(Harness.config(dir))) {
            bothLinkedUp(a);
            String port = nvmePorts(a, "A").get(0);
            try (SpecNvmeHost admin = new SpecNvmeHost(port); SpecNvmeHost io = new SpecNvmeHost(port)) {
                admin.connectTransport(false, false);
                int cntlid = admin.adminQueue(a.subsystemNqn(), HOST);
                assertEquals(0, admin.setFeature(0x07, 0).status());
                io.connectTransport(false, true);
                assertEquals(0, io.connect(1, 31, 0, a.subsystemNqn(), HOST, cntlid).status());
                byte[] before = Harness.random(16384, 5);
                assertEquals(0, io.write(1, 0, before, false).status(), "a good write by R2T");
                ByteBuffer w = io.sqe(0x01, 1, 0x5A, 16384);
                w.putLong(40, 0).putInt(48, 31);
                io.sendCommand(w, null);
                byte[] r2t = io.readN(24);
                assertEquals(0x09, r2t[0], "R2T");
                ByteBuffer rb = le(r2t);
                int ttag = rb.getShort(10) & 0xFFFF;
                assertEquals(16384, rb.getInt(16), "for the whole write");
                byte[] after = Harness.random(16384, 6);
                for (int i = 0; i < 4; i++) {
                    ByteBuffer pdu = ByteBuffer.allocate(24 + 4096 + 4).order(ByteOrder.LITTLE_ENDIAN);
                    pdu.put(0, (byte) 0x06).put(1, (byte) (0x02 | (i == 3 ? 0x04 : 0))).put(2, (byte) 24)
                        .put(3, (byte) 24).putInt(4, pdu.capacity()).putShort(8, (short) io.lastCid())
                        .putShort(10, (short) ttag).putInt(12, i * 4096).putInt(16, 4096);
                    pdu.position(24);
                    pdu.put(after, i * 4096, 4096).putInt(SpecNvmeHost.crc(after, i * 4096, 4096) ^ (i == 1 ? 1 : 0));
                    io.out.write(pdu.array());
                }
                SpecNvmeHost.Reply failed = io.await(null);
                assertEquals(0x004, failed.sc(), "the command: Data Transfer Error");
                assertEquals(io.lastCid(), failed.cid());
                assertArrayEquals(before, io.read(1, 0, 32).data(), "the blocks keep what they held");
                assertEquals(0, io.write(1, 0, after, false).status(), "and the queue serves the next write");
                assertArrayEquals(after, io.read(1, 0, 32).data());
            }
        }
    }

    @Test
    void portFaultsApplyToNvmePorts() throws Exception {
        try (ArrayServer a = ArrayServer.start(Harness.config(dir))) {
            bothLinkedUp(a);
            String port = nvmePorts(a, "A").get(1);
            assertTrue(a.controller("A").hasPort(port));
            SpecNvmeHost[] h = host(a, port, HOST);
            try {
                a.controller("A").setPortLatency(port, 300);
                long t0 = System.nanoTime();
                assertEquals(0, h[1].read(1, 0, 8).status());
                assertTrue(System.nanoTime() - t0 >= 300_000_000L, "injected latency delays the command");
                a.controller("A").setPortLatency(port, 0);
                a.controller("A").setPortFlaky(port, 1.0, "error");
                assertEquals(0x300, h[1].read(1, 0, 8).sc(), "flaky error: Internal Path Error");
                assertTrue(!h[1].read(1, 0, 8).dnr(), "without DNR, so the host fails over");
                a.controller("A").setPortFlaky(port, 0, "mixed");
                assertEquals(0, h[1].read(1, 0, 8).status());
                a.controller("A").setPortDown(port, true);
                assertEquals(-1, h[1].in.read(), "port down: its connections close");
                assertThrows(IOException.class, () -> new SpecNvmeHost(port).connectTransport(false, false),
                    "and it accepts none");
                a.controller("A").setPortDown(port, false);
                SpecNvmeHost[] again = host(a, port, HOST + "-again");
                assertEquals(0, again[1].read(1, 0, 8).status(), "port up again");
                again[0].close();
                again[1].close();
            } finally {
                h[0].close();
                h[1].close();
            }
        }
    }

    /** Admin and one I/O queue of one host on one port. */
    @Test
    void aTransferHeldUpByAPauseOrInjectedLatencyIsNotCutOff() throws Exception {
        // a host that sends none of an R2T's data for the transfer limit (1 s here) is cut off; a controller that
        // stands still, or a port whose latency the array injects, is not the host's delay
        // (the peer waits out the pause: no takeover answers the write in its stead)
        try (ArrayServer a = ArrayServer.start(Harness.config(dir).partialFrameMillis(1000).heartbeatTimeoutMillis(10_000))) {
            bothLinkedUp(a);
            String port = nvmePorts(a, "A").get(0);
            SpecNvmeHost[] h = host(a, port, HOST);
            try {
                byte[] data = Harness.random(64 << 10, 5);
                int[] r2t = h[1].writeUntilR2t(1, 64, data.length);
                a.controller("A").pause();
                h[1].sendData(r2t, data); // held by the paused controller
                Thread.sleep(2500);
                a.controller("A").resume();
                int status = h[1].await(null).status();
                // answered on the same connection: done, or (held over the pause) "transition", which hosts retry
                assertTrue(status == 0 || status == 0x303, "the write is answered after the pause: " + status);
                long until = System.currentTimeMillis() + 15_000;
                do {
                    status = h[1].write(1, 64, data, false).status(); // retried as a host does, on the same queue
                } while (status == 0x303 && System.currentTimeMillis() < until);
                assertEquals(0, status, "the queue serves on");

                a.controller("A").setPortLatency(port, 1500);
                assertEquals(0, h[1].write(1, 256, data, false).status(), "and through 1.5 s of injected latency");
                a.controller("A").setPortLatency(port, 0);
                assertArrayEquals(data, h[1].read(1, 256, data.length / 512).data());
            } finally {
                h[0].close();
                h[1].close();
            }
        }
    }

    @Test
    void aShippedStreamedWriteWhoseDataTheLinkCannotCarryIsAPathErrorNotAWriteFault() throws Exception {
        // the write's room is reserved on the owner (A), then the link goes before its data: the host must hear
        // "try another path" (which it retries on A), never a write fault with DNR (which reaches the application)
        try (ArrayServer a = ArrayServer.start(Harness.config(dir).heartbeatTimeoutMillis(10_000))) {
            bothLinkedUp(a);
            String port = nvmePorts(a, "B").get(0);
            SpecNvmeHost[] h = host(a, port, HOST);
            try {
                byte[] data = Harness.random(64 << 10, 9);
                int[] r2t = h[1].writeUntilR2t(1, 128, data.length); // the owner reserved room
                a.controller("B").partitionLink();
                h[1].sendData(r2t, data);
                SpecNvmeHost.Reply reply = h[1].await(null);
                assertNotEquals(0, reply.status(), "the write did not reach the owner");
                assertFalse(reply.dnr(), "retryable: " + Integer.toHexString(reply.status()));
                assertTrue((reply.status() & 0x700) == 0x300, "a path-related status (SCT 3), not "
                    + Integer.toHexString(reply.status()));
                a.controller("B").healLink();
            } finally {
                h[0].close();
                h[1].close();
            }
        }
    }

    private static SpecNvmeHost[] host(ArrayServer a, String port, String hostNqn) throws IOException {
        SpecNvmeHost admin = new SpecNvmeHost(port);
        admin.connectTransport(false, false);
        int cntlid = admin.adminQueue(a.subsystemNqn(), hostNqn);
        assertEquals(0, admin.setFeature(0x07, 0).status());
        SpecNvmeHost io = new SpecNvmeHost(port);
        io.connectTransport(false, false);
        assertEquals(0, io.connect(1, 127, 0, a.subsystemNqn(), hostNqn, cntlid).status());
        return new SpecNvmeHost[] {admin, io};
    }

    @Test
    void reservationsFenceOtherHostsAndSurviveATakeover() throws Exception {
        try (ArrayServer a = ArrayServer.start(Harness.config(dir))) {
            bothLinkedUp(a);
            SpecNvmeHost[] one = host(a, nvmePorts(a, "A").get(0), HOST);
            SpecNvmeHost[] two = host(a, nvmePorts(a, "B").get(0), HOST + "-two");
            try {
                SpecNvmeHost io1 = one[1];
                SpecNvmeHost io2 = two[1];
                assertEquals(0x083, io1.reservation(0x11, 1, 1 << 8, 0xA, 0).sc(), "acquire before registering");
                assertEquals(0, io1.reservation(0x0D, 1, 3 << 30, 0, 0xA).status(), "register key A (persist)");
                assertEquals(0, io2.reservation(0x0D, 1, 0, 0, 0xB).status(), "register key B");
                assertEquals(0x083, io2.reservation(0x0D, 1, 0, 0, 0xC).sc(), "registering again with another key");
                assertEquals(0, io1.reservation(0x11, 1, 1 << 8, 0xA, 0).status(), "acquire Write Exclusive");
                assertEquals(0x083, io2.reservation(0x11, 1, 1 << 8, 0xB, 0).sc(), "a second holder");
                assertEquals(0x083, io2.write(1, 0, new byte[4096], true).sc(), "the other host cannot write");
                assertTrue(io2.write(1, 0, new byte[4096], true).dnr());
                assertEquals(0, io2.read(1, 0, 8).status(), "but it can read (Write Exclusive)");
                assertEquals(0, io1.write(1, 0, new byte[4096], true).status(), "the holder writes");
                ByteBuffer rep = le(io2.reservationReport(1, 64 + 2 * 64, true).data());
                assertEquals(1, rep.get(4), "RTYPE Write Exclusive");
                assertEquals(2, rep.getShort(5), "two registrants");
                assertEquals(1, rep.get(9), "persist through power loss");
                assertEquals(0x0A, rep.getLong(64 + 8), "first registrant's key");
                assertEquals(1, rep.get(64 + 2) & 1, "it holds the reservation");
                // the owner dies: the survivor honours the reservation
                a.controller("A").kill();
                await("B owns lun0", 5000, () -> Harness.quietly(() -> "B".equals(a.metadata().load().byName("lun0").owner())));
                int st = io2.write(1, 0, new byte[4096], true).sc();
                assertEquals(0x083, st, "still fenced through the survivor");
                assertEquals(0, io2.reservation(0x15, 1, 1 << 8, 0xB, 0).status(), "releasing what it does not hold");
                assertEquals(1, le(io2.reservationReport(1, 64 + 2 * 64, true).data()).get(4), "host one still holds it");
                // preempt: host two takes the reservation away from host one's key
                assertEquals(0, io2.reservation(0x11, 1, 1 | 1 << 8, 0xB, 0xA).status(), "preempt");
                assertEquals(0, io2.write(1, 0, new byte[4096], true).status(), "the new holder writes");
                ByteBuffer after = le(io2.reservationReport(1, 64 + 64, true).data());
                assertEquals(1, after.getShort(5), "host one's registration was preempted");
                assertEquals(0, io2.reservation(0x15, 1, 1, 0xB, 0).status(), "clear");
                assertEquals(0, le(io2.reservationReport(1, 64, true).data()).getShort(5), "nobody registered");
            } finally {
                for (SpecNvmeHost h : new SpecNvmeHost[] {one[0], one[1], two[0], two[1]}) {
                    h.close();
                }
            }
        }
    }

    @Test
    void reservationsNotKeptThroughPowerLossAreGoneWhenTheArrayComesBack() throws Exception {
        for (boolean ptpl : new boolean[] {false, true}) {
            try (ArrayServer a = ArrayServer.start(Harness.config(dir))) {
                bothLinkedUp(a);
                SpecNvmeHost[] one = host(a, nvmePorts(a, "A").get(0), HOST);
                try {
                    assertEquals(0, one[1].reservation(0x0D, 1, ptpl ? 3 << 30 : 0, 0, 0xA).status(), "register");
                    assertEquals(0, one[1].reservation(0x11, 1, 1 << 8, 0xA, 0).status(), "acquire");
                } finally {
                    one[0].close();
                    one[1].close();
                }
            }
            // both controllers went down (a power loss to the hosts); the array comes back
            try (ArrayServer a = ArrayServer.start(Harness.config(dir))) {
                bothLinkedUp(a);
                SpecNvmeHost[] one = host(a, nvmePorts(a, "A").get(0), HOST);
                try {
                    ByteBuffer rep = le(one[1].reservationReport(1, 64 + 64, true).data());
                    assertEquals(ptpl ? 1 : 0, rep.getShort(5), ptpl ? "kept: PTPL was asked for" : "registrations cleared");
                    assertEquals(ptpl ? 1 : 0, rep.get(4), "reservation type");
                    if (ptpl) {
                        assertEquals(0, one[1].reservation(0x15, 1, 1, 0xA, 0).status(), "clear");
                    }
                } finally {
                    one[0].close();
                    one[1].close();
                }
            }
        }
    }

    @Test
    void namespacesAreMaskedByHostNqn() throws Exception {
        try (ArrayServer a = ArrayServer.start(Harness.config(dir))) {
            a.controller("A").setAllowedHosts("lun0", List.of("nqn.2014-08.org.example:allowed"));
            try (SpecNvmeHost h = new SpecNvmeHost(nvmePorts(a, "A").get(0))) {
                h.connectTransport(false, false);
                h.adminQueue(a.subsystemNqn(), HOST);
                assertEquals(0, le(h.identify(2, 0).data()).getInt(0), "a host not on the list sees no namespace");
                assertEquals(0x00B, h.identify(3, 1).sc());
            }
            try (SpecNvmeHost h = new SpecNvmeHost(nvmePorts(a, "A").get(0))) {
                h.connectTransport(false, false);
                h.adminQueue(a.subsystemNqn(), "nqn.2014-08.org.example:allowed");
                assertEquals(1, le(h.identify(2, 0).data()).getInt(0), "the allowed host sees it");
                @SuppressWarnings("unchecked")
                List<Map<String, Object>> sessions = (List<Map<String, Object>>) a.controller("A").localStatus()
                    .get("sessions");
                assertTrue(sessions.stream().anyMatch(m -> "nqn.2014-08.org.example:allowed".equals(m.get("host"))
                    && "nvme-tcp".equals(m.get("protocol"))), "the host is listed by its NQN: " + sessions);
            }
        }
    }
}
