package dev.ssm4j.core.model;

import java.util.Arrays;

/**
 * The training hook: everything a backward pass through the model needs, recorded by a parallel
 * {@link MambaLM#forward} when {@link ForwardOptions#activations} is set. The forward writes its
 * intermediates straight into these arrays (instead of the workspace), so recording costs memory
 * but no copies. Allocate once for (batch, maxLen) and reuse; a forward over b ≤ batch rows of
 * l ≤ maxLen tokens fills the first b·l tokens of every buffer and sets {@link #batch()},
 * {@link #length()}.
 *
 * <p>Every per-token buffer is token-major (b, l, width): token (r, t) starts at
 * {@code (r·l + t)·width}. T = b·l below. Names follow docs/model.md.
 *
 * <h2>Per layer ({@link Layer})</h2>
 * <pre>
 *   input      (T, H)          residual stream entering the layer (layer 0: the embeddings)
 *   rstd       (T)             1/sqrt(mean(input²) + eps) of the block RMSNorm
 *   normed     (T, H)          norm(input)·weight, after the mask: in_proj's input
 *   proj       (T, inProjDim)  in_proj output incl. bias: Mamba-1 [x | z], Mamba-2 [z | xBC | dt]
 *   conv       (T, convDim)    causal conv output after SiLU and the mask: the scan's x (Mamba-1)
 *                              or [x | B | C] (Mamba-2). The pre-SiLU value is not kept: the conv
 *                              backward recomputes it from proj's x/xBC slice (w FMAs per element).
 *   xdbl       (T, R + 2n)     Mamba-1 x_proj output [dt_low | B | C]          (null for Mamba-2)
 *   dt         (T, d)          Mamba-1 dt_proj output without bias, before Δbias + softplus
 *                              (null for Mamba-2, whose raw dt is proj's last h columns)
 *   y          (T, d)          Mamba-1: scan output incl. D·x and the gate silu(z) = out_proj's input;
 *                              Mamba-2: SSD output incl. D·x, before the gated norm
 *   gatedRstd  (T, d / normGroupSize)  Mamba-2 gated-norm 1/rms per group       (null for Mamba-1)
 *   gatedOut   (T, d)          Mamba-2 gated-norm output = out_proj's input    (null for Mamba-1)
 *   scanCheckpoints (b, ⌈l/32⌉, d, n)  Mamba-1: SSM states the scan saved every 32 tokens (entry
 *                              (r, k) = the state just before token 32·k), which the SIMD scan
 *                              backward reads instead of re-running the scan (ScanTensors.checkpoints;
 *                              null for Mamba-2)
 *   convState0 (b, w−1, convDim)  conv state the chunk started from (zeros without a state)
 *   ssmState0  (b, d, n) | (b, h, p, n)  SSM state the chunk started from (zeros without a state)
 * </pre>
 * The layer's output (input + out_proj(...)) is the next layer's {@code input}, or
 * {@link #finalInput} after the last layer.
 *
 * <h2>Model level</h2>
 * <pre>
 *   tokens      (T)      the token ids
 *   mask        (T)      the attention mask used, or all ones (hasMask() tells)
 *   finalInput  (T, H)   output of the last layer = norm_f's input
 *   finalRstd   (T)      norm_f's 1/rms
 *   finalNormed (T, H)   norm_f output = lm_head's input
 * </pre>
 * The logits (T, V) are the caller's logits array of the same call (use Logits.ALL for training).
 * A = −exp(A_log) is recomputed from the parameters by the backward; it is not stored.
 */
public final class ActivationStore {
    /** Buffers of one layer; see the class comment for shapes. */
    public static final class Layer {
        public final float[] input, rstd, normed, proj, conv, xdbl, dt, y, gatedRstd, gatedOut;
        public final float[] scanCheckpoints;
        public final float[] convState0, ssmState0;

        Layer(ModelSpec s, int b, int l) {
            int T = b * l;
            input = new float[T * s.hidden];
            rstd = new float[T];
            normed = new float[T * s.hidden];
            proj = new float[T * s.inProjDim];
            conv = new float[T * s.convDim];
            boolean m1 = s.kind == ModelSpec.Kind.MAMBA1;
            xdbl = m1 ? new float[T * s.xProjDim] : null;
            dt = m1 ? new float[T * s.dInner] : null;
            y = new float[T * s.dInner];
            gatedRstd = m1 ? null : new float[T * (s.dInner / s.normGroupSize)];
            gatedOut = m1 ? null : new float[T * s.dInner];
            scanCheckpoints = m1 ? new float[b * ((l + CHECKPOINT_TOKENS - 1) / CHECKPOINT_TOKENS) * s.ssmStateSize]
                    : null;
            convState0 = new float[b * s.convStateSize];
            ssmState0 = new float[b * s.ssmStateSize];
        }
    }

