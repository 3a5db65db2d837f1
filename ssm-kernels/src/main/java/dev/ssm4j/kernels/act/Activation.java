package dev.ssm4j.kernels.act;

/**
 * The pointwise functions of a Mamba block, with the derivative the backward uses (all in terms of
 * the forward input x; σ is the logistic sigmoid):
 * <pre>
 *   SILU      f = x·σ(x)             f' = σ(x)·(1 + x·(1 − σ(x)))    gates (z branch), after the conv
 *   SOFTPLUS  f = log(1 + e^x)       f' = σ(x)                        Δ = softplus(dt + dt_bias)
 *   SIGMOID   f = σ(x)               f' = σ(x)·(1 − σ(x))
 *   EXP       f = e^x                f' = e^x                         A = −exp(A_log)
 * </pre>
 */
public enum Activation {
    SILU, SOFTPLUS, SIGMOID, EXP
}
