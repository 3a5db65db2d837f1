package dev.ssm4j.train.optim;

import static dev.ssm4j.kernels.KernelConfig.F;

import jdk.incubator.vector.FloatVector;

/**
 * The element-wise SGD-with-momentum update over one range, scalar twin and SIMD twin (same
 * operations in the same order: bit-identical). In torch's order
 * ({@code torch.optim.sgd._single_tensor_sgd}); torch's vectorised CPU {@code add(x, alpha=a)}
 * computes {@code fma(x, a, self)}, and so do we:
 * <pre>
 *   g' ← fma(p, wd, g)                           only if wd ≠ 0       (grad.add(param, alpha=wd))
 *   b  ← g'                                      first step          (buf = clone(grad))
 *   b  ← fma(g', 1 − dampening, b · μ)           later steps         (buf.mul_(μ).add_(grad, alpha=1 − dampening))
 *   d  ← fma(b, μ, g')  if nesterov, else b                          (grad.add(buf, alpha=μ))
 *   p  ← fma(d, −lr, p)                                              (param.add_(d, alpha=−lr))
 * </pre>
 * With μ = 0 there is no buffer and d = g'. The gradient array is read, never written.
 *
 * <p>Measured (nesterov, wd on; AVX-512, one thread, best of 40 steps, shared machine): 101k
 * parameters SIMD 0.15 ns/param vs scalar 4.6 ns/param (the JIT did not vectorise it); 10M
 * parameters (memory-bound) both ≈ 0.41 ns/param.
 */
final class SgdKernels {
    private SgdKernels() {}

    /**
     * Scalar twin. {@code buf} may be null when {@code momentum == 0}; {@code first} says the buffer
     * is not initialised yet (step 1).
     */
    static void updateScalar(float[] p, float[] g, float[] buf, int off, int len, float lr, float wd, float momentum,
                             float oneMinusDampening, boolean nesterov, boolean first) {
        for (int i = off; i < off + len; i++) {
            float d = g[i];
            if (wd != 0f) d = Math.fma(p[i], wd, d);
            if (momentum != 0f) {
                float b = first ? d : Math.fma(d, oneMinusDampening, buf[i] * momentum);
                buf[i] = b;
                d = nesterov ? Math.fma(b, momentum, d) : b;
            }
            p[i] = Math.fma(d, -lr, p[i]);
        }
    }

    /** SIMD twin of {@link #updateScalar}: full vectors to {@code F.loopBound(len)}, scalar tail. */
    static void updateSimd(float[] p, float[] g, float[] buf, int off, int len, float lr, float wd, float momentum,
                           float oneMinusDampening, boolean nesterov, boolean first) {
        int bound = off + F.loopBound(len);
        int i = off;
        FloatVector negLr = FloatVector.broadcast(F, -lr);
        FloatVector wdv = FloatVector.broadcast(F, wd);
        FloatVector mu = FloatVector.broadcast(F, momentum);
        FloatVector omd = FloatVector.broadcast(F, oneMinusDampening);
        for (; i < bound; i += F.length()) {
            FloatVector pv = FloatVector.fromArray(F, p, i);
            FloatVector d = FloatVector.fromArray(F, g, i);
            if (wd != 0f) d = pv.fma(wdv, d);
            if (momentum != 0f) {
                FloatVector b = first ? d : d.fma(omd, FloatVector.fromArray(F, buf, i).mul(mu));
                b.intoArray(buf, i);
                d = nesterov ? b.fma(mu, d) : b;
            }
            d.fma(negLr, pv).intoArray(p, i);
        }
        if (i < off + len) {
            updateScalar(p, g, buf, i, off + len - i, lr, wd, momentum, oneMinusDampening, nesterov, first);
        }
    }
}
