package io.jmpio.api;

/** One option a balancing policy takes: name, default value (as text), and what it does. */
public record PolicyOption(String name, String defaultValue, String description) {
}
