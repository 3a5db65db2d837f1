package dev.ssm4j.kernels.ssd;

import static org.junit.jupiter.api.Assertions.assertNull;

import dev.ssm4j.kernels.Parallel;
import dev.ssm4j.kernels.testing.TestArrays;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every forward implementation against the double-precision recurrence, on odd shapes and options. */
class SsdForwardTest {
    static final ForkJoinPool POOL = Parallel.pool(2);

    @AfterAll
    static void shutdown() {
        POOL.shutdown();
    }

    static final Ssd.Impl[] FORWARDS = {Ssd.Impl.SCALAR, Ssd.Impl.RECURRENT, Ssd.Impl.CHUNKED_SCALAR, Ssd.Impl.CHUNKED,
            Ssd.Impl.AUTO};

    /** (l, h, p, n, g, chunk, b): the odd shapes of the brief, not every combination. */
    static Stream<Arguments> shapes() {
        List<Arguments> out = new ArrayList<>();
        int[] ls = {1, 7, 37, 300};
        int[][] hg = {{1, 1}, {3, 1}, {4, 2}, {4, 1}, {3, 3}};
        int[] ps = {1, 5, 16};
        int[] ns = {1, 7, 16, 128};
        int[] qs = {1, 4, 16, 64};
        int k = 0;
        for (int l : ls) {
            for (int[] hgi : hg) {
                for (int pi = 0; pi < ps.length; pi++) {
                    // walk the n and chunk lists so that each (l, h) sees several of each
                    int n = ns[(k + pi) % ns.length], q = qs[(k * 3 + pi) % qs.length];
                    if (l == 300 && n == 128 && ps[pi] == 16) n = 16; // keep the double reference quick
                    out.add(Arguments.of(l, hgi[0], ps[pi], n, hgi[1], q, 1 + (k % 2)));
                    k++;
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "l={0} h={1} p={2} n={3} g={4} Q={5} b={6}")
    @MethodSource("shapes")
    void allImplementationsMatchTheDoubleRecurrence(int l, int h, int p, int n, int g, int q, int b) {
        long seed = 31L * l + 7L * h + 5L * p + 3L * n + g + 11L * q;
        // options vary with the shape: each appears on and off across the list
        boolean withD = (l + p) % 2 == 0, bias = (h + n) % 2 == 1, softplus = (l + q) % 3 != 0;
        boolean clamp = (p + q) % 3 == 0, h0 = (n + l) % 2 == 1, strided = (h + p + q) % 2 == 0;
        SsdCase c = new SsdCase(seed, b, l, h, p, g, n, q, withD, bias, softplus, clamp, h0, strided);
        c.wantFinal = (l + h) % 2 == 1;
        double[][] ref = c.reference(c.inputs());
        SsdWorkspace ws = new SsdWorkspace();
        for (Ssd.Impl impl : FORWARDS) {
            for (ForkJoinPool pool : new ForkJoinPool[] {null, POOL}) {
                SsdCase.Out o = c.forward(impl, ws, pool);
                String what = impl + (pool == null ? "" : " 2 threads");
                TestArrays.assertClose(what + " y", ref[0], o.y(), 2e-4, 2e-3);
                if (c.wantFinal) TestArrays.assertClose(what + " final state", ref[1], o.fin(), 2e-4, 2e-3);
                else assertNull(o.fin());
            }
        }
    }

    @Test
    void everyOptionOnAndOffOnOneShape() {
        for (int mask = 0; mask < 64; mask++) {
            SsdCase c = new SsdCase(1000 + mask, 2, 23, 4, 5, 2, 7, 8, (mask & 1) != 0, (mask & 2) != 0,
                    (mask & 4) != 0, (mask & 8) != 0, (mask & 16) != 0, (mask & 32) != 0);
            double[][] ref = c.reference(c.inputs());
            for (Ssd.Impl impl : FORWARDS) {
                SsdCase.Out o = c.forward(impl, null, null);
                TestArrays.assertClose(impl + " options " + mask + " y", ref[0], o.y(), 2e-4, 2e-3);
                TestArrays.assertClose(impl + " options " + mask + " final", ref[1], o.fin(), 2e-4, 2e-3);
            }
        }
    }

    @Test
    void packedSequencesRestartTheState() {
        SsdCase c = new SsdCase(77, 3, 41, 4, 6, 2, 9, 8, true, true, true, false, true, true);
        c.cu = new int[][] {{0, 5, 6, 19, 41}, null, {0, 40, 41}};
        double[][] ref = c.reference(c.inputs());
        for (Ssd.Impl impl : FORWARDS) {
            SsdCase.Out o = c.forward(impl, null, POOL);
            TestArrays.assertClose(impl + " varlen y", ref[0], o.y(), 2e-4, 2e-3);
            TestArrays.assertClose(impl + " varlen final", ref[1], o.fin(), 2e-4, 2e-3);
        }
        // and the reference itself restarts: row 0 from token 5 on equals a fresh run of that piece
        SsdCase piece = new SsdCase(77, 3, 41, 4, 6, 2, 9, 8, true, true, true, false, true, true);
        piece.cu = new int[][] {{0, 41}, null, {0, 41}};
        double[][] whole = piece.reference(piece.inputs());
        boolean differs = false;
        for (int i = 6 * 4 * 6; i < 41 * 4 * 6; i++) differs |= Math.abs(whole[0][i] - ref[0][i]) > 1e-3;
        if (!differs) throw new AssertionError("the boundaries changed nothing");
    }

    @Test
    void strongDecayUnderflowsCleanly() {
        // Δ·A of about −20 per token: exp(cum) underflows to 0 inside a chunk of 64; no NaN, no Inf
        SsdCase c = new SsdCase(5, 1, 150, 2, 16, 1, 16, 64, true, false, false, false, true, false);
        for (int i = 0; i < c.a.length; i++) c.a[i] = -60f;
        double[][] ref = c.reference(c.inputs());
        for (Ssd.Impl impl : FORWARDS) {
            SsdCase.Out o = c.forward(impl, null, null);
            TestArrays.assertClose(impl + " strong decay y", ref[0], o.y(), 2e-4, 2e-3);
            TestArrays.assertClose(impl + " strong decay final", ref[1], o.fin(), 2e-4, 2e-3);
        }
    }
}
