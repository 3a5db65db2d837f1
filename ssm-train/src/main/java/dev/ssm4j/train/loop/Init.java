package dev.ssm4j.train.loop;

import dev.ssm4j.core.model.ModelSpec;
import dev.ssm4j.core.model.ParameterLayout;
import dev.ssm4j.train.data.Rng;
import dev.ssm4j.train.optim.ParameterStore;

/**
 * Mamba's weight initialisation, with the semantics of transformers' {@code MambaPreTrainedModel._init_weights}
 * / {@code init_mamba_weights} (and the Mamba-2 twins), seeded. Per tensor (HF names):
 * <pre>
 *   embeddings.weight           N(0, std)                       std = initializerRange
 *   in_proj / x_proj / lm_head  {@link Linear#TORCH}: U(±1/√fan_in) (PyTorch's nn.Linear default), or
 *                               {@link Linear#NORMAL}: N(0, std) (what transformers' generic _init_weights does)
 *   *.bias of Linear            0
 *   conv1d.weight               U(±1/√w)   (kaiming_uniform(a=√5), fan_in = w);   conv1d.bias 0
 *   dt_proj.weight (Mamba-1)    U(±R^−½·dtScale)                                 ("random" time_step_init_scheme)
 *   dt_proj.bias / dt_bias      Δ = exp(U(log dtMin, log dtMax)) clamped ≥ dtFloor, stored as softplus⁻¹(Δ) = Δ + log(−expm1(−Δ))
 *   A_log                       Mamba-1: log(aScale·(1 … n)) on every channel (S4D-real); Mamba-2: log(aScale·(1 … h))
 *                               over heads; aScale = 1 is the reference
 *   D                           1
 *   out_proj.weight             U(±1/√d), divided by √layers when rescalePrenormResidual
 *   norm weights                1
 * </pre>
 * Values are drawn from one {@link Rng} in layout order, so (spec, seed) fixes the model. The
 * defaults (std 0.02, PyTorch-default linears) are the Mamba reference's; transformers' own
 * config default is initializer_range 0.1 with N(0, std) linears ({@link #transformers()}).
 *
 * <p>{@link #withDt} and {@link #withAScale} move away from the reference for long-memory tasks:
 * the per-step retention of the state is exp(Δ·A), so a token that must survive 10^6 later tokens
 * needs Δ·|A| far below 10^−6 on those tokens (in fp32 exp(x) rounds to exactly 1 for |x| &lt; 3e−8).
 */
