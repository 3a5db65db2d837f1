package dev.ssm4j.core.model;

import dev.ssm4j.core.config.ModelConfig;
import dev.ssm4j.core.io.Checkpoint;
import dev.ssm4j.core.io.DType;
import dev.ssm4j.kernels.norm.RmsNorm;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A Mamba-1 or Mamba-2 causal language model with Hugging Face–exact numerics
 * ({@code MambaForCausalLM} / {@code Mamba2ForCausalLM}, pure-PyTorch path, fp32): embedding →
 * layers of {@code x + mixer(RMSNorm(x))} → norm_f → lm_head. Data flow, shapes and the reasons
 * the two execution modes agree: docs/model.md.
 *
 * <h2>Use</h2>
 * <pre>
 *   try (MambaLM lm = MambaLM.load(dir)) {
 *       Workspace ws = lm.newWorkspace(1, 512);
 *       InferenceState st = lm.newState(1);
 *       ForwardOptions o = new ForwardOptions().logits(ForwardOptions.Logits.LAST);
 *       float[] logits = new float[lm.spec().vocab];
 *       lm.forward(prompt, 1, prompt.length, st, ws, o, logits);   // prefill (parallel)
 *       int[] next = {argmax(logits)};
 *       lm.step(next, 1, st, ws, o, logits);                     // decode (recurrent)
 *   }
 * </pre>
 *
 * <p>A model is immutable apart from its weights: built by {@link #fromFlat} it reads the caller's
 * flat parameter array at every call (so optimizer updates are seen at once); loaded by
 * {@link #load} it holds the checkpoint's tensors as {@link LoadOptions} says (by default used in
 * place from the memory-mapped file — keep the model open while in use — or copied). One
 * model may serve several threads at once, each with its own {@link Workspace} and state.
 */
public final class MambaLM implements AutoCloseable {
    private final ModelSpec spec;
    private final ModelConfig config;
    private final ParameterLayout layout;
    private final Linear embed;    // (V, H)
    private final Linear head;     // (V, H); == embed when tied
    private final Vec normF;       // (H)
    private final Block[] blocks;
    private final AutoCloseable resource;
    private final Map<String, Object> tensors = new LinkedHashMap<>(); // HF name → Vec | Linear

    private MambaLM(ModelSpec spec, ModelConfig config, Weights source, AutoCloseable resource) {
        Weights w = Weights.recording(source, tensors);
        this.spec = spec;
        this.config = config;
        this.layout = new ParameterLayout(spec);
        this.embed = w.matrix(ParameterLayout.EMBEDDINGS);
        this.head = spec.tieEmbeddings ? embed : w.matrix(ParameterLayout.LM_HEAD);
        this.normF = w.vec(ParameterLayout.NORM_F);
        this.blocks = new Block[spec.layers];
        for (int i = 0; i < spec.layers; i++) {
            blocks[i] = spec.kind == ModelSpec.Kind.MAMBA1 ? new Mamba1Block(spec, i, w) : new Mamba2Block(spec, i, w);
        }
        this.resource = resource;
    }

    // ---- construction ---------------------------------------------------------------------------

    /**
     * A model whose weights are views into {@code params}, laid out by {@code new ParameterLayout(spec)}
     * (the trainer's flat parameter array). Nothing is copied: later changes to params are used by
     * the next call.
     */
    public static MambaLM fromFlat(ModelSpec spec, float[] params) {
        return new MambaLM(spec, null, Weights.flat(new ParameterLayout(spec), params), null);
    }

    /** {@link #fromFlat(ModelSpec, float[])} for a config (kept for {@link #save} and {@link #config()}). */
    public static MambaLM fromFlat(ModelConfig config, float[] params) {
        ModelSpec spec = ModelSpec.of(config);
        return new MambaLM(spec, config, Weights.flat(new ParameterLayout(spec), params), null);
    }

    /** {@link #load(Path, LoadOptions)} with default options (weights as stored; F16 → F32). */
    public static MambaLM load(Path modelDir) throws IOException {
        return load(modelDir, LoadOptions.DEFAULT);
    }

    /**
     * Loads {@code config.json} and {@code model.safetensors} (or the sharded index) from a model
     * directory. Every tensor of the {@link ParameterLayout} must be present with its exact shape
     * (errors name the file, the tensor, the expected and the actual shape); a config the model
     * cannot honour is refused naming the field.
     */
    public static MambaLM load(Path modelDir, LoadOptions options) throws IOException {
        Checkpoint ck = Checkpoint.open(modelDir);
        try {
            ModelConfig config = ModelConfig.of(ck);
            ModelSpec spec;
            try {
                spec = ModelSpec.of(config);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(ck.configFile() + ": " + e.getMessage(), e);
            }
            CheckpointWeights w = new CheckpointWeights(ck, new ParameterLayout(spec), options);
            // Copied weights need the file no longer: unmap it now; mapped ones keep it until close().
            MambaLM lm = new MambaLM(spec, config, w, options.mapped() ? ck : null);
            w.finish();
            if (!options.mapped()) ck.close();
            return lm;
        } catch (RuntimeException | Error e) {
            ck.close();
            throw e;
        }
    }

    /**
     * An independent, immutable copy of this model's current weights for inference: matrices in
     * F32 (heap) or BF16 (native memory, rounded to nearest even), everything else F32. E.g. freeze
     * a trained flat model, or make BF16 weights for fast decoding without a file. AS_STORED keeps
     * each matrix's current precision.
     */
    public MambaLM copy(LoadOptions.Matrices matrices) {
        Map<String, Object> src = tensors;
        Weights w = new Weights() {
            @Override
            public Vec vec(String name) {
                return Vec.of(parameter(name));
            }

            @Override
            public Linear matrix(String name) {
                Linear m = (Linear) src.get(name);
                boolean bf16 = matrices == LoadOptions.Matrices.BF16
                        || (matrices == LoadOptions.Matrices.AS_STORED && m.isBf16());
                return Linear.copyOf(parameter(name), m.outDim(), m.inDim(), bf16);
            }

            @Override
            public Linear denseMatrix(String name) {
                Linear m = (Linear) src.get(name);
                return Linear.ofArray(parameter(name), 0, m.outDim(), m.inDim());
            }
        };
        return new MambaLM(spec, config, w, null);
    }

    /**
     * Unmaps the checkpoint of a model loaded with {@code LoadOptions.withMapped(true)} (it must not
     * be used afterwards); nothing to do for other models.
     */
    @Override
    public void close() {
        if (resource != null) {
            try {
                resource.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing " + spec + ": " + e.getMessage(), e);
            }
        }
    }

    // ---- accessors ----------------------------------------------------------------------------

    public ModelSpec spec() {
        return spec;
    }

    /** The Hugging Face config (as loaded, or derived from the spec for models built from one). */
    public ModelConfig config() {
        return config != null ? config : spec.toConfig();
    }

    public ParameterLayout layout() {
        return layout;
    }

    /** Parameters (tied embeddings counted once). */
    public long parameterCount() {
        return layout.parameterCount();
    }

    /** Bytes of the weights as held (BF16 matrices count 2 bytes per element). */
    public long weightBytes() {
        long n = embed.bytes() + (head == embed ? 0 : head.bytes()) + 4L * normF.n();
        for (Block b : blocks) n += b.bytes();
        return n;
    }

    /** Scratch for calls of up to {@code batch} rows × {@code maxLen} tokens. */
    public Workspace newWorkspace(int batch, int maxLen) {
        return new Workspace(spec, batch, maxLen);
    }

    /** A zero state for {@code batch} rows. */
    public InferenceState newState(int batch) {
        return InferenceState.allocate(spec, batch);
    }

    // ---- parallel mode ----------------------------------------------------------------------

    /**
     * Parallel forward of {@code batch} rows of {@code len} tokens each ({@code tokens} (b, l)
     * token-major from index 0): prefill and training.
     *
     * @param state  null: every row starts from the zero state and no state is kept; else row r
     *               continues from state row {@code stateRows[r]} (default r) and leaves its state there
     * @param ws     a workspace with room for b rows and b·l tokens
     * @param opts   logits mode, mask, state rows, hidden states, activation store, pool (null = defaults)
     * @param logits out: (b, l, V) for Logits.ALL, (b, V) for Logits.LAST, unused (may be null) for NONE
     */
    public void forward(int[] tokens, int batch, int len, InferenceState state, Workspace ws, ForwardOptions opts,
                        float[] logits) {
        if (opts == null) opts = DEFAULTS;
        checkCall(tokens, batch, len, state, ws, opts, logits, false);
        int H = spec.hidden, T = batch * len, L = spec.layers;
        Call c = ws.call;
        c.set(batch, len, state, opts.stateRows, opts.mask, opts.activations, opts.pool);
        ActivationStore store = opts.activations;
        if (store != null) store.begin(batch, len, tokens, 0, opts.mask);

        float[] x = store != null ? store.layer(0).input : ws.h;      // (T, H) residual stream
        for (int t = 0; t < T; t++) embed.row(tokens[t], x, t * H);
        for (int i = 0; i < L; i++) {
            ActivationStore.Layer rec = c.rec(i);
            float[] u = rec != null ? rec.normed : ws.xn;
            RmsNorm.forward(u, 0, H, rec != null ? rec.rstd : ws.rstd, x, 0, H, blocks[i].norm.denseOr(ws.normH), T, H,
                    spec.eps, opts.pool);
            c.applyMask(u, 0, H, H);
            blocks[i].forward(c, u, ws.out);
            float[] next = store == null ? x : i + 1 < L ? store.layer(i + 1).input : store.finalInput;
            for (int k = 0; k < T * H; k++) next[k] = x[k] + ws.out[k];
            if (opts.hidden != null) System.arraycopy(next, 0, opts.hidden[i], 0, T * H);
            x = next;
        }
        float[] fn = store != null ? store.finalNormed : ws.xn;
        RmsNorm.forward(fn, 0, H, store != null ? store.finalRstd : ws.rstd, x, 0, H, normF.denseOr(ws.normH), T, H,
                spec.eps, opts.pool);
        if (opts.hidden != null) System.arraycopy(fn, 0, opts.hidden[L], 0, T * H);

        switch (opts.logits) {
            case ALL -> head.apply(logits, 0, fn, 0, T, null, ws.biasScratch, opts.pool);
            case LAST -> {
                for (int r = 0; r < batch; r++) System.arraycopy(fn, (r * len + len - 1) * H, ws.last, r * H, H);
                head.apply(logits, 0, ws.last, 0, batch, null, ws.biasScratch, opts.pool);
            }
            case NONE -> { }
        }
        if (state != null) for (int r = 0; r < batch; r++) state.advance(c.stateRow(r), len);
    }

    // ---- recurrent mode ---------------------------------------------------------------------

    /**
     * Recurrent step: one token for each of {@code batch} rows ({@code tokens[0 .. batch)}),
     * continuing from and updating state rows {@code stateRows[r]} (default r). Allocates nothing.
     * Honours opts' logits (ALL and LAST both give (b, V)), stateRows, hidden ((b, H) per entry)
     * and pool; a mask or an activation store is refused.
     */
    public void step(int[] tokens, int batch, InferenceState state, Workspace ws, ForwardOptions opts,
                     float[] logits) {
        if (opts == null) opts = DEFAULTS;
        if (state == null) throw new IllegalArgumentException("step needs an InferenceState (it is the recurrence)");
        checkCall(tokens, batch, 1, state, ws, opts, logits, true);
        int H = spec.hidden, L = spec.layers;
        Call c = ws.call;
        c.set(batch, 1, state, opts.stateRows, null, null, opts.pool);
        float[] x = ws.h;
        for (int r = 0; r < batch; r++) embed.row(tokens[r], x, r * H);
        for (int i = 0; i < L; i++) {
            RmsNorm.forward(ws.xn, 0, H, ws.rstd, x, 0, H, blocks[i].norm.denseOr(ws.normH), batch, H, spec.eps,
                    opts.pool);
            blocks[i].step(c, ws.xn, ws.out);
            for (int k = 0; k < batch * H; k++) x[k] += ws.out[k];
            if (opts.hidden != null) System.arraycopy(x, 0, opts.hidden[i], 0, batch * H);
        }
        RmsNorm.forward(ws.xn, 0, H, ws.rstd, x, 0, H, normF.denseOr(ws.normH), batch, H, spec.eps, opts.pool);
        if (opts.hidden != null) System.arraycopy(ws.xn, 0, opts.hidden[L], 0, batch * H);
        if (opts.logits != ForwardOptions.Logits.NONE) {
            head.apply(logits, 0, ws.xn, 0, batch, null, ws.biasScratch, opts.pool);
        }
        for (int r = 0; r < batch; r++) state.advance(c.stateRow(r), 1);
    }

    /** Convenience: all logits (l, V) of one sequence from the zero state (allocates). */
    public float[] logits(int[] tokens) {
        float[] out = new float[tokens.length * spec.vocab];
        forward(tokens, 1, tokens.length, null, newWorkspace(1, tokens.length), null, out);
        return out;
    }

    private static final ForwardOptions DEFAULTS = new ForwardOptions();

    // ---- argument checks --------------------------------------------------------------------

    private void checkCall(int[] tokens, int b, int l, InferenceState state, Workspace ws, ForwardOptions o,
                           float[] logits, boolean step) {
        String what = step ? "step" : "forward";
        if (b < 1 || l < 1) throw new IllegalArgumentException(what + ": batch and length must be >= 1, got (" + b
                + ", " + l + ")");
        if (ws == null) throw new IllegalArgumentException(what + ": workspace must not be null");
        if (!ws.spec.equals(spec)) throw new IllegalArgumentException(what + ": workspace was made for " + ws.spec
                + ", not " + spec);
        if (b > ws.maxBatch || (long) b * l > ws.maxTokens) {
            throw new IllegalArgumentException(what + ": (" + b + " rows, " + l + " tokens) does not fit the workspace of ("
                    + ws.maxBatch + " rows, " + ws.maxLen + " tokens per row)");
        }
        int T = b * l;
        if (tokens == null || tokens.length < T) {
            throw new IllegalArgumentException(what + ": tokens has length " + (tokens == null ? 0 : tokens.length)
                    + ", expected (b, l) = (" + b + ", " + l + ") = " + T);
        }
        for (int t = 0; t < T; t++) {
            int id = tokens[t];
            if (id < 0 || id >= spec.vocab) {
                throw new IllegalArgumentException(what + ": token id " + id + " at index " + t + " (row " + t / l
                        + ", position " + t % l + ") is out of range for vocab size " + spec.vocab
                        + " (valid ids 0.." + (spec.vocab - 1) + ")");
            }
        }
        if (state != null) {
            if (!state.spec().equals(spec)) {
                throw new IllegalArgumentException(what + ": state was made for " + state.spec() + ", not " + spec);
            }
            if (o.stateRows == null) {
                if (state.batch() < b) {
                    throw new IllegalArgumentException(what + ": state has " + state.batch() + " rows, the call " + b
                            + " (pass stateRows to use a subset)");
                }
            } else {
                if (o.stateRows.length < b) {
                    throw new IllegalArgumentException(what + ": stateRows has length " + o.stateRows.length
                            + ", expected " + b);
                }
                for (int r = 0; r < b; r++) {
                    int s = o.stateRows[r];
                    if (s < 0 || s >= state.batch()) {
                        throw new IllegalArgumentException(what + ": stateRows[" + r + "] = " + s
                                + " is not a row of the state [0, " + state.batch() + ")");
                    }
                    for (int q = 0; q < r; q++) {
                        if (o.stateRows[q] == s) {
                            throw new IllegalArgumentException(what + ": stateRows[" + q + "] and stateRows[" + r
                                    + "] are both " + s + " (rows must be distinct)");
                        }
                    }
                }
            }
        } else if (o.stateRows != null) {
            throw new IllegalArgumentException(what + ": stateRows given without a state");
        }
        if (o.mask != null) {
            if (step) throw new IllegalArgumentException("step: a mask is not supported (a decoded token is never padding)");
            if (o.mask.length < T) {
                throw new IllegalArgumentException("forward: mask has length " + o.mask.length + ", expected (b, l) = ("
                        + b + ", " + l + ") = " + T);
            }
            for (int t = 0; t < T; t++) {
                if (o.mask[t] != 0 && o.mask[t] != 1) {
                    throw new IllegalArgumentException("forward: mask[" + t + "] = " + o.mask[t] + ", expected 0 or 1");
                }
            }
        }
        if (o.activations != null) {
            if (step) throw new IllegalArgumentException("step: activation recording is for the parallel forward");
            if (!o.activations.spec().equals(spec)) {
                throw new IllegalArgumentException("forward: activation store was made for " + o.activations.spec());
            }
        }
        long need = switch (o.logits) {
            case ALL -> step ? (long) b * spec.vocab : (long) T * spec.vocab;
            case LAST -> (long) b * spec.vocab;
            case NONE -> 0;
        };
        if (need > 0 && (logits == null || logits.length < need)) {
            throw new IllegalArgumentException(what + ": logits has length " + (logits == null ? 0 : logits.length)
                    + ", expected " + (o.logits == ForwardOptions.Logits.ALL && !step ? "(b, l, V) = (" + b + ", " + l
                    + ", " + spec.vocab + ")" : "(b, V) = (" + b + ", " + spec.vocab + ")") + " = " + need);
        }
        if (o.hidden != null) {
            if (o.hidden.length < spec.layers + 1) {
                throw new IllegalArgumentException(what + ": hidden has " + o.hidden.length + " arrays, expected layers + 1 = "
                        + (spec.layers + 1));
            }
            for (int i = 0; i <= spec.layers; i++) {
                if (o.hidden[i] == null || o.hidden[i].length < (long) T * spec.hidden) {
                    throw new IllegalArgumentException(what + ": hidden[" + i + "] must hold (b, l, H) = (" + b + ", " + l
                            + ", " + spec.hidden + ") floats");
                }
            }
        }
    }

    // ---- saving -----------------------------------------------------------------------------

    /**
     * Writes {@code config.json} ({@link #config()}) and {@code model.safetensors} (HF names, F32; a
     * tied lm_head is omitted) into {@code dir}, each atomically; {@link #load} reads them back.
     */
    public void save(Path dir) throws IOException {
        save(dir, DType.F32);
    }

    /**
     * {@link #save(Path)} with every tensor stored as {@code dtype}: F32, or BF16 (rounded to nearest
     * even; half the bytes, and {@link #load} with {@link LoadOptions#DEFAULT} then keeps the
     * matrices in BF16 — mapped in place with {@code withMapped(true)}), or F16. config.json's
     * {@code torch_dtype} says which. The safetensors file is written first, config.json last.
     */
    public void save(Path dir, DType dtype) throws IOException {
        ModelFiles.save(this, dir, dtype);
    }

    /** The values of parameter {@code name} (HF name of the layout) as a new float array. */
    public float[] parameter(String name) {
        ParameterLayout.Entry e = layout.get(name);
        Object src = tensors.get(name);
        float[] out = new float[Math.toIntExact(e.size())];
        if (src instanceof Vec v) {
            System.arraycopy(v.a(), v.off(), out, 0, v.n());
        } else {
            Linear m = (Linear) src;
            for (int r = 0; r < m.outDim(); r++) m.row(r, out, r * m.inDim());
        }
        return out;
    }

    /** The tensor called {@code name} as this model holds it (a Vec or a Linear), or null; for tests. */
    Object tensor(String name) {
        return tensors.get(name);
    }

    @Override
    public String toString() {
        return "MambaLM[" + spec + ", " + parameterCount() + " parameters]";
    }
}
