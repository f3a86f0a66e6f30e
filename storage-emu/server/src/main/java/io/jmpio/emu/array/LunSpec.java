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

    /** "4096", "512K", "1G", "1.5T" (binary multiples). */
    public static long parseSize(String s) {
        String t = s.trim().toUpperCase(Locale.ROOT);
        if (t.endsWith("B") && t.length() > 1 && !Character.isDigit(t.charAt(t.length() - 2))) {
            t = t.substring(0, t.length() - 1);
        } else if (t.endsWith("IB")) {
            t = t.substring(0, t.length() - 2);
        }
        long mult = 1;
        if (!t.isEmpty()) {
            switch (t.charAt(t.length() - 1)) {
                case 'K': mult = 1L << 10; break;
                case 'M': mult = 1L << 20; break;
                case 'G': mult = 1L << 30; break;
                case 'T': mult = 1L << 40; break;
                default: mult = 1;
            }
        }
        String num = mult == 1 ? t : t.substring(0, t.length() - 1);
        try {
            double v = Double.parseDouble(num);
            if (v <= 0 || Double.isNaN(v) || Double.isInfinite(v)) {
                throw new NumberFormatException();
            }
            return (long) (v * mult);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad size '" + s + "': expected a number with an optional K, M, G or T suffix");
        }
    }
}
