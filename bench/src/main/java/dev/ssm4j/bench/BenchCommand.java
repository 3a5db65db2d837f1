package dev.ssm4j.bench;

import dev.ssm4j.train.cli.CommandGroup;
import dev.ssm4j.train.cli.Main;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code ./ssm bench <what>}: short benchmark runs that print a table or, with --json, JSON lines. */
public final class BenchCommand implements CommandGroup {
    private static final Map<String, String> BENCHES = new LinkedHashMap<>();

    static {
        BENCHES.put("scan", "dev.ssm4j.bench.ScanBench");
        BENCHES.put("gemm", "dev.ssm4j.bench.GemmBench");
        BENCHES.put("conv", "dev.ssm4j.bench.ConvBench");
        BENCHES.put("ssd", "dev.ssm4j.bench.SsdBench");
        BENCHES.put("model", "dev.ssm4j.bench.ModelBench");
        BENCHES.put("train", "dev.ssm4j.bench.TrainBench");
        BENCHES.put("induction-probe", "dev.ssm4j.bench.InductionProbe");
    }

    @Override
    public String name() {
        return "bench";
    }

    @Override
    public Map<String, String> table() {
        return BENCHES;
    }

    @Override
    public String summary() {
        return "short benchmarks (" + String.join(", ", Main.available(BENCHES).keySet()) + "); --json for JSON lines";
    }
}
