package dev.ssm4j.bench;

import dev.ssm4j.bench.jmh.ActBenchmark;
import dev.ssm4j.bench.jmh.ConvBenchmark;
import dev.ssm4j.bench.jmh.LossBenchmark;
import dev.ssm4j.bench.jmh.MemoryBenchmark;
import dev.ssm4j.bench.jmh.NormBenchmark;
import dev.ssm4j.kernels.KernelConfig;
import dev.ssm4j.train.cli.Args;
import dev.ssm4j.train.cli.Command;
import dev.ssm4j.train.cli.UsageException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code ./ssm bench conv}: short JMH runs ({@link JmhShort}) of the causal conv1d (forward,
 * backward, step) and the elementwise kernels of a Mamba layer (RMSNorm, gated RMSNorm, SiLU,
 * residual add, cross-entropy) at model sizes, scalar and SIMD, reporting seconds per call and the
 * achieved memory bandwidth: gb_per_second = compulsory bytes read + written per call / seconds
 * (these kernels are memory-bound). Beside each point whose tensors a plain loop can mimic, a memory
 * baseline moves the same bytes in as many streams on the same number of threads in the same run
 * ({@link MemoryBenchmark}: a copy — read 1, write 1 — for the conv forward and step, the
 * activations and the RMSNorm forward; an add — read 2, write 1 — for the residual add and the
 * gated RMSNorm forward; a triad — read 3, write 1 — for the conv and activation backward and the
 * RMSNorm backward), and {@code of_memory} = the kernel's GB/s over the baseline's, so "memory
 * speed" is measured, not assumed.
 */
public final class ConvBench implements Command {
    private static final String KERNELS = "conv,norm,act,loss";

    @Override
    public String summary() {
        return "conv1d (forward, backward, step) and elementwise kernels, scalar vs SIMD, in GB/s";
    }

    @Override
    public String usage() {
        return """
                usage: ./ssm bench conv [--kernels conv,norm,act,loss] [--impl simd,scalar] [--threads 1,2]
                                        [--l 2048] [--d 1536] [--w 4] [--json] [--parts | --peer]
                Short JMH runs (1 fork, 2 × 0.5 s warm-up, 3 × 1 s; SSM_BENCH_QUICK=1 for a smoke run) of:
                  conv  causal conv1d b=1, l, d, w with bias and fused SiLU: forward, backward, step (b=1)
                  norm  RMSNorm over l rows at d=768 and d (forward, backward); gated RMSNorm at d (one group)
                  act   SiLU forward/backward and residual add on l·d floats
                  loss  cross-entropy 512 × 50280 forward/backward
                Columns: kernel, direction, impl, threads, b, l, d, w, vocab, seconds (per call),
                gb_per_second (bytes read + written per call / seconds), of_memory (gb_per_second over that of the
                impl=memory row above it: a copy, add or triad of the same bytes in as many streams on the same number
                of threads, in the same run; "-" for the gated RMSNorm backward and the cross-entropy). Scalar
                twins run on 1 thread only;
                --threads applies to the SIMD kernels that split work (not to the step).
                --parts  instead of JMH: the conv1d forward (d, w) with and without its SiLU, an in-place SiLU
                         pass and a copy, interleaved in this JVM on one thread at l = 64, 2048, 32768 (x and y
                         in L2, L3, DRAM): where the forward's time goes. Columns: part, l, d, w, rounds,
                         ns_per_16_outputs (median), min. --l, --kernels, --impl and --threads do not apply.
                --peer   instead of JMH: ours against plain C on the same arrays (peer_kernels.c in the bench jar,
                         compiled now by $CC, cc, gcc or clang with -O3 -march=native -ffast-math -fopenmp-simd and
                         called through java.lang.foreign): SiLU, RMSNorm forward and backward (rows of d), conv1d
                         forward and backward (w = 4, bias, SiLU), a copy and a triad as memory baselines;
                         interleaved on one thread at l = 1024 and 32768, the data where the heap put it and moved
                         to a 64-byte boundary, each C result checked against ours first. Where the compiler
                         targets AVX-512, the RMSNorms and the conv1d also as tuned C (intrinsics, software
                         prefetch). Columns: kernel, l, d, x_mod64, y_mod64, rounds, ours_ms, c_ms (medians),
                         ours_speed_over_c, tuned_c_ms, memory (copy or triad), ours_of_memory, c_of_memory,
                         tuned_c_of_memory (- without a tuned peer). Without a compiler it says so and exits 1.
                Full JMH: ./ssm jmh 'ConvBenchmark|NormBenchmark|ActBenchmark|LossBenchmark' -f 1""";
    }

