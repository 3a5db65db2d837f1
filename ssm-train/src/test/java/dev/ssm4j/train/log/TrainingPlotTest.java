package dev.ssm4j.train.log;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingPlotTest {
    @TempDir
    Path tmp;

    static List<Map<String, Object>> fakeRun(int steps) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int s = 1; s <= steps; s++) {
            Map<String, Object> r = new java.util.LinkedHashMap<>();
            r.put("step", (long) s);
            r.put("loss", 0.4 + 3.5 * Math.exp(-s / 300.0) + 0.1 * Math.sin(s * 0.37));
            r.put("accuracy", 1 - 0.95 * Math.exp(-s / 400.0));
            if (s % 100 == 0) {
                r.put("eval_loss", 0.5 + 3.4 * Math.exp(-s / 320.0));
                r.put("eval_accuracy", 1 - Math.exp(-s / 450.0));
            }
            rows.add(r);
        }
        return rows;
    }

    @Test
    void writesADecodablePngOfTheRequestedSize() throws IOException {
        List<Map<String, Object>> rows = fakeRun(2000);
        Path png = tmp.resolve("plots/train.png");
        TrainingPlot.write(png, "mamba · selective_copying", List.of(
                TrainingPlot.Series.fromMetrics("train loss", rows, "loss"),
                TrainingPlot.Series.fromMetrics("eval loss", rows, "eval_loss")), List.of(
                TrainingPlot.Series.fromMetrics("train accuracy", rows, "accuracy"),
                TrainingPlot.Series.fromMetrics("eval accuracy", rows, "eval_accuracy")), 900, 600);
        assertTrue(Files.isRegularFile(png));
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img, "ImageIO decodes the file");
        assertEquals(900, img.getWidth());
        assertEquals(600, img.getHeight());
        // something was drawn: not a blank canvas, and some pixels carry the first series' blue
        int nonWhite = 0, blue = 0;
        for (int y = 0; y < 600; y += 2) {
            for (int x = 0; x < 900; x += 2) {
                int rgb = img.getRGB(x, y) & 0xFFFFFF;
                if (rgb != 0xFFFFFF) nonWhite++;
                int r = rgb >> 16, g = (rgb >> 8) & 0xFF, b = rgb & 0xFF;
                if (b > 150 && r < 80 && g > 90 && g < 150) blue++;
            }
        }
        assertTrue(nonWhite > 2000, "drawn pixels " + nonWhite);
        assertTrue(blue > 100, "series pixels " + blue);
        try (var files = Files.list(png.getParent())) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
        // overwriting works (atomic replace)
        TrainingPlot.write(png, null, List.of(TrainingPlot.Series.fromMetrics("loss", rows, "loss")), List.of(), 400, 300);
        assertEquals(400, ImageIO.read(png.toFile()).getWidth());
    }

    @Test
    void degenerateInputsStillRender() {
        var one = new TrainingPlot.Series("one point", new long[] {5}, new double[] {1.0});
        var gaps = new TrainingPlot.Series("gaps", new long[] {1, 2, 3}, new double[] {Double.NaN, 2, Double.POSITIVE_INFINITY});
        BufferedImage img = TrainingPlot.render("t", List.of(one, gaps), List.of(), 300, 200);
        assertEquals(300, img.getWidth());
        TrainingPlot.render("empty", List.of(), List.of(), 300, 200);
    }

    @Test
    void niceTicksAndLabels() {
        assertArrayEquals(new double[] {0, 0.2, 0.4, 0.6, 0.8, 1.0}, TrainingPlot.ticks(0, 1, 6), 1e-12);
        assertArrayEquals(new double[] {0, 500, 1000, 1500, 2000}, TrainingPlot.ticks(-3, 2010, 5), 1e-9);
        double[] t = TrainingPlot.ticks(0.37, 4.1, 8);
        assertEquals(0.5, t[0], 1e-12);
        assertEquals(0.5, t[1] - t[0], 1e-12);
        assertEquals("0.5", TrainingPlot.label(0.5, t));
        assertEquals("20k", TrainingPlot.label(20000, new double[] {0, 10000}));
        assertEquals("1.5M", TrainingPlot.label(1.5e6, new double[] {0, 500000}));
        assertEquals("0.05", TrainingPlot.label(0.05, new double[] {0, 0.05}));
    }
}
