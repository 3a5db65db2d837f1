package dev.ssm4j.bench;

import dev.ssm4j.kernels.KernelConfig;
import dev.ssm4j.kernels.act.Activation;
import dev.ssm4j.kernels.act.Activations;
import dev.ssm4j.kernels.conv.CausalConv1d;
import dev.ssm4j.kernels.norm.GatedRmsNorm;
import java.util.Arrays;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * {@code ./ssm bench conv --peer}: our SIMD kernels against plain C ({@link CPeer}) on the same
 * arrays, one thread, in this JVM: a copy (ours: System.arraycopy), SiLU, RMSNorm forward over
 * rows of d and the conv1d forward (width 4, bias, SiLU), at l = 2048 and 32768 rows of d (x and y
 * in L3, in DRAM at the default d). Rounds are interleaved and every other round runs the list
 * backwards, so no part always follows the same one (the one before decides what is still in L3).
 * Before timing, each C result is checked against ours (|Δ| ≤ 1e-5 + 1e-4·|ours|): a peer that
 * computed something else would make the ratio meaningless.
 */
final class ConvPeer {
    private ConvPeer() {}

    static final String[] KERNELS = {"copy", "silu", "rmsnorm", "conv1d"};
    private static final float EPS = 1e-5f;

    static int run(int d, boolean json) {
        Optional<CPeer> loaded = CPeer.load();
        if (loaded.isEmpty()) return 1;
        CPeer peer = loaded.get();
        BenchReport report = new BenchReport(json);
        boolean warm = false;
        for (int l : new int[] {64, 2048, 32768}) {
            // Two placements of the same data: where the heap put it (offset 0) and moved to the first
            // element whose address is a multiple of 64 (a cache line, a 512-bit vector).
            // Both on the same arrays, so that both fit in L3 at l = 2048.
            Case k = new Case(l, d);
            int[] offs = {0, (int) ((64 - peer.address(k.x, 0) % 64) % 64) / Float.BYTES};
            for (int off : offs) for (String kernel : KERNELS) check(kernel, k, off, peer);
            // The first length only warms up (C2 compiles the Vector API code; until then it is slow).
            int rounds = l == 64 ? 0 : (int) Math.max(15, Math.min(400, 400_000_000L / ((long) l * d)));
            int warmUp = warm ? 4 : 2000;
            warm = true;
            int slots = 2 * offs.length * KERNELS.length;      // (placement, kernel, ours | C)
            double[][] ms = new double[slots][Math.max(1, rounds)];
            for (int r = -warmUp; r < rounds; r++) {
                for (int q = 0; q < slots; q++) {
                    int slot = (r & 1) == 0 ? q : slots - 1 - q;
                    int off = offs[slot / (2 * KERNELS.length)];
                    String kernel = KERNELS[slot / 2 % KERNELS.length];
                    long t0 = System.nanoTime();
                    if ((slot & 1) == 1) runC(kernel, k, off, peer);
                    else runOurs(kernel, k, off);
                    if (r >= 0) ms[slot][r] = (System.nanoTime() - t0) / 1e6;
                }
            }
            if (rounds == 0) continue;
            for (int c = 0; c < offs.length; c++) {
                int off = offs[c], base = c * 2 * KERNELS.length;
                double copy = Math.min(median(ms[base]), median(ms[base + 1]));
                for (int i = 0; i < KERNELS.length; i++) {
                    double o = median(ms[base + 2 * i]), p = median(ms[base + 2 * i + 1]);
                    report.row().put("kernel", KERNELS[i]).put("l", l).put("d", d)
                            .put("x_mod64", peer.address(k.x, off) % 64).put("y_mod64", peer.address(k.y, off) % 64)
                            .put("rounds", rounds).put("ours_ms", o).put("c_ms", p).put("ours_speed_over_c", p / o)
                            .put("ours_of_copy", copy / o).put("c_of_copy", copy / p).add();
                }
            }
        }
        report.finish("ours (SIMD, " + KernelConfig.describe() + ") against plain C (" + peer.compiler
                + ") on the same arrays, one thread, interleaved; median ms per call; x_mod64, y_mod64: the data's"
                + " address mod 64 (0: aligned; the heap gives large arrays 16); of_copy: the faster copy's time (same"
                + " placement) over the kernel's");
        return 0;
    }

    /** Inputs and the shared output of one length: n floats from any element off ≤ 16 (the rest is slack). */
    static final class Case {
        final int l, d, n;
        final float[] x, y, weight, bias, w, rstd;

        Case(int l, int d) {
            this.l = l;
            this.d = d;
            this.n = Math.multiplyExact(l, d);
            SplittableRandom rng = new SplittableRandom(7);
            x = new float[n + 16];
            for (int i = 0; i < x.length; i++) x[i] = (float) (rng.nextDouble() * 4 - 2);
            y = new float[n + 16];
            weight = new float[d * 4];
            for (int i = 0; i < weight.length; i++) weight[i] = (float) (rng.nextDouble() - 0.5);
            bias = new float[d];
            w = new float[d];
            for (int i = 0; i < d; i++) {
                bias[i] = (float) (rng.nextDouble() - 0.5);
                w[i] = (float) (rng.nextDouble() + 0.5);
            }
            rstd = new float[l];
        }
    }

    private static void runOurs(String kernel, Case k, int o) {
        switch (kernel) {
            case "copy" -> System.arraycopy(k.x, o, k.y, o, k.n);
            case "silu" -> Activations.forward(Activation.SILU, k.y, o, k.x, o, k.n, null);
            case "rmsnorm" -> GatedRmsNorm.forward(k.y, o, k.d, k.rstd, k.x, o, k.d, null, 0, k.d, k.w, k.l, k.d, k.d, EPS, null);
            case "conv1d" -> CausalConv1d.forward(k.y, o, k.d, k.x, o, k.d, k.weight, k.bias, true, 1, k.l, k.d, 4, null);
            default -> throw new IllegalArgumentException(kernel);
        }
    }

    private static void runC(String kernel, Case k, int o, CPeer peer) {
        switch (kernel) {
            case "copy" -> peer.copy(k.y, k.x, o, k.n);
            case "silu" -> peer.silu(k.y, k.x, o, k.n);
            case "rmsnorm" -> peer.rmsnorm(k.y, k.rstd, k.x, k.w, o, k.l, k.d, EPS);
            case "conv1d" -> peer.conv4Silu(k.y, k.x, o, k.weight, k.bias, k.l, k.d);
            default -> throw new IllegalArgumentException(kernel);
        }
    }

    /** Runs both on k and fails if the C result is not ours within float tolerance. */
    static void check(String kernel, Case k, int off, CPeer peer) {
        Arrays.fill(k.y, Float.NaN);
        runOurs(kernel, k, off);
        float[] want = k.y.clone();
        Arrays.fill(k.y, Float.NaN);
        runC(kernel, k, off, peer);
        compare(kernel, k, off, want, k.y);
    }

    /** Fails unless |want − got| ≤ 1e-5 + 1e-4·|want| everywhere (NaN fails). */
    static void compare(String kernel, Case k, int off, float[] want, float[] got) {
        for (int i = off; i < off + k.n; i++) {
            float a = want[i], b = got[i];
            if (!(Math.abs(a - b) <= 1e-5f + 1e-4f * Math.abs(a))) {
                throw new IllegalStateException("C peer's " + kernel + " differs from ours at element " + i + " (l = " + k.l
                        + ", d = " + k.d + "): ours " + a + ", C " + b);
            }
        }
    }

    private static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
