package dev.ssm4j.kernels.scan;

import java.util.concurrent.ForkJoinPool;

/** SIMD backward (placeholder: delegates to the scalar reference until the vector version lands). */
public final class SelectiveScanSimdBackward {
    private SelectiveScanSimdBackward() {}

    public static void backward(ScanTensors io, ScanGrads gr, ForkJoinPool pool) {
        SelectiveScanScalar.backward(io, gr, pool);
    }
}
