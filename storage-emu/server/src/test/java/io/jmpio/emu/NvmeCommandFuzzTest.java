package io.jmpio.emu;

import static io.jmpio.emu.Harness.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jmpio.emu.array.ArrayServer;
import io.jmpio.emu.array.LunSpec;
import io.jmpio.emu.controller.PeerMonitor.PeerState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzz regression of the target's commands (what a connected host may ask): well-framed capsules whose 64-byte
 * commands are random — known and unknown opcodes, any NSID, flags, SGL type and length, command dwords — on the
 * admin queue and on I/O queues, with and without digests, through both controllers. Invariants: every command is
 * answered with its own CID (a status, or data no longer than it asked for, or R2Ts inside its buffer); the
 * connection is never ended for a command (a command error is a status, never a transport error); the array
 * keeps serving another host, whose namespace the fuzzing host cannot see, with every block it wrote intact.
 * Seeded: a failure names its seed and command; {@code -Djmpio.fuzz.nvmeCommands=N} sets how many per seed (a long
 * run), {@code -Djmpio.fuzz.seed=S} which seed.
 */
class NvmeCommandFuzzTest {
    private static final int COMMANDS = Integer.getInteger("jmpio.fuzz.nvmeCommands", 1500);
    /** The committed seeds, or the one given by {@code -Djmpio.fuzz.seed=S} (to replay a failure, or a new search). */
    private static final long[] SEEDS = System.getProperty("jmpio.fuzz.seed") != null
        ? new long[] {Long.getLong("jmpio.fuzz.seed")} : new long[] {20261207L, 7L};
    /** Admin opcodes the target knows (Asynchronous Event Request, 0Ch, is left out: it is answered only on an event). */
    private static final int[] ADMIN = {0x02, 0x06, 0x09, 0x0A, 0x18, 0x7F, 0x00, 0x01, 0x04, 0x05, 0x08, 0x10, 0x80};
    private static final int[] IO = {0x00, 0x01, 0x02, 0x08, 0x09, 0x0D, 0x0E, 0x11, 0x15, 0x04, 0x05, 0x7F, 0x99};
    private static final int[] SGL_TYPES = {0x5A, 0x01, 0x00, 0x40, 0x5B, 0x0A, 0x20};
    /** Set Features identifiers; Keep Alive Timer (0Fh) is left out: a random timeout would end the association. */
    private static final int[] FEATURES = {0x07, 0x0B, 0x01, 0x02, 0x04, 0x80, 0xFF};
    private static final String FUZZER = Harness.nqn("fuzzer");
    private static final String KEEPER = Harness.nqn("keeper");

    @TempDir
    Path dir;

    /** One fuzzing host's association: an admin queue and two I/O queues through one port. */
    private static final class Association implements AutoCloseable {
        final List<SpecNvmeHost> queues = new ArrayList<>();

        Association(ArrayServer a, String port, Random r) throws IOException {
            SpecNvmeHost admin = new SpecNvmeHost(port);
            queues.add(admin);
            admin.connectTransport(r.nextBoolean(), r.nextBoolean());
            int cntlid = admin.adminQueue(a.subsystemNqn(), FUZZER, 0);
            assertEquals(0, admin.setFeature(0x07, 1 | 1 << 16).status(), "two I/O queues");
            for (int qid = 1; qid <= 2; qid++) {
                SpecNvmeHost io = new SpecNvmeHost(port);
                queues.add(io);
                io.connectTransport(r.nextBoolean(), r.nextBoolean());
                assertEquals(0, io.connect(qid, 127, 0, a.subsystemNqn(), FUZZER, cntlid).status(), "I/O queue " + qid);
            }
        }

        @Override
        public void close() throws IOException {
            for (SpecNvmeHost q : queues) {
                q.close();
            }
        }
    }

    @Test
    void randomCommandsAreAnsweredOneByOneAndHarmNoOtherHost() throws Exception {
        try (ArrayServer a = ArrayServer.start(Harness.config(dir).lun(LunSpec.parse("lun1:16M:A", "A", "file")))) {
            await("link up", 5000, () -> a.controller("A").peerState() == PeerState.ALIVE
                && a.controller("B").peerState() == PeerState.ALIVE);
            a.controller("A").setAllowedHosts("lun1", List.of(KEEPER));
            List<String> ports = new ArrayList<>(a.controller("A").portAddresses());
            ports.addAll(a.controller("B").portAddresses());
            try (Harness.Host keeper = new Harness.Host(a, Harness.port(a, "A", 0), "keeper", 2)) {
                byte[][] kept = new byte[16][];
                Random k = new Random(1);
                for (int i = 0; i < kept.length; i++) {
                    kept[i] = new byte[4096];
                    k.nextBytes(kept[i]);
                    keeper.write(i * 4096L, kept[i]);
                }
                for (long seed : SEEDS) {
                    fuzz(a, ports, seed);
                    for (int i = 0; i < kept.length; i++) {
                        assertArrayEquals(kept[i], keeper.read(i * 4096L, 4096),
                            "seed " + seed + ": the other host's block " + i);
                    }
                }
            }
        }
    }

