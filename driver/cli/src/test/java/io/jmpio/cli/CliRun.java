package io.jmpio.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;

/** One {@code jmpio} command line run in the test JVM, with its exit status and captured output. */
public record CliRun(int code, String out, String err) {
    public static synchronized CliRun run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true));
            System.setErr(new PrintStream(err, true));
            int code = Jmpio.run(args);
            return new CliRun(code, out.toString(), err.toString());
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }
}
