package dev.ssm4j.core.model;

/** TEMPORARY stub until the ssd branch is merged. */
final class Mamba2Block extends Block {
    Mamba2Block(ModelSpec spec, int index, Weights w) {
        super(spec, index, w);
        throw new UnsupportedOperationException("Mamba-2 pending");
    }

    @Override
    void forward(Call c, float[] u, float[] out) {}

    @Override
    void step(Call c, float[] u, float[] out) {}
}
