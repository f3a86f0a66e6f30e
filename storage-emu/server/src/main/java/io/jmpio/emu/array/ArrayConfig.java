package io.jmpio.emu.array;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Everything an array (or one controller of it) is started with. Fluent setters; defaults as documented. */
public final class ArrayConfig {
    /** Controllers of the pair; the first sorts first and dials the link. */
    public static final List<String> PAIR = List.of("A", "B");

    private Path dataDir;
    private String listenAddress = "127.0.0.1";
    private String adminListenAddress = "127.0.0.1";
    private String linkListenAddress = "127.0.0.1";
    private Path linkSecretFile;
    private Path linkTlsCert;
    private Path linkTlsKey;
    private Path linkTlsCa;
    private Path adminTokenFile;
    private int maxConnectionsPerPort = 256;
    private long partialFrameMillis = 30_000;
    private long maxLunBytes = 64L << 40;
    private int basePort = 7400;
    private int portsPerController = 2;
    private final List<LunSpec> luns = new ArrayList<>();
    private List<String> controllers = PAIR;
    private String peerLinkAddress;
    private long heartbeatIntervalMillis = 100;
    private long heartbeatTimeoutMillis = 500;
    private String failback = "auto";
    private String nonOwnerReads = "local";
    private long failbackDelayMillis = 5000;
    private double autoTransferThreshold = 0.75;
    private long autoTransferWindowMillis = 10_000;
    private long autoTransferMinIos = 100;
    private int linkChannels = 2;
    private long writeCacheBytes = 256L << 20;
    private long readCacheBytes = 64L << 20;
    private long destageIntervalMillis = 50;
    private int eventLoopThreads = Math.max(2, Runtime.getRuntime().availableProcessors());

