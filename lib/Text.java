package ccci;

import java.nio.file.attribute.BasicFileAttributes;
import java.util.Locale;

/**
 * The one text helper every command shares: summary lines, one-line messages, sizes, and text from
 * the engine (or any other untrusted source) made safe for a terminal.
 */
public final class Text {
    private Text() {}

    /** One journald-friendly line: "summary key=value key="value with spaces" ...". */
    public static final class Summary {
        private final StringBuilder line = new StringBuilder("summary");

        public Summary put(String key, Object value) {
            String text = safe(String.valueOf(value));
            line.append(' ').append(key).append('=')
                    .append(text.matches("[^\\s\"]+") ? text : "\"" + text.replace("\"", "'") + "\"");
            return this;
        }

        @Override
        public String toString() {
            return line.toString();
        }
    }

    /** Gauges in node_exporter's textfile format, every name under one prefix: # HELP, # TYPE, then the samples. */
    public static final class Gauges {
        private final String prefix;
        private final StringBuilder out = new StringBuilder();

        public Gauges(String prefix) {
            this.prefix = prefix;
        }

        /** A gauge with one sample; labels as {@code {key="value"}}, or empty. */
        public Gauges gauge(String name, String help, String labels, Object value) {
            return help(name, help).sample(name, labels, value);
        }

        public Gauges help(String name, String help) {
            out.append("# HELP ").append(prefix).append(name).append(' ').append(help).append('\n');
            out.append("# TYPE ").append(prefix).append(name).append(" gauge\n");
            return this;
        }

        public Gauges sample(String name, String labels, Object value) {
            out.append(prefix).append(name).append(labels).append(' ').append(value).append('\n');
            return this;
        }

        @Override
        public String toString() {
            return out.toString();
        }
    }

    /** Lines of output, each ended by the platform's line separator. */
    public static final class Lines {
        private final StringBuilder out = new StringBuilder();

        public Lines add(String line) {
            out.append(line).append(System.lineSeparator());
            return this;
        }

        @Override
        public String toString() {
            return out.toString();
        }
    }

    /** The first line of a text, stripped. */
    public static String firstLine(String text) {
        String line = text.strip();
        int newline = line.indexOf('\n');
        return newline < 0 ? line : line.substring(0, newline).strip();
    }

    /** The innermost non-blank message of an exception's causes, on one line (else its class name). */
    public static String rootMessage(Throwable e) {
        Throwable t = e;
        String message = null;
        while (t != null) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                message = t.getMessage();
            }
            t = t.getCause();
        }
        return firstLine(message != null ? message : e.getClass().getSimpleName());
    }

    /** A size in the units docker prints (powers of 1000): 512 B, 1.5 kB, 12.6 MB, 1.2 GB. */
    public static String bytes(long n) {
        if (n < 1000) return n + " B";
        String[] units = {"kB", "MB", "GB", "TB", "PB"};
        double v = n;
        int u = -1;
        do {
            v /= 1000;
            u++;
        } while (v >= 999.95 && u < units.length - 1);
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    /**
     * Untrusted text (names, labels, tags, messages from the engine) made safe to print: control
     * characters (C0 with ESC, CR and LF, DEL, C1), line and paragraph separators and bidirectional
     * overrides become visible escapes (\n, \r, \t, \xNN, \\uNNNN), so no escape sequence reaches
     * the terminal and one object stays on one line. Every engine-supplied string in text output
     * goes through here.
     */
    public static String safe(String text) {
        if (text == null) {
            return null;
        }
        StringBuilder out = null;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            String escaped = escape(c);
            if (escaped != null && out == null) {
                out = new StringBuilder(text.length() + 16).append(text, 0, i);
            }
            if (escaped != null) {
                out.append(escaped);
            } else if (out != null) {
                out.append(c);
            }
        }
        return out == null ? text : out.toString();
    }

    private static String escape(char c) {
        if (c == '\n') return "\\n";
        if (c == '\r') return "\\r";
        if (c == '\t') return "\\t";
        if (c < 0x20 || (c >= 0x7f && c < 0xa0)) {
            return String.format(Locale.ROOT, "\\x%02x", (int) c);
        }
        if (c == '\u2028' || c == '\u2029' || (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069')) {
            return String.format(Locale.ROOT, "\\u%04x", (int) c);
        }
        return null;
    }

    /** What a file is, for a message: "a directory", "a symbolic link", "a FIFO, socket or device"... */
    public static String fileKind(BasicFileAttributes a) {
        if (a.isDirectory()) return "a directory";
        if (a.isSymbolicLink()) return "a symbolic link";
        if (a.isRegularFile()) return "a regular file";
        return "a FIFO, socket or device";
    }

    /** "1 layer", "2 layers". */
    public static String count(long n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }

    /** At most width characters, starting with an ellipsis when cut: keeps the end (an image's tag). */
    /** The first exception of {@code type} among e and its causes, or null. */
    public static <T extends Throwable> T causeOf(Throwable e, Class<T> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    /** An image or object ID the short way the docker CLI prints it: the first 12 hex digits. */
    public static String shortId(String id) {
        String hex = id.replaceFirst("^sha256:", "");
        return hex.substring(0, Math.min(12, hex.length()));
    }

    public static String clipStart(String s, int width) {
        return s.length() <= width ? s : "\u2026" + s.substring(s.length() - width + 1);
    }

    /** At most width characters, ending in an ellipsis when cut. */
    public static String clip(String s, int width) {
        return s.length() <= width ? s : s.substring(0, width - 1) + "\u2026";
    }
}
