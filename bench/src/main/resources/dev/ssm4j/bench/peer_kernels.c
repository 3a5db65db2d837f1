/*
 * Plain C peers of ssm4j's memory-bound kernels, for `./ssm bench conv --peer`.
 *
 * Written the way a C programmer would write them without intrinsics and left to the compiler to
 * vectorise (cc -O3 -march=native -ffast-math -fopenmp-simd; expf then comes from glibc's libmvec).
 * The bench calls them through java.lang.foreign on the very arrays it gives our kernels, so both
 * see the same addresses and the same alignment. Same math as ours: SiLU x / (1 + e^-x); RMSNorm
 * y = x * rstd * w with rstd = 1 / sqrt(mean(x^2) + eps); causal depthwise conv of width 4 with bias
 * and SiLU over (l, d) rows, weight given as (d, 4) like ours and transposed per call like ours.
 * The backward passes accumulate into their outputs (dx +=, dweight +=, dbias +=), as ours do.
 */
#include <math.h>
#include <stdlib.h>

/* The address of p: where the JVM put an array's data (the bench's alignment column). */
long peer_address(const float *p) { return (long) p; }

void peer_copy(float *restrict y, const float *restrict x, long n) {
#pragma omp simd
    for (long i = 0; i < n; i++) y[i] = x[i];
}

void peer_triad(float *restrict z, const float *restrict x, const float *restrict y, long n) {
#pragma omp simd
    for (long i = 0; i < n; i++) z[i] += x[i] * y[i];
}

void peer_silu(float *restrict y, const float *restrict x, long n) {
#pragma omp simd
    for (long i = 0; i < n; i++) y[i] = x[i] / (1.0f + expf(-x[i]));
}

void peer_rmsnorm(float *restrict y, float *restrict rstd, const float *restrict x, const float *restrict w,
                  int rows, int d, float eps) {
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (long) r * d;
        float *yr = y + (long) r * d;
        float ss = 0;
#pragma omp simd reduction(+ : ss)
        for (int i = 0; i < d; i++) ss += xr[i] * xr[i];
        float rs = 1.0f / sqrtf(ss / d + eps);
        rstd[r] = rs;
#pragma omp simd
        for (int i = 0; i < d; i++) yr[i] = xr[i] * rs * w[i];
    }
}

/* dx += rstd * w * dy - rstd^3 * x * s / d with s = sum dy * w * x per row; dweight += sum over rows of dy * x * rstd. */
void peer_rmsnorm_backward(float *restrict dx, float *restrict dweight, const float *restrict dy,
                           const float *restrict x, const float *restrict rstd, const float *restrict w,
                           int rows, int d) {
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (long) r * d, *gr = dy + (long) r * d;
        float *dxr = dx + (long) r * d;
        float s = 0, rs = rstd[r];
#pragma omp simd reduction(+ : s)
        for (int i = 0; i < d; i++) s += gr[i] * w[i] * xr[i];
        float k = rs * rs * rs * s / d;
#pragma omp simd
        for (int i = 0; i < d; i++) {
            dxr[i] += rs * w[i] * gr[i] - k * xr[i];
            dweight[i] += gr[i] * xr[i] * rs;
        }
    }
}

static inline float silu(float v) { return v / (1.0f + expf(-v)); }

/* One token t of the width-4 conv forward with SiLU, channels [c0, c1), per element (taps before 0 read 0). */
static void conv4_token(float *restrict y, const float *restrict x, const float *restrict wT,
                        const float *restrict bias, int d, int t, int c0, int c1) {
    for (int c = c0; c < c1; c++) {
        float acc = bias[c];
        for (int j = 0; j < 4; j++) {
            int p = t - 3 + j;
            if (p >= 0) acc += wT[j * d + c] * x[(long) p * d + c];
        }
        y[(long) t * d + c] = silu(acc);
    }
}

