//SOURCES Cli.java
package ccci;

import java.lang.reflect.Proxy;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * SIGINT (Ctrl-C) and SIGTERM: which one stops the run, so that the summary a shutdown hook prints
 * carries the process's real exit code (130 or 143), and one final report, printed either by the
 * run at its end or by the hook, never both.
 */
public final class Signals {
    private Signals() {}

    /** The signal that stopped the run and the exit code the process ends with. */
    public record Stop(String name, int exitCode) {}

    private static volatile Stop received;
    private static boolean installed;

    /**
     * Records which signal arrives, then exits as the JVM itself would (128 + its number), which runs
     * the shutdown hooks. sun.misc.Signal is reached by reflection: a direct use makes javac warn on
     * every first run of a script. Where it is missing, the JVM's own handling stays (hooks run, but
     * cannot name the signal).
     */
    public static synchronized void install() {
        if (installed) {
            return;
        }
        installed = true;
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
            for (String[] s : new String[][] {{"INT", "SIGINT"}, {"TERM", "SIGTERM"}}) {
                int code = s[0].equals("INT") ? Cli.ExitCodes.SIGINT : Cli.ExitCodes.SIGTERM;
                Object handler = Proxy.newProxyInstance(Signals.class.getClassLoader(), new Class<?>[] {handlerType},
                        (proxy, method, args) -> switch (method.getName()) {
                            case "handle" -> {
                                received = new Stop(s[1], code);
                                System.exit(code); // runs the hooks; never called from a hook itself
                                yield null;
                            }
                            case "hashCode" -> System.identityHashCode(proxy);
                            case "equals" -> proxy == args[0];
                            default -> "Signals handler for " + s[1];
                        });
                signal.getMethod("handle", signal, handlerType)
                        .invoke(null, signal.getConstructor(String.class).newInstance(s[0]), handler);
            }
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            // e.g. the signal is ignored (nohup) or reserved (-Xrs): the JVM's default handling stays
        }
    }

    /** The signal that is stopping the run, if one arrived. */
    public static Optional<Stop> received() {
        return Optional.ofNullable(received);
    }

    /**
     * Runs {@code action} in a shutdown hook when a signal (not the run's own end) stops the JVM,
     * unless the run claimed the report first. The action must not call System.exit.
     */
    public static Report onSignal(Consumer<Stop> action) {
        return new Report(action);
    }

    /** One run's final report: printed once, by the run ({@link #claim}) or by the hook after a signal. */
    public static final class Report implements AutoCloseable {
        private final AtomicBoolean claimed = new AtomicBoolean();
        private final Thread hook;

        private Report(Consumer<Stop> action) {
            hook = new Thread(() -> {
                Stop stop = received;
                if (stop != null && claimed.compareAndSet(false, true)) {
                    action.accept(stop);
                }
            }, "ccci-signal-report");
            Runtime.getRuntime().addShutdownHook(hook);
        }

        /**
         * The run's claim to print its own report. After a signal the hook owns it: then this blocks
         * for good (the hook prints, the JVM halts), so the run never prints a second, wrong one.
         */
        public void claim() {
            if (!claimed.compareAndSet(false, true)) {
                stopHereIfSignalled();
            }
        }

        /** The run ended: no hook is needed any more. */
        @Override
        public void close() {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // a signal arrived: the hook runs
            }
        }
    }

    /** Blocks the calling thread for good once a signal arrived: the hook reports, then the JVM halts. */
    public static void stopHereIfSignalled() {
        while (received != null) {
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
