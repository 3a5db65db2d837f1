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

/* y (l, d) = silu(bias + sum_j weight[c][j] * x[t - 3 + j][c]); tokens before 0 read as zeros. Returns 0, or -1 if out of memory. */
int peer_conv4_silu(float *restrict y, const float *restrict x, const float *restrict weight,
                    const float *restrict bias, int l, int d) {
    float *wT = malloc(sizeof(float) * 4 * (size_t) d);       /* (4, d): contiguous channels per tap */
    if (!wT) return -1;
    for (int c = 0; c < d; c++)
        for (int j = 0; j < 4; j++) wT[j * d + c] = weight[c * 4 + j];
    int t = 0;
    for (; t < 3 && t < l; t++) {                                /* the first tokens: some taps before 0 */
        for (int c = 0; c < d; c++) {
            float acc = bias[c];
            for (int j = 0; j < 4; j++) {
                int p = t - 3 + j;
                if (p >= 0) acc += wT[j * d + c] * x[(long) p * d + c];
            }
            y[(long) t * d + c] = silu(acc);
        }
    }
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
    for (int t = 0; t < 3 && t < l; t++) {                      /* the first tokens: some taps before 0 */
        for (int c = 0; c < d; c++) {
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