/* One token t of the backward, channels [c0, c1), per element (dwT: (4, d) sums). */
static void conv4_backward_token(float *restrict dx, float *restrict dwT, float *restrict dbias,
                                 const float *restrict dy, const float *restrict x, const float *restrict wT,
                                 const float *restrict bias, int d, int t, int c0, int c1) {
    for (int c = c0; c < c1; c++) {
        float pre = bias[c];
        for (int j = 0; j < 4; j++) {
            int p = t - 3 + j;
            if (p >= 0) pre += wT[j * d + c] * x[(long) p * d + c];
        }
        float sg = 1.0f / (1.0f + expf(-pre));
        float gt = dy[(long) t * d + c] * sg * (1.0f + pre * (1.0f - sg));
        dbias[c] += gt;
        for (int j = 0; j < 4; j++) {
            int p = t - 3 + j;
            if (p >= 0) {
                dwT[j * d + c] += gt * x[(long) p * d + c];
                dx[(long) p * d + c] += wT[j * d + c] * gt;
            }
        }
    }
}

/* y (l, d) = silu(bias + sum_j weight[c][j] * x[t - 3 + j][c]); tokens before 0 read as zeros. Returns 0, or -1 if out of memory. */
int peer_conv4_silu(float *restrict y, const float *restrict x, const float *restrict weight,
                    const float *restrict bias, int l, int d) {
    float *wT = malloc(sizeof(float) * 4 * (size_t) d);       /* (4, d): contiguous channels per tap */
    if (!wT) return -1;
    for (int c = 0; c < d; c++)
        for (int j = 0; j < 4; j++) wT[j * d + c] = weight[c * 4 + j];
    int t = 0;
    for (; t < 3 && t < l; t++) conv4_token(y, x, wT, bias, d, t, 0, d);   /* the first tokens: some taps before 0 */
    for (; t + 8 <= l; t += 8) {                                 /* blocks of 8 tokens, channels vectorised */
        const float *xp = x + (long) (t - 3) * d;
        float *yp = y + (long) t * d;
#pragma omp simd
        for (int c = 0; c < d; c++) {
            float w0 = wT[c], w1 = wT[d + c], w2 = wT[2 * d + c], w3 = wT[3 * d + c], b = bias[c];
            float a0 = xp[c], a1 = xp[d + c], a2 = xp[2 * (long) d + c];
            for (int i = 0; i < 8; i++) {
                float a3 = xp[(long) (3 + i) * d + c];
                yp[(long) i * d + c] = silu(b + w0 * a0 + w1 * a1 + w2 * a2 + w3 * a3);
                a0 = a1; a1 = a2; a2 = a3;
            }
        }
    }
    for (; t < l; t++) {
        const float *xp = x + (long) (t - 3) * d;
        float *yp = y + (long) t * d;
#pragma omp simd
        for (int c = 0; c < d; c++)
            yp[c] = silu(bias[c] + wT[c] * xp[c] + wT[d + c] * xp[d + c] + wT[2 * d + c] * xp[2 * (long) d + c]
                         + wT[3 * d + c] * xp[3 * (long) d + c]);
    }
    free(wT);
    return 0;
}

/*
 * Backward of peer_conv4_silu: g = dy * silu'(pre) with pre recomputed from x; dx[t - 3 + j] += w_j * g_t,
 * dweight[c][j] += sum_t g_t * x[t - 3 + j][c], dbias += sum_t g_t. Token by token, channels vectorised
 * (each dx row then receives its four contributions in four passes, the last three from cache).
 * Returns 0, or -1 if out of memory.
 */
