package io.jmpio.emu.link;

import io.jmpio.netty.FailureText;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first handler of every link connection: mutual challenge/response with the array's shared secret.
 * Nothing else on the connection is read or sent before both ends have proved they hold the secret; a
 * connection that fails, or does not finish within the timeout, is closed.
 *
 * <pre>
 *  CHALLENGE (40 bytes, each end sends one as soon as the connection is up):
 *  +---------------------------------------------------------------+
 *  |                    magic 'JMPK' (u32 LE)                      |  0
 *  +---------------+---------------+-------------------------------+
 *  | version (u8)  |   role (u8)   |         reserved (u16)        |  4
 *  +---------------+---------------+-------------------------------+
 *  |              nonce (32 random bytes, fresh per connection)    |  8
 *  +---------------------------------------------------------------+
 *  PROOF (32 bytes, sent once the peer's challenge is in):
 *  +---------------------------------------------------------------+
 *  |  HMAC-SHA256(secret, "jmpio-link-v1" | role | own nonce | peer nonce)  |  0
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * Role is 0 for the dialing end and 1 for the accepting end; a challenge with the receiver's own role is
 * refused, so a proof cannot be reflected back to its author. Each proof covers both fresh nonces, so one
 * recorded from an earlier connection proves nothing on a new one.
 */
final class LinkAuthenticator extends ByteToMessageDecoder {
    private static final Logger LOG = LoggerFactory.getLogger(LinkAuthenticator.class);

    /** "JMPK" read as a little-endian u32 (not the front end's "JMPA": a host frame sent here fails at once). */
    static final int MAGIC = 0x4B504D4A;
    static final int VERSION = 1;
    static final int ROLE_DIALER = 0;
    static final int ROLE_ACCEPTOR = 1;
    static final int NONCE_LENGTH = 32;
    static final int CHALLENGE_LENGTH = 8 + NONCE_LENGTH;
    static final int MAGIC_OFFSET = 0;
    static final int VERSION_OFFSET = 4;
    static final int ROLE_OFFSET = 5;
    static final int NONCE_OFFSET = 8;
    static final int PROOF_LENGTH = 32;
    private static final byte[] LABEL = "jmpio-link-v1".getBytes(StandardCharsets.US_ASCII);
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Fired down the pipeline once both ends are proven; the link's codec is in place by then. */
    static final Object AUTHENTICATED = "jmpio.link.authenticated";

    /** What the pipeline becomes once authenticated. */
    interface Next {
        void install(ChannelHandlerContext ctx);
    }

    private final byte[] secret;
    private final int role;
    private final long timeoutMillis;
    private final Next next;
    private final byte[] ownNonce = new byte[NONCE_LENGTH];
    private byte[] peerNonce;
    private ScheduledFuture<?> timeout;
    private boolean done;

    LinkAuthenticator(byte[] secret, boolean dialer, long timeoutMillis, Next next) {
        this.secret = secret;
        this.role = dialer ? ROLE_DIALER : ROLE_ACCEPTOR;
        this.timeoutMillis = timeoutMillis;
        this.next = next;
        RANDOM.nextBytes(ownNonce);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        ByteBuf c = ctx.alloc().buffer(CHALLENGE_LENGTH);
        c.writeIntLE(MAGIC).writeByte(VERSION).writeByte(role).writeShortLE(0).writeBytes(ownNonce);
        ctx.writeAndFlush(c);
        timeout = ctx.executor().schedule(() -> {
            if (!done) {
                LOG.warn("link: {} did not authenticate within {} ms; closing the connection",
                    ctx.channel().remoteAddress(), timeoutMillis);
                ctx.close();
            }
        }, timeoutMillis, TimeUnit.MILLISECONDS);
        super.channelActive(ctx);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (done) {
            return;
        }
        if (peerNonce == null) {
            if (in.readableBytes() < CHALLENGE_LENGTH) {
                return;
            }
            int base = in.readerIndex();
            int magic = in.getIntLE(base + MAGIC_OFFSET);
            int version = in.getUnsignedByte(base + VERSION_OFFSET);
            int peerRole = in.getUnsignedByte(base + ROLE_OFFSET);
            if (magic != MAGIC) {
                refuse(ctx, String.format("it does not speak the authenticated link (magic 0x%08x)", magic));
                return;
            }
            if (version != VERSION) {
                refuse(ctx, "it speaks link authentication version " + version + ", this controller " + VERSION);
                return;
            }
            if (peerRole == role || peerRole > ROLE_ACCEPTOR) {
                refuse(ctx, "its challenge claims role " + peerRole + " (a reflected or forged challenge)");
                return;
            }
            peerNonce = new byte[NONCE_LENGTH];
            in.getBytes(base + NONCE_OFFSET, peerNonce);
            in.skipBytes(CHALLENGE_LENGTH);
            if (MessageDigest.isEqual(peerNonce, ownNonce)) {
                refuse(ctx, "it echoed this end's nonce");
                return;
            }
            ctx.writeAndFlush(ctx.alloc().buffer(PROOF_LENGTH).writeBytes(proof(role, ownNonce, peerNonce)));
        }
        if (in.readableBytes() < PROOF_LENGTH) {
            return;
        }
        byte[] got = new byte[PROOF_LENGTH];
        in.readBytes(got);
        byte[] expected = proof(1 - role, peerNonce, ownNonce);
        if (!MessageDigest.isEqual(got, expected)) {
            refuse(ctx, "its proof does not match (wrong secret, or a replayed exchange)");
            return;
        }
        done = true;
        if (timeout != null) {
            timeout.cancel(false);
        }
        next.install(ctx);
        ctx.fireUserEventTriggered(AUTHENTICATED);
        ctx.pipeline().remove(this); // hands whatever followed the proof to the codec
    }

    private void refuse(ChannelHandlerContext ctx, String why) {
        done = true;
        LOG.warn("link: connection with {} refused: {}", ctx.channel().remoteAddress(), why);
        ctx.close();
    }

    private byte[] proof(int proverRole, byte[] proverNonce, byte[] verifierNonce) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            mac.update(LABEL);
            mac.update((byte) proverRole);
            mac.update(proverNonce);
            mac.update(verifierNonce);
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Throwable c = cause.getCause() != null ? cause.getCause() : cause;
        LOG.warn("link: connection with {} failed before authentication: {}", ctx.channel().remoteAddress(),
            FailureText.of(c));
        ctx.close();
    }
}
