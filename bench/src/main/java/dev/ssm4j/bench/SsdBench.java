package dev.ssm4j.bench;

import dev.ssm4j.bench.jmh.SsdBackwardBenchmark;
import dev.ssm4j.bench.jmh.SsdForwardBenchmark;
import dev.ssm4j.bench.jmh.SsdStepBenchmark;
import dev.ssm4j.kernels.KernelConfig;
import dev.ssm4j.train.cli.Args;
import dev.ssm4j.train.cli.Command;
import dev.ssm4j.train.cli.UsageException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code ./ssm bench ssd}: a short run of the Mamba-2 SSD kernels (forward, backward, step) through
 * JMH ({@link JmhShort}), printed as a table or JSON lines.
 */
public final class SsdBench implements Command {
    private static final List<String> DIRECTIONS = List.of("forward", "backward", "step");
    private static final List<String> IMPLS = List.of("chunked", "recurrent", "scalar");

    @Override
    public String summary() {
        return "Mamba-2 SSD scan: chunked vs recurrent forward, backward, step (JMH, short)";
    }

    @Override
    public String usage() {
        return """
                usage: ./ssm bench ssd [options]
                Short JMH runs of the Mamba-2 SSD kernels; one row per point with kernel, direction, impl,
                b, l, h, p, n, g, chunk, threads, seconds (per call), tokens_per_second, microseconds_per_token
                (and bytes_per_call with --timer cpu).
                  --directions LIST  forward,backward,step (default all three)
                  --impls LIST       forward implementations: chunked (SIMD SSD), recurrent (SIMD recurrence),
                                     scalar (plain recurrence); default chunked,recurrent. The backward runs
                                     chunked (and scalar if listed); the step runs simd (and scalar if listed)
                  --lengths LIST     tokens per row for the forward, default 256,512,2048
                  --backward-lengths LIST   for the backward, default the longest of --lengths
                  --threads LIST     default 1
                  --batch B          rows, default 1 (step: rows decoded per call, default 1)
                  --heads H --head-dim P --state N --groups G --chunk Q
                                     default 24, 64, 128, 1, 64 (a Mamba-2 layer of width 768)
                  --timer T          jmh (default): JMH wall-clock time per call, short settings;
                                     cpu: in-process, the calling thread's CPU time per call (best of
                                     --reps calls after a JIT warm-up) — steadier on a shared machine,
                                     one thread only; adds bytes_per_call, the heap bytes the calling
                                     thread allocated per call (0 = allocation-free in steady state)
                  --reps R           calls timed with --timer cpu, default 10
                  --json             JSON lines instead of a table
                Environment: SSM_BENCH_QUICK=1 shortens every measurement (smoke test only).""";
    }

