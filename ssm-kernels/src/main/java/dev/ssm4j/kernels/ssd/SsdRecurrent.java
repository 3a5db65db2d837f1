package dev.ssm4j.kernels.ssd;

import static dev.ssm4j.kernels.ssd.SsdChunkOps.F;
import static dev.ssm4j.kernels.ssd.SsdChunkOps.L;
import static dev.ssm4j.kernels.ssd.SsdChunkOps.roundUp;

import dev.ssm4j.kernels.Parallel;
import java.util.Arrays;
import java.util.concurrent.ForkJoinPool;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The recurrence of {@link SsdScalar} with SIMD: used for short sequences (forward) and for the
 * single-token step.
 *
 * <p>Forward keeps each head's state transposed, Sᵀ (n, pp), and vectorises along p: for each
 * state index k the update {@code S[k][·] = decay·S[k][·] + B_k·(Δx)} and the output
 * {@code y[·] += S[k][·]·C_k} are whole-vector operations with B_k, C_k broadcast, so y
 * accumulates in registers and no horizontal sum is needed. For p = 64 a block of 4 vectors
 * (64 floats with AVX-512) keeps Δx and the y accumulators in 8 registers across the k loop.
 *
 * <p>The step works on the public (p, n) state in place, vectorised along n, 4 rows of p at a
 * time so that each B and C vector load serves 4 rows; it needs one horizontal sum per (head,
 * row), which is cheap next to the 2·n multiply-adds it closes.
 */
final class SsdRecurrent {
    private SsdRecurrent() {}

    private static final int STATE = 0, DX = 1, YACC = 2;

    static void forward(SsdProblem q, SsdWorkspace ws, ForkJoinPool pool) {
        Parallel.forRange(pool, q.b * q.h, 1, (start, end) -> {
            SsdWorkspace.Task t = ws.acquire();
            try {
                int pp = roundUp(q.p);
                float[] st = t.get(STATE, q.n * pp), dx = t.get(DX, pp), yacc = t.get(YACC, pp);
                for (int item = start; item < end; item++) head(q, item / q.h, item % q.h, st, dx, yacc);
            } finally {
                ws.release(t);
            }
        });
    }

    private static void head(SsdProblem q, int bi, int hh, float[] st, float[] dx, float[] yacc) {
        int p = q.p, n = q.n, pp = roundUp(p), gi = q.group(hh);
        float a = q.a[hh], dSkip = q.d == null ? 0f : q.d[hh];
        int[] cut = q.bounds(bi);
        Arrays.fill(dx, 0f);
        for (int s = 0; s + 1 < cut.length; s++) {
            if (s == 0 && q.h0 != null) SsdChunkOps.stateIn(q.h0, q.stateAt(bi, hh), p, n, st, 0, pp);
            else Arrays.fill(st, 0, n * pp, 0f);
            for (int t = cut[s]; t < cut[s + 1]; t++) {
                float delta = q.dtEff(q.dtRaw(bi, t, hh));
                float decay = (float) Math.exp(delta * a);
                int xi = q.xAt(bi, t, hh);
                for (int r = 0; r < p; r++) dx[r] = delta * q.x[xi + r];
                int bk = q.bAt(bi, t, gi), ck = q.cAt(bi, t, gi);
                int c = 0;
                for (; c + 4 * L <= pp; c += 4 * L) token4(st, c, pp, n, decay, dx, q.bm, bk, q.cm, ck, yacc);
                for (; c < pp; c += L) token1(st, c, pp, n, decay, dx, q.bm, bk, q.cm, ck, yacc);
                int yi = q.yAt(bi, t, hh);
                for (int r = 0; r < p; r++) q.y[yi + r] = yacc[r] + dSkip * q.x[xi + r];
            }
        }
        if (q.fin != null) SsdChunkOps.stateOut(st, 0, pp, p, n, q.fin, q.stateAt(bi, hh), false);
    }

