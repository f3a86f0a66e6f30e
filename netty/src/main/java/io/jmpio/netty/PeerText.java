package io.jmpio.netty;

/**
 * Text a peer sent (an export name, a Host header, a LUN name from a file), made fit for a log line or an error
 * message: anything outside printable ASCII becomes '?', so a peer cannot forge log lines or send escape
 * sequences to an operator's terminal, and it is cut at 80 characters, so it cannot flood the log.
 */
public final class PeerText {
    private static final int MAX = 80;

    private PeerText() {
    }

    public static String printable(String s) {
        if (s == null) {
            return "null";
        }
        String t = s.replaceAll("[^\\x20-\\x7e]", "?");
        return t.length() > MAX ? t.substring(0, MAX) + "..." : t;
    }
}
