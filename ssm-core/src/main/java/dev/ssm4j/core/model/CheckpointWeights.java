package dev.ssm4j.core.model;

import dev.ssm4j.core.io.Checkpoint;
import dev.ssm4j.core.io.DType;
import dev.ssm4j.core.io.SafeTensor;

/**
 * Weights read from a checkpoint: every tensor of the layout is required with its exact shape
 * (Checkpoint.require names file, tensor, expected and actual shape). Small tensors become float
 * arrays; matrices are held as {@link LoadOptions} says.
 */
final class CheckpointWeights implements Weights {
    private final Checkpoint ck;
    private final ParameterLayout layout;
    private final LoadOptions options;

    CheckpointWeights(Checkpoint ck, ParameterLayout layout, LoadOptions options) {
        this.ck = ck;
        this.layout = layout;
        this.options = options;
        // Check presence and shape of every tensor up front, so the first problem reported is the
        // first missing/misshapen tensor in layout order.
        for (ParameterLayout.Entry e : layout.entries()) ck.require(e.name(), e.shape());
        if (layout.spec().tieEmbeddings) ck.ignore(ParameterLayout.LM_HEAD);
    }

    @Override
    public Vec vec(String name) {
        ParameterLayout.Entry e = layout.get(name);
        return Vec.of(ck.require(name, e.shape()).toFloatArray());
    }

    @Override
    public Linear matrix(String name) {
        ParameterLayout.Entry e = layout.get(name);
        SafeTensor t = ck.require(name, e.shape());
        int[] s = e.shape();
        boolean bf16 = options.matrices() == LoadOptions.Matrices.BF16
                || (options.matrices() == LoadOptions.Matrices.AS_STORED && t.dtype() == DType.BF16);
        return Linear.ofTensor(t, s[0], s[1], bf16, options.mapped());
    }

    @Override
    public Linear denseMatrix(String name) {
        ParameterLayout.Entry e = layout.get(name);
        int[] s = e.shape();
        return Linear.ofArray(ck.require(name, e.shape()).toFloatArray(), 0, s[0], s[1]);
    }

    /** Called after the model took its tensors: a file with tensors the model never read is refused. */
    void finish() {
        ck.requireAllUsed();
    }
}
