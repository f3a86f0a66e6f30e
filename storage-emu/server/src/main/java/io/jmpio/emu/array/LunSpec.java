package io.jmpio.emu.array;

import java.util.List;
import java.util.Locale;

/** A LUN to create at start: {@code NAME:SIZE[:OWNER]} on the command line (SIZE with K/M/G/T suffixes). */
public record LunSpec(String name, long bytes, String owner, String backend, List<String> allowedHosts) {
    public static final int BLOCK_SIZE = 512;

    public LunSpec {
        checkName(name);
        if (bytes <= 0 || bytes % BLOCK_SIZE != 0) {
            throw new IllegalArgumentException("LUN size must be a positive multiple of " + BLOCK_SIZE + " bytes, got " + bytes);
        }
        allowedHosts = allowedHosts == null ? List.of() : List.copyOf(allowedHosts);
    }

    public static void checkName(String name) {
        if (name == null || !name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
            String shown = name == null ? "null" : name.replaceAll("[^\\x20-\\x7e]", "?");
            throw new IllegalArgumentException("bad LUN name '" + (shown.length() > 80 ? shown.substring(0, 80) + "..." : shown)
                + "': 1-64 characters of letters, digits, '.', '_' or '-', starting with a letter or digit");
        }
    }

    /** Parses {@code NAME:SIZE[:OWNER]}. */
    public static LunSpec parse(String text, String defaultOwner, String backend) {
        String[] parts = text.split(":", -1);
        if (parts.length < 2 || parts.length > 3) {
            throw new IllegalArgumentException("bad LUN '" + text + "': expected NAME:SIZE[:OWNER], e.g. lun0:1G:A");
        }
        String owner = parts.length == 3 ? parts[2] : defaultOwner;
        return new LunSpec(parts[0], parseSize(parts[1]), owner, backend, List.of());
    }

    /** Digits, an optional fraction, an optional binary multiple (K, M, G, T), an optional B or iB. */
    private static final java.util.regex.Pattern SIZE =
        java.util.regex.Pattern.compile("([0-9]{1,30})(?:\\.([0-9]{1,30}))?\\s*([KMGT]?)(?:I?B)?");

    /**
     * "4096", "512K", "1G", "1.5T" (binary multiples): a positive whole number of bytes that a long holds. Anything
     * else (exponents, signs, hex, a fraction of a byte, a number past 8 EiB) is refused naming what was given,
     * never rounded or clamped into another size.
     */
    public static long parseSize(String s) {
        java.util.regex.Matcher m = SIZE.matcher(s == null ? "" : s.trim().toUpperCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("bad size '" + s + "': expected a number with an optional K, M, G or T suffix");
        }
        int shift = switch (m.group(3)) {
            case "K" -> 10;
            case "M" -> 20;
            case "G" -> 30;
            case "T" -> 40;
            default -> 0;
        };
        java.math.BigDecimal bytes = new java.math.BigDecimal(m.group(1) + (m.group(2) == null ? "" : "." + m.group(2)))
            .multiply(java.math.BigDecimal.valueOf(1L << shift));
        if (bytes.signum() <= 0) {
            throw new IllegalArgumentException("bad size '" + s + "': must be more than 0 bytes");
        }
        try {
            return bytes.longValueExact();
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("bad size '" + s + "': " + (bytes.stripTrailingZeros().scale() > 0
                ? "not a whole number of bytes" : "larger than " + Long.MAX_VALUE + " bytes"));
        }
    }
}