int peer_conv4_silu_backward(float *restrict dx, float *restrict dweight, float *restrict dbias,
                             const float *restrict dy, const float *restrict x, const float *restrict weight,
                             const float *restrict bias, int l, int d) {
    float *wT = malloc(sizeof(float) * 8 * (size_t) d);       /* (4, d) weights, then (4, d) dweight sums */
    if (!wT) return -1;
    float *dwT = wT + 4 * (size_t) d;
    for (int c = 0; c < d; c++)
        for (int j = 0; j < 4; j++) { wT[j * d + c] = weight[c * 4 + j]; dwT[j * d + c] = 0; }
    for (int t = 0; t < 3 && t < l; t++)                        /* the first tokens: some taps before 0 */
        conv4_backward_token(dx, dwT, dbias, dy, x, wT, bias, d, t, 0, d);
    for (int t = 3; t < l; t++) {                                /* all four taps in x: channels vectorised */
        const float *g = dy + (long) t * d, *x0 = x + (long) (t - 3) * d;
        float *dx0 = dx + (long) (t - 3) * d;
#pragma omp simd
        for (int c = 0; c < d; c++) {
            float a0 = x0[c], a1 = x0[d + c], a2 = x0[2 * (long) d + c], a3 = x0[3 * (long) d + c];
            float pre = bias[c] + wT[c] * a0 + wT[d + c] * a1 + wT[2 * d + c] * a2 + wT[3 * d + c] * a3;
            float sg = 1.0f / (1.0f + expf(-pre));
            float gt = g[c] * sg * (1.0f + pre * (1.0f - sg));
            dbias[c] += gt;
            dwT[c] += gt * a0;
            dwT[d + c] += gt * a1;
            dwT[2 * d + c] += gt * a2;
            dwT[3 * d + c] += gt * a3;
            dx0[c] += wT[c] * gt;
            dx0[d + c] += wT[d + c] * gt;
            dx0[2 * (long) d + c] += wT[2 * d + c] * gt;
            dx0[3 * (long) d + c] += wT[3 * d + c] * gt;
        }
    }
    for (int c = 0; c < d; c++)
        for (int j = 0; j < 4; j++) dweight[c * 4 + j] += dwT[j * d + c];
    free(wT);
    return 0;
}

/*
 * Tuned peers: the same four algorithms as ours, hand-written with AVX-512 intrinsics, unaligned
 * loads and stores (they run at either placement), and software prefetch — the instruction the
 * Vector API does not have. Their question: how close to a copy or a triad can these kernels get on
 * this machine at all? Built only where the compiler targets AVX-512 (-march=native on such a CPU);
 * peer_tuned() says whether they are there. Edge tokens, tail channels (d % 16) and the last tokens of
 * an incomplete 8-token block go through the plain per-element code.
 */
#ifdef __AVX512F__
#include <immintrin.h>

int peer_tuned(void) { return 1; }

/* e^x to ~1e-7 relative: base-2 range reduction, degree-6 polynomial, vscalefps for 2^k. */
static inline __m512 tuned_exp(__m512 x) {
    x = _mm512_max_ps(_mm512_min_ps(x, _mm512_set1_ps(88.f)), _mm512_set1_ps(-104.f));
    __m512 t = _mm512_mul_ps(x, _mm512_set1_ps(1.44269504f));
    __m512 k = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 f = _mm512_sub_ps(t, k);
    __m512 p = _mm512_set1_ps(1.5353362e-4f);
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.3398874e-3f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.6182658e-3f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.5503340e-2f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.4022650e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.9314718e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.f));
    return _mm512_scalef_ps(p, k);
}

static inline __m512 tuned_sigmoid(__m512 v) {
    __m512 one = _mm512_set1_ps(1.f);
    return _mm512_div_ps(one, _mm512_add_ps(one, tuned_exp(_mm512_sub_ps(_mm512_setzero_ps(), v))));
}

#define PF(p) _mm_prefetch((const char *) (p), _MM_HINT_T0)