    @Override
    public int run(Args args) {
        List<String> directions = words(args.string("directions", String.join(",", DIRECTIONS)), DIRECTIONS, "directions");
        List<String> impls = words(args.string("impls", "chunked,recurrent"), IMPLS, "impls");
        int[] lengths = args.intList("lengths", new int[] {256, 512, 2048});
        int[] threads = args.intList("threads", new int[] {1});
        int b = args.integer("batch", 1), h = args.integer("heads", 24), p = args.integer("head-dim", 64);
        int n = args.integer("state", 128), g = args.integer("groups", 1), q = args.integer("chunk", 64);
        int[] backLengths = args.intList("backward-lengths", null);
        String timer = args.string("timer", "jmh");
        int reps = args.integer("reps", 10);
        boolean json = args.flag("json");
        args.finish();
        for (int v : lengths) if (v < 1) throw new UsageException("--lengths must be >= 1, got " + v);
        for (int v : threads) if (v < 1) throw new UsageException("--threads must be >= 1, got " + v);
        if (b < 1 || h < 1 || p < 1 || n < 1 || g < 1 || q < 1 || h % g != 0) {
            throw new UsageException("sizes must be >= 1 and --groups must divide --heads; got batch " + b + ", heads "
                    + h + ", head-dim " + p + ", state " + n + ", groups " + g + ", chunk " + q);
        }
        if (!timer.equals("jmh") && !timer.equals("cpu")) throw new UsageException("--timer is jmh or cpu, got '" + timer + "'");
        if (reps < 1) throw new UsageException("--reps must be >= 1, got " + reps);
        if (timer.equals("cpu")) {
            for (int v : threads) {
                if (v != 1) throw new UsageException("--timer cpu measures the calling thread only: use --threads 1");
            }
        }
        boolean cpu = timer.equals("cpu");
        int longest = 0;
        for (int v : lengths) longest = Math.max(longest, v);
        if (backLengths == null) backLengths = new int[] {longest};
        for (int v : backLengths) if (v < 1) throw new UsageException("--backward-lengths must be >= 1, got " + v);

        BenchReport report = new BenchReport(json);
        for (int t : threads) {
            if (directions.contains("forward")) {
                for (int l : lengths) {
                    for (String impl : impls) {
                        Map<String, String> pm = params(l, t, b, h, p, n, g, q, true);
                        Cpu c = cpu ? cpuSeconds(forward(pm), impl, reps) : null;
                        double s = cpu ? c.seconds() : JmhShort.secondsPerOp(SsdForwardBenchmark.class, impl, pm);
                        row(report, "forward", impl.equals("recurrent") ? "recurrent-simd" : impl, b, l, h, p, n, g, q, t, s,
                                timer, c);
                    }
                }
            }
            if (directions.contains("backward")) {
                for (int l : backLengths) {
                    for (String impl : impls) {
                        if (impl.equals("recurrent")) continue; // no separate recurrent backward
                        Map<String, String> pm = params(l, t, b, h, p, n, g, q, true);
                        Cpu c = cpu ? cpuSeconds(backward(pm), impl, reps) : null;
                        double s = cpu ? c.seconds() : JmhShort.secondsPerOp(SsdBackwardBenchmark.class, impl, pm);
                        row(report, "backward", impl, b, l, h, p, n, g, q, t, s, timer, c);
                    }
                }
            }
            if (directions.contains("step")) {
                for (String impl : impls) {
                    if (impl.equals("recurrent")) continue;
                    String method = impl.equals("chunked") ? "simd" : "scalar";
                    Map<String, String> pm = params(1, t, b, h, p, n, g, q, false);
                    Cpu c = cpu ? cpuSeconds(step(pm), method, reps) : null;
                    double s = cpu ? c.seconds() : JmhShort.secondsPerOp(SsdStepBenchmark.class, method, pm);
                    row(report, "step", method, b, 1, h, p, n, g, 0, t, s, timer, c);
                }
            }
        }
        report.finish("Mamba-2 SSD (" + KernelConfig.describe() + "); seconds per call, tokens = b·l per call");
        return 0;
    }

    private static Map<String, String> params(int l, int t, int b, int h, int p, int n, int g, int q, boolean seq) {
        Map<String, String> m = new LinkedHashMap<>();
        if (seq) {
            m.put("l", Integer.toString(l));
            m.put("chunk", Integer.toString(q));
        }
        m.put("threads", Integer.toString(t));
        m.put("b", Integer.toString(b));
        m.put("h", Integer.toString(h));
        m.put("p", Integer.toString(p));
        m.put("n", Integer.toString(n));
        m.put("g", Integer.toString(g));
        return m;
    }

    // ---- --timer cpu: the JMH state classes driven in process ---------------------------------

    private static SsdForwardBenchmark forward(Map<String, String> pm) {
        SsdForwardBenchmark s = new SsdForwardBenchmark();
        s.l = Integer.parseInt(pm.get("l"));
        s.chunk = Integer.parseInt(pm.get("chunk"));
        s.threads = Integer.parseInt(pm.get("threads"));
        s.b = Integer.parseInt(pm.get("b"));
        s.h = Integer.parseInt(pm.get("h"));
        s.p = Integer.parseInt(pm.get("p"));
        s.n = Integer.parseInt(pm.get("n"));
        s.g = Integer.parseInt(pm.get("g"));
        s.setup();
        return s;
    }

