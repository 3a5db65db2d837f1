package dev.ssm4j.bench;

import dev.ssm4j.kernels.KernelConfig;
import dev.ssm4j.kernels.act.Activation;
import dev.ssm4j.kernels.act.Activations;
import dev.ssm4j.kernels.conv.CausalConv1d;
import dev.ssm4j.kernels.norm.GatedRmsNorm;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * {@code ./ssm bench conv --peer}: our SIMD kernels against plain C ({@link CPeer}) on the same
 * arrays, one thread, in this JVM: SiLU, the RMSNorm forward and backward over rows of d, the conv1d
 * forward and backward (width 4, bias, SiLU), and two memory baselines — a copy (ours:
 * System.arraycopy) for the forwards, which read one tensor and write one, and a triad z += x·y (ours:
 * a plain loop C2 vectorises) for the backwards, which read three and write one. At l = 1024 and
 * 32768 rows of d (every tensor in L3, in DRAM at the default d), each with the data where the heap
 * put it and moved to a 64-byte boundary. Rounds are interleaved and every other round runs the
 * list backwards, so no part always follows the same one (the one before decides what is still in
 * L3). Before timing, each C result is checked against ours: a peer that computed something else
 * would make the ratio meaningless. Where the compiler targets AVX-512, the RMSNorms and the conv1d
 * also run as tuned C (intrinsics and software prefetch, {@link CPeer#tuned}): how close these
 * algorithms get to the memory baseline on this machine when written as well as we can in C.
 */
final class ConvPeer {
    private ConvPeer() {}

    static final String[] KERNELS = {"copy", "silu", "rmsnorm", "conv1d", "triad", "rmsnorm_backward", "conv1d_backward"};
    private static final float EPS = 1e-5f;

    /** The memory baseline of a kernel: the copy for the forwards, the triad for the backwards. */
    static String baseline(String kernel) {
        return kernel.endsWith("_backward") || kernel.equals("triad") ? "triad" : "copy";
    }

    static int run(int d, boolean json) {
        Optional<CPeer> loaded = CPeer.load();
        if (loaded.isEmpty()) return 1;
        CPeer peer = loaded.get();
        Optional<CPeer> tuned = peer.tuned();
        if (tuned.isEmpty()) System.err.println("tuned C peers left out: the compiler does not target AVX-512 here");
        BenchReport report = new BenchReport(json);
        boolean warm = false;
        for (int l : new int[] {64, 1024, 32768}) {
            // Both placements on the same arrays, so that all of them fit in L3 at l = 1024.
            Case k = new Case(l, d);
            int aligned = (int) ((64 - peer.address(k.x, 0) % 64) % 64) / Float.BYTES;
            int[] offs = aligned == 0 ? new int[] {0} : new int[] {0, aligned};   // one placement if the heap's is aligned
            // The timed parts: {placement, kernel, impl}, impl 0 = ours, 1 = plain C, 2 = tuned C.
            List<int[]> parts = new ArrayList<>();
            for (int c = 0; c < offs.length; c++) {
                for (int i = 0; i < KERNELS.length; i++) {
                    check(KERNELS[i], k, offs[c], peer);
                    parts.add(new int[] {c, i, 0});
                    parts.add(new int[] {c, i, 1});
                    if (tuned.isPresent() && TUNED.contains(KERNELS[i])) {
                        check(KERNELS[i], k, offs[c], tuned.get());
                        parts.add(new int[] {c, i, 2});
                    }
                }
            }
            // The first length only warms up (C2 compiles the Vector API code; until then it is slow).
            int rounds = l == 64 ? 0 : (int) Math.max(11, Math.min(400, 400_000_000L / ((long) l * d)));
            int warmUp = warm ? 3 : 1000;
            warm = true;
            double[][] ms = new double[parts.size()][Math.max(1, rounds)];
            for (int r = -warmUp; r < rounds; r++) {
                for (int q = 0; q < parts.size(); q++) {
                    int slot = (r & 1) == 0 ? q : parts.size() - 1 - q;
                    int[] part = parts.get(slot);
                    int off = offs[part[0]];
                    String kernel = KERNELS[part[1]];
                    long t0 = System.nanoTime();
                    switch (part[2]) {
                        case 0 -> runOurs(kernel, k, off);
                        case 1 -> runC(kernel, k, off, peer);
                        default -> runC(kernel, k, off, tuned.orElseThrow());
                    }
                    if (r >= 0) ms[slot][r] = (System.nanoTime() - t0) / 1e6;
                }
            }
            if (rounds == 0) continue;
            for (int c = 0; c < offs.length; c++) {
                int off = offs[c];
                for (int i = 0; i < KERNELS.length; i++) {
                    int m = Arrays.asList(KERNELS).indexOf(baseline(KERNELS[i]));
                    double memory = Math.min(median(ms, parts, c, m, 0), median(ms, parts, c, m, 1));
                    double o = median(ms, parts, c, i, 0), p = median(ms, parts, c, i, 1), t = median(ms, parts, c, i, 2);
                    report.row().put("kernel", KERNELS[i]).put("l", l).put("d", d)
                            .put("x_mod64", peer.address(k.x, off) % 64).put("y_mod64", peer.address(k.y, off) % 64)
                            .put("rounds", rounds).put("ours_ms", o).put("c_ms", p).put("ours_speed_over_c", p / o)
                            .put("tuned_c_ms", Double.isNaN(t) ? null : t)
                            .put("memory", baseline(KERNELS[i]))
                            .put("ours_of_memory", memory / o).put("c_of_memory", memory / p)
                            .put("tuned_c_of_memory", Double.isNaN(t) ? null : memory / t).add();
                }
            }
        }
        report.finish("ours (SIMD, " + KernelConfig.describe() + ") against plain C (" + peer.compiler
                + ") on the same arrays, one thread, interleaved; median ms per call; x_mod64, y_mod64: the data's"
                + " address mod 64 (0: aligned; the heap gives large arrays 16); of_memory: the faster memory"
                + " baseline's time (copy or triad, same placement) over the kernel's; tuned_c: the RMSNorms and"
                + " the conv1d hand-written with AVX-512 intrinsics and software prefetch (- where there is none)");
        return 0;
    }

    /** The kernels that have a tuned C peer. */
    static final Set<String> TUNED = Set.of("rmsnorm", "rmsnorm_backward", "conv1d", "conv1d_backward");

    /** Median time of part {placement c, kernel i, impl}, or NaN if that part was not timed. */
    private static double median(double[][] ms, List<int[]> parts, int c, int i, int impl) {
        for (int q = 0; q < parts.size(); q++) {
            int[] part = parts.get(q);
            if (part[0] == c && part[1] == i && part[2] == impl) return median(ms[q]);
        }
        return Double.NaN;
    }

    /**
     * Inputs, outputs and accumulators of one length: tensors of n = l·d floats used from any element
     * off ≤ 16 (the rest is slack). rstdSaved is the forward's statistics for the backward, computed
     * once, so that both backwards read the same numbers.
     */
    static final class Case {
        final int l, d, n;
        final float[] x, y, dy, dx, weight, bias, w, rstd, rstdSaved, dweightConv, dbias, dweightNorm;

        Case(int l, int d) {
            this.l = l;
            this.d = d;
            this.n = Math.multiplyExact(l, d);
            SplittableRandom rng = new SplittableRandom(7);
            x = new float[n + 16];
            dy = new float[n + 16];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (rng.nextDouble() * 4 - 2);
                dy[i] = (float) (rng.nextDouble() * 2 - 1);
            }
            y = new float[n + 16];
            dx = new float[n + 16];
            weight = new float[d * 4];
            for (int i = 0; i < weight.length; i++) weight[i] = (float) (rng.nextDouble() - 0.5);
            bias = new float[d];
            w = new float[d];
            for (int i = 0; i < d; i++) {
                bias[i] = (float) (rng.nextDouble() - 0.5);
                w[i] = (float) (rng.nextDouble() + 0.5);
            }
            rstd = new float[l];
            rstdSaved = new float[l];
            GatedRmsNorm.forward(y, 0, d, rstdSaved, x, 0, d, null, 0, d, w, l, d, d, EPS, null);
            dweightConv = new float[d * 4];
            dbias = new float[d];
            dweightNorm = new float[d];
        }

        /** Zeroes every accumulator (dx and the weight gradients) and fills y with NaN. */
        void reset() {
            Arrays.fill(y, Float.NaN);
            Arrays.fill(dx, 0f);
            Arrays.fill(dweightConv, 0f);
            Arrays.fill(dbias, 0f);
            Arrays.fill(dweightNorm, 0f);
        }
    }

    private static void runOurs(String kernel, Case k, int o) {
        int l = k.l, d = k.d;
        switch (kernel) {
            case "copy" -> System.arraycopy(k.x, o, k.y, o, k.n);
            case "triad" -> triad(k.dx, k.x, k.dy, o, k.n);
            case "silu" -> Activations.forward(Activation.SILU, k.y, o, k.x, o, k.n, null);
            case "rmsnorm" -> GatedRmsNorm.forward(k.y, o, d, k.rstd, k.x, o, d, null, 0, d, k.w, l, d, d, EPS, null);
            case "rmsnorm_backward" -> GatedRmsNorm.backward(k.dx, o, d, null, 0, d, k.dweightNorm, k.dy, o, d, k.x, o, d,
                    null, 0, d, k.rstdSaved, k.w, l, d, d, EPS, null);
            case "conv1d" -> CausalConv1d.forward(k.y, o, d, k.x, o, d, k.weight, k.bias, true, 1, l, d, 4, null);
            case "conv1d_backward" -> CausalConv1d.backward(k.dx, o, d, k.dweightConv, k.dbias, k.dy, o, d, k.x, o, d,
                    k.weight, k.bias, true, 1, l, d, 4, null);
            default -> throw new IllegalArgumentException(kernel);
        }
    }

    /** z += x·y, the loop MemoryBenchmark.triad times (C2 vectorises it). */
    private static void triad(float[] z, float[] x, float[] y, int off, int n) {
        for (int i = off; i < off + n; i++) z[i] += x[i] * y[i];
    }

    private static void runC(String kernel, Case k, int o, CPeer peer) {
        int l = k.l, d = k.d;
        switch (kernel) {
            case "copy" -> peer.copy(k.y, k.x, o, k.n);
            case "triad" -> peer.triad(k.dx, k.x, k.dy, o, k.n);
            case "silu" -> peer.silu(k.y, k.x, o, k.n);
            case "rmsnorm" -> peer.rmsnorm(k.y, k.rstd, k.x, k.w, o, l, d, EPS);
            case "rmsnorm_backward" -> peer.rmsnormBackward(k.dx, k.dweightNorm, k.dy, k.x, k.rstdSaved, k.w, o, l, d);
            case "conv1d" -> peer.conv4Silu(k.y, k.x, o, k.weight, k.bias, l, d);
            case "conv1d_backward" -> peer.conv4SiluBackward(k.dx, k.dweightConv, k.dbias, k.dy, k.x, o, k.weight, k.bias, l, d);
            default -> throw new IllegalArgumentException(kernel);
        }
    }

    /** Runs both on k from zeroed accumulators and fails if a C result is not ours within float tolerance. */
    static void check(String kernel, Case k, int off, CPeer peer) {
        k.reset();
        runOurs(kernel, k, off);
        float[][] want = {k.y.clone(), k.dx.clone(), k.dweightConv.clone(), k.dbias.clone(), k.dweightNorm.clone()};
        k.reset();
        runC(kernel, k, off, peer);
        float[][] got = {k.y, k.dx, k.dweightConv, k.dbias, k.dweightNorm};
        String[] names = {"y", "dx", "dweight", "dbias", "dweight"};
        for (int a = 0; a < want.length; a++) {
            if (a < 2) compare(kernel + " " + names[a], want[a], got[a], off, off + k.n, 0f);
            else compare(kernel + " " + names[a], want[a], got[a], 0, want[a].length, maxAbs(want[a]));
        }
    }

    /**
     * Fails unless |want − got| ≤ 1e-5 + 1e-4·(|want| + scale) on [from, to) (NaN fails, NaN = NaN
     * passes: untouched outputs). Sums over all tokens (the weight gradients) pass scale = the
     * largest magnitude of the array, as their order of summation differs.
     */
    static void compare(String what, float[] want, float[] got, int from, int to, float scale) {
        for (int i = from; i < to; i++) {
            float a = want[i], b = got[i];
            if (Float.isNaN(a) && Float.isNaN(b)) continue;
            if (!(Math.abs(a - b) <= 1e-5f + 1e-4f * (Math.abs(a) + scale))) {
                throw new IllegalStateException("C peer's " + what + " differs from ours at element " + i + ": ours " + a
                        + ", C " + b);
            }
        }
    }

    private static float maxAbs(float[] a) {
        float m = 0;
        for (float v : a) m = Math.max(m, Math.abs(v));
        return m;
    }

    private static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
