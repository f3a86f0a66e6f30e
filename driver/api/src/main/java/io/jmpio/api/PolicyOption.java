package io.jmpio.api;

/** One option a plugin (balancing policy or kernel bridge) takes: name, default value (as text), and what it does. */
public record PolicyOption(String name, String defaultValue, String description) {
}
