package dev.ssm4j.bench.jmh;

import java.util.SplittableRandom;

/** Shared setup of the elementwise/conv/norm/loss benchmarks. */
final class BenchSupport {
    private BenchSupport() {}

    /** True for impl=scalar; the scalar twins are single-threaded, so threads must then be 1. */
    static boolean scalar(String impl, int threads) {
        boolean scalar = switch (impl) {
            case "scalar" -> true;
            case "simd" -> false;
            default -> throw new IllegalArgumentException("impl must be scalar or simd, got " + impl);
        };
        if (scalar && threads != 1) {
            throw new IllegalArgumentException("the scalar twins are single-threaded: use threads=1 with impl=scalar");
        }
        return scalar;
    }

    static float[] random(SplittableRandom rng, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rng.nextDouble() * 2 - 1);
        return a;
    }
}
