package io.jmpio.bridge.nbd;

import static io.jmpio.bridge.nbd.NbdProtocol.*;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * A small synchronous NBD client (fixed newstyle, NBD_OPT_GO, simple replies): one request at a time on one
 * connection. For tools and demos that drive an export from Java; use one client per thread.
 */
public final class NbdClient implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    private final long size;
    private final int transmissionFlags;
    private long cookie;

    private NbdClient(Socket socket, String export) throws IOException {
        this.socket = socket;
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(60_000);
        in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 1 << 16));
        out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream(), 1 << 16));
        if (in.readLong() != NBDMAGIC || in.readLong() != IHAVEOPT) {
            throw new IOException("not an NBD newstyle server");
        }
        int serverFlags = in.readUnsignedShort();
        if ((serverFlags & FLAG_FIXED_NEWSTYLE) == 0) {
            throw new IOException("server does not speak fixed newstyle");
        }
        out.writeInt(FLAG_FIXED_NEWSTYLE | (serverFlags & FLAG_NO_ZEROES));
        byte[] name = export.getBytes(StandardCharsets.UTF_8);
        out.writeLong(IHAVEOPT);
        out.writeInt(OPT_GO);
        out.writeInt(4 + name.length + 2);
        out.writeInt(name.length);
        out.write(name);
        out.writeShort(0);
        out.flush();
        long sz = -1;
        int tf = 0;
        while (true) {
            if (in.readLong() != OPT_REPLY_MAGIC) {
                throw new IOException("bad option reply magic");
            }
            in.readInt();
            int type = in.readInt();
            byte[] data = in.readNBytes(in.readInt());
            if (type == REP_ACK) {
                break;
            }
            if (type < 0) {
                throw new IOException("export '" + export + "': server refused NBD_OPT_GO (reply 0x" + Integer.toHexString(type)
                    + (data.length > 0 ? ": " + new String(data, StandardCharsets.UTF_8) : "") + ")");
            }
            if (type == REP_INFO && data.length >= 12 && (data[0] << 8 | data[1] & 0xff) == INFO_EXPORT) {
                java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(data);
                b.getShort();
                sz = b.getLong();
                tf = b.getShort() & 0xffff;
            }
        }
        if (sz < 0) {
            throw new IOException("server sent no export size");
        }
        this.size = sz;
        this.transmissionFlags = tf;
    }

    /** Connects to "nbd://host:port/export". */
    public static NbdClient connect(String uri) throws IOException {
        URI u = URI.create(uri);
        if (!"nbd".equals(u.getScheme()) || u.getHost() == null || u.getPort() < 0) {
            throw new IllegalArgumentException("expected nbd://HOST:PORT/EXPORT, got '" + uri + "'");
        }
        Socket s = new Socket();
        try {
            s.connect(new InetSocketAddress(u.getHost(), u.getPort()), 10_000);
            String path = u.getPath() == null ? "" : u.getPath();
            return new NbdClient(s, path.startsWith("/") ? path.substring(1) : path);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    public long size() {
        return size;
    }

    public int transmissionFlags() {
        return transmissionFlags;
    }

    public void read(long offset, byte[] into, int length) throws IOException {
        request(CMD_READ, 0, offset, length, null);
        replyOf("read at " + offset);
        in.readFully(into, 0, length);
    }

    public void write(long offset, byte[] data, int length, boolean fua) throws IOException {
        request(CMD_WRITE, fua ? CMD_FLAG_FUA : 0, offset, length, data);
        replyOf("write at " + offset);
    }

    public void flush() throws IOException {
        request(CMD_FLUSH, 0, 0, 0, null);
        replyOf("flush");
    }

    private void request(int type, int flags, long offset, int length, byte[] data) throws IOException {
        out.writeInt(REQUEST_MAGIC);
        out.writeShort(flags);
        out.writeShort(type);
        out.writeLong(++cookie);
        out.writeLong(offset);
        out.writeInt(length);
        if (data != null) {
            out.write(data, 0, length);
        }
        out.flush();
    }

    private void replyOf(String what) throws IOException {
        if (in.readInt() != SIMPLE_REPLY_MAGIC) {
            throw new IOException(what + ": bad reply magic");
        }
        int error = in.readInt();
        long c = in.readLong();
        if (c != cookie) {
            throw new IOException(what + ": reply for request " + c + ", expected " + cookie);
        }
        if (error != 0) {
            throw new IOException(what + ": NBD error " + error);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            request(CMD_DISC, 0, 0, 0, null);
        } catch (IOException ignored) {
            // closing anyway
        }
        socket.close();
    }
}
