package dev.ssm4j.train.cli;

import dev.ssm4j.core.generate.GenerateOptions;
import dev.ssm4j.core.generate.GenerationResult;
import dev.ssm4j.core.generate.Generator;
import dev.ssm4j.core.generate.SamplingConfig;
import dev.ssm4j.core.generate.StopReason;
import dev.ssm4j.core.generate.TokenListener;
import dev.ssm4j.core.model.InferenceState;
import dev.ssm4j.core.model.LoadOptions;
import dev.ssm4j.core.model.MambaLM;
import dev.ssm4j.core.tokenizer.BpeTokenizer;
import dev.ssm4j.core.tokenizer.ByteTokenizer;
import dev.ssm4j.core.tokenizer.Tokenizer;
import dev.ssm4j.kernels.Parallel;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;

/** {@code ./ssm generate}: text continuation of a prompt, streamed to stdout. */
public final class GenerateCommand implements Command {
    @Override
    public String summary() {
        return "continue a prompt with a model (greedy or sampled), streaming the text";
    }

    @Override
    public String usage() {
        return """
                usage: ./ssm generate --model DIR --prompt "text" [--max-tokens N] [--greedy]
                                      [--temperature T] [--top-k K] [--top-p P] [--min-p M]
                                      [--repetition-penalty R] [--seed S] [--stop "text or ids"]
                                      [--bf16] [--threads N] [--state-in FILE] [--state-out FILE] [--quiet]

                  --model DIR            config.json + model.safetensors (+ tokenizer.json: Hugging Face BPE;
                                         without it the byte tokenizer, with <|endoftext|> = 256 if the vocab has room)
                  --prompt TEXT          the text to continue (at least one token)
                  --max-tokens N         new tokens at most (default 64)
                  --greedy               argmax decoding (the default when no sampling option is given)
                  --temperature T        sample at temperature T (default 1 once any sampling option is given)
                  --top-k K, --top-p P, --min-p M, --repetition-penalty R   filters as in Hugging Face generate()
                  --seed S               seed of the sampler (default 0)
                  --stop S               stop when the output ends with S: comma-separated token ids (each a stop
                                         token), or text (\\n for a newline). The tokenizer's end-of-text id
                                         always stops.
                  --bf16                 hold the weight matrices in BF16 (faster decode)
                  --threads N            kernel threads (default 1)
                  --state-in FILE        continue from a saved state (the prompt is read after it)
                  --state-out FILE       save the state after generation (prompt + every generated token)
                  --quiet                do not echo the prompt
                Text goes to stdout as it is generated; token counts and tokens/s go to stderr.""";
    }

    @Override
    public int run(Args args) throws Exception {
        Path dir = Path.of(args.require("model"));
        String prompt = args.require("prompt");
        int maxTokens = args.integer("max-tokens", 64);
        boolean greedy = args.flag("greedy");
        boolean sampled = args.has("temperature") || args.has("top-k") || args.has("top-p") || args.has("min-p")
                || args.has("seed");
        float temperature = (float) args.number("temperature", 1.0);
        int topK = args.integer("top-k", 0);
        float topP = (float) args.number("top-p", 1.0);
        float minP = (float) args.number("min-p", 0.0);
        float rep = (float) args.number("repetition-penalty", 1.0);
        long seed = args.longValue("seed", 0);
        String stop = args.string("stop", null);
        boolean bf16 = args.flag("bf16");
        int threads = args.integer("threads", 1);
        String stateIn = args.string("state-in", null), stateOut = args.string("state-out", null);
        boolean quiet = args.flag("quiet");
        args.finish();
        if (greedy && sampled) throw new UsageException("--greedy cannot be combined with --temperature/--top-k/--top-p/--min-p/--seed");
        if (maxTokens < 1) throw new UsageException("--max-tokens must be >= 1, got " + maxTokens);
        if (threads < 1) throw new UsageException("--threads must be >= 1, got " + threads);
        if (!Files.isDirectory(dir)) throw new UsageException("--model: no such directory: " + dir);
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            throw new UsageException("--model: " + dir + " has no config.json (expected a model directory)");
        }
        SamplingConfig sampling;
        try {
            sampling = greedy || !sampled ? new SamplingConfig(0f, 0, 1f, 0f, rep, seed)
                    : new SamplingConfig(temperature, topK, topP, minP, rep, seed);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }

