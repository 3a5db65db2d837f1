package dev.ssm4j.kernels.ssd;

import java.util.concurrent.ForkJoinPool;

final class SsdChunkedBackward {
    private SsdChunkedBackward() {}

    static void backward(SsdProblem q, SsdWorkspace ws, ForkJoinPool pool) {
        SsdChunkedScalar.backward(q, pool);
    }
}
