package io.jmpio.policies;

import java.util.Map;

/** Parsing of policy option values, with errors that name the option. */
final class Options {
    private Options() {
    }

    static long positiveLong(Map<String, String> options, String name, long dflt) {
        String v = options.get(name);
        if (v == null) {
            return dflt;
        }
        try {
            long n = Long.parseLong(v.trim());
            if (n <= 0) {
                throw new IllegalArgumentException("option " + name + " must be positive, got " + v);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option " + name + " must be a whole number, got '" + v + "'");
        }
    }
}