    /** Columns [c, c + 4L) of one token: S[k] = decay·S[k] + B_k·dx; y = Σ_k S[k]·C_k. */
    private static void token4(float[] st, int c, int pp, int n, float decay, float[] dx, float[] bm, int bk,
                               float[] cm, int ck, float[] yacc) {
        FloatVector dv = FloatVector.broadcast(F, decay);
        FloatVector x0 = FloatVector.fromArray(F, dx, c), x1 = FloatVector.fromArray(F, dx, c + L);
        FloatVector x2 = FloatVector.fromArray(F, dx, c + 2 * L), x3 = FloatVector.fromArray(F, dx, c + 3 * L);
        FloatVector y0 = FloatVector.zero(F), y1 = y0, y2 = y0, y3 = y0;
        for (int k = 0; k < n; k++) {
            int o = k * pp + c;
            FloatVector b = FloatVector.broadcast(F, bm[bk + k]), cc = FloatVector.broadcast(F, cm[ck + k]);
            FloatVector s0 = FloatVector.fromArray(F, st, o).fma(dv, x0.mul(b));
            FloatVector s1 = FloatVector.fromArray(F, st, o + L).fma(dv, x1.mul(b));
            FloatVector s2 = FloatVector.fromArray(F, st, o + 2 * L).fma(dv, x2.mul(b));
            FloatVector s3 = FloatVector.fromArray(F, st, o + 3 * L).fma(dv, x3.mul(b));
            s0.intoArray(st, o);
            s1.intoArray(st, o + L);
            s2.intoArray(st, o + 2 * L);
            s3.intoArray(st, o + 3 * L);
            y0 = s0.fma(cc, y0);
            y1 = s1.fma(cc, y1);
            y2 = s2.fma(cc, y2);
            y3 = s3.fma(cc, y3);
        }
        y0.intoArray(yacc, c);
        y1.intoArray(yacc, c + L);
        y2.intoArray(yacc, c + 2 * L);
        y3.intoArray(yacc, c + 3 * L);
    }

    private static void token1(float[] st, int c, int pp, int n, float decay, float[] dx, float[] bm, int bk,
                               float[] cm, int ck, float[] yacc) {
        FloatVector dv = FloatVector.broadcast(F, decay), x0 = FloatVector.fromArray(F, dx, c);
        FloatVector y0 = FloatVector.zero(F), y1 = y0;
        int k = 0;
        for (; k + 1 < n; k += 2) { // two accumulators: the y chain is the latency bottleneck here
            int o = k * pp + c;
            FloatVector s0 = FloatVector.fromArray(F, st, o).fma(dv, x0.mul(bm[bk + k]));
            FloatVector s1 = FloatVector.fromArray(F, st, o + pp).fma(dv, x0.mul(bm[bk + k + 1]));
            s0.intoArray(st, o);
            s1.intoArray(st, o + pp);
            y0 = s0.fma(FloatVector.broadcast(F, cm[ck + k]), y0);
            y1 = s1.fma(FloatVector.broadcast(F, cm[ck + k + 1]), y1);
        }
        if (k < n) {
            int o = k * pp + c;
            FloatVector s0 = FloatVector.fromArray(F, st, o).fma(dv, x0.mul(bm[bk + k]));
            s0.intoArray(st, o);
            y0 = s0.fma(FloatVector.broadcast(F, cm[ck + k]), y0);
        }
        y0.add(y1).intoArray(yacc, c);
    }

    // ---- step ---------------------------------------------------------------------------------

    static void step(SsdProblem q, ForkJoinPool pool) {
        Parallel.forRange(pool, q.b * q.h, 4, (start, end) -> {
            for (int item = start; item < end; item++) stepHead(q, item / q.h, item % q.h);
        });
    }