/* Pass 1 sums x^2 while prefetching the next row; pass 2 scales from L1. */
void peer_tuned_rmsnorm(float *restrict y, float *restrict rstd, const float *restrict x, const float *restrict w,
                        int rows, int d, float eps) {
    int d16 = d & ~15;
    __mmask16 m = (__mmask16) ((1u << (d - d16)) - 1);
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (long) r * d, *xn = r + 1 < rows ? xr + d : xr;
        float *yr = y + (long) r * d;
        __m512 s0 = _mm512_setzero_ps(), s1 = s0;
        int i = 0;
        for (; i + 32 <= d16; i += 32) {
            PF(xn + i); PF(xn + i + 16);
            __m512 a = _mm512_loadu_ps(xr + i), b = _mm512_loadu_ps(xr + i + 16);
            s0 = _mm512_fmadd_ps(a, a, s0);
            s1 = _mm512_fmadd_ps(b, b, s1);
        }
        for (; i < d16; i += 16) { PF(xn + i); __m512 a = _mm512_loadu_ps(xr + i); s0 = _mm512_fmadd_ps(a, a, s0); }
        if (m) { __m512 a = _mm512_maskz_loadu_ps(m, xr + d16); s1 = _mm512_fmadd_ps(a, a, s1); }
        float rs = 1.0f / sqrtf(_mm512_reduce_add_ps(_mm512_add_ps(s0, s1)) / d + eps);
        rstd[r] = rs;
        __m512 rv = _mm512_set1_ps(rs);
        for (i = 0; i < d16; i += 16)
            _mm512_storeu_ps(yr + i, _mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(xr + i), rv), _mm512_loadu_ps(w + i)));
        if (m) _mm512_mask_storeu_ps(yr + d16, m, _mm512_mul_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, xr + d16), rv),
                                                               _mm512_maskz_loadu_ps(m, w + d16)));
    }
}

/*
 * Split so that every DRAM stream is read in one pass: pass 1 forms s = sum dy*w*x and adds rstd*w*dy
 * into dx (x, dy and dx of the row, next row prefetched); pass 2, from L1, subtracts rstd^3*s/d*x and
 * adds dy*x*rstd into dweight. The same math as peer_rmsnorm_backward in another order, which measured
 * faster in C (the dx row is read in the pass that reads x and dy, and prefetched with them).
 */
void peer_tuned_rmsnorm_backward(float *restrict dx, float *restrict dweight, const float *restrict dy,
                                 const float *restrict x, const float *restrict rstd, const float *restrict w,
                                 int rows, int d) {
    int d16 = d & ~15;
    __mmask16 m = (__mmask16) ((1u << (d - d16)) - 1);
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (long) r * d, *gr = dy + (long) r * d;
        float *dxr = dx + (long) r * d;
        long nx = r + 1 < rows ? d : 0;
        float rs = rstd[r];
        __m512 rv = _mm512_set1_ps(rs), s0 = _mm512_setzero_ps();
        for (int i = 0; i < d16; i += 16) {
            PF(xr + nx + i); PF(gr + nx + i); PF(dxr + nx + i);
            __m512 gw = _mm512_mul_ps(_mm512_loadu_ps(gr + i), _mm512_loadu_ps(w + i));
            s0 = _mm512_fmadd_ps(gw, _mm512_loadu_ps(xr + i), s0);
            _mm512_storeu_ps(dxr + i, _mm512_fmadd_ps(gw, rv, _mm512_loadu_ps(dxr + i)));
        }
        if (m) {
            __m512 gw = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, gr + d16), _mm512_maskz_loadu_ps(m, w + d16));
            s0 = _mm512_fmadd_ps(gw, _mm512_maskz_loadu_ps(m, xr + d16), s0);
            _mm512_mask_storeu_ps(dxr + d16, m, _mm512_fmadd_ps(gw, rv, _mm512_maskz_loadu_ps(m, dxr + d16)));
        }
        __m512 kv = _mm512_set1_ps(-rs * rs * rs * _mm512_reduce_add_ps(s0) / d);
        for (int i = 0; i < d16; i += 16) {
            __m512 g = _mm512_loadu_ps(gr + i), xv = _mm512_loadu_ps(xr + i);
            _mm512_storeu_ps(dxr + i, _mm512_fmadd_ps(xv, kv, _mm512_loadu_ps(dxr + i)));
            _mm512_storeu_ps(dweight + i, _mm512_fmadd_ps(_mm512_mul_ps(g, xv), rv, _mm512_loadu_ps(dweight + i)));
        }
        if (m) {
            __m512 g = _mm512_maskz_loadu_ps(m, gr + d16), xv = _mm512_maskz_loadu_ps(m, xr + d16);
            _mm512_mask_storeu_ps(dxr + d16, m, _mm512_fmadd_ps(xv, kv, _mm512_maskz_loadu_ps(m, dxr + d16)));
            _mm512_mask_storeu_ps(dweight + d16, m,
                                  _mm512_fmadd_ps(_mm512_mul_ps(g, xv), rv, _mm512_maskz_loadu_ps(m, dweight + d16)));
        }
    }
}

