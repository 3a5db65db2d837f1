/*
 * Plain C peers of ssm4j's memory-bound kernels, for `./ssm bench conv --peer`.
 *
 * Written the way a C programmer would write them without intrinsics and left to the compiler to
 * vectorise (cc -O3 -march=native -ffast-math -fopenmp-simd; expf then comes from glibc's libmvec).
 * The bench calls them through java.lang.foreign on the very arrays it gives our kernels, so both
 * see the same addresses and the same alignment. Same math as ours: SiLU x / (1 + e^-x); RMSNorm
 * y = x * rstd * w with rstd = 1 / sqrt(mean(x^2) + eps); causal depthwise conv of width 4 with bias
 * and SiLU over (l, d) rows, weight given as (d, 4) like ours and transposed per call like ours.
 */
#include <math.h>
#include <stdlib.h>

/* The address of p: where the JVM put an array's data (the bench's alignment column). */
long peer_address(const float *p) { return (long) p; }

void peer_copy(float *restrict y, const float *restrict x, long n) {
#pragma omp simd
    for (long i = 0; i < n; i++) y[i] = x[i];
}

void peer_add(float *restrict y, const float *restrict a, const float *restrict b, long n) {
#pragma omp simd
    for (long i = 0; i < n; i++) y[i] = a[i] + b[i];
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
