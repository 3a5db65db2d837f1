package dev.ssm4j.kernels.ssd;

import java.util.concurrent.ForkJoinPool;

final class SsdChunked {
    private SsdChunked() {}

    static void forward(SsdProblem q, SsdWorkspace ws, ForkJoinPool pool) {
        SsdChunkedScalar.forward(q, pool);
    }
}
