package io.jmpio.emu;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A hostile client speaking raw bytes: link frames and authentication messages built by hand from the
 * documented layouts (not with the code under test), front-end frames, and the link's HMAC proof for tests
 * that play a peer holding the secret.
 */
final class Attacker implements AutoCloseable {
    /** Link authentication, as documented in LinkAuthenticator. */
    static final int AUTH_MAGIC = 0x4B504D4A;
    static final int LINK_MAGIC = 0x4C504D4A;

    final Socket socket;
    final InputStream in;
    final OutputStream out;

    Attacker(String hostPort) throws IOException {
        int colon = hostPort.lastIndexOf(':');
        socket = new Socket();
        socket.connect(new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1))),
            2000);
        socket.setSoTimeout(8000);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    Attacker(java.net.InetSocketAddress a) throws IOException {
        this(a.getHostString() + ":" + a.getPort());
    }

    void send(byte[] b) throws IOException {
        out.write(b);
        out.flush();
    }

    /** Reads exactly n bytes; null when the peer closed first. */
    byte[] read(int n) throws IOException {
        byte[] b = new byte[n];
        int done = 0;
        while (done < n) {
            int r = in.read(b, done, n - done);
            if (r < 0) {
                return null;
            }
            done += r;
        }
        return b;
    }

    /** True when the server closes the connection within the socket timeout (reading and dropping what comes). */
    boolean closedByPeer() {
        try {
            byte[] sink = new byte[65536];
            while (true) {
                if (in.read(sink) < 0) {
                    return true;
                }
            }
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    // --- link frames (56-byte header, little-endian; see docs/protocol.md) ---

    static byte[] linkFrame(int channel, int kind, int op, long correlation, int lun, long epoch, int length, long source,
                            long destination, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(56 + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(LINK_MAGIC).put((byte) channel).put((byte) kind).put((byte) op).put((byte) 0).putLong(correlation)
            .putInt(lun).putInt((int) epoch).putShort((short) 0).putShort((short) 0).putInt(length).putLong(source)
            .putLong(destination).putInt(payload.length).putInt(0).put(payload);
        return b.array();
    }

    /** A reply's status (u16 at 24) and its payload length (u32 at 48). */
    static int linkStatus(byte[] header) {
        return ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).getShort(24) & 0xFFFF;
    }

    /** A reply's source (u64 at 32): a shipped write's storage position, a streamed write's token. */
    static long linkSource(byte[] header) {
        return ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).getLong(32);
    }

    static int linkKind(byte[] header) {
        return header[5] & 0xFF;
    }

    static int linkPayloadLength(byte[] header) {
        return ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).getInt(48);
    }

    // --- link authentication ---

    static byte[] challenge(int role, byte[] nonce) {
        ByteBuffer b = ByteBuffer.allocate(40).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(AUTH_MAGIC).put((byte) 1).put((byte) role).putShort((short) 0).put(nonce);
        return b.array();
    }

    static byte[] nonceOf(byte[] challenge) {
        byte[] n = new byte[32];
        System.arraycopy(challenge, 8, n, 0, 32);
        return n;
    }

    static byte[] proof(byte[] secret, int role, byte[] proverNonce, byte[] verifierNonce) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret, "HmacSHA256"));
        mac.update("jmpio-link-v1".getBytes(StandardCharsets.US_ASCII));
        mac.update((byte) role);
        mac.update(proverNonce);
        mac.update(verifierNonce);
        return mac.doFinal();
    }

    static byte[] secret(Path dataDir) throws IOException {
        return Files.readString(dataDir.resolve("link.secret")).strip().getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Authenticates as the dialing end with {@code secret}; returns the acceptor's challenge and our proof
     * (for replay tests), or null when the acceptor closed the connection.
     */
    byte[][] authenticate(byte[] secret, byte[] nonce) throws Exception {
        byte[] theirs = read(40);
        if (theirs == null) {
            return null;
        }
        send(challenge(0, nonce));
        byte[] ours = proof(secret, 0, nonce, nonceOf(theirs));
        send(ours);
        byte[] theirProof = read(32);
        if (theirProof == null) {
            return null;
        }
        if (!java.util.Arrays.equals(theirProof, proof(secret, 1, nonceOf(theirs), nonce))) {
            return null; // the acceptor does not hold our secret (or we do not hold its)
        }
        return new byte[][] {theirs, ours};
    }

    /** Memory in use after collecting garbage, in bytes: heap, plus direct buffers (the JDK's and Netty's own). */
    static long heapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        long direct = 0;
        for (var pool : ManagementFactory.getPlatformMXBeans(java.lang.management.BufferPoolMXBean.class)) {
            if (pool.getName().equals("direct")) {
                direct += pool.getMemoryUsed();
            }
        }
        direct += Math.max(0, io.netty.util.internal.PlatformDependent.usedDirectMemory());
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() + direct;
    }
}
