package dev.ssm4j.bench;

import dev.ssm4j.kernels.KernelConfig;
import dev.ssm4j.kernels.VectorMath;
import dev.ssm4j.kernels.conv.CausalConv1dSimd;
import java.util.Arrays;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;

/**
 * {@code ./ssm bench conv --parts}: where the conv1d forward's time goes, one thread, in this JVM.
 * At three lengths (x and y in L2, in L3, in DRAM at the default d) it times, interleaved in rounds
 * (the host's speed changes for seconds at a time, so parts timed minutes apart do not compare):
 * the SIMD forward with bias and SiLU, the same without the SiLU, an in-place SiLU pass over y, and
 * a vector copy x → y of the same bytes; each as wall time per 16 outputs, median (and min) over
 * the rounds. "conv alone" against "copy" is the ring's own memory walk; "conv + SiLU" minus
 * "conv alone" is what the SiLU adds.
 */
final class ConvParts {
    private ConvParts() {}

    private static final String[] PARTS = {"conv_silu", "conv", "silu_in_place", "copy"};

    static int run(int d, int w, boolean json) {
        BenchReport report = new BenchReport(json);
        boolean warm = false;
        for (int l : new int[] {64, 2048, 32768}) {
            SplittableRandom rng = new SplittableRandom(1);
            float[] x = new float[l * d], y = new float[l * d], weight = new float[d * w], bias = new float[d];
            for (int i = 0; i < x.length; i++) x[i] = (float) (rng.nextDouble() * 2 - 1);
            for (int i = 0; i < weight.length; i++) weight[i] = (float) (rng.nextDouble() - 0.5);
            for (int i = 0; i < d; i++) bias[i] = (float) (rng.nextDouble() - 0.5);
            double vectors = (double) l * d / 16;
            int rounds = (int) Math.max(15, Math.min(3000, 400_000_000L / ((long) l * d)));
            double[][] ns = new double[PARTS.length][rounds];
            // Warm-up: at the first (small) length, 3000 rounds untimed, so that C2 has compiled every
            // part before any is timed (Vector API code runs much slower until then); 5 rounds later.
            int warmUp = warm ? 5 : 3000;
            warm = true;
            for (int r = -warmUp; r < rounds; r++) {
                long t0 = System.nanoTime();
                CausalConv1dSimd.forward(y, 0, d, null, 0, x, 0, d, null, 0, null, weight, bias, true, 1, l, d, w, null);
                long t1 = System.nanoTime();
                CausalConv1dSimd.forward(y, 0, d, null, 0, x, 0, d, null, 0, null, weight, bias, false, 1, l, d, w, null);
                long t2 = System.nanoTime();
                siluInPlace(y);
                long t3 = System.nanoTime();
                copy(y, x);
                long t4 = System.nanoTime();
                if (r < 0) continue;
                long[] t = {t1 - t0, t2 - t1, t3 - t2, t4 - t3};
                for (int k = 0; k < PARTS.length; k++) ns[k][r] = t[k] / vectors;
            }
            for (int k = 0; k < PARTS.length; k++) {
                double[] s = ns[k].clone();
                Arrays.sort(s);
                report.row().put("part", PARTS[k]).put("l", l).put("d", d).put("w", w).put("rounds", rounds)
                        .put("ns_per_16_outputs", s[rounds / 2]).put("min", s[0]).add();
            }
        }
        report.finish("conv1d forward by parts, one thread, interleaved (" + KernelConfig.describe() + "); wall time per 16 outputs, median over rounds");
        return 0;
    }

    private static void siluInPlace(float[] y) {
        int i = 0, L = KernelConfig.F.length();
        for (; i + L <= y.length; i += L) VectorMath.silu(FloatVector.fromArray(KernelConfig.F, y, i)).intoArray(y, i);
        for (; i < y.length; i++) y[i] = VectorMath.silu(y[i]);
    }

    private static void copy(float[] y, float[] x) {
        int i = 0, L = KernelConfig.F.length();
        for (; i + L <= x.length; i += L) FloatVector.fromArray(KernelConfig.F, x, i).intoArray(y, i);
        for (; i < x.length; i++) y[i] = x[i];
    }
}