    public Path dataDir() { return dataDir; }
    public ArrayConfig dataDir(Path v) { dataDir = v; return this; }
    public String listenAddress() { return listenAddress; }
    public ArrayConfig listenAddress(String v) { listenAddress = v; return this; }
    /** Where the admin endpoints listen (loopback by default: exposing the front end never exposes them). */
    public String adminListenAddress() { return adminListenAddress; }
    public ArrayConfig adminListenAddress(String v) { adminListenAddress = v; return this; }
    /** Where the inter-controller link listens (loopback by default). */
    public String linkListenAddress() { return linkListenAddress; }
    public ArrayConfig linkListenAddress(String v) { linkListenAddress = v; return this; }
    /** The link's shared secret; default {@code link.secret} in the data directory, created at first start. */
    public Path linkSecretFile() { return linkSecretFile != null ? linkSecretFile : dataDir.resolve("link.secret"); }
    public ArrayConfig linkSecretFile(Path v) { linkSecretFile = v; return this; }
    public Path linkTlsCert() { return linkTlsCert; }
    public Path linkTlsKey() { return linkTlsKey; }
    public Path linkTlsCa() { return linkTlsCa; }
    /** Mutual TLS on the link: this controller's certificate and key, and the authority both are signed by. */
    public ArrayConfig linkTls(Path cert, Path key, Path ca) {
        if ((cert == null) != (key == null) || (cert == null) != (ca == null)) {
            throw new IllegalArgumentException("link TLS needs all three of certificate, key and CA file");
        }
        linkTlsCert = cert;
        linkTlsKey = key;
        linkTlsCa = ca;
        return this;
    }
    /** The admin endpoints' bearer token; default {@code admin.token} in the data directory. */
    public Path adminTokenFile() { return adminTokenFile != null ? adminTokenFile : dataDir.resolve("admin.token"); }
    public ArrayConfig adminTokenFile(Path v) { adminTokenFile = v; return this; }
    /** Host connections one front-end port holds at once; more are closed on accept. */
    public int maxConnectionsPerPort() { return maxConnectionsPerPort; }
    public ArrayConfig maxConnectionsPerPort(int v) { maxConnectionsPerPort = (int) positive(v, "connections per port"); return this; }
    /** Longest a host may take to send one NVMe/TCP PDU once its first byte is in. */
    public long partialFrameMillis() { return partialFrameMillis; }
    public ArrayConfig partialFrameMillis(long v) { partialFrameMillis = positive(v, "partial frame timeout"); return this; }
    /** The largest LUN the array creates (a sane maximum on top of what the backend can hold). */
    public long maxLunBytes() { return maxLunBytes; }
    public ArrayConfig maxLunBytes(long v) { maxLunBytes = positive(v, "largest LUN"); return this; }
    public int basePort() { return basePort; }
    public ArrayConfig basePort(int v) {
        if (v != 0 && (v < 1 || v > 65000)) {
            throw new IllegalArgumentException("base port must be 0 (ephemeral) or 1..65000, got " + v);
        }
        basePort = v;
        return this;
    }
    public int portsPerController() { return portsPerController; }
    public ArrayConfig portsPerController(int v) {
        if (v < 1 || v > 8) {
            throw new IllegalArgumentException("ports per controller must be 1..8, got " + v);
        }
        portsPerController = v;
        return this;
    }
    public List<LunSpec> luns() { return luns; }
    /** Adds a LUN to provision at start; a name given twice is refused (the second would be dropped unseen). */
    public ArrayConfig lun(LunSpec v) {
        for (LunSpec l : luns) {
            if (l.name().equals(v.name())) {
                throw new IllegalArgumentException("LUN '" + v.name() + "' is given twice (one --lun per LUN)");
            }
        }
        luns.add(v);
        return this;
    }
    /** The controllers this process runs: both of the pair, or one with {@link #peerLinkAddress()}. */
    public List<String> controllers() { return controllers; }
    public ArrayConfig controllers(List<String> v) {
        for (String c : v) {
            if (!PAIR.contains(c)) {
                throw new IllegalArgumentException("unknown controller '" + c + "' (A or B)");
            }
        }
        controllers = List.copyOf(v);
        return this;
    }
    public String peerLinkAddress() { return peerLinkAddress; }
    /** The peer controller's link address, HOST:PORT (checked here, so that a typo fails before anything starts). */
    public ArrayConfig peerLinkAddress(String v) {
        if (v != null) {
            io.jmpio.netty.HostPort.peer(v);
        }
        peerLinkAddress = v;
        return this;
    }
    public long heartbeatIntervalMillis() { return heartbeatIntervalMillis; }
    public ArrayConfig heartbeatIntervalMillis(long v) { heartbeatIntervalMillis = positive(v, "heartbeat interval"); return this; }
    public long heartbeatTimeoutMillis() { return heartbeatTimeoutMillis; }
    public ArrayConfig heartbeatTimeoutMillis(long v) { heartbeatTimeoutMillis = positive(v, "heartbeat timeout"); return this; }
    public String failback() { return failback; }
    public ArrayConfig failback(String v) {
        if (!v.equals("auto") && !v.equals("manual")) {
            throw new IllegalArgumentException("failback must be auto or manual, got '" + v + "'");
        }
        failback = v;
        return this;
    }
    /** "local": the non-owner answers reads itself under the owner's read lease; "ship": every read is shipped. */
    public String nonOwnerReads() { return nonOwnerReads; }
    public boolean nonOwnerReadsLocal() { return "local".equals(nonOwnerReads); }
    public ArrayConfig nonOwnerReads(String v) {
        if (!"local".equals(v) && !"ship".equals(v)) {
            throw new IllegalArgumentException("non-owner reads must be local or ship, got '" + v + "'");
        }
        nonOwnerReads = v;
        return this;
    }
    public long failbackDelayMillis() { return failbackDelayMillis; }
    public ArrayConfig failbackDelayMillis(long v) { failbackDelayMillis = notNegative(v, "failback delay"); return this; }
    public double autoTransferThreshold() { return autoTransferThreshold; }
    public ArrayConfig autoTransferThreshold(double v) { autoTransferThreshold = v; return this; }
    public long autoTransferWindowMillis() { return autoTransferWindowMillis; }
    public ArrayConfig autoTransferWindowMillis(long v) { autoTransferWindowMillis = positive(v, "auto-transfer window"); return this; }
    public long autoTransferMinIos() { return autoTransferMinIos; }
    public ArrayConfig autoTransferMinIos(long v) { autoTransferMinIos = notNegative(v, "auto-transfer minimum I/Os"); return this; }
    public int linkChannels() { return linkChannels; }
    public ArrayConfig linkChannels(int v) {
        if (v < 1 || v > 16) {
            throw new IllegalArgumentException("link data channels must be 1..16, got " + v);
        }
        linkChannels = v;
        return this;
    }
    public long writeCacheBytes() { return writeCacheBytes; }
    public ArrayConfig writeCacheBytes(long v) { writeCacheBytes = positive(v, "write cache size"); return this; }
    public long readCacheBytes() { return readCacheBytes; }
    public ArrayConfig readCacheBytes(long v) { readCacheBytes = positive(v, "read cache size"); return this; }
    public long destageIntervalMillis() { return destageIntervalMillis; }
    public ArrayConfig destageIntervalMillis(long v) { destageIntervalMillis = positive(v, "destage interval"); return this; }
    public int eventLoopThreads() { return eventLoopThreads; }
    public ArrayConfig eventLoopThreads(int v) { eventLoopThreads = (int) positive(v, "event loop threads"); return this; }

