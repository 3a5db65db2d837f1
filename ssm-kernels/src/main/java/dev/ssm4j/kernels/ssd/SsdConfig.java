package dev.ssm4j.kernels.ssd;

/**
 * The fixed sizes and options of one Mamba-2 SSD layer (Dao &amp; Gu 2024, "Transformers are SSMs",
 * §6–7); batch size and length are per call.
 *
 * <h2>Glossary (name here ↔ paper ↔ reference code)</h2>
 * <pre>
 *   b          batch rows                                   batch
 *   l          tokens per row (sequence length)             T / seqlen
 *   h heads    heads; each head has its own scalar decay A   H / nheads
 *   p headDim  channels per head ("head dimension")          P / headdim
 *   g groups   groups of heads sharing one B and one C       G / ngroups  (head hh uses group hh / (h/g))
 *   n stateDim state size per channel                        N / d_state
 *   Q chunk    block length of the chunked (SSD) algorithm   Q / chunk_size
 *   dt (Δ)     step size per (token, head), after dt_bias, softplus and the clamp
 *   A          scalar decay rate per head, A &lt; 0 in practice (A = −exp(A_log)); dA = exp(Δ·A)
 *   B, C       input and output projections of the state, per (token, group), n each
 *   D          skip connection per head: y += D·x
 * </pre>
 *
 * @param heads      h ≥ 1
 * @param headDim    p ≥ 1
 * @param groups     g ≥ 1, dividing h
 * @param stateDim   n ≥ 1
 * @param chunk      Q ≥ 1, the block length of the chunked algorithm (any value; lengths need not be
 *                   multiples of it)
 * @param dtSoftplus apply softplus to dt (+ dt_bias) before the clamp
 * @param dtMin      lower clamp of dt after softplus (Mamba-2's time_step_limit[0])
 * @param dtMax      upper clamp; (0, +∞) means no clamp at all
 */
public record SsdConfig(int heads, int headDim, int groups, int stateDim, int chunk,
                        boolean dtSoftplus, float dtMin, float dtMax) {

    /** Default chunk length (measured on AVX-512 with p = 64, n = 128; see docs/ssd.md). */
    public static final int DEFAULT_CHUNK = 64;

    public SsdConfig {
        if (heads < 1) throw new IllegalArgumentException("heads must be >= 1, got " + heads);
        if (headDim < 1) throw new IllegalArgumentException("headDim must be >= 1, got " + headDim);
        if (groups < 1 || heads % groups != 0) {
            throw new IllegalArgumentException("groups must be >= 1 and divide heads=" + heads + ", got " + groups);
        }
        if (stateDim < 1) throw new IllegalArgumentException("stateDim must be >= 1, got " + stateDim);
        if (chunk < 1) throw new IllegalArgumentException("chunk must be >= 1, got " + chunk);
        if (!(dtMin >= 0) || !(dtMax >= dtMin)) {
            throw new IllegalArgumentException("dt limits must satisfy 0 <= dtMin <= dtMax, got (" + dtMin + ", " + dtMax + ")");
        }
    }

    /** h heads of dim p, g groups, state n; chunk {@value #DEFAULT_CHUNK}, softplus on, no clamp. */
    public static SsdConfig of(int heads, int headDim, int groups, int stateDim) {
        return new SsdConfig(heads, headDim, groups, stateDim, DEFAULT_CHUNK, true, 0f, Float.POSITIVE_INFINITY);
    }

    public SsdConfig withChunk(int q) {
        return new SsdConfig(heads, headDim, groups, stateDim, q, dtSoftplus, dtMin, dtMax);
    }

    public SsdConfig withDtSoftplus(boolean on) {
        return new SsdConfig(heads, headDim, groups, stateDim, chunk, on, dtMin, dtMax);
    }

    /** Clamp dt to [min, max] after softplus; (0, +∞) switches the clamp off. */
    public SsdConfig withDtLimit(float min, float max) {
        return new SsdConfig(heads, headDim, groups, stateDim, chunk, dtSoftplus, min, max);
    }

    /** True unless the limits are (0, +∞). */
    public boolean clampsDt() {
        return dtMin > 0f || dtMax != Float.POSITIVE_INFINITY;
    }

    /** Heads per group, h / g. */
    public int headsPerGroup() {
        return heads / groups;
    }

    /** Floats of x (and y) per token: h·p. */
    public int xWidth() {
        return heads * headDim;
    }

    /** Floats of B (and of C) per token: g·n. */
    public int bcWidth() {
        return groups * stateDim;
    }

    /** Floats of one batch row's state: h·p·n. */
    public int stateSize() {
        return heads * headDim * stateDim;
    }
}
