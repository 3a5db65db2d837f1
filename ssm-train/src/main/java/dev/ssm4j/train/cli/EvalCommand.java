package dev.ssm4j.train.cli;

import dev.ssm4j.core.model.MambaLM;
import dev.ssm4j.train.data.Task;
import dev.ssm4j.train.data.Tasks;
import dev.ssm4j.train.loop.Evaluator;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** {@code ./ssm eval}: task accuracy of a trained model at several sequence lengths. */
public final class EvalCommand implements Command {
    @Override
    public String summary() {
        return "accuracy of a trained model on a task at several lengths (chunked no-grad path, O(1) state)";
    }

    @Override
    public String usage() {
        return """
            usage: ./ssm eval --model DIR --task NAME [--lengths 256,4096,...] [options]

              --model DIR          a model directory (config.json + model.safetensors), e.g. OUT/model of ./ssm train
              --task NAME          %s
              --task-params k=v,.. task parameters (as for ./ssm train; the length comes from --lengths)
              --lengths L1,L2,..   sequence lengths (default 256)
              --sequences N        sequences per length (default: 256 up to 4096 tokens, then about 2^20 / length, >= 2)
              --batch B            rows per forward call (default 8)
              --chunk C            tokens per forward call; longer sequences continue the state (default 4096)
              --threads T          threads, one group of rows each (default 2)
              --seed S             evaluation data seed (default 1)
              --json               one JSON object per length: length, sequences, accuracy, seconds
            """.formatted(String.join(", ", Tasks.names()));
    }

    @Override
    public int run(Args a) throws Exception {
        Path dir = Path.of(a.require("model"));
        String name = a.require("task");
        Map<String, Integer> params = parseParams(a.string("task-params", null));
        int[] lengths = a.intList("lengths", new int[] {256});
        int sequences = a.integer("sequences", 0);
        int batch = a.integer("batch", 8), chunk = a.integer("chunk", 4096), threads = a.integer("threads", 2);
        long seed = a.longValue("seed", 1);
        boolean json = a.flag("json");
        a.finish();
        try (MambaLM lm = MambaLM.load(dir)) {
            if (!json) System.out.printf(Locale.ROOT, "%10s %10s %10s %9s%n", "length", "sequences", "accuracy", "seconds");
            for (int len : lengths) {
                Map<String, Integer> p = new LinkedHashMap<>(params);
                p.put("length", len);
                Task task = Tasks.create(name, p);
                int n = sequences > 0 ? sequences : Evaluator.defaultSequences(len);
                Evaluator.Row r = Evaluator.evaluate(lm, task, len, n, batch, chunk, seed, threads);
                if (json) {
                    System.out.printf(Locale.ROOT, "{\"length\": %d, \"sequences\": %d, \"accuracy\": %.6f, \"seconds\": %.3f}%n",
                            len, n, r.accuracy(), r.seconds());
                } else {
                    System.out.printf(Locale.ROOT, "%10d %10d %9.1f%% %9.1f%n", len, n, 100 * r.accuracy(), r.seconds());
                }
            }
        }
        return 0;
    }

    static Map<String, Integer> parseParams(String tp) {
        Map<String, Integer> m = new LinkedHashMap<>();
        if (tp == null || tp.isBlank()) return m;
        for (String kv : tp.split(",")) {
            String[] p = kv.split("=", 2);
            if (p.length != 2) throw new UsageException("--task-params wants k=v pairs, got '" + kv + "'");
            try {
                m.put(p[0].trim(), Integer.parseInt(p[1].trim()));
            } catch (NumberFormatException e) {
                throw new UsageException("--task-params " + p[0] + " must be a whole number, got '" + p[1] + "'");
            }
        }
        return m;
    }
}
