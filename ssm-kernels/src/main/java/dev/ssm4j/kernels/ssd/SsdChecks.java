package dev.ssm4j.kernels.ssd;

/**
 * Argument validation of the {@link Ssd} entry points: every bad shape is reported as an
 * IllegalArgumentException naming the argument, what it got and what it needed, before any
 * kernel touches an array.
 */
final class SsdChecks {
    private SsdChecks() {}

    /** Checks a forward call's arguments and fills {@code pr} with them. */
    static SsdProblem forward(SsdProblem pr, float[] y, int yOff, int yS, float[] fin,
                              float[] x, int xOff, int xS, float[] dt, int dtOff, int dtS,
                              float[] B, int bOff, int bS, float[] C, int cOff, int cS,
                              float[] h0, int[][] cu, float[] A, float[] D, float[] dtBias,
                              int batch, int length, SsdConfig cfg) {
        inputs(pr, x, xOff, xS, dt, dtOff, dtS, B, bOff, bS, C, cOff, cS, h0, cu, A, D, dtBias, batch, length, cfg);
        tokens("y", y, yOff, yS, cfg.xWidth(), "h*p", batch, length);
        state("finalState", fin, batch, cfg, true);
        pr.y = y;
        pr.yOff = yOff;
        pr.yS = yS;
        pr.fin = fin;
        return pr;
    }

    /** Checks a backward call's arguments and fills {@code pr} with them. */
    static SsdProblem backward(SsdProblem pr, float[] dx, int dxOff, int dxS, float[] ddt, int ddtOff, int ddtS,
                               float[] dB, int dBOff, int dBS, float[] dC, int dCOff, int dCS,
                               float[] dA, float[] dD, float[] dDtBias, float[] dh0,
                               float[] dy, int dyOff, int dyS, float[] dfin,
                               float[] x, int xOff, int xS, float[] dt, int dtOff, int dtS,
                               float[] B, int bOff, int bS, float[] C, int cOff, int cS,
                               float[] h0, int[][] cu, float[] A, float[] D, float[] dtBias,
                               int batch, int length, SsdConfig cfg) {
        inputs(pr, x, xOff, xS, dt, dtOff, dtS, B, bOff, bS, C, cOff, cS, h0, cu, A, D, dtBias, batch, length, cfg);
        int h = cfg.heads();
        tokens("dx", dx, dxOff, dxS, cfg.xWidth(), "h*p", batch, length);
        tokens("ddt", ddt, ddtOff, ddtS, h, "h", batch, length);
        tokens("dB", dB, dBOff, dBS, cfg.bcWidth(), "g*n", batch, length);
        tokens("dC", dC, dCOff, dCS, cfg.bcWidth(), "g*n", batch, length);
        tokens("dy", dy, dyOff, dyS, cfg.xWidth(), "h*p", batch, length);
        perHead("dA", dA, h, false);
        perHead("dD", dD, h, true);
        perHead("dDtBias", dDtBias, h, true);
        state("dInitialState", dh0, batch, cfg, true);
        state("dFinalState", dfin, batch, cfg, true);
        pr.dx = dx;
        pr.dxOff = dxOff;
        pr.dxS = dxS;
        pr.ddt = ddt;
        pr.ddtOff = ddtOff;
        pr.ddtS = ddtS;
        pr.dbm = dB;
        pr.dbOff = dBOff;
        pr.dbS = dBS;
        pr.dcm = dC;
        pr.dcOff = dCOff;
        pr.dcS = dCS;
        pr.da = dA;
        pr.dd = dD;
        pr.dDtBias = dDtBias;
        pr.dh0 = dh0;
        pr.dy = dy;
        pr.dyOff = dyOff;
        pr.dyS = dyS;
        pr.dfin = dfin;
        return pr;
    }

    /** Step: a problem of length 1 whose initial and final state are the same array. */
    static SsdProblem step(float[] y, int yOff, int yS, float[] state,
                           float[] x, int xOff, int xS, float[] dt, int dtOff, int dtS,
                           float[] B, int bOff, int bS, float[] C, int cOff, int cS,
                           float[] A, float[] D, float[] dtBias, int batch, SsdConfig cfg) {
        state("state", state, batch, cfg, false);
        SsdProblem pr = forward(new SsdProblem(), y, yOff, yS, state, x, xOff, xS, dt, dtOff, dtS, B, bOff, bS, C, cOff, cS,
                state, null, A, D, dtBias, batch, 1, cfg);
        return pr;
    }

    /**
     * The checks of {@link #step} without building a problem object (same order, same messages):
     * the SIMD step takes its arguments directly, so that a decoding step allocates nothing.
     */
    static void stepArgs(float[] y, int yOff, int yS, float[] state,
                         float[] x, int xOff, int xS, float[] dt, int dtOff, int dtS,
                         float[] B, int bOff, int bS, float[] C, int cOff, int cS,
                         float[] A, float[] D, float[] dtBias, int batch, SsdConfig cfg) {
        state("state", state, batch, cfg, false);
        checkInputs(x, xOff, xS, dt, dtOff, dtS, B, bOff, bS, C, cOff, cS, state, null, A, D, dtBias, batch, 1, cfg);
        tokens("y", y, yOff, yS, cfg.xWidth(), "h*p", batch, 1);
    }

