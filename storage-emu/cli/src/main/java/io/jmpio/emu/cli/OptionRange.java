package io.jmpio.emu.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/** A numeric option checked before a command starts anything: out of range, it is refused naming option and value. */
final class OptionRange {
    private OptionRange() {
    }

    static void check(CommandSpec spec, String option, long value, long min, long max) {
        if (value < min || value > max) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                option + " must be within " + min + ".." + max + ", got " + value);
        }
    }
}