    private static void fuzz(ArrayServer a, List<String> ports, long seed) throws Exception {
        Random r = new Random(seed);
        Association as = new Association(a, ports.get(r.nextInt(ports.size())), r);
        try {
            for (int n = 0; n < COMMANDS; n++) {
                if (r.nextInt(300) == 0) { // now and then a fresh association, through another port
                    as.close();
                    as = new Association(a, ports.get(r.nextInt(ports.size())), r);
                }
                int queue = r.nextInt(3);
                SpecNvmeHost q = as.queues.get(queue);
                String what = "seed " + seed + ", command " + n + " on queue " + queue;
                command(q, queue == 0, r, what);
                if (queue == 0 && !enabled(as.queues.get(0))) {
                    // the command turned the controller off (a Property Set of CC): on again, as a host resets it
                    assertEquals(0, as.queues.get(0).propertySet(0x14, 0x00460000).status(), what);
                    assertEquals(0, as.queues.get(0).propertySet(0x14, 0x00460001).status(), what);
                }
            }
        } finally {
            as.close();
        }
    }

    private static boolean enabled(SpecNvmeHost admin) throws IOException {
        return (admin.propertyGet(0x1C, false).dw0() & 1) == 1;
    }

    /**
     * Sends one random, well-framed command and checks its answer. Half the commands are plausible (a known opcode
     * with the fields a host would set, one or two of them wrong at random) so that they get past the first check
     * and reach the namespace, the cache and the log pages; the rest are random through and through.
     */
    private static void command(SpecNvmeHost q, boolean admin, Random r, String what) throws IOException {
        boolean plausible = r.nextBoolean();
        int[] known = admin ? ADMIN : IO;
        int opcode = !plausible && r.nextInt(4) == 0 ? r.nextInt(256) : known[r.nextInt(known.length)];
        if (admin && opcode == 0x0C) {
            opcode = 0x0D; // not an Asynchronous Event Request
        }
        int nsid = plausible && r.nextInt(4) != 0 ? 1 : switch (r.nextInt(6)) {
            case 0 -> 0;
            case 1 -> -1;
            case 2 -> r.nextInt();
            case 3 -> 2;
            default -> 1;
        };
        // data from the host may come in the capsule; data to the host only by C2HData
        int sglType = plausible && r.nextInt(4) != 0 ? ((opcode & 3) == 1 && r.nextBoolean() ? 0x01 : 0x5A)
            : SGL_TYPES[r.nextInt(SGL_TYPES.length)];
        long sglLength = switch (r.nextInt(5)) {
            case 0 -> 0;
            case 1 -> r.nextInt(9) * 512L;
            case 2 -> 4096;
            case 3 -> r.nextInt(1 << 17);
            default -> plausible ? 512L << r.nextInt(12) : Integer.toUnsignedLong(r.nextInt());
        };
        ByteBuffer sqe = q.sqe(opcode, nsid, sglType, 0);
        int cid = q.lastCid() & 0xFFFF;
        if (!plausible && r.nextInt(5) == 0) {
            sqe.put(1, (byte) r.nextInt(256)); // fused bits, PSDT
        }
        for (int dw = 10; dw <= 15; dw++) {
            sqe.putInt(dw * 4, plausible && r.nextInt(3) != 0 ? 0 : dword(r));
        }
        if (plausible) {
            sglLength = plausibleFields(sqe, admin, opcode, sglLength, r);
        }
        sqe.putInt(32, (int) sglLength);
        if (admin && opcode == 0x09 && sqe.get(40) == 0x0F) {
            sqe.put(40, (byte) 0x0E); // not the Keep Alive Timer
        }
        byte[] inCapsule = null;
        if (sglType == 0x01 && sglLength > 0 && sglLength <= 65536) {
            inCapsule = new byte[(int) sglLength];
            r.nextBytes(inCapsule);
        }
        what += ", SQE " + java.util.HexFormat.of().formatHex(sqe.array()) + " with "
            + (inCapsule == null ? 0 : inCapsule.length) + " bytes in the capsule";
        SpecNvmeHost.Reply reply;
        try {
            q.sendCommand(sqe, inCapsule);
            reply = q.await(new byte[(int) Math.min(sglLength, 1 << 20)]);
        } catch (IOException e) {
            throw new AssertionError(what + ": the connection ended for a command: " + e, e);
        }
        assertEquals(cid, reply.cid(), what + ": the answer's CID (opcode " + hex(opcode) + ")");
        assertTrue(reply.data().length <= sglLength, what + ": " + reply.data().length
            + " bytes of data for a command that asked for " + sglLength + " (opcode " + hex(opcode) + ")");
    }

