package dev.ssm4j.train.loop;

import dev.ssm4j.core.model.ModelSpec;

/**
 * A {@link ModelSpec} for a new model from the few numbers a command line gives (the CLI's model
 * options), with Mamba's usual derived sizes: d = expand·H, dt_rank = ⌈H/16⌉ (Mamba-1),
 * heads = d / headdim (Mamba-2).
 */
public record ModelOptions(String arch, int vocab, int dModel, int layers, int dState, int expand, int dConv,
                           int dtRank, int headDim, int groups, int chunkSize, boolean tied, boolean bias) {
    /** Usage lines of the options {@link dev.ssm4j.train.cli.TrainCommand} maps onto this record. */
    public static final String USAGE = """
              --arch mamba|mamba2   mixer (default mamba)
              --vocab V             vocabulary (default: the task's, else 256)
              --d-model H           hidden size (default 64)
              --layers N            blocks (default 2)
              --d-state n           state size (default 16)
              --expand E            d = E·H (default 2)
              --d-conv w            conv width (default 4)
              --dt-rank R           Mamba-1 Δ rank (default ⌈H/16⌉)
              --headdim p           Mamba-2 head size (default 32)
              --ngroups g           Mamba-2 B/C groups (default 1)
              --chunk-size c        Mamba-2 SSD chunk (default 64)
              --tie true|false      tie lm_head to the embeddings (default true)
              --bias true|false     in_proj/out_proj biases (default false)""";

    public ModelSpec toSpec() {
        ModelSpec.Kind kind = switch (arch) {
            case "mamba", "mamba1" -> ModelSpec.Kind.MAMBA1;
            case "mamba2" -> ModelSpec.Kind.MAMBA2;
            default -> throw new IllegalArgumentException("--arch must be mamba or mamba2, got '" + arch + "'");
        };
        if (expand < 1) throw new IllegalArgumentException("--expand must be >= 1, got " + expand);
        int d = expand * dModel;
        ModelSpec.Builder b = ModelSpec.builder(kind).vocab(vocab).hidden(dModel).layers(layers).dInner(d)
                .dState(dState).convWidth(dConv).tieEmbeddings(tied).useBias(bias).useConvBias(true);
        if (kind == ModelSpec.Kind.MAMBA1) {
            b.dtRank(dtRank > 0 ? dtRank : (dModel + 15) / 16);
        } else {
            if (headDim < 1 || d % headDim != 0) {
                throw new IllegalArgumentException("--headdim " + headDim + " must divide d = expand·d_model = " + d);
            }
            b.heads(d / headDim).headDim(headDim).groups(groups).chunkSize(chunkSize);
        }
        return b.build();
    }
}
