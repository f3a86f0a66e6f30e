package io.jmpio.core;

import java.util.regex.Pattern;

/** Durations typed in seconds ("30", "1.5", "0.25"): read to the millisecond, refused rather than rounded or clamped. */
final class Seconds {
    /** Up to a million seconds (11.5 days), to the millisecond. */
    private static final Pattern SECONDS = Pattern.compile("([0-9]{1,7})(?:\\.([0-9]{1,3}))?");

    private Seconds() {
    }

    /** The milliseconds in {@code text}, or -1 when it is not such a number of seconds. */
    static long millis(String text) {
        var m = SECONDS.matcher(text);
        if (!m.matches()) {
            return -1;
        }
        String frac = m.group(2) == null ? "" : m.group(2);
        return Long.parseLong(m.group(1)) * 1000 + (frac.isEmpty() ? 0 : Long.parseLong((frac + "00").substring(0, 3)));
    }
}
