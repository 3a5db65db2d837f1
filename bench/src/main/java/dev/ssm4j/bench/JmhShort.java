package dev.ssm4j.bench;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * Runs one JMH benchmark method at one point of its {@code @Param} space with short settings
 * (1 fork, 2 × 0.5 s warm-up, 3 × 1 s measurement) and returns seconds per operation. This is
 * what the {@code ./ssm bench …} commands use; the full runs go through {@code ./ssm jmh}.
 */
public final class JmhShort {
    private JmhShort() {}

    /** JVM flags every forked benchmark JVM needs. */
    public static final String JVM_FLAGS = "--add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED";

    /** Settings of a short run; {@code quick} (env SSM_BENCH_QUICK=1) shortens them further for smoke tests. */
    public record Settings(int warmups, long warmupMillis, int iterations, long iterationMillis) {
        public static Settings standard() {
            return System.getenv("SSM_BENCH_QUICK") != null ? new Settings(1, 100, 1, 200) : new Settings(2, 500, 3, 1000);
        }
    }

    /**
     * Seconds per op of {@code benchmarkClass.method} with the given params (other @Param
     * fields take their first declared value).
     */
    public static double secondsPerOp(Class<?> benchmarkClass, String method, Map<String, String> params) {
        Settings s = Settings.standard();
        ChainedOptionsBuilder b = new OptionsBuilder()
                .include("^" + java.util.regex.Pattern.quote(benchmarkClass.getName() + "." + method) + "$")
                .forks(1)
                .warmupIterations(s.warmups())
                .warmupTime(TimeValue.milliseconds(s.warmupMillis()))
                .measurementIterations(s.iterations())
                .measurementTime(TimeValue.milliseconds(s.iterationMillis()))
                .mode(Mode.AverageTime)
                .timeUnit(TimeUnit.NANOSECONDS)
                .jvmArgsAppend(JVM_FLAGS.split(" "))
                .shouldFailOnError(true)
                .verbosity(VerboseMode.SILENT);
        for (var e : params.entrySet()) b.param(e.getKey(), e.getValue());
        try {
            Collection<RunResult> results = new Runner(b.build()).run();
            if (results.isEmpty()) {
                throw new IllegalStateException("JMH ran nothing for " + benchmarkClass.getSimpleName() + "." + method);
            }
            return results.iterator().next().getPrimaryResult().getScore() * 1e-9;
        } catch (RunnerException e) {
            throw new IllegalStateException("JMH failed for " + benchmarkClass.getSimpleName() + "." + method + ": "
                    + e.getMessage(), e);
        }
    }
}
