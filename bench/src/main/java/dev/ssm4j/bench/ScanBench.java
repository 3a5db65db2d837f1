package dev.ssm4j.bench;

import dev.ssm4j.bench.jmh.ScanBenchmark;
import dev.ssm4j.bench.jmh.ScanStepBenchmark;
import dev.ssm4j.kernels.KernelConfig;
import dev.ssm4j.train.cli.Args;
import dev.ssm4j.train.cli.Command;
import dev.ssm4j.train.cli.UsageException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code ./ssm bench scan}: the selective scan (Mamba-1 S6) forward, backward and decoding step,
 * scalar and SIMD, at the benchmark shapes of docs/benchmarks.md, each point a short JMH run
 * ({@link JmhShort}). Prints a table, or with --json one JSON object per point.
 */
public final class ScanBench implements Command {
    private static final String BIG = "1x2048x1536x16", SMALL = "8x256x128x16", STEP = "1x1536x16";

    @Override
    public String summary() {
        return "selective scan (S6) forward/backward/step, scalar vs SIMD";
    }

    @Override
    public String usage() {
        return """
                usage: ./ssm bench scan [--json] [--quick] [--threads 1,2] [--clock wall|cpu]
                Times the Mamba-1 selective scan with short JMH runs (one fork each; about 3-4 minutes
                in all, most of it the scalar twin at the large shape):
                  forward and backward at (b, l, d, n) = (1, 2048, 1536, 16) and (8, 256, 128, 16),
                  step at (b, d, n) = (1, 1536, 16), scalar and SIMD, for each thread count, and its
                  floor impl=traffic: reading and writing the same state bytes and nothing else.
                Elements = b·l·d·n (l = 1 for step). The table is followed by the SIMD/scalar and
                backward/forward ratios at the large shape, the step's time relative to its state
                traffic (state hot in cache, and rotating through 24 states like a 24-layer model),
                and (text mode only) the SIMD backward when the forward saved its checkpoints.
                The full configurable runs:
                  ./ssm jmh 'ScanBenchmark|ScanStepBenchmark' -f 1 -wi 2 -i 3 -w 1 -r 1
                  --json         one JSON object per line: kernel, direction, impl, b, l, d, n, threads,
                                 seconds, elements_per_second
                  --quick        only the large shape and the step, one thread (about a minute)
                  --threads L    comma-separated thread counts (default 1,2)
                  --clock cpu    instead of JMH: one thread, in this JVM, the CPU time the thread
                                 spent per call (minimum over repeated calls after a warm-up). Much
                                 less sensitive than wall time to other processes on a shared
                                 machine, which is its purpose; large shape and step only. The SIMD
                                 forward and backwards are timed interleaved (one call of each per
                                 round), and so are the step and its traffic floor (rounds over
                                 ~8 s), so their ratios compare like with like.""";
    }

    private record Point(String direction, String shape, String impl, int threads) {}