    private static void inputs(SsdProblem pr, float[] x, int xOff, int xS, float[] dt, int dtOff, int dtS,
                                     float[] B, int bOff, int bS, float[] C, int cOff, int cS,
                                     float[] h0, int[][] cu, float[] A, float[] D, float[] dtBias,
                                     int batch, int length, SsdConfig cfg) {
        checkInputs(x, xOff, xS, dt, dtOff, dtS, B, bOff, bS, C, cOff, cS, h0, cu, A, D, dtBias, batch, length, cfg);
        pr.reset(batch, length, cfg);
        pr.x = x;
        pr.xOff = xOff;
        pr.xS = xS;
        pr.dt = dt;
        pr.dtOff = dtOff;
        pr.dtS = dtS;
        pr.bm = B;
        pr.bOff = bOff;
        pr.bS = bS;
        pr.cm = C;
        pr.cOff = cOff;
        pr.cS = cS;
        pr.h0 = h0;
        pr.cu = cu;
        pr.a = A;
        pr.d = D;
        pr.dtBias = dtBias;
    }

    private static void checkInputs(float[] x, int xOff, int xS, float[] dt, int dtOff, int dtS,
                                    float[] B, int bOff, int bS, float[] C, int cOff, int cS,
                                    float[] h0, int[][] cu, float[] A, float[] D, float[] dtBias,
                                    int batch, int length, SsdConfig cfg) {
        if (cfg == null) throw new IllegalArgumentException("cfg must not be null");
        if (batch < 0) throw new IllegalArgumentException("batch must be >= 0, got " + batch);
        if (length < 0) throw new IllegalArgumentException("length must be >= 0, got " + length);
        int h = cfg.heads();
        tokens("x", x, xOff, xS, cfg.xWidth(), "h*p", batch, length);
        tokens("dt", dt, dtOff, dtS, h, "h", batch, length);
        tokens("B", B, bOff, bS, cfg.bcWidth(), "g*n", batch, length);
        tokens("C", C, cOff, cS, cfg.bcWidth(), "g*n", batch, length);
        perHead("A", A, h, false);
        perHead("D", D, h, true);
        perHead("dtBias", dtBias, h, true);
        state("initialState", h0, batch, cfg, true);
        if (cu != null) {
            if (cu.length != batch) {
                throw new IllegalArgumentException("cuSeqlens has " + cu.length + " rows, expected batch=" + batch);
            }
            for (int bi = 0; bi < batch; bi++) {
                int[] r = cu[bi];
                if (r == null) continue;
                boolean ok = r.length >= 2 && r[0] == 0 && r[r.length - 1] == length;
                for (int k = 1; ok && k < r.length; k++) ok = r[k] > r[k - 1];
                if (!ok) {
                    throw new IllegalArgumentException("cuSeqlens[" + bi + "] = " + java.util.Arrays.toString(r)
                            + " must rise strictly from 0 to length=" + length);
                }
            }
        }
    }

    /** A (b, l, width) token-major tensor at (off, stride) must fit its array. */
    static void tokens(String name, float[] a, int off, int stride, int width, String widthName, int b, int l) {
        // the shape text is built only for a message: a valid call (every decoding step) allocates nothing
        if (a == null) {
            throw new IllegalArgumentException(name + " must not be null; expected " + shape(widthName, width, b, l));
        }
        if (off < 0) throw new IllegalArgumentException(name + ": offset " + off + " < 0");
        if (stride < width) {
            throw new IllegalArgumentException(name + ": token stride " + stride + " < " + widthName + "=" + width
                    + " of shape " + shape(widthName, width, b, l));
        }
        long rows = (long) b * l;
        if (rows == 0) return;
        long need = off + (rows - 1) * stride + width;
        if (need > a.length) {
            throw new IllegalArgumentException(name + ": array of length " + a.length + " is too short for "
                    + shape(widthName, width, b, l) + " at offset " + off + ", token stride " + stride + ": needs " + need);
        }
    }

    private static String shape(String widthName, int width, int b, int l) {
        return "(b=" + b + ", l=" + l + ", " + widthName + "=" + width + ")";
    }

    static void perHead(String name, float[] a, int h, boolean optional) {
        if (a == null) {
            if (optional) return;
            throw new IllegalArgumentException(name + " must not be null; expected (h=" + h + ")");
        }
        if (a.length != h) {
            throw new IllegalArgumentException(name + " has length " + a.length + ", expected (h=" + h + ")");
        }
    }

    static void state(String name, float[] a, int b, SsdConfig cfg, boolean optional) {
        if (a == null) {
            if (optional) return;
            throw new IllegalArgumentException(name + " must not be null");
        }
        long need = (long) b * cfg.stateSize();
        if (a.length != need) {
            throw new IllegalArgumentException(name + " has length " + a.length + ", expected (b=" + b + ", h="
                    + cfg.heads() + ", p=" + cfg.headDim() + ", n=" + cfg.stateDim() + ") = " + need);
        }
    }
}
