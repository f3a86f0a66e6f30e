package io.jmpio.policies;

import java.util.Map;

/** Parsing of policy option values, with errors that name the option. */
final class Options {
    private Options() {
    }

    static double fraction(Map<String, String> options, String name, double dflt) {
        String v = options.get(name);
        if (v == null) {
            return dflt;
        }
        try {
            double d = Double.parseDouble(v.trim());
            if (!(d > 0 && d <= 1)) {
                throw new IllegalArgumentException("option " + name + " must be within (0, 1], got " + v);
            }
            return d;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option " + name + " must be a number, got '" + v + "'");
        }
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
