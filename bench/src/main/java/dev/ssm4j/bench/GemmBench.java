package dev.ssm4j.bench;

import dev.ssm4j.bench.jmh.GemmBenchmark;
import dev.ssm4j.bench.jmh.GemmDecodeBenchmark;
import dev.ssm4j.bench.jmh.GemmOpenBlasBenchmark;
import dev.ssm4j.kernels.KernelConfig;
import dev.ssm4j.train.cli.Args;
import dev.ssm4j.train.cli.Command;
import dev.ssm4j.train.cli.UsageException;
import java.util.Map;
import java.util.Optional;

/**
 * {@code ./ssm bench gemm}: our sgemm (SIMD, and the scalar twin at small shapes) against OpenBLAS
 * at the model's shapes, plus decode with f32 and bf16 weight matrices. Each point is one short JMH
 * run ({@link JmhShort}); rows: m, n, k, trans, weights, threads, impl, seconds, gflops, vs_openblas.
 */
public final class GemmBench implements Command {
    static final String DEFAULT_SHAPES = "1024x1024x1024,2048x3072x768,2048x768x1536,1x3072x768";
    /** The scalar twin runs only where one call takes at most this many multiply-adds. */
    static final long SCALAR_MAX_WORK = 64L << 20;

    @Override
    public String summary() {
        return "sgemm: SIMD vs scalar vs OpenBLAS at model shapes; decode with f32/bf16 weights";
    }

    @Override
    public String usage() {
        return """
                usage: ./ssm bench gemm [--shapes MxNxK,...] [--trans NN,NT,TN] [--threads 1,2] [--decode yes|no] [--json]
                  --shapes   products C (m x n) = op(A) (m x k) . op(B) (k x n); default %s
                  --trans    transposes of A and B: NN, NT (Linear forward, y = x.W^T), TN (weight gradient
                             dW = dY^T.X), TT; default NN,NT,TN
                  --threads  thread counts (our pool size; openblas_set_num_threads for OpenBLAS); default 1,2
                  --decode   also time y = x.W^T at m=1 with a 3072x768 f32 and bf16 WeightMatrix (yes|no, default yes)
                  --json     one JSON object per row instead of a table
                OpenBLAS (libopenblas.so.0, apt-get install libopenblas0; SSM_OPENBLAS=/path or =none) is optional:
                without it the openblas rows are left out (noted on stderr). The scalar twin runs only at
                shapes of at most %d M multiply-adds. Each row is one short JMH run (SSM_BENCH_QUICK=1: shorter).
                Full runs: ./ssm jmh 'Gemm(OpenBlas|Decode)?Benchmark' -f 1 -wi 2 -i 3 -w 1 -r 1"""
                .formatted(DEFAULT_SHAPES, SCALAR_MAX_WORK >> 20);
    }

    @Override
    public int run(Args args) {
        boolean json = args.flag("json");
        String[] shapes = args.string("shapes", DEFAULT_SHAPES).split(",");
        String[] trans = args.string("trans", "NN,NT,TN").toUpperCase().split(",");
        int[] threads = args.intList("threads", new int[] {1, 2});
        String decode = args.string("decode", "yes");
        args.finish();
        for (String s : shapes) {
            try {
                int[] d = GemmBenchmark.parseShape(s.trim());
                if (d[0] < 1 || d[1] < 1 || d[2] < 1) throw new IllegalArgumentException("sizes must be >= 1");
            } catch (IllegalArgumentException e) {
                throw new UsageException("--shapes: bad shape '" + s + "' (" + e.getMessage() + "), expected e.g. 1024x1024x1024");
            }
        }
        for (String t : trans) {
            if (!t.trim().matches("[NT]{2}")) throw new UsageException("--trans: '" + t + "' is not NN, NT, TN or TT");
        }
        for (int t : threads) if (t < 1) throw new UsageException("--threads must be >= 1, got " + t);
        if (!decode.equals("yes") && !decode.equals("no")) throw new UsageException("--decode must be yes or no, got '" + decode + "'");

        Optional<OpenBlas> blas = OpenBlas.load();
        withOpenBlas = blas.isPresent();
        if (blas.isPresent() && !json) System.out.println("OpenBLAS: " + blas.get().path() + " (" + blas.get().config() + ")");
        BenchReport report = new BenchReport(json);
        for (String s : shapes) {
            int[] d = GemmBenchmark.parseShape(s.trim());
            double flops = 2.0 * d[0] * d[1] * d[2];
            for (String t : trans) {
                for (int th : threads) {
                    Map<String, String> p = Map.of("shape", s.trim(), "trans", t.trim(), "threads", Integer.toString(th));
                    double ob = Double.NaN;
                    if (blas.isPresent()) {
                        ob = JmhShort.secondsPerOp(GemmOpenBlasBenchmark.class, "openblas", p);
                        add(report, d, t, "-", th, "openblas", ob, flops, Double.NaN);
                    }
                    double simd = JmhShort.secondsPerOp(GemmBenchmark.class, "simd", p);
                    add(report, d, t, "-", th, "simd", simd, flops, ob / simd);
                    if (th == 1 && (long) d[0] * d[1] * d[2] <= SCALAR_MAX_WORK) {
                        add(report, d, t, "-", 1, "scalar", JmhShort.secondsPerOp(GemmBenchmark.class, "scalar", p), flops, Double.NaN);
                    }
                }
            }
        }
        if (decode.equals("yes")) {
            int[] d = {1, 3072, 768};
            double flops = 2.0 * d[0] * d[1] * d[2];
            for (String f : new String[] {"F32", "BF16"}) {
                for (int th : threads) {
                    Map<String, String> p = Map.of("format", f, "threads", Integer.toString(th), "weight", "3072x768", "m", "1");
                    add(report, d, "NT", f, th, "simd", JmhShort.secondsPerOp(GemmDecodeBenchmark.class, "simd", p), flops, Double.NaN);
                    if (th == 1) {
                        add(report, d, "NT", f, 1, "scalar", JmhShort.secondsPerOp(GemmDecodeBenchmark.class, "scalar", p), flops,
                                Double.NaN);
                    }
                }
            }
        }
        report.finish("sgemm (" + KernelConfig.describe() + "; gflops = 2mnk / seconds"
                + (withOpenBlas ? "; vs_openblas = OpenBLAS time / our time" : "")
                + "; weights F32/BF16 = WeightMatrix in native memory, 16 copies cycled so W streams from DRAM)");
        return 0;
    }

    /** Whether rows get a vs_openblas column (only when OpenBLAS was found). */
    private boolean withOpenBlas;

    private void add(BenchReport r, int[] d, String trans, String weights, int threads, String impl, double seconds,
            double flops, double vsOpenBlas) {
        BenchReport.Row row = r.row().put("m", d[0]).put("n", d[1]).put("k", d[2]).put("trans", trans.trim())
                .put("weights", weights).put("threads", threads).put("impl", impl).put("seconds", seconds)
                .put("gflops", flops / seconds * 1e-9);
        if (withOpenBlas) {
            row.put("vs_openblas", Double.isNaN(vsOpenBlas) ? "-" : String.format(java.util.Locale.ROOT, "%.2f", vsOpenBlas));
        }
        row.add();
    }
}
