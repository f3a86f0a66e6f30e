package io.jmpio.bridge.fuse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A loop device over the FUSE file, through util-linux {@code losetup}: attach with direct I/O, detach. */
final class LoopDevice {
    private static final Logger LOG = LoggerFactory.getLogger(LoopDevice.class);
    private final String path;
    private final boolean directIo;

    private LoopDevice(String path, boolean directIo) {
        this.path = path;
        this.directIo = directIo;
    }

    String path() {
        return path;
    }

    boolean directIo() {
        return directIo;
    }

    static LoopDevice attach(Path file) throws IOException {
        Result r = run("losetup", "--find", "--show", "--direct-io=on", file.toString());
        if (r.code == 0) {
            return new LoopDevice(r.output.trim(), true);
        }
        // Direct I/O needs the file system to take O_DIRECT; without it the loop still works, through its page cache.
        LOG.warn("losetup --direct-io=on {} failed ({}); attaching without direct I/O", file, r.output.trim());
        Result plain = run("losetup", "--find", "--show", file.toString());
        if (plain.code != 0) {
            throw new IOException("losetup " + file + " failed: " + plain.output.trim());
        }
        return new LoopDevice(plain.output.trim(), false);
    }

    void detach() {
        try {
            Result r = run("losetup", "--detach", path);
            if (r.code != 0) {
                LOG.warn("losetup --detach {} failed: {}", path, r.output.trim());
            }
        } catch (IOException e) {
            LOG.warn("losetup --detach {}: {}", path, e.toString());
        }
    }

    private record Result(int code, String output) {
    }

    private static Result run(String... cmd) throws IOException {
        Process p;
        try {
            p = new ProcessBuilder(List.of(cmd)).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException(cmd[0] + " not found (install util-linux): " + e.getMessage(), e);
        }
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + " did not finish in 30 s");
            }
            return new Result(p.exitValue(), out);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException("interrupted running " + cmd[0], e);
        }
    }
}
