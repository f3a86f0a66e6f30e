package io.jmpio.bridge.nbd;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs real client programs (nbdinfo, nbdcopy, qemu-img, fio); a missing one fails the test naming its package. */
final class Tools {
    private Tools() {
    }

    record Result(int code, String output) {
    }

    static Result run(long timeoutSeconds, String... command) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(Arrays.asList(command));
        // the output goes to a file, not a pipe read to its end first: a client that hangs must hit the timeout
        java.nio.file.Path log = java.nio.file.Files.createTempFile("jmpio-tool", ".out");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
            Process p;
            try {
                p = pb.start();
            } catch (IOException e) {
                fail(command[0] + " is not installed (Debian: nbdkit libnbd-bin qemu-utils fio; .ci/run installs them): " + e.getMessage());
                throw e;
            }
            p.getOutputStream().close();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail(String.join(" ", cmd) + " did not finish in " + timeoutSeconds + " s:\n" + text(log));
            }
            return new Result(p.exitValue(), text(log));
        } finally {
            java.nio.file.Files.deleteIfExists(log);
        }
    }

    private static String text(java.nio.file.Path file) throws IOException {
        return new String(java.nio.file.Files.readAllBytes(file), StandardCharsets.UTF_8);
    }

    static String ok(long timeoutSeconds, String... command) throws IOException, InterruptedException {
        Result r = run(timeoutSeconds, command);
        if (r.code() != 0) {
            fail(String.join(" ", command) + " exited " + r.code() + ":\n" + r.output());
        }
        return r.output();
    }
}