/* Blocks of 8 tokens, channel vector outer, the inputs in a register ring, SiLU inline; next vector prefetched. */
int peer_tuned_conv4_silu(float *restrict y, const float *restrict x, const float *restrict weight,
                          const float *restrict bias, int l, int d) {
    float *wT = malloc(sizeof(float) * 4 * (size_t) d);
    if (!wT) return -1;
    for (int c = 0; c < d; c++)
        for (int j = 0; j < 4; j++) wT[j * d + c] = weight[c * 4 + j];
    int d16 = d & ~15, t = 0;
    for (; t < 3 && t < l; t++) conv4_token(y, x, wT, bias, d, t, 0, d);
    for (; t + 8 <= l; t += 8) {
        const float *xb = x + (long) (t - 3) * d;
        float *yb = y + (long) t * d;
        for (int c = 0; c < d16; c += 16) {
            if (c + 64 < d16) for (int r = 0; r < 11; r++) PF(xb + (long) r * d + c + 64);
            __m512 w0 = _mm512_loadu_ps(wT + c), w1 = _mm512_loadu_ps(wT + d + c), w2 = _mm512_loadu_ps(wT + 2 * d + c),
                   w3 = _mm512_loadu_ps(wT + 3 * d + c), bv = _mm512_loadu_ps(bias + c);
            __m512 a0 = _mm512_loadu_ps(xb + c), a1 = _mm512_loadu_ps(xb + d + c), a2 = _mm512_loadu_ps(xb + 2L * d + c);
            for (int i = 0; i < 8; i++) {
                __m512 a3 = _mm512_loadu_ps(xb + (long) (i + 3) * d + c);
                __m512 pre = _mm512_fmadd_ps(a3, w3, _mm512_fmadd_ps(a2, w2, _mm512_fmadd_ps(a1, w1, _mm512_fmadd_ps(a0, w0, bv))));
                _mm512_storeu_ps(yb + (long) i * d + c, _mm512_mul_ps(pre, tuned_sigmoid(pre)));
                a0 = a1; a1 = a2; a2 = a3;
            }
        }
        for (int i = 0; i < 8; i++) conv4_token(y, x, wT, bias, d, t + i, d16, d);
    }
    for (; t < l; t++) conv4_token(y, x, wT, bias, d, t, 0, d);
    free(wT);
    return 0;
}

/*
 * Ours's interior algorithm: per 8-token block and channel vector, g = dy * silu'(pre) for the 8 tokens
 * into an L1 scratch, then dweight/dbias in registers and a ring of the 4 open dx rows, each dx row loaded
 * and stored once; the next channel vector's rows prefetched.
 */
