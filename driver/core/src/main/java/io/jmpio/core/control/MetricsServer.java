package io.jmpio.core.control;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.jmpio.core.MultipathDevice;
import io.jmpio.emu.protocol.ArrayClient;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The optional HTTP endpoint: {@code GET /metrics} in Prometheus text format, {@code GET /status} as JSON.
 * Binds to loopback addresses only, so statistics never leave the host unless a proxy is put in front.
 */
public final class MetricsServer implements AutoCloseable {
    static {
        // read once by the JDK's HTTP server when its first instance is made: seconds a request may take to
        // arrive and a response to be taken, so a client that stalls cannot hold a worker
        if (System.getProperty("sun.net.httpserver.maxReqTime") == null) {
            System.setProperty("sun.net.httpserver.maxReqTime", "10");
        }
        if (System.getProperty("sun.net.httpserver.maxRspTime") == null) {
            System.setProperty("sun.net.httpserver.maxRspTime", "10");
        }
    }

    private final HttpServer server;

    private MetricsServer(HttpServer server) {
        this.server = server;
    }

    public static MetricsServer start(MultipathDevice device, String listen) throws IOException {
        InetSocketAddress a = ArrayClient.parseAddress(listen);
        if (a.getAddress() == null || !a.getAddress().isLoopbackAddress()) {
            throw new IllegalArgumentException("metrics endpoint must listen on a loopback address, got " + listen);
        }
        HttpServer s = HttpServer.create(a, 16);
        // requests are read and answered on a small pool, not on the thread that accepts connections; the
        // JDK server closes connections whose request or response takes longer than the limits set below
        java.util.concurrent.ThreadPoolExecutor pool = new java.util.concurrent.ThreadPoolExecutor(2, 2, 30,
            java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.ArrayBlockingQueue<>(32), r -> {
                Thread t = new Thread(r, "jmpio-metrics");
                t.setDaemon(true);
                return t;
            }, new java.util.concurrent.ThreadPoolExecutor.DiscardPolicy());
        pool.allowCoreThreadTimeOut(true);
        s.setExecutor(pool);
        s.createContext("/metrics", ex -> answer(ex, 200, "text/plain; version=0.0.4; charset=utf-8", device.prometheus()));
        s.createContext("/status", ex -> answer(ex, 200, "application/json",
            ControlServer.JSON.writeValueAsString(device.status())));
        s.createContext("/", ex -> answer(ex, 404, "text/plain", "not found: try /metrics or /status\n"));
        s.start();
        return new MetricsServer(s);
    }

    private static void answer(HttpExchange ex, int code, String type, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        if (!ex.getRequestMethod().equals("GET")) {
            code = 405;
            b = "only GET\n".getBytes(StandardCharsets.UTF_8);
        }
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(code, b.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
        }
    }

    /** "127.0.0.1:9464" as bound (the port is real when 0 was asked). */
    public String address() {
        return server.getAddress().getHostString() + ":" + server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        if (server.getExecutor() instanceof java.util.concurrent.ExecutorService) {
            ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
        }
    }
}