        ForkJoinPool pool = Parallel.pool(threads);
        try (MambaLM lm = MambaLM.load(dir, bf16 ? LoadOptions.BF16 : LoadOptions.DEFAULT)) {
            int V = lm.spec().vocab;
            Tokenizer tok = Files.isRegularFile(dir.resolve("tokenizer.json")) ? BpeTokenizer.load(dir.resolve("tokenizer.json"))
                    : V > 256 ? ByteTokenizer.withEndOfText() : new ByteTokenizer();
            int[] ids = tok.encode(prompt);
            if (ids.length == 0) throw new UsageException("--prompt is empty (it must give at least one token)");
            for (int t : ids) {
                if (t >= V) throw new UsageException("--prompt: token id " + t + " (from " + tok + ") is outside the model's vocab of " + V);
            }
            List<int[]> stops = new ArrayList<>();
            tok.eosTokenId().ifPresent(e -> { if (e < V) stops.add(new int[] {e}); });
            if (stop != null) stops.addAll(parseStop(stop, tok, V));

            InferenceState st;
            if (stateIn != null) {
                st = InferenceState.load(Path.of(stateIn), lm.spec());
                if (st.batch() != 1) throw new UsageException("--state-in: " + stateIn + " holds " + st.batch() + " rows, expected 1");
            } else {
                st = lm.newState(1);
            }
            long startPos = st.position(0);
            PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false, StandardCharsets.UTF_8);
            if (!quiet) {
                out.print(prompt);
                out.flush();
            }
            TokenListener listener = new TokenListener() {
                @Override
                public void onToken(int row, int token, String text) {
                    if (!text.isEmpty()) {
                        out.print(text);
                        out.flush();
                    }
                }

                @Override
                public void onFinish(int row, StopReason reason, String rest) {
                    out.print(rest);
                    out.println();
                    out.flush();
                }
            };
            GenerateOptions go = new GenerateOptions().sampling(sampling).maxNewTokens(maxTokens)
                    .stopSequences(stops.toArray(new int[0][])).tokenizer(tok).listener(listener).pool(pool)
                    .feedLastToken(stateOut != null);
            GenerationResult res = new Generator(lm).generate(new int[][] {ids}, st, go);
            System.err.printf("%s: %d new tokens (%s)%s%n", lm.spec().kind == dev.ssm4j.core.model.ModelSpec.Kind.MAMBA1
                    ? "mamba" : "mamba2", res.tokens()[0].length,
                    res.reasons()[0] == StopReason.MAX_TOKENS ? "token limit" : "stop sequence",
                    startPos > 0 ? ", continued from position " + startPos : "");
            System.err.printf("prefill: %d tokens in %.3f s = %.1f tokens/s; decode: %d tokens in %.3f s = %.1f tokens/s%n",
                    res.promptTokens(), res.prefillNanos() / 1e9, res.prefillTokensPerSecond(), res.decodeTokens(),
                    res.decodeNanos() / 1e9, res.decodeTokensPerSecond());
            if (stateOut != null) {
                st.save(Path.of(stateOut));
                System.err.printf("state (position %d) saved to %s%n", st.position(0), stateOut);
            }
            return 0;
        } finally {
            if (pool != null) pool.shutdown();
        }
    }

    /** "1,2,3" → three stop tokens; anything else → the token sequence of the text. */
    static List<int[]> parseStop(String s, Tokenizer tok, int vocab) {
        List<int[]> out = new ArrayList<>();
        if (s.matches("\\s*\\d+\\s*(,\\s*\\d+\\s*)*")) {
            for (String p : s.split(",")) {
                int id = Integer.parseInt(p.trim());
                if (id >= vocab) throw new UsageException("--stop: token id " + id + " is outside the vocab of " + vocab);
                out.add(new int[] {id});
            }
            return out;
        }
        int[] seq = tok.encode(s.replace("\\n", "\n").replace("\\t", "\t"));
        if (seq.length == 0) throw new UsageException("--stop: '" + s + "' gives no tokens");
        out.add(seq);
        return out;
    }
}