    private static SsdBackwardBenchmark backward(Map<String, String> pm) {
        SsdBackwardBenchmark s = new SsdBackwardBenchmark();
        s.l = Integer.parseInt(pm.get("l"));
        s.chunk = Integer.parseInt(pm.get("chunk"));
        s.threads = Integer.parseInt(pm.get("threads"));
        s.b = Integer.parseInt(pm.get("b"));
        s.h = Integer.parseInt(pm.get("h"));
        s.p = Integer.parseInt(pm.get("p"));
        s.n = Integer.parseInt(pm.get("n"));
        s.g = Integer.parseInt(pm.get("g"));
        s.setup();
        return s;
    }

    private static SsdStepBenchmark step(Map<String, String> pm) {
        SsdStepBenchmark s = new SsdStepBenchmark();
        s.threads = Integer.parseInt(pm.get("threads"));
        s.b = Integer.parseInt(pm.get("b"));
        s.h = Integer.parseInt(pm.get("h"));
        s.p = Integer.parseInt(pm.get("p"));
        s.n = Integer.parseInt(pm.get("n"));
        s.g = Integer.parseInt(pm.get("g"));
        s.setup();
        return s;
    }

    /** A benchmark method called directly (reflection would allocate itself and spoil the byte count). */
    private static Runnable call(Object state, String method) {
        if (state instanceof SsdForwardBenchmark f) {
            return switch (method) {
                case "chunked" -> f::chunked;
                case "recurrent" -> f::recurrent;
                default -> f::scalar;
            };
        }
        if (state instanceof SsdBackwardBenchmark b) return method.equals("chunked") ? b::chunked : b::scalar;
        SsdStepBenchmark st = (SsdStepBenchmark) state;
        return method.equals("simd") ? st::simd : st::scalar;
    }

    /** Best CPU seconds and mean heap bytes allocated per call, by the calling thread. */
    private record Cpu(double seconds, double bytes) {}

    /**
     * Best thread-CPU seconds of {@code reps} calls of the benchmark method (after the state's JIT
     * warm-up and three untimed calls), and the bytes the calling thread allocated per call over
     * those calls (0 for a kernel that is allocation-free in steady state; work on pool threads is
     * not counted). CPU time leaves out the time other processes hold the core.
     */
    private static Cpu cpuSeconds(Object state, String method, int reps) {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory
                .getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        Runnable m = call(state, method);
        for (int i = 0; i < 3; i++) m.run();
        long best = Long.MAX_VALUE, a0 = mx.getThreadAllocatedBytes(tid);
        for (int i = 0; i < reps; i++) {
            long c0 = mx.getCurrentThreadCpuTime();
            m.run();
            best = Math.min(best, mx.getCurrentThreadCpuTime() - c0);
        }
        double bytes = (mx.getThreadAllocatedBytes(tid) - a0) / (double) reps;
        return new Cpu(best * 1e-9, bytes);
    }

    private static void row(BenchReport report, String direction, String impl, int b, int l, int h, int p, int n,
                            int g, int q, int threads, double seconds, String timer, Cpu cpu) {
        double tokens = (double) b * l;
        var r = report.row().put("kernel", "ssd").put("direction", direction).put("impl", impl).put("b", b).put("l", l)
                .put("h", h).put("p", p).put("n", n).put("g", g).put("chunk", q).put("threads", threads)
                .put("seconds", seconds).put("tokens_per_second", tokens / seconds)
                .put("microseconds_per_token", seconds * 1e6 / tokens).put("timer", timer);
        if (cpu != null) r.put("bytes_per_call", cpu.bytes());
        r.add();
    }

    private static List<String> words(String list, List<String> allowed, String option) {
        List<String> out = new ArrayList<>();
        for (String w : list.split(",")) {
            String s = w.trim();
            if (s.isEmpty()) continue;
            if (!allowed.contains(s)) {
                throw new UsageException("--" + option + " accepts " + String.join(",", allowed) + "; got '" + s + "'");
            }
            out.add(s);
        }
        if (out.isEmpty()) throw new UsageException("--" + option + " is empty");
        return out;
    }
}
