package dev.ssm4j.kernels.ssd;

import java.util.concurrent.ForkJoinPool;

final class SsdRecurrent {
    private SsdRecurrent() {}

    static void forward(SsdProblem q, SsdWorkspace ws, ForkJoinPool pool) {
        SsdScalar.forward(q, pool);
    }

    static void step(SsdProblem q, ForkJoinPool pool) {
        SsdScalar.step(q, pool);
    }
}