    private static void stepHead(SsdProblem q, int bi, int hh) {
        int p = q.p, n = q.n, gi = q.group(hh), nv = F.loopBound(n);
        float delta = q.dtEff(q.dtRaw(bi, 0, hh));
        float decay = (float) Math.exp(delta * q.a[hh]), dSkip = q.d == null ? 0f : q.d[hh];
        int xi = q.xAt(bi, 0, hh), yi = q.yAt(bi, 0, hh), bk = q.bAt(bi, 0, gi), ck = q.cAt(bi, 0, gi);
        float[] st = q.h0, bm = q.bm, cm = q.cm;
        int so = q.stateAt(bi, hh);
        FloatVector dv = FloatVector.broadcast(F, decay);
        int r = 0;
        for (; r + 4 <= p; r += 4) {
            float d0 = delta * q.x[xi + r], d1 = delta * q.x[xi + r + 1], d2 = delta * q.x[xi + r + 2],
                    d3 = delta * q.x[xi + r + 3];
            int o0 = so + r * n, o1 = o0 + n, o2 = o1 + n, o3 = o2 + n;
            FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
            int k = 0;
            for (; k < nv; k += L) {
                FloatVector b = FloatVector.fromArray(F, bm, bk + k), c = FloatVector.fromArray(F, cm, ck + k);
                FloatVector s0 = FloatVector.fromArray(F, st, o0 + k).fma(dv, b.mul(d0));
                FloatVector s1 = FloatVector.fromArray(F, st, o1 + k).fma(dv, b.mul(d1));
                FloatVector s2 = FloatVector.fromArray(F, st, o2 + k).fma(dv, b.mul(d2));
                FloatVector s3 = FloatVector.fromArray(F, st, o3 + k).fma(dv, b.mul(d3));
                s0.intoArray(st, o0 + k);
                s1.intoArray(st, o1 + k);
                s2.intoArray(st, o2 + k);
                s3.intoArray(st, o3 + k);
                a0 = s0.fma(c, a0);
                a1 = s1.fma(c, a1);
                a2 = s2.fma(c, a2);
                a3 = s3.fma(c, a3);
            }
            float t0 = a0.reduceLanes(VectorOperators.ADD), t1 = a1.reduceLanes(VectorOperators.ADD);
            float t2 = a2.reduceLanes(VectorOperators.ADD), t3 = a3.reduceLanes(VectorOperators.ADD);
            for (; k < n; k++) { // scalar tail of n
                float b = bm[bk + k], c = cm[ck + k];
                float v0 = decay * st[o0 + k] + d0 * b, v1 = decay * st[o1 + k] + d1 * b;
                float v2 = decay * st[o2 + k] + d2 * b, v3 = decay * st[o3 + k] + d3 * b;
                st[o0 + k] = v0;
                st[o1 + k] = v1;
                st[o2 + k] = v2;
                st[o3 + k] = v3;
                t0 += v0 * c;
                t1 += v1 * c;
                t2 += v2 * c;
                t3 += v3 * c;
            }
            q.y[yi + r] = t0 + dSkip * q.x[xi + r];
            q.y[yi + r + 1] = t1 + dSkip * q.x[xi + r + 1];
            q.y[yi + r + 2] = t2 + dSkip * q.x[xi + r + 2];
            q.y[yi + r + 3] = t3 + dSkip * q.x[xi + r + 3];
        }
        for (; r < p; r++) {
            float d0 = delta * q.x[xi + r];
            int o0 = so + r * n;
            FloatVector a0 = FloatVector.zero(F);
            int k = 0;
            for (; k < nv; k += L) {
                FloatVector s0 = FloatVector.fromArray(F, st, o0 + k)
                        .fma(dv, FloatVector.fromArray(F, bm, bk + k).mul(d0));
                s0.intoArray(st, o0 + k);
                a0 = s0.fma(FloatVector.fromArray(F, cm, ck + k), a0);
            }
            float t0 = a0.reduceLanes(VectorOperators.ADD);
            for (; k < n; k++) {
                float v0 = decay * st[o0 + k] + d0 * bm[bk + k];
                st[o0 + k] = v0;
                t0 += v0 * cm[ck + k];
            }
            q.y[yi + r] = t0 + dSkip * q.x[xi + r];
        }
    }
}