public record Init(double initializerRange, Linear linear, double dtMin, double dtMax, double dtFloor, double dtScale,
                   boolean rescalePrenormResidual, double aScale) {
    /** How the in_proj / x_proj / lm_head weights are drawn. */
    public enum Linear {
        /** U(±1/√fan_in): PyTorch's nn.Linear default (kaiming_uniform with a = √5). */
        TORCH,
        /** N(0, initializerRange). */
        NORMAL
    }

    public Init {
        if (!(initializerRange > 0)) throw new IllegalArgumentException("initializer range must be > 0, got " + initializerRange);
        if (!(dtMin > 0 && dtMax >= dtMin)) {
            throw new IllegalArgumentException("need 0 < dt_min <= dt_max, got (" + dtMin + ", " + dtMax + ")");
        }
        if (!(dtFloor >= 0) || !(dtScale >= 0)) {
            throw new IllegalArgumentException("dt floor and dt scale must be >= 0, got " + dtFloor + ", " + dtScale);
        }
        if (!(aScale > 0) || Double.isInfinite(aScale)) {
            throw new IllegalArgumentException("A scale must be a finite number > 0, got " + aScale);
        }
    }

    /** Embeddings N(0, 0.02), PyTorch-default linears, Δ in [0.001, 0.1], no out_proj rescaling. */
    public static Init defaults() {
        return new Init(0.02, Linear.TORCH, 0.001, 0.1, 1e-4, 1.0, false, 1.0);
    }

    /** transformers' defaults: initializer_range 0.1 and N(0, 0.1) linears. */
    public static Init transformers() {
        return new Init(0.1, Linear.NORMAL, 0.001, 0.1, 1e-4, 1.0, false, 1.0);
    }

    public Init withRescale(boolean on) {
        return new Init(initializerRange, linear, dtMin, dtMax, dtFloor, dtScale, on, aScale);
    }

    public Init withRange(double std) {
        return new Init(std, linear, dtMin, dtMax, dtFloor, dtScale, rescalePrenormResidual, aScale);
    }

    /**
     * Δ initialised log-uniformly in [min, max] (the dt bias); the floor drops to {@code min} when it
     * was higher, so that a range below the reference floor 1e−4 is honoured.
     */
    public Init withDt(double min, double max) {
        return new Init(initializerRange, linear, min, max, Math.min(dtFloor, min), dtScale, rescalePrenormResidual, aScale);
    }

    /** A = −aScale·(1 … n) (Mamba-1) or −aScale·(1 … h) (Mamba-2) at initialisation. */
    public Init withAScale(double scale) {
        return new Init(initializerRange, linear, dtMin, dtMax, dtFloor, dtScale, rescalePrenormResidual, scale);
    }

    /** Overwrites every parameter of {@code store} (laid out for {@code spec}). */
    public void apply(ParameterStore store, ModelSpec spec, long seed) {
        Rng rng = new Rng(seed);
        float[] p = store.data();
        for (ParameterLayout.Entry e : new ParameterLayout(spec).entries()) {
            String name = e.name();
            int off = (int) e.offset(), size = (int) e.size();
            int[] shape = e.shape();
            if (name.equals(ParameterLayout.EMBEDDINGS)) {
                normal(rng, p, off, size, initializerRange);
            } else if (name.endsWith("norm.weight") || name.endsWith("norm_f.weight")) {
                fill(p, off, size, 1f);
            } else if (name.endsWith("conv1d.weight")) {
                uniform(rng, p, off, size, 1.0 / Math.sqrt(spec.convWidth));
            } else if (name.endsWith("dt_proj.weight")) {
                uniform(rng, p, off, size, dtScale / Math.sqrt(spec.dtRank));
            } else if (name.endsWith("dt_proj.bias") || name.endsWith("dt_bias")) {
                for (int k = 0; k < size; k++) {
                    double u = rng.nextDouble();
                    double dt = Math.exp(u * (Math.log(dtMax) - Math.log(dtMin)) + Math.log(dtMin));
                    dt = Math.max(dt, dtFloor);
                    p[off + k] = (float) (dt + Math.log(-Math.expm1(-dt)));
                }
            } else if (name.endsWith("A_log")) {
                if (spec.kind == ModelSpec.Kind.MAMBA1) {
                    for (int c = 0; c < spec.dInner; c++) {
                        for (int s = 0; s < spec.dState; s++) p[off + c * spec.dState + s] = (float) Math.log(aScale * (s + 1));
                    }
                } else {
                    for (int hi = 0; hi < spec.heads; hi++) p[off + hi] = (float) Math.log(aScale * (hi + 1));
                }
            } else if (name.endsWith(".D")) {
                fill(p, off, size, 1f);
            } else if (name.endsWith("out_proj.weight")) {
                double bound = 1.0 / Math.sqrt(shape[1]);
                if (rescalePrenormResidual) bound /= Math.sqrt(spec.layers);
                uniform(rng, p, off, size, bound);
            } else if (name.endsWith(".bias")) {
                fill(p, off, size, 0f);   // Linear and conv biases
            } else if (shape.length == 2) {  // in_proj, x_proj, lm_head
                if (linear == Linear.TORCH) uniform(rng, p, off, size, 1.0 / Math.sqrt(shape[1]));
                else normal(rng, p, off, size, initializerRange);
            } else {
                throw new IllegalStateException("no initialisation rule for " + name);
            }
        }
    }

    private static void fill(float[] p, int off, int n, float v) {
        java.util.Arrays.fill(p, off, off + n, v);
    }

    private static void uniform(Rng rng, float[] p, int off, int n, double bound) {
        for (int k = 0; k < n; k++) p[off + k] = (float) ((2 * rng.nextDouble() - 1) * bound);
    }

    /** N(0, std) by Box–Muller (both outputs used). */
    private static void normal(Rng rng, float[] p, int off, int n, double std) {
        for (int k = 0; k < n; k += 2) {
            double u1 = 1.0 - rng.nextDouble(), u2 = rng.nextDouble();   // u1 in (0, 1]
            double r = Math.sqrt(-2 * Math.log(u1)), th = 2 * Math.PI * u2;
            p[off + k] = (float) (std * r * Math.cos(th));
            if (k + 1 < n) p[off + k + 1] = (float) (std * r * Math.sin(th));
        }
    }
}
