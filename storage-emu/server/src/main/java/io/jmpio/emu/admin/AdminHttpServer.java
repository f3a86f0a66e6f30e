package io.jmpio.emu.admin;

import io.jmpio.netty.FailureText;
import io.jmpio.netty.NettyTransport;
import io.jmpio.netty.PeerText;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side of an admin endpoint: who may ask, and how much they may cost. Every request needs
 * {@code Authorization: Bearer TOKEN}; requests a browser page could send (any {@code Origin}, a
 * cross-site {@code Sec-Fetch-Site}, a {@code Host} that is a DNS name other than localhost) are refused,
 * so a web page can neither drive the endpoint nor read from it through DNS rebinding. Requests are
 * read by the event loop up to a size limit and within a deadline, so a slow or endless client holds no
 * worker; complete requests run on small bounded pools, one for reads and one for changes, so a slow
 * change never delays a status query; a full pool answers 503 at once. One request per connection.
 */
final class AdminHttpServer {
    private static final Logger LOG = LoggerFactory.getLogger(AdminHttpServer.class);

    /** Largest request body accepted (JSON documents of a few hundred bytes are all the routes take). */
    static final int MAX_BODY = 64 << 10;
    /** A connection must deliver its whole request within this time. */
    static final long REQUEST_DEADLINE_MILLIS = 10_000;
    /** Connections held at once; more are closed on accept. */
    static final int MAX_CONNECTIONS = 64;
    /** IPv4 literal, bracketed IPv6 literal or localhost, with an optional port: what a Host header may name. */
    private static final Pattern LOCAL_HOST = Pattern.compile(
        "(?:localhost|[0-9]{1,3}(?:\\.[0-9]{1,3}){3}|\\[[0-9A-Fa-f:.]+\\])(?::[0-9]{1,5})?", Pattern.CASE_INSENSITIVE);

    /** A request that passed the checks, and its answer. */
    interface Handler {
        /** Runs on a worker thread; returns the HTTP status and JSON body. */
        Answer handle(String method, String path, byte[] body, boolean forwarded);
    }

    record Answer(int status, byte[] json) {
    }

    private final String controllerId;
    private final byte[] token;
    private final Handler handler;
    private final ExecutorService readers;
    private final ExecutorService writers;
    private final AtomicInteger connections = new AtomicInteger();
    /** Connections whose request has not arrived whole yet, oldest first. */
    private final java.util.concurrent.ConcurrentLinkedDeque<Channel> waiting = new java.util.concurrent.ConcurrentLinkedDeque<>();
    private final Channel server;