    /**
     * Checks what no single setting can: a heartbeat timeout shorter than two heartbeat intervals declares a
     * healthy peer dead between two of its heartbeats, and every such miss is a takeover nobody asked for.
     */
    public ArrayConfig validate() {
        if (heartbeatTimeoutMillis < 2 * heartbeatIntervalMillis) {
            throw new IllegalArgumentException("heartbeat timeout (" + heartbeatTimeoutMillis + " ms) must be at least twice"
                + " the heartbeat interval (" + heartbeatIntervalMillis + " ms): a live peer would be declared dead"
                + " between two of its heartbeats");
        }
        localAddress("front-end listen address (--listen)", listenAddress);
        localAddress("admin listen address (--admin-listen)", adminListenAddress);
        localAddress("link listen address (--link-listen)", linkListenAddress);
        return this;
    }

    /**
     * A listen address must be one this host has (or the wildcard): checked before the data directory is touched,
     * so that a typo fails naming the setting rather than after LUNs were made, as a bind error.
     */
    private static void localAddress(String what, String host) {
        String shown = io.jmpio.netty.PeerText.printable(host);
        java.net.InetAddress a;
        try {
            io.jmpio.netty.HostPort.check((host.contains(":") ? "[" + host + "]" : host) + ":1"); // no lookup of garbage
            a = java.net.InetAddress.getByName(host);
        } catch (IllegalArgumentException | java.net.UnknownHostException e) {
            throw new IllegalArgumentException(what + " '" + shown + "' is not an address or a name that resolves");
        }
        try {
            if (!a.isAnyLocalAddress() && !a.isLoopbackAddress() && java.net.NetworkInterface.getByInetAddress(a) == null) {
                throw new IllegalArgumentException(what + " '" + shown + "' (" + a.getHostAddress()
                    + ") is not an address of this host");
            }
        } catch (java.net.SocketException e) {
            throw new IllegalArgumentException(what + " '" + shown + "': cannot list this host's addresses: "
                + io.jmpio.netty.FailureText.of(e));
        }
    }

    private static long notNegative(long v, String what) {
        if (v < 0) {
            throw new IllegalArgumentException(what + " must not be negative, got " + v);
        }
        return v;
    }

    private static long positive(long v, String what) {
        if (v <= 0) {
            throw new IllegalArgumentException(what + " must be positive, got " + v);
        }
        return v;
    }

    /** The peer of a controller of the pair. */
    public static String peerOf(String id) {
        return id.equals(PAIR.get(0)) ? PAIR.get(1) : PAIR.get(0);
    }

    /** Port block of a controller: admin at +0, link at +1, front-end ports from +2 (0 = ephemeral). */
    public int portFor(String controller, int offset) {
        if (basePort == 0) {
            return 0;
        }
        return basePort + PAIR.indexOf(controller) * 10 + offset;
    }
}
