package dev.ssm4j.train.log;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A one-line training progress display:
 * <pre>
 *   step  120/1000 [###.........................]  12.0% | loss 2.3456 | 12.3k tok/s | ETA 3m12s
 * </pre>
 * On a terminal the line is redrawn in place ({@code \r}) at every update; otherwise (a log file, a
 * pipe, CI) a plain line is printed every {@code every} steps and at the last step. The ETA comes
 * from the average time per step since the first update (so a resumed run estimates from its own
 * steps).
 */
public final class ProgressBar {
    private static final int BAR = 28;
    private final long total;
    private final PrintStream out;
    private final boolean interactive;
    private final int every;
    private final LongSupplier nanoClock;
    private long firstStep = -1;
    private long firstNanos;
    private int lastWidth;

    /**
     * @param total       the step count at the end of training
     * @param out         where to print
     * @param interactive redraw one line with \r (a terminal) or print plain lines
     * @param every       plain mode: print every this many steps (≥ 1)
     * @param nanoClock   time source in nanoseconds (System::nanoTime; tests pass a fake)
     */
    public ProgressBar(long total, PrintStream out, boolean interactive, int every, LongSupplier nanoClock) {
        if (total < 1) throw new IllegalArgumentException("total is " + total + ", expected >= 1");
        if (every < 1) throw new IllegalArgumentException("every is " + every + ", expected >= 1");
        this.total = total;
        this.out = out;
        this.interactive = interactive;
        this.every = every;
        this.nanoClock = nanoClock;
    }

    /** On System.out, interactive when stdout is a terminal. */
    public static ProgressBar forStdout(long total, int every) {
        return new ProgressBar(total, System.out, isTerminal(), every, System::nanoTime);
    }

    /** True when this JVM's standard streams are attached to a terminal. */
    public static boolean isTerminal() {
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    /** Reports that {@code step} steps are done (1 ≤ step ≤ total), with the latest loss and speed. */
    public void update(long step, double loss, double tokensPerSecond) {
        update(step, loss, tokensPerSecond, "");
    }

    /** As {@link #update(long, double, double)}, appending {@code extra} (e.g. "acc 0.93") to the line. */
    public void update(long step, double loss, double tokensPerSecond, String extra) {
        long now = nanoClock.getAsLong();
        if (firstStep < 0) {
            firstStep = step;
            firstNanos = now;
        }
        double eta = Double.NaN;
        if (step > firstStep) eta = (now - firstNanos) / 1e9 / (step - firstStep) * (total - step);
        String line = line(step, total, loss, tokensPerSecond, eta, extra);
        if (interactive) {
            int pad = Math.max(0, lastWidth - line.length());
            out.print("\r" + line + " ".repeat(pad));
            lastWidth = line.length();
            if (step >= total) out.println();
            out.flush();
        } else if (step % every == 0 || step >= total) {
            out.println(line);
            out.flush();
        }
    }

    /** Ends an interactive line (prints a newline if one is pending). */
    public void finish() {
        if (interactive && lastWidth > 0) {
            out.println();
            lastWidth = 0;
        }
    }

    /** The text of one progress line (no \r, no newline); {@code etaSeconds} NaN prints "?". */
    public static String line(long step, long total, double loss, double tokensPerSecond, double etaSeconds,
                              String extra) {
        double frac = Math.min(1.0, Math.max(0.0, (double) step / total));
        int filled = (int) Math.round(frac * BAR);
        int digits = Long.toString(total).length();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "step %" + digits + "d/%d [", step, total));
        sb.append("#".repeat(filled)).append(".".repeat(BAR - filled)).append(']');
        sb.append(String.format(Locale.ROOT, " %5.1f%% | loss %.4f | %s tok/s | ETA %s", 100 * frac, loss,
                si(tokensPerSecond), duration(etaSeconds)));
        if (extra != null && !extra.isEmpty()) sb.append(" | ").append(extra);
        return sb.toString();
    }

    /** 12345.6 → "12.3k", 2.5e6 → "2.50M". */
    static String si(double x) {
        if (!Double.isFinite(x)) return "?";
        if (x >= 1e9) return String.format(Locale.ROOT, "%.2fG", x / 1e9);
        if (x >= 1e6) return String.format(Locale.ROOT, "%.2fM", x / 1e6);
        if (x >= 1e3) return String.format(Locale.ROOT, "%.1fk", x / 1e3);
        return String.format(Locale.ROOT, "%.0f", x);
    }

    /** Seconds as "45s", "3m12s", "2h05m"; NaN/negative as "?". */
    static String duration(double seconds) {
        if (!(seconds >= 0) || Double.isInfinite(seconds)) return "?";
        long s = Math.round(seconds);
        if (s < 60) return s + "s";
        if (s < 3600) return (s / 60) + "m" + String.format(Locale.ROOT, "%02d", s % 60) + "s";
        return (s / 3600) + "h" + String.format(Locale.ROOT, "%02d", (s % 3600) / 60) + "m";
    }
}