    /** One benchmark point: which JMH method with which params, and how to label and size it. */
    private record Point(String kernel, String direction, Class<?> jmh, String method, Map<String, String> params,
                         int b, int l, int d, int w, int vocab, double bytes, String baseline, long baselineN) {
        Point(String kernel, String direction, Class<?> jmh, String method, Map<String, String> params,
              int b, int l, int d, int w, int vocab, double bytes) {
            this(kernel, direction, jmh, method, params, b, l, d, w, vocab, bytes, null, 0);
        }
    }

    @Override
    public int run(Args args) {
        Set<String> kernels = Set.of(args.string("kernels", KERNELS).split(","));
        List<String> impls = List.of(args.string("impl", "simd,scalar").split(","));
        int[] threadList = args.intList("threads", new int[] {1, 2});
        int l = args.integer("l", 2048), d = args.integer("d", 1536), w = args.integer("w", 4);
        boolean json = args.flag("json"), parts = args.flag("parts"), peer = args.flag("peer");
        args.finish();
        if (parts && peer) throw new UsageException("--parts and --peer are two different runs; give one");
        if (parts) return ConvParts.run(d, w, json);
        if (peer) {
            if (w != 4) throw new UsageException("--peer compares the width-4 conv1d (the C peer has width 4), got --w " + w);
            return ConvPeer.run(d, json);
        }
        for (String k : kernels) {
            if (!Set.of(KERNELS.split(",")).contains(k)) throw new UsageException("unknown kernel family '" + k + "' (" + KERNELS + ")");
        }
        for (String i : impls) if (!i.equals("simd") && !i.equals("scalar")) throw new UsageException("--impl takes simd and/or scalar, got " + i);

        List<Point> points = new ArrayList<>();
        String ls = String.valueOf(l), ds = String.valueOf(d), ws = String.valueOf(w);
        double f = Float.BYTES, bld = (double) l * d;
        if (kernels.contains("conv")) {
            Map<String, String> p = Map.of("b", "1", "l", ls, "d", ds, "w", ws, "silu", "true");
            double fwd = f * (2 * bld + d * w + d), bwd = f * (4 * bld + 3 * d * w + 2 * d);
            double step = f * (2.0 * (w - 1) * d + 2 * d + d * w + d);
            points.add(new Point("conv1d", "forward", ConvBenchmark.class, "forward", p, 1, l, d, w, 0, fwd,
                    "copy", Math.round(fwd / (2 * f))));
            points.add(new Point("conv1d", "backward", ConvBenchmark.class, "backward", p, 1, l, d, w, 0, bwd,
                    "triad", Math.round(bwd / (4 * f))));
            points.add(new Point("conv1d", "step", ConvBenchmark.class, "step", p, 1, 1, d, w, 0, step,
                    "copy", Math.round(step / (2 * f))));
        }
        if (kernels.contains("norm")) {
            for (int dn : new java.util.TreeSet<>(List.of(768, d))) {
                Map<String, String> p = Map.of("rows", ls, "d", String.valueOf(dn), "groups", "1");
                double n = (double) l * dn;
                points.add(new Point("rmsnorm", "forward", NormBenchmark.class, "rmsForward", p, 1, l, dn, 0, 0, f * (2 * n + dn),
                        "copy", Math.round(n)));
                points.add(new Point("rmsnorm", "backward", NormBenchmark.class, "rmsBackward", p, 1, l, dn, 0, 0, f * (4 * n + 3 * dn),
                        "triad", Math.round(n)));
            }
            Map<String, String> p = Map.of("rows", ls, "d", ds, "groups", "1");
            points.add(new Point("gated_rmsnorm", "forward", NormBenchmark.class, "gatedForward", p, 1, l, d, 0, 0, f * (3 * bld + d),
                    "add", Math.round(bld)));
            points.add(new Point("gated_rmsnorm", "backward", NormBenchmark.class, "gatedBackward", p, 1, l, d, 0, 0, f * (7 * bld + 3 * d)));
        }
        if (kernels.contains("act")) {
            Map<String, String> p = Map.of("n", String.valueOf(l * d), "fn", "SILU");
            long n = Math.round(bld);
            points.add(new Point("silu", "forward", ActBenchmark.class, "forward", p, 1, l, d, 0, 0, f * 2 * bld, "copy", n));
            points.add(new Point("silu", "backward", ActBenchmark.class, "backward", p, 1, l, d, 0, 0, f * 4 * bld, "triad", n));
            points.add(new Point("residual_add", "forward", ActBenchmark.class, "residualAdd", p, 1, l, d, 0, 0, f * 3 * bld,
                    "add", n));
        }
        if (kernels.contains("loss")) {
            Map<String, String> p = Map.of("rows", "512", "vocab", "50280");
            double n = 512.0 * 50280;
            points.add(new Point("cross_entropy", "forward", LossBenchmark.class, "forward", p, 1, 512, 0, 0, 50280, f * n));
            points.add(new Point("cross_entropy", "backward", LossBenchmark.class, "backward", p, 1, 512, 0, 0, 50280, f * 2 * n));
        }

        BenchReport report = new BenchReport(json);
        for (Point pt : points) {
            for (int t : threadList) {
                if (t > 1 && pt.direction.equals("step")) continue;
                double memGbs = Double.NaN;
                if (pt.baseline != null) {
                    // same bytes through a plain copy/triad on the same number of threads, in this run
                    double s = JmhShort.secondsPerOp(MemoryBenchmark.class, pt.baseline,
                            Map.of("n", String.valueOf(pt.baselineN), "threads", String.valueOf(t)));
                    memGbs = pt.bytes / s / 1e9;
                    report.row().put("kernel", pt.kernel).put("direction", pt.direction).put("impl", "memory").put("threads", t)
                            .put("b", pt.b).put("l", pt.l).put("d", pt.d).put("w", pt.w == 0 ? "-" : pt.w).put("vocab", "-").put("seconds", s)
                            .put("gb_per_second", memGbs).put("of_memory", 1.0).add();
                }
                for (String impl : impls) {
                    if (t > 1 && impl.equals("scalar")) continue;
                    Map<String, String> params = new LinkedHashMap<>(pt.params);
                    params.put("impl", impl);
                    params.put("threads", String.valueOf(t));
                    double s = JmhShort.secondsPerOp(pt.jmh, pt.method, params);
                    report.row().put("kernel", pt.kernel).put("direction", pt.direction).put("impl", impl).put("threads", t)
                            .put("b", pt.b).put("l", pt.l).put("d", pt.d == 0 ? "-" : pt.d).put("w", pt.w == 0 ? "-" : pt.w)
                            .put("vocab", pt.vocab == 0 ? "-" : pt.vocab).put("seconds", s).put("gb_per_second", pt.bytes / s / 1e9)
                            .put("of_memory", Double.isNaN(memGbs) ? "-" : pt.bytes / s / 1e9 / memGbs).add();
                }
            }
        }
        report.finish("conv1d and elementwise kernels (" + KernelConfig.describe() + "); gb_per_second = bytes read+written / s");
        return 0;
    }
}