    AdminHttpServer(String controllerId, NettyTransport transport, String host, int port, byte[] token, Handler handler)
            throws IOException {
        this.controllerId = controllerId;
        this.token = token.clone();
        this.handler = handler;
        this.readers = pool("jmpio-" + controllerId + "-admin-read", 2, 16);
        this.writers = pool("jmpio-" + controllerId + "-admin-change", 2, 16);
        ChannelFuture f = new ServerBootstrap().group(transport.group()).channel(transport.serverChannelClass())
            .option(ChannelOption.SO_REUSEADDR, true)
            .childHandler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    if (connections.incrementAndGet() > MAX_CONNECTIONS) {
                        // full: the oldest connection still sending its request makes room, so a crowd of slow
                        // clients delays a new one by nothing
                        Channel oldest = waiting.poll();
                        if (oldest == null) {
                            connections.decrementAndGet();
                            LOG.warn("controller {} admin: {} requests in progress; refusing {}", controllerId,
                                MAX_CONNECTIONS, ch.remoteAddress());
                            ch.close();
                            return;
                        }
                        LOG.info("controller {} admin: {} connections open; closing the oldest unfinished one ({})",
                            controllerId, MAX_CONNECTIONS, oldest.remoteAddress());
                        oldest.close();
                    }
                    waiting.add(ch);
                    ch.closeFuture().addListener(c -> {
                        connections.decrementAndGet();
                        waiting.remove(ch);
                    });
                    ch.pipeline().addLast(new HttpServerCodec(4096, 8192, 8192), new HttpObjectAggregator(MAX_BODY),
                        new RequestHandler());
                }
            })
            .bind(new InetSocketAddress(host, port)).awaitUninterruptibly();
        if (!f.isSuccess()) {
            readers.shutdownNow();
            writers.shutdownNow();
            throw new IOException("controller " + controllerId + ": cannot listen for admin requests on " + host + ":"
                + port + ": " + FailureText.of(f.cause()), f.cause());
        }
        server = f.channel();
    }

    private static ExecutorService pool(String name, int threads, int queue) {
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor p = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(queue), r -> {
                Thread t = new Thread(r, name + "-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            }, new ThreadPoolExecutor.AbortPolicy());
        p.allowCoreThreadTimeOut(true);
        return p;
    }

    InetSocketAddress address() {
        return (InetSocketAddress) server.localAddress();
    }

    void stop() {
        server.close().awaitUninterruptibly();
        readers.shutdownNow();
        writers.shutdownNow();
    }

    /** Why a request is refused before it is looked at (400/403/401/415, then the reason), or null. */
    private String refusal(FullHttpRequest req) {
        if (!req.uri().startsWith("/")) {
            // absolute-form (a proxy's request) or asterisk-form: the authority in it would override Host
            return "400 request target '" + PeerText.printable(req.uri()) + "' is not a path (this is no proxy)";
        }
        for (CharSequence once : new CharSequence[] {HttpHeaderNames.HOST, HttpHeaderNames.ORIGIN,
            HttpHeaderNames.AUTHORIZATION, HttpHeaderNames.CONTENT_TYPE, "Sec-Fetch-Site"}) {
            if (req.headers().getAll(once).size() > 1) {
                // which copy a check reads and which one something else believes must never differ
                return "400 more than one " + once + " header";
            }
        }
        String host = req.headers().get(HttpHeaderNames.HOST);
        if (host == null || !LOCAL_HOST.matcher(host).matches()) {
            return "403 Host '" + PeerText.printable(host) + "' is not an address of this endpoint (use an IP address or "
                + "localhost; DNS names are refused so a web page cannot reach the endpoint by rebinding one)";
        }
        if (req.headers().contains(HttpHeaderNames.ORIGIN)) {
            return "403 cross-origin request from '" + PeerText.printable(req.headers().get(HttpHeaderNames.ORIGIN))
                + "' refused: the admin endpoint is not for web pages";
        }
        String site = req.headers().get("Sec-Fetch-Site");
        if (site != null && !site.equals("none") && !site.equals("same-origin")) {
            return "403 request from a web page (Sec-Fetch-Site: " + PeerText.printable(site) + ") refused";
        }
        String auth = req.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (auth == null || !auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return "401 no admin token: send 'Authorization: Bearer TOKEN' with the token from the array's "
                + "admin.token file";
        }
        byte[] given = auth.substring(7).strip().getBytes(StandardCharsets.US_ASCII);
        if (!MessageDigest.isEqual(given, token)) {
            return "401 wrong admin token";
        }
        if (req.content().isReadable()) {
            String type = req.headers().get(HttpHeaderNames.CONTENT_TYPE);
            if (type == null || !type.toLowerCase().startsWith("application/json")) {
                return "415 request bodies must be application/json";
            }
        }
        return null;
    }

    private final class RequestHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
        private ScheduledFuture<?> deadline;

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            deadline = ctx.executor().schedule(() -> {
                LOG.info("controller {} admin: {} sent no complete request within {} ms; closing", controllerId,
                    ctx.channel().remoteAddress(), REQUEST_DEADLINE_MILLIS);
                ctx.close();
            }, REQUEST_DEADLINE_MILLIS, TimeUnit.MILLISECONDS);
            super.channelActive(ctx);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            if (deadline != null) {
                deadline.cancel(false);
            }
            super.channelInactive(ctx);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            deadline.cancel(false);
            waiting.remove(ctx.channel());
            ctx.channel().config().setAutoRead(false); // one request per connection
            if (!req.decoderResult().isSuccess()) {
                respond(ctx, 400, error("malformed HTTP request: " + FailureText.of(req.decoderResult().cause())));
                return;
            }
            String refused = refusal(req);
            if (refused != null) {
                LOG.warn("controller {} admin: refused {} {} from {}: {}", controllerId, req.method(),
                    PeerText.printable(req.uri()), ctx.channel().remoteAddress(), refused.substring(4));
                respond(ctx, Integer.parseInt(refused.substring(0, 3)), error(refused.substring(4)));
                return;
            }
            String method = req.method().name();
            String path = req.uri();
            byte[] body = new byte[req.content().readableBytes()];
            req.content().readBytes(body);
            boolean forwarded = req.headers().contains(AdminServer.FORWARDED);
            ExecutorService pool = method.equals("GET") ? readers : writers;
            try {
                pool.execute(() -> {
                    Answer a;
                    try {
                        a = handler.handle(method, path, body, forwarded);
                    } catch (RuntimeException e) {
                        LOG.error("controller {} admin: {} {} failed", controllerId, method, path, e);
                        a = new Answer(500, error(String.valueOf(e)));
                    }
                    Answer answer = a;
                    ctx.executor().execute(() -> respond(ctx, answer.status(), answer.json()));
                });
            } catch (RejectedExecutionException e) {
                respond(ctx, 503, error("controller " + controllerId + " admin endpoint is busy; try again"));
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.debug("controller {} admin: connection error: {}", controllerId, cause.toString());
            ctx.close();
        }
    }

    static byte[] error(String message) {
        return ("{\"error\":" + quote(message) + "}").getBytes(StandardCharsets.UTF_8);
    }

    private static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    private static void respond(ChannelHandlerContext ctx, int status, byte[] json) {
        ByteBuf content = Unpooled.wrappedBuffer(json);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status),
            content);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
            .setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes())
            .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
            .set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        if (status == 401) {
            r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"jmpio-emu\"");
        }
        ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    }
}
