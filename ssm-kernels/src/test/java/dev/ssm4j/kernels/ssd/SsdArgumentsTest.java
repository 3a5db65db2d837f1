package dev.ssm4j.kernels.ssd;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Bad shapes are reported up front, naming the argument, what it got and what was expected. */
class SsdArgumentsTest {
    static final int B = 2, L = 5, H = 4, P = 3, G = 2, N = 6;
    static final SsdConfig CFG = SsdConfig.of(H, P, G, N);


    static void expect(Executable call, String... words) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String w : words) assertTrue(e.getMessage().contains(w), "message '" + e.getMessage() + "' lacks '" + w + "'");
    }

    static void forward(float[] y, int yS, float[] fin, float[] x, float[] dt, float[] bm, float[] cm, float[] h0,
                        int[][] cu, float[] a, float[] d) {
        Ssd.forward(y, 0, yS, fin, x, 0, H * P, dt, 0, H, bm, 0, G * N, cm, 0, G * N, h0, cu, a, d, null, B, L, CFG, null,
                null);
    }

    @Test
    void shapesAreChecked() {
        float[] y = new float[B * L * H * P], x = y.clone(), dt = new float[B * L * H], bc = new float[B * L * G * N];
        float[] a = new float[H], st = new float[B * H * P * N];
        forward(y, H * P, st, x, dt, bc, bc, st, null, a, null); // fine
        expect(() -> forward(y, H * P, st, new float[10], dt, bc, bc, st, null, a, null), "x", "length 10", "h*p=12");
        expect(() -> forward(y, H * P - 1, st, x, dt, bc, bc, st, null, a, null), "y", "token stride 11");
        expect(() -> forward(y, H * P, st, x, new float[3], bc, bc, st, null, a, null), "dt", "h=4");
        expect(() -> forward(y, H * P, st, x, dt, new float[7], bc, st, null, a, null), "B", "g*n=12");
        expect(() -> forward(y, H * P, st, x, dt, bc, null, st, null, a, null), "C", "null");
        expect(() -> forward(y, H * P, st, x, dt, bc, bc, st, null, new float[3], null), "A", "length 3", "h=4");
        expect(() -> forward(y, H * P, st, x, dt, bc, bc, st, null, a, new float[5]), "D", "length 5");
        expect(() -> forward(y, H * P, new float[7], x, dt, bc, bc, st, null, a, null), "finalState", "length 7");
        expect(() -> forward(y, H * P, st, x, dt, bc, bc, new float[7], null, a, null), "initialState", "length 7");
        expect(() -> forward(y, H * P, st, x, dt, bc, bc, st, new int[][] {{0, 5}}, a, null), "cuSeqlens", "1 rows");
        expect(() -> forward(y, H * P, st, x, dt, bc, bc, st, new int[][] {{0, 5}, {0, 3, 3, 5}}, a, null),
                "cuSeqlens[1]", "[0, 3, 3, 5]");
        expect(() -> forward(y, H * P, st, x, dt, bc, bc, st, new int[][] {{0, 4}, null}, a, null), "cuSeqlens[0]");
        expect(() -> SsdConfig.of(4, 3, 3, 6), "groups", "divide");
        expect(() -> SsdConfig.of(4, 3, 2, 6).withDtLimit(0.5f, 0.1f), "dt limits");
        expect(() -> SsdConfig.of(4, 3, 2, 6).withChunk(0), "chunk");
    }

    @Test
    void backwardAndStepShapesAreChecked() {
        float[] y = new float[B * L * H * P], dt = new float[B * L * H], bc = new float[B * L * G * N];
        float[] a = new float[H], st = new float[B * H * P * N];
        expect(() -> Ssd.backward(new float[1], 0, H * P, dt, 0, H, bc, 0, G * N, bc, 0, G * N, a, null, null, null,
                y, 0, H * P, null, y, 0, H * P, dt, 0, H, bc, 0, G * N, bc, 0, G * N, null, null, a, null, null,
                B, L, CFG, null, null), "dx", "length 1");
        expect(() -> Ssd.backward(y, 0, H * P, dt, 0, H, bc, 0, G * N, bc, 0, G * N, null, null, null, null,
                y, 0, H * P, null, y, 0, H * P, dt, 0, H, bc, 0, G * N, bc, 0, G * N, null, null, a, null, null,
                B, L, CFG, null, null), "dA", "null");
        expect(() -> Ssd.step(y, 0, H * P, new float[3], y, 0, H * P, dt, 0, H, bc, 0, G * N, bc, 0, G * N, a, null, null,
                B, CFG, null), "state", "length 3");
    }

    /** The SIMD step checks its arguments without a problem object: same checks, same messages as the scalar one. */
    @Test
    void stepShapesAreCheckedByEveryImpl() {
        float[] y = new float[B * H * P], x = y.clone(), dt = new float[B * H], bc = new float[B * G * N];
        float[] a = new float[H], st = new float[B * H * P * N];
        for (Ssd.Impl impl : new Ssd.Impl[] {Ssd.Impl.SCALAR, Ssd.Impl.RECURRENT, Ssd.Impl.AUTO}) {
            Ssd.step(impl, y, 0, H * P, st, x, 0, H * P, dt, 0, H, bc, 0, G * N, bc, 0, G * N, a, null, null, B, CFG,
                    null); // fine
            expect(() -> Ssd.step(impl, y, 0, H * P, null, x, 0, H * P, dt, 0, H, bc, 0, G * N, bc, 0, G * N, a, null,
                    null, B, CFG, null), "state", "null");
            expect(() -> Ssd.step(impl, new float[5], 0, H * P, st, x, 0, H * P, dt, 0, H, bc, 0, G * N, bc, 0, G * N, a,
                    null, null, B, CFG, null), "y", "length 5", "h*p=12");
            expect(() -> Ssd.step(impl, y, 0, H * P, st, x, 1, H * P, dt, 0, H, bc, 0, G * N, bc, 0, G * N, a, null,
                    null, B, CFG, null), "x", "offset 1");
            expect(() -> Ssd.step(impl, y, 0, H * P, st, x, 0, H * P, dt, 0, H - 1, bc, 0, G * N, bc, 0, G * N, a, null,
                    null, B, CFG, null), "dt", "token stride 3");
            expect(() -> Ssd.step(impl, y, 0, H * P, st, x, 0, H * P, dt, 0, H, new float[3], 0, G * N, bc, 0, G * N, a,
                    null, null, B, CFG, null), "B", "length 3");
            expect(() -> Ssd.step(impl, y, 0, H * P, st, x, 0, H * P, dt, 0, H, bc, 0, G * N, null, 0, G * N, a, null,
                    null, B, CFG, null), "C", "null");
            expect(() -> Ssd.step(impl, y, 0, H * P, st, x, 0, H * P, dt, 0, H, bc, 0, G * N, bc, 0, G * N, a,
                    new float[2], null, B, CFG, null), "D", "length 2");
            expect(() -> Ssd.step(impl, y, 0, H * P, st, x, 0, H * P, dt, 0, H, bc, 0, G * N, bc, 0, G * N, a, null,
                    new float[1], B, CFG, null), "dtBias", "length 1");
        }
        expect(() -> Ssd.step(Ssd.Impl.CHUNKED, y, 0, H * P, st, x, 0, H * P, dt, 0, H, bc, 0, G * N, bc, 0, G * N, a,
                null, null, B, CFG, null), "no step");
    }
}
