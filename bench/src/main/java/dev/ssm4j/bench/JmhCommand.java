package dev.ssm4j.bench;

import dev.ssm4j.train.cli.RawCommand;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code ./ssm jmh [JMH options]}: the full JMH runner over every benchmark in bench (for
 * example {@code ./ssm jmh ScanBenchmark -p threads=1 -f 1}). Forked JVMs get the Vector API
 * flags added automatically.
 */
public final class JmhCommand implements RawCommand {
    @Override
    public String summary() {
        return "full JMH run: ./ssm jmh [regex] [JMH options, e.g. -f 1 -wi 3 -i 5 -p threads=1]";
    }

    @Override
    public String usage() {
        return """
                usage: ./ssm jmh [regex] [JMH options]
                Runs the JMH benchmarks of the bench module (org.openjdk.jmh.Main). Examples:
                  ./ssm jmh -l                          list benchmarks
                  ./ssm jmh ScanBenchmark -f 1 -wi 3 -i 5
                  ./ssm jmh 'GemmBenchmark.simd' -p m=1024 -rf json -rff gemm.json
                Forked JVMs get --add-modules jdk.incubator.vector automatically.""";
    }

    /** JMH parses its own options, so Main hands it the raw words. */
    @Override
    public int runRaw(String[] argv) throws Exception {
        List<String> all = new ArrayList<>(List.of(argv));
        all.add("-jvmArgsAppend");
        all.add(JmhShort.JVM_FLAGS);
        org.openjdk.jmh.Main.main(all.toArray(String[]::new));
        return 0;
    }
}
