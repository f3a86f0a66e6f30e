package io.jmpio.emu.link;

import io.jmpio.emu.security.SecretFile;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.nio.file.Path;

/**
 * How link connections prove who they are: always the array's shared secret (challenge/response, see
 * {@link LinkAuthenticator}); optionally TLS underneath, with both ends presenting a certificate signed by
 * the given authority, which also keeps the link's payloads private on a network others can watch.
 */
public final class LinkSecurity {
    private final byte[] secret;
    private final SslContext serverTls;
    private final SslContext clientTls;

    private LinkSecurity(byte[] secret, SslContext serverTls, SslContext clientTls) {
        if (secret == null || secret.length < 16) {
            throw new IllegalArgumentException("the link secret must be at least 16 bytes");
        }
        this.secret = secret.clone();
        this.serverTls = serverTls;
        this.clientTls = clientTls;
    }

    /** Secret only (the default: both controllers in one process, or on a network only the array uses). */
    public static LinkSecurity secret(byte[] secret) {
        return new LinkSecurity(secret, null, null);
    }

    /**
     * Secret plus mutual TLS: {@code cert} and {@code key} (PEM, key unencrypted PKCS#8) are this controller's,
     * {@code ca} (PEM) the authority both controllers' certificates are signed by.
     */
    public static LinkSecurity withTls(byte[] secret, Path cert, Path key, Path ca) throws IOException {
        for (Path p : new Path[] {cert, key, ca}) {
            if (!p.toFile().isFile()) {
                throw new IOException("link TLS: " + p + " does not exist or is not a file");
            }
        }
        SecretFile.checkPrivate(key, "link TLS private key");
        try {
            SslContext server = SslContextBuilder.forServer(cert.toFile(), key.toFile()).trustManager(ca.toFile())
                .clientAuth(ClientAuth.REQUIRE).build();
            SslContext client = SslContextBuilder.forClient().keyManager(cert.toFile(), key.toFile())
                .trustManager(ca.toFile()).build();
            return new LinkSecurity(secret, server, client);
        } catch (IOException | RuntimeException e) {
            throw new IOException("link TLS: cannot use certificate " + cert + ", key " + key + " and authority " + ca
                + ": " + e.getMessage(), e);
        }
    }

    byte[] secret() {
        return secret;
    }

    SslContext serverTls() {
        return serverTls;
    }

    SslContext clientTls() {
        return clientTls;
    }

    public boolean tls() {
        return serverTls != null;
    }
}
