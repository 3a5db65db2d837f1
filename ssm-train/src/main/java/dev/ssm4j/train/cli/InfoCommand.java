package dev.ssm4j.train.cli;

import dev.ssm4j.core.io.Json;
import dev.ssm4j.core.model.ActivationStore;
import dev.ssm4j.core.model.InferenceState;
import dev.ssm4j.core.model.LoadOptions;
import dev.ssm4j.core.model.MambaLM;
import dev.ssm4j.core.model.ModelSpec;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** {@code ./ssm info --model DIR}: config summary, parameter count, weight and state memory. */
public final class InfoCommand implements Command {
    @Override
    public String summary() {
        return "describe a model directory: config, parameters, bytes of weights and of the inference state";
    }

    @Override
    public String usage() {
        return """
                usage: ./ssm info --model DIR [--bf16] [--json]

                Loads DIR (config.json + model.safetensors or its sharded index) and prints the
                architecture, the parameter count, the bytes of the weights as loaded, the bytes of
                the inference state per sequence (constant: a Mamba state does not grow with the
                context) and of the activations a training step records per token.

                  --model DIR   the model directory (Hugging Face layout)
                  --bf16        report the weights as loaded with BF16 matrices
                  --json        one JSON object instead of text""";
    }

    @Override
    public int run(Args args) throws Exception {
        Path dir = Path.of(args.require("model"));
        boolean bf16 = args.flag("bf16");
        boolean json = args.flag("json");
        args.finish();
        try (MambaLM lm = MambaLM.load(dir, bf16 ? LoadOptions.BF16 : LoadOptions.DEFAULT)) {
            ModelSpec s = lm.spec();
            long stateBytes = InferenceState.bytesPerSequence(s);
            long actPerToken = 4L * ActivationStore.floatsPerToken(s);
            long ws512 = lm.newWorkspace(1, 512).bytes();
            Runtime rt = Runtime.getRuntime();
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("model", dir.toString());
            out.put("type", s.kind == ModelSpec.Kind.MAMBA1 ? "mamba" : "mamba2");
            out.put("vocab_size", s.vocab);
            out.put("hidden_size", s.hidden);
            out.put("layers", s.layers);
            out.put("d_inner", s.dInner);
            out.put("d_state", s.dState);
            out.put("d_conv", s.convWidth);
            if (s.kind == ModelSpec.Kind.MAMBA1) {
                out.put("dt_rank", s.dtRank);
            } else {
                out.put("heads", s.heads);
                out.put("head_dim", s.headDim);
                out.put("groups", s.groups);
                out.put("gated_norm_group", s.normGroupSize);
            }
            out.put("tied_embeddings", s.tieEmbeddings);
            out.put("bias", s.useBias);
            out.put("parameters", lm.parameterCount());
            out.put("weight_bytes", lm.weightBytes());
            out.put("state_bytes_per_sequence", stateBytes);
            out.put("state_bytes_per_token", 0);
            out.put("workspace_bytes_prefill_512", ws512);
            out.put("training_activation_bytes_per_token", actPerToken);
            out.put("jvm_max_heap_bytes", rt.maxMemory());
            out.put("spec_hash", s.hash());
            if (json) {
                System.out.println(Json.write(out));
                return 0;
            }
            System.out.println(lm.spec());
            System.out.printf("  parameters            %,d%n", lm.parameterCount());
            System.out.printf("  weights               %s%s%n", bytes(lm.weightBytes()), bf16 ? " (BF16 matrices)" : "");
            System.out.printf("  inference state       %s per sequence, constant in the context length%n",
                    bytes(stateBytes));
            System.out.printf("                        (%d layers × (conv %d·%d + ssm %d) floats; 0 bytes per token)%n",
                    s.layers, s.convWidth - 1, s.convDim, s.ssmStateSize);
            System.out.printf("  prefill workspace     %s for 1 × 512 tokens%n", bytes(ws512));
            System.out.printf("  training activations  %s per token%n", bytes(actPerToken));
            System.out.printf("  JVM max heap          %s%n", bytes(rt.maxMemory()));
            return 0;
        }
    }

    static String bytes(long b) {
        if (b < 1024) return b + " B";
        if (b < 1024L * 1024) return String.format("%.1f KiB", b / 1024.0);
        if (b < 1024L * 1024 * 1024) return String.format("%.1f MiB", b / (1024.0 * 1024));
        return String.format("%.2f GiB", b / (1024.0 * 1024 * 1024));
    }
}