    /** Tokens between two saved scan states (the scan kernel's ScanSpec.CHECKPOINT_TOKENS). */
    static final int CHECKPOINT_TOKENS = dev.ssm4j.kernels.scan.ScanSpec.CHECKPOINT_TOKENS;

    private final ModelSpec spec;
    private final int maxBatch, maxLen;
    private final Layer[] layers;
    public final int[] tokens, mask;
    public final float[] finalInput, finalRstd, finalNormed;
    int batch, length;
    boolean hasMask;

    private ActivationStore(ModelSpec spec, int maxBatch, int maxLen) {
        if (maxBatch < 1 || maxLen < 1) {
            throw new IllegalArgumentException("activation store needs batch >= 1 and length >= 1, got (" + maxBatch
                    + ", " + maxLen + ")");
        }
        long perToken = (long) spec.layers * (2L * spec.hidden + 1 + spec.inProjDim + spec.convDim + spec.xProjDim
                + 3L * spec.dInner) + 2L * spec.hidden;
        if ((long) maxBatch * maxLen * Math.max(spec.inProjDim, spec.vocab) > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("activation store for (" + maxBatch + ", " + maxLen
                    + ") tokens is too large for int-indexed arrays (" + perToken + " floats per token)");
        }
        this.spec = spec;
        this.maxBatch = maxBatch;
        this.maxLen = maxLen;
        this.layers = new Layer[spec.layers];
        for (int i = 0; i < spec.layers; i++) layers[i] = new Layer(spec, maxBatch, maxLen);
        int T = maxBatch * maxLen;
        tokens = new int[T];
        mask = new int[T];
        finalInput = new float[T * spec.hidden];
        finalRstd = new float[T];
        finalNormed = new float[T * spec.hidden];
    }

    /** Buffers for forwards of up to {@code batch} rows × {@code maxLen} tokens. */
    public static ActivationStore allocate(ModelSpec spec, int batch, int maxLen) {
        return new ActivationStore(spec, batch, maxLen);
    }

    /** Floats held per token of capacity (for memory planning). */
    public static long floatsPerToken(ModelSpec s) {
        boolean m1 = s.kind == ModelSpec.Kind.MAMBA1;
        long perLayer = 2L * s.hidden + 1 + s.inProjDim + s.convDim + s.dInner
                + (m1 ? s.xProjDim + s.dInner + (long) s.ssmStateSize / CHECKPOINT_TOKENS
                        : s.dInner + s.dInner / s.normGroupSize);
        return s.layers * perLayer + 2L * s.hidden + 1;
    }

    public ModelSpec spec() {
        return spec;
    }

    /** Buffers of layer {@code i}. */
    public Layer layer(int i) {
        if (i < 0 || i >= layers.length) {
            throw new IllegalArgumentException("layer " + i + " out of range [0, " + layers.length + ")");
        }
        return layers[i];
    }

    /** Rows b of the last recorded forward. */
    public int batch() {
        return batch;
    }

    /** Tokens per row l of the last recorded forward. */
    public int length() {
        return length;
    }

    /** True if the last recorded forward had an attention mask (else {@link #mask} is all ones). */
    public boolean hasMask() {
        return hasMask;
    }

    public int capacityBatch() {
        return maxBatch;
    }

    public int capacityLength() {
        return maxLen;
    }

    void begin(int b, int l, int[] toks, int tokOff, int[] m) {
        if (b > maxBatch || l > maxLen) {
            throw new IllegalArgumentException("activation store holds (" + maxBatch + ", " + maxLen
                    + ") tokens; this forward has (" + b + ", " + l + ")");
        }
        batch = b;
        length = l;
        System.arraycopy(toks, tokOff, tokens, 0, b * l);
        hasMask = m != null;
        if (m != null) System.arraycopy(m, 0, mask, 0, b * l);
        else Arrays.fill(mask, 0, b * l, 1);
    }
}