int peer_tuned_conv4_silu_backward(float *restrict dx, float *restrict dweight, float *restrict dbias,
                                   const float *restrict dy, const float *restrict x, const float *restrict weight,
                                   const float *restrict bias, int l, int d) {
    float *wT = malloc(sizeof(float) * 8 * (size_t) d);
    if (!wT) return -1;
    float *dwT = wT + 4 * (size_t) d;
    for (int c = 0; c < d; c++)
        for (int j = 0; j < 4; j++) { wT[j * d + c] = weight[c * 4 + j]; dwT[j * d + c] = 0; }
    float gs[8 * 16] __attribute__((aligned(64)));
    int d16 = d & ~15, t = 0;
    __m512 one = _mm512_set1_ps(1.f);
    for (; t < 3 && t < l; t++) conv4_backward_token(dx, dwT, dbias, dy, x, wT, bias, d, t, 0, d);
    for (; t + 8 <= l; t += 8) {
        const float *xb = x + (long) (t - 3) * d, *yb = dy + (long) t * d;
        float *db0 = dx + (long) (t - 3) * d;
        for (int c = 0; c < d16; c += 16) {
            if (c + 64 < d16) {
                for (int r = 0; r < 11; r++) PF(xb + (long) r * d + c + 64);
                for (int r = 0; r < 8; r++) PF(yb + (long) r * d + c + 64);
                for (int r = 3; r < 11; r++) PF(db0 + (long) r * d + c + 64);
            }
            __m512 w0 = _mm512_loadu_ps(wT + c), w1 = _mm512_loadu_ps(wT + d + c), w2 = _mm512_loadu_ps(wT + 2 * d + c),
                   w3 = _mm512_loadu_ps(wT + 3 * d + c), bv = _mm512_loadu_ps(bias + c);
            __m512 a[11];
            for (int r = 0; r < 11; r++) a[r] = _mm512_loadu_ps(xb + (long) r * d + c);
            for (int i = 0; i < 8; i++) {
                __m512 pre = _mm512_fmadd_ps(a[i + 3], w3, _mm512_fmadd_ps(a[i + 2], w2,
                             _mm512_fmadd_ps(a[i + 1], w1, _mm512_fmadd_ps(a[i], w0, bv))));
                __m512 sg = tuned_sigmoid(pre);
                __m512 ds = _mm512_mul_ps(sg, _mm512_fmadd_ps(pre, _mm512_sub_ps(one, sg), one));
                _mm512_store_ps(gs + 16 * i, _mm512_mul_ps(_mm512_loadu_ps(yb + (long) i * d + c), ds));
            }
            __m512 p0 = _mm512_loadu_ps(db0 + c), p1 = _mm512_loadu_ps(db0 + d + c), p2 = _mm512_loadu_ps(db0 + 2L * d + c);
            __m512 sb = _mm512_setzero_ps(), s0 = sb, s1 = sb, s2 = sb, s3 = sb;
            for (int i = 0; i < 8; i++) {
                __m512 g = _mm512_load_ps(gs + 16 * i);
                sb = _mm512_add_ps(sb, g);
                s0 = _mm512_fmadd_ps(a[i], g, s0);
                s1 = _mm512_fmadd_ps(a[i + 1], g, s1);
                s2 = _mm512_fmadd_ps(a[i + 2], g, s2);
                s3 = _mm512_fmadd_ps(a[i + 3], g, s3);
                __m512 p3 = _mm512_fmadd_ps(w3, g, _mm512_loadu_ps(db0 + (long) (i + 3) * d + c));
                _mm512_storeu_ps(db0 + (long) i * d + c, _mm512_fmadd_ps(w0, g, p0));
                p0 = _mm512_fmadd_ps(w1, g, p1);
                p1 = _mm512_fmadd_ps(w2, g, p2);
                p2 = p3;
            }
            _mm512_storeu_ps(db0 + 8L * d + c, p0);
            _mm512_storeu_ps(db0 + 9L * d + c, p1);
            _mm512_storeu_ps(db0 + 10L * d + c, p2);
            _mm512_storeu_ps(dbias + c, _mm512_add_ps(_mm512_loadu_ps(dbias + c), sb));
            _mm512_storeu_ps(dwT + c, _mm512_add_ps(_mm512_loadu_ps(dwT + c), s0));
            _mm512_storeu_ps(dwT + d + c, _mm512_add_ps(_mm512_loadu_ps(dwT + d + c), s1));
            _mm512_storeu_ps(dwT + 2 * d + c, _mm512_add_ps(_mm512_loadu_ps(dwT + 2 * d + c), s2));
            _mm512_storeu_ps(dwT + 3 * d + c, _mm512_add_ps(_mm512_loadu_ps(dwT + 3 * d + c), s3));
        }
        for (int i = 0; i < 8; i++) conv4_backward_token(dx, dwT, dbias, dy, x, wT, bias, d, t + i, d16, d);
    }
    for (; t < l; t++) conv4_backward_token(dx, dwT, dbias, dy, x, wT, bias, d, t, 0, d);
    for (int c = 0; c < d; c++)
        for (int j = 0; j < 4; j++) dweight[c * 4 + j] += dwT[j * d + c];
    free(wT);
    return 0;
}
#else
int peer_tuned(void) { return 0; }
#endif