    @Override
    public int run(Args args) {
        boolean json = args.flag("json"), quick = args.flag("quick");
        int[] threads = args.intList("threads", quick ? new int[] {1} : new int[] {1, 2});
        String clock = args.string("clock", "wall");
        args.finish();
        if (clock.equals("cpu")) return cpuClock(json);
        if (!clock.equals("wall")) throw new UsageException("--clock must be wall or cpu, got '" + clock + "'");
        for (int t : threads) {
            if (t < 1) throw new UsageException("--threads must be >= 1, got " + t);
        }
        List<Point> points = new ArrayList<>();
        for (String shape : quick ? List.of(BIG) : List.of(BIG, SMALL)) {
            for (String dir : List.of("forward", "backward")) {
                for (int t : threads) {
                    for (String impl : List.of("simd", "scalar")) points.add(new Point(dir, shape, impl, t));
                }
            }
        }
        for (int t : threads) {
            for (String impl : List.of("simd", "scalar", "traffic")) points.add(new Point("step", STEP, impl, t));
        }

        BenchReport report = new BenchReport(json);
        Map<Point, Double> seconds = new java.util.HashMap<>();
        Map<Integer, Double> fromCheckpoints = new java.util.HashMap<>();
        for (Point p : points) {
            boolean step = p.direction.equals("step");
            if (!json && p.direction.equals("backward") && p.shape.equals(BIG) && p.impl.equals("simd")) {
                // Also the training path: backward from the forward's checkpoints (summary line only).
                fromCheckpoints.put(p.threads, JmhShort.secondsPerOp(ScanBenchmark.class, "backwardFromCheckpoints",
                        Map.of("shape", BIG, "impl", "simd", "threads", Integer.toString(p.threads))));
            }
            Map<String, String> params = Map.of("shape", p.shape, "impl", p.impl, "threads", Integer.toString(p.threads));
            double s = JmhShort.secondsPerOp(step ? ScanStepBenchmark.class : ScanBenchmark.class, p.direction, params);
            seconds.put(p, s);
            String[] dims = p.shape.split("x");
            long b = Long.parseLong(dims[0]);
            long l = step ? 1 : Long.parseLong(dims[1]);
            long d = Long.parseLong(dims[step ? 1 : 2]), n = Long.parseLong(dims[step ? 2 : 3]);
            report.row().put("kernel", "selective_scan").put("direction", p.direction).put("impl", p.impl)
                    .put("b", b).put("l", l).put("d", d).put("n", n).put("threads", p.threads)
                    .put("seconds", s).put("elements_per_second", b * l * d * n / s).add();
        }
        report.finish("selective scan (Mamba-1 S6), " + KernelConfig.describe() + ", elements = b·l·d·n");
        if (!json) {
            for (int t : threads) {
                // The step against its state traffic; again with 24 rotated states (summary lines only).
                Map<String, Double> rotated = new java.util.HashMap<>();
                for (String impl : List.of("simd", "traffic")) {
                    rotated.put(impl, JmhShort.secondsPerOp(ScanStepBenchmark.class, "step", Map.of("shape", STEP,
                            "impl", impl, "threads", Integer.toString(t), "states", "24")));
                }
                System.out.println(stepVsTraffic(t, seconds.get(new Point("step", STEP, "simd", t)),
                        seconds.get(new Point("step", STEP, "traffic", t)), rotated.get("simd"), rotated.get("traffic")));
            }
            for (int t : threads) {
                Double fs = seconds.get(new Point("forward", BIG, "simd", t));
                Double fc = seconds.get(new Point("forward", BIG, "scalar", t));
                Double bs = seconds.get(new Point("backward", BIG, "simd", t));
                System.out.println(String.format(Locale.ROOT,
                        "(1, 2048, 1536, 16), %d thread(s): SIMD/scalar forward %.1fx, SIMD backward/forward %.2fx"
                                + " (%.2fx from the forward's checkpoints: %.4f s)",
                        t, fc / fs, bs / fs, fromCheckpoints.get(t) / fs, fromCheckpoints.get(t)));
            }
        }
        return 0;
    }

    /** "step (1, 1536, 16), t thread(s): SIMD x µs = r× its state traffic (…); 24 rotated states: …". */
    private static String stepVsTraffic(int threads, double simd, double traffic, double simd24, double traffic24) {
        String[] dims = STEP.split("x");
        long bytes = 4L * Long.parseLong(dims[0]) * Long.parseLong(dims[1]) * Long.parseLong(dims[2]);
        return String.format(Locale.ROOT,
                "step (1, 1536, 16), %d thread(s): SIMD %.2f µs = %.1fx its state traffic (%.2f µs to read+write %d KiB)"
                        + "; rotating 24 states: %.2f µs = %.1fx (%.2f µs)",
                threads, simd * 1e6, simd / traffic, traffic * 1e6, bytes / 1024, simd24 * 1e6, simd24 / traffic24,
                traffic24 * 1e6);
    }

    /**
     * The SIMD forward, backward and backward from checkpoints at the large shape, one call of each
     * per round, 20 rounds, the minimum CPU time of each. Interleaved because this host's speed
     * changes for seconds at a time (a one-thread loop of steps ran at 5.6–5.8 µs, then 8.0–8.2 µs,
     * then 5.6 again, with no compilation in between: something outside this VM), so a ratio of
     * two kernels timed one after the other can compare a fast stretch with a slow one.
     */
    private static void interleavedSimd(java.lang.management.ThreadMXBean mx, List<String> dirs, Map<String, Double> sec) {
        List<Runnable> calls = new ArrayList<>();
        for (String dir : dirs) {
            ScanBenchmark s = new ScanBenchmark();
            s.shape = BIG; s.impl = "simd"; s.threads = 1;
            s.setup(dir.equals("forward") ? "forward" : "backward");
            Runnable call = switch (dir) {
                case "forward" -> s::forward;
                case "backward" -> s::backward;
                default -> s::backwardFromCheckpoints;
            };
            call.run();
            calls.add(call);
            sec.put(dir + "simd", Double.MAX_VALUE);
        }
        for (int r = 0; r < 20; r++) {
            for (int i = 0; i < dirs.size(); i++) {
                long t0 = mx.getCurrentThreadCpuTime();
                calls.get(i).run();
                sec.merge(dirs.get(i) + "simd", (mx.getCurrentThreadCpuTime() - t0) * 1e-9, Math::min);
            }
        }
    }

