package dev.ssm4j.train.log;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * A PNG chart of a training run: loss vs step on top and, when there is any, accuracy vs step
 * (y from 0 to 1) below, sharing the step axis. Each panel has axes, "nice" ticks (1, 2, 5 × 10^k)
 * with grid lines, axis labels and a legend. Drawn with java.awt in headless mode (no display
 * needed); the file is written atomically (a temporary file in the same folder, then a rename), so a
 * viewer never sees a half-written image.
 *
 * <p>If the JVM has no usable font (a minimal container without fontconfig fonts), the chart is
 * drawn without any text rather than failing.
 */
public final class TrainingPlot {
    private TrainingPlot() {}

    static {
        // Must be set before the first AWT class initialises its toolkit.
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    /** One line on the chart: {@code values[i]} at {@code steps[i]}; non-finite values leave a gap. */
    public record Series(String name, long[] steps, double[] values) {
        public Series {
            if (steps.length != values.length) {
                throw new IllegalArgumentException("series " + name + ": " + steps.length + " steps but " + values.length
                        + " values");
            }
        }

        /**
         * The series of metrics field {@code field} against field {@code "step"}, from rows read by
         * {@link MetricsWriter#read}; rows without the field (or with null) are skipped.
         */
        public static Series fromMetrics(String name, List<Map<String, Object>> rows, String field) {
            List<long[]> pts = new ArrayList<>();
            List<Double> vals = new ArrayList<>();
            for (Map<String, Object> r : rows) {
                if (r.get(field) instanceof Number v && r.get("step") instanceof Number s) {
                    pts.add(new long[] {s.longValue()});
                    vals.add(v.doubleValue());
                }
            }
            long[] steps = new long[pts.size()];
            double[] values = new double[pts.size()];
            for (int i = 0; i < steps.length; i++) {
                steps[i] = pts.get(i)[0];
                values[i] = vals.get(i);
            }
            return new Series(name, steps, values);
        }

        boolean isEmpty() {
            for (double v : values) if (Double.isFinite(v)) return false;
            return true;
        }
    }

    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c),
        new Color(0xd62728), new Color(0x9467bd)};
    private static final Color GRID = new Color(0xe6e6e6);
    private static final Color AXIS = new Color(0x444444);

    /** Renders the chart and writes it to {@code png} atomically. */
    public static void write(Path png, String title, List<Series> loss, List<Series> accuracy, int width, int height)
            throws IOException {
        BufferedImage img = render(title, loss, accuracy, width, height);
        Path abs = png.toAbsolutePath();
        Path dir = abs.getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, abs.getFileName() + ".tmp-", ".png");
        try {
            if (!ImageIO.write(img, "png", tmp.toFile())) throw new IOException("no PNG writer in this JVM");
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The chart as an image of {@code width × height} pixels (at least 200 × 150). */
    public static BufferedImage render(String title, List<Series> loss, List<Series> accuracy, int width, int height) {
        if (width < 200 || height < 150) {
            throw new IllegalArgumentException("plot size " + width + "x" + height + ", expected at least 200x150");
        }
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            boolean text = textWorks(g);

            long[] xr = stepRange(loss, accuracy);
            boolean hasAcc = accuracy.stream().anyMatch(s -> !s.isEmpty());
            int top = 34, left = 72, right = 20, bottom = 44, gap = 34;
            int plotH = height - top - bottom - (hasAcc ? gap : 0);
            int lossH = hasAcc ? plotH * 11 / 20 : plotH;
            int pw = width - left - right;
            if (text && title != null) {
                g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
                FontMetrics fm = g.getFontMetrics();
                g.setColor(Color.BLACK);
                g.drawString(title, (width - fm.stringWidth(title)) / 2, 22);
                g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            }
            double[] yr = valueRange(loss);
            panel(g, text, left, top, pw, lossH, xr, yr, loss, "loss", !hasAcc);
            if (hasAcc) {
                int accTop = top + lossH + gap;
                panel(g, text, left, accTop, pw, plotH - lossH, xr, new double[] {-0.02, 1.02}, accuracy, "accuracy", true);
            }
        } finally {
            g.dispose();
        }
        return img;
    }

    private static boolean textWorks(Graphics2D g) {
        try {
            return g.getFontMetrics().stringWidth("0.5") > 0;
        } catch (RuntimeException | Error e) { // e.g. no fonts: fontconfig errors surface as Errors
            return false;
        }
    }

    private static void panel(Graphics2D g, boolean text, int x0, int y0, int w, int h, long[] xr, double[] yr,
                              List<Series> series, String yLabel, boolean xLabels) {
        double[] xt = ticks(xr[0], xr[1], Math.max(2, w / 90));
        double[] yt = ticks(yr[0], yr[1], Math.max(2, h / 40));
        FontMetrics fm = text ? g.getFontMetrics() : null;
        // grid and tick labels
        g.setStroke(new BasicStroke(1f));
        for (double x : xt) {
            int px = px(x, xr, x0, w);
            g.setColor(GRID);
            g.drawLine(px, y0, px, y0 + h);
            g.setColor(AXIS);
            g.drawLine(px, y0 + h, px, y0 + h + 4);
            if (text && xLabels) {
                String s = label(x, xt);
                g.drawString(s, px - fm.stringWidth(s) / 2, y0 + h + 6 + fm.getAscent());
            }
        }
        for (double y : yt) {
            int py = py(y, yr, y0, h);
            g.setColor(GRID);
            g.drawLine(x0, py, x0 + w, py);
            g.setColor(AXIS);
            g.drawLine(x0 - 4, py, x0, py);
            if (text) {
                String s = label(y, yt);
                g.drawString(s, x0 - 7 - fm.stringWidth(s), py + fm.getAscent() / 2 - 1);
            }
        }
        g.setColor(AXIS);
        g.drawRect(x0, y0, w, h);
        if (text) {
            if (xLabels) g.drawString("step", x0 + w / 2 - fm.stringWidth("step") / 2, y0 + h + 8 + 2 * fm.getAscent());
            AffineTransform saved = g.getTransform();
            g.rotate(-Math.PI / 2);
            g.drawString(yLabel, -(y0 + h / 2 + fm.stringWidth(yLabel) / 2), x0 - 52);
            g.setTransform(saved);
        }
        // the lines, clipped to the panel
        var clip = g.getClip();
        g.clipRect(x0 + 1, y0 + 1, w - 1, h - 1);
        g.setStroke(new BasicStroke(1.6f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
        for (int k = 0; k < series.size(); k++) {
            Series s = series.get(k);
            g.setColor(PALETTE[k % PALETTE.length]);
            Path2D.Double path = new Path2D.Double();
            boolean open = false;
            int points = 0;
            for (int i = 0; i < s.steps().length; i++) {
                double v = s.values()[i];
                if (!Double.isFinite(v)) {
                    open = false;
                    continue;
                }
                double px = x0 + (s.steps()[i] - xr[0]) / (double) Math.max(1, xr[1] - xr[0]) * w;
                double py = y0 + h - (v - yr[0]) / (yr[1] - yr[0]) * h;
                if (open) path.lineTo(px, py);
                else path.moveTo(px, py);
                open = true;
                points++;
            }
            g.draw(path);
            if (points <= 2) { // a lone point is invisible as a line: mark it
                for (int i = 0; i < s.steps().length; i++) {
                    if (!Double.isFinite(s.values()[i])) continue;
                    int px = px(s.steps()[i], xr, x0, w), py = py(s.values()[i], yr, y0, h);
                    g.fillOval(px - 3, py - 3, 6, 6);
                }
            }
        }
        g.setClip(clip);
        // legend in the corner that hides the fewest data points (top right first on ties)
        if (text && !series.isEmpty()) {
            int lw = 0;
            for (Series s : series) lw = Math.max(lw, fm.stringWidth(s.name()));
            int bw = lw + 38, bh = series.size() * (fm.getHeight() + 2) + 8;
            int[][] corners = {{x0 + w - bw - 8, y0 + 8}, {x0 + w - bw - 8, y0 + h - bh - 8}, {x0 + 8, y0 + 8},
                {x0 + 8, y0 + h - bh - 8}};
            int bx = corners[0][0], by = corners[0][1];
            long fewest = Long.MAX_VALUE;
            for (int[] c : corners) {
                long hidden = 0;
                for (Series s : series) {
                    for (int i = 0; i < s.steps().length; i++) {
                        if (!Double.isFinite(s.values()[i])) continue;
                        int px = px(s.steps()[i], xr, x0, w), py = py(s.values()[i], yr, y0, h);
                        if (px >= c[0] - 4 && px <= c[0] + bw + 4 && py >= c[1] - 4 && py <= c[1] + bh + 4) hidden++;
                    }
                }
                if (hidden < fewest) {
                    fewest = hidden;
                    bx = c[0];
                    by = c[1];
                }
            }
            g.setColor(new Color(255, 255, 255, 225));
            g.fillRect(bx, by, bw, bh);
            g.setColor(GRID.darker());
            g.setStroke(new BasicStroke(1f));
            g.drawRect(bx, by, bw, bh);
            for (int k = 0; k < series.size(); k++) {
                int ly = by + 6 + k * (fm.getHeight() + 2) + fm.getAscent();
                g.setColor(PALETTE[k % PALETTE.length]);
                g.setStroke(new BasicStroke(2.5f));
                g.drawLine(bx + 6, ly - fm.getAscent() / 2 + 1, bx + 26, ly - fm.getAscent() / 2 + 1);
                g.setColor(Color.BLACK);
                g.drawString(series.get(k).name(), bx + 32, ly);
            }
        }
    }

    private static int px(double x, long[] xr, int x0, int w) {
        return (int) Math.round(x0 + (x - xr[0]) / Math.max(1, xr[1] - xr[0]) * w);
    }

    private static int py(double y, double[] yr, int y0, int h) {
        return (int) Math.round(y0 + h - (y - yr[0]) / (yr[1] - yr[0]) * h);
    }

    private static long[] stepRange(List<Series> a, List<Series> b) {
        long lo = Long.MAX_VALUE, hi = Long.MIN_VALUE;
        for (List<Series> list : List.of(a, b)) {
            for (Series s : list) {
                for (int i = 0; i < s.steps().length; i++) {
                    if (!Double.isFinite(s.values()[i])) continue;
                    lo = Math.min(lo, s.steps()[i]);
                    hi = Math.max(hi, s.steps()[i]);
                }
            }
        }
        if (lo > hi) return new long[] {0, 1};
        if (lo == hi) return new long[] {lo - 1, hi + 1};
        return new long[] {lo, hi};
    }

    private static double[] valueRange(List<Series> series) {
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (double v : s.values()) {
                if (!Double.isFinite(v)) continue;
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        if (lo > hi) return new double[] {0, 1};
        if (lo == hi) {
            double d = Math.max(Math.abs(lo) * 0.1, 1e-3);
            return new double[] {lo - d, hi + d};
        }
        double pad = (hi - lo) * 0.05;
        return new double[] {lo - pad, hi + pad};
    }

    /** Tick values in [lo, hi] at a "nice" spacing (1, 2 or 5 × 10^k) giving at most maxTicks ticks. */
    static double[] ticks(double lo, double hi, int maxTicks) {
        double range = hi - lo;
        if (!(range > 0)) return new double[] {lo};
        double step = Math.pow(10, Math.floor(Math.log10(range / maxTicks)));
        for (double m : new double[] {1, 2, 5, 10}) {
            if (range / (step * m) <= maxTicks) {
                step *= m;
                break;
            }
        }
        List<Double> out = new ArrayList<>();
        for (double t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) {
            out.add(Math.abs(t) < step * 1e-9 ? 0.0 : t);
        }
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** Tick label with as many decimals as the tick spacing needs; large integers as 12k / 1.5M. */
    static String label(double v, double[] ticks) {
        double step = ticks.length > 1 ? ticks[1] - ticks[0] : Math.abs(v);
        if (step >= 1 && Math.abs(v) >= 10_000) {
            if (Math.abs(v) >= 1e6) return trim(String.format(Locale.ROOT, "%.2f", v / 1e6)) + "M";
            return trim(String.format(Locale.ROOT, "%.2f", v / 1e3)) + "k";
        }
        int decimals = step >= 1 || step == 0 ? 0 : (int) Math.ceil(-Math.log10(step) - 1e-9);
        return String.format(Locale.ROOT, "%." + decimals + "f", v);
    }

    private static String trim(String s) {
        if (!s.contains(".")) return s;
        s = s.replaceAll("0+$", "");
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }
}
