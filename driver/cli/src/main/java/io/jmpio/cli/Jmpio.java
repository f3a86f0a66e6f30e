package io.jmpio.cli;

import io.jmpio.netty.FailureText;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** Entry point of {@code bin/jmpio}. Usage errors (unknown commands or options) exit with 2. */
@Command(name = "jmpio", mixinStandardHelpOptions = true, version = "jmpio 0.1.0",
    description = "A userspace multipath block driver, and a controller-pair array emulator to run it against.",
    subcommands = {HostCommands.Attach.class, HostCommands.Status.class, HostCommands.Policy.class,
        HostCommands.PathCommand.class, HostCommands.FailbackCommand.class, HostCommands.Detach.class,
        HostCommands.PoliciesCommand.class, HostCommands.BridgesCommand.class})
public final class Jmpio implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command");
    }

    public static void main(String[] args) {
        // Netty's leak detector records a stack trace for about one buffer in a hundred: per I/O work a storage
        // daemon should not pay in production (the tests keep it on; -Dio.netty.leakDetection.level turns it on)
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            System.setProperty("io.netty.leakDetection.level", "disabled");
        }
        System.exit(run(args));
    }

    /** Runs a command line; returns the exit status. */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Jmpio());
        for (CommandPlugin plugin : java.util.ServiceLoader.load(CommandPlugin.class)) {
            for (Object command : plugin.commands()) {
                cl.addSubcommand(command);
            }
        }
        cl.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("jmpio: " + FailureText.of(e));
            return 1;
        });
        cl.setParameterExceptionHandler((e, a) -> {
            CommandLine cmd = e.getCommandLine();
            cmd.getErr().println("jmpio: " + FailureText.of(e));
            cmd.usage(cmd.getErr());
            return CommandLine.ExitCode.USAGE;
        });
        return cl.execute(args);
    }
}