    /**
     * The step (SIMD and its traffic floor, hot and with 24 rotated states), interleaved in rounds of
     * 200 calls for about 8 s: a stretch of this host's slow speed lasts seconds, so the minimum over
     * rounds spread that long is the step's own time. Keys "step" / "step24" + impl.
     */
    private static void interleavedSteps(java.lang.management.ThreadMXBean mx, Map<String, Double> sec) {
        List<String> keys = new ArrayList<>();
        List<Runnable> calls = new ArrayList<>();
        for (String dir : List.of("step", "step24")) {
            for (String impl : List.of("simd", "traffic")) {
                ScanStepBenchmark s = new ScanStepBenchmark();
                s.shape = STEP; s.impl = impl; s.threads = 1; s.states = dir.equals("step24") ? 24 : 1;
                s.setup();
                keys.add(dir + impl);
                calls.add(s::step);
                sec.put(dir + impl, Double.MAX_VALUE);
            }
        }
        long end = System.nanoTime() + 8_000_000_000L;
        while (System.nanoTime() < end) {
            for (int i = 0; i < calls.size(); i++) {
                Runnable call = calls.get(i);
                long t0 = mx.getCurrentThreadCpuTime();
                for (int k = 0; k < 200; k++) call.run();
                sec.merge(keys.get(i), (mx.getCurrentThreadCpuTime() - t0) * 1e-9 / 200, Math::min);
            }
        }
    }

    /** The scalar twins (forward and backward at the large shape, the step), one after the other. */
    private static void scalarTwins(java.lang.management.ThreadMXBean mx, Map<String, Double> sec) {
        for (String dir : List.of("forward", "backward", "step")) {
            Runnable call;
            int batch, reps;
            if (dir.equals("step")) {
                ScanStepBenchmark s = new ScanStepBenchmark();
                s.shape = STEP; s.impl = "scalar"; s.threads = 1; s.states = 1;
                s.setup();
                call = s::step;
                batch = 200;
                reps = 30;
            } else {
                ScanBenchmark s = new ScanBenchmark();
                s.shape = BIG; s.impl = "scalar"; s.threads = 1;
                s.setup(dir);
                call = dir.equals("forward") ? s::forward : s::backward;
                batch = 1;
                reps = 3;
                call.run(); // a first call at this shape
            }
            double best = Double.MAX_VALUE;
            for (int r = 0; r < reps; r++) {
                long t0 = mx.getCurrentThreadCpuTime();
                for (int i = 0; i < batch; i++) call.run();
                best = Math.min(best, (mx.getCurrentThreadCpuTime() - t0) * 1e-9 / batch);
            }
            sec.put(dir + "scalar", best);
        }
    }

    /** --clock cpu: minimum thread CPU time per call, in this JVM, one thread. */
    private static int cpuClock(boolean json) {
        var mx = java.lang.management.ManagementFactory.getThreadMXBean();
        if (!mx.isCurrentThreadCpuTimeSupported()) throw new IllegalStateException("thread CPU time is not supported here");
        Map<String, Double> sec = new java.util.HashMap<>();
        interleavedSimd(mx, List.of("forward", "backward", "backwardFromCheckpoints"), sec);
        interleavedSteps(mx, sec);
        scalarTwins(mx, sec);
        BenchReport report = new BenchReport(json);
        for (String key : List.of("forward simd", "forward scalar", "backward simd", "backward scalar",
                "backwardFromCheckpoints simd", "step simd", "step scalar", "step traffic", "step24 simd", "step24 traffic")) {
            String dir = key.split(" ")[0], impl = key.split(" ")[1];
            boolean step = dir.startsWith("step");
            long l = step ? 1 : 2048, elements = l * 1536 * 16;
            double best = sec.get(dir + impl);
            report.row().put("kernel", "selective_scan")
                    .put("direction", dir.equals("backwardFromCheckpoints") ? "backward" : step ? "step" : dir)
                    .put("impl", impl).put("b", 1).put("l", l).put("d", 1536).put("n", 16).put("threads", 1)
                    .put("seconds", best).put("elements_per_second", elements / best).put("clock", "thread_cpu")
                    .put("variant", dir.equals("backwardFromCheckpoints") ? "from_checkpoints"
                            : dir.equals("step24") ? "24_states" : "-")
                    .add();
        }
        report.finish("selective scan (Mamba-1 S6), " + KernelConfig.describe()
                + ", thread CPU time per call (min), one thread, elements = b·l·d·n");
        if (!json) {
            System.out.println(String.format(Locale.ROOT,
                    "(1, 2048, 1536, 16): SIMD/scalar forward %.1fx, SIMD backward/forward %.2fx (%.2fx from the forward's checkpoints)",
                    sec.get("forwardscalar") / sec.get("forwardsimd"), sec.get("backwardsimd") / sec.get("forwardsimd"),
                    sec.get("backwardFromCheckpointssimd") / sec.get("forwardsimd")));
            System.out.println(stepVsTraffic(1, sec.get("stepsimd"), sec.get("steptraffic"), sec.get("step24simd"),
                    sec.get("step24traffic")));
        }
        return 0;
    }
}