    /** The fields a host would set for {@code opcode}; returns the SGL length it would give. */
    private static long plausibleFields(ByteBuffer sqe, boolean admin, int opcode, long sglLength, Random r) {
        long length = sglLength;
        if (admin) {
            switch (opcode) {
                case 0x06 -> { // Identify: CNS 0-3 and a few others, 4 KiB
                    sqe.putInt(40, new int[] {0, 1, 2, 3, 0x10, 0x11, r.nextInt(256)}[r.nextInt(7)]);
                    length = r.nextInt(4) != 0 ? 4096 : length;
                }
                case 0x02 -> { // Get Log Page: a known LID, a length, sometimes an offset
                    int lid = new int[] {0x01, 0x02, 0x03, 0x04, 0x0C, 0x70, r.nextInt(256)}[r.nextInt(7)];
                    int bytes = 4 << r.nextInt(12);
                    int numd = bytes / 4 - 1;
                    sqe.putInt(40, lid | (r.nextInt(4) == 0 ? 1 << 15 : 0) | (numd & 0xFFFF) << 16);
                    sqe.putInt(44, numd >>> 16);
                    sqe.putInt(48, r.nextInt(3) == 0 ? r.nextInt(64) * 4 : 0);
                    length = r.nextInt(4) != 0 ? bytes : length;
                }
                case 0x09, 0x0A -> sqe.putInt(40, FEATURES[r.nextInt(FEATURES.length)]
                    | (opcode == 0x0A ? r.nextInt(4) << 8 : 0));
                case 0x7F -> {
                    sqe.put(4, (byte) new int[] {0x00, 0x01, 0x04, 0x05, 0x08, 0x0C, r.nextInt(256)}[r.nextInt(7)]);
                    sqe.put(40, (byte) r.nextInt(2)); // ATTRIB: 4 or 8 bytes
                    sqe.putInt(44, new int[] {0x00, 0x08, 0x14, 0x1C, 0x20, 0x3C, r.nextInt()}[r.nextInt(7)]);
                }
                default -> { }
            }
            return length;
        }
        switch (opcode) {
            case 0x01, 0x02, 0x08 -> { // Write, Read, Write Zeroes: an LBA range, mostly inside the namespace
                int blocks = 1 + r.nextInt(r.nextBoolean() ? 16 : 300);
                long lbas = (64L << 20) / 512;
                sqe.putLong(40, r.nextInt(8) == 0 ? r.nextLong() : r.nextInt(8) == 0 ? lbas - r.nextInt(64)
                    : r.nextInt((int) lbas));
                sqe.putInt(48, blocks - 1 | (r.nextInt(4) == 0 ? dword(r) & 0xFFFF0000 : 0));
                if (opcode != 0x08 && r.nextInt(4) != 0) {
                    length = blocks * 512L;
                }
            }
            case 0x09 -> { // Dataset Management: NR ranges of 16 bytes, deallocate mostly
                int ranges = 1 + r.nextInt(r.nextInt(8) == 0 ? 256 : 4);
                sqe.putInt(40, ranges - 1);
                sqe.putInt(44, r.nextInt(4) != 0 ? 0x04 : dword(r));
                length = r.nextInt(4) != 0 ? ranges * 16L : length;
            }
            case 0x0D, 0x11, 0x15 -> { // Reservation Register, Acquire, Release: action and type in CDW10
                sqe.putInt(40, r.nextInt(3) | r.nextInt(8) << 8 | (r.nextInt(4) == 0 ? 3 << 30 : 0));
                length = r.nextInt(4) != 0 ? (opcode == 0x15 ? 8 : 16) : length;
            }
            case 0x0E -> { // Reservation Report: NUMD and EDS
                int bytes = 8 << r.nextInt(10);
                sqe.putInt(40, bytes / 4 - 1).putInt(44, r.nextInt(2));
                length = r.nextInt(4) != 0 ? bytes : length;
            }
            default -> { }
        }
        return length;
    }

    private static int dword(Random r) {
        return switch (r.nextInt(4)) {
            case 0 -> 0;
            case 1 -> r.nextInt(16);
            case 2 -> -1;
            default -> r.nextInt();
        };
    }

    private static String hex(int v) {
        return Integer.toHexString(v);
    }
}
