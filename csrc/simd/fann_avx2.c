/* AVX2 float batch kernels (kernels.h): one neuron's value for eight samples per register, the
 * scalar reference's operations in every lane (multiply, then add: no contraction), exp as
 * glibc's model in four double lanes (exp_glibc.c), and the lanes libm treats specially handed
 * to kf_activation_apply: libfann's bits on every output. */
#include "kernels.h"

#include <immintrin.h>
#include <stdint.h>

#define W 8 /* samples per register */

#if defined(__GNUC__)
#define KF_INLINE static inline __attribute__((always_inline))
#else
#define KF_INLINE static inline
#endif

/* The sums of nj neurons (nj <= 4, a constant at each call) for the panel's samples. */
KF_INLINE void sums_tile(const float *w, uint32_t n, const float *v, uint32_t count, float *out, const int nj)
{
    const uint32_t r = n & 3u;
    uint32_t s0, i;
    int q;
    for (s0 = 0; s0 < count; s0 += W) {
        const float *vs = v + s0;
        __m256 acc[4];
        for (q = 0; q < nj; q++)
            acc[q] = _mm256_setzero_ps();
        for (i = r; i-- > 0;) { /* the leading terms, last to first */
            const __m256 vi = _mm256_loadu_ps(vs + (size_t)i * KF_PANEL);
            for (q = 0; q < nj; q++)
                acc[q] = _mm256_add_ps(acc[q], _mm256_mul_ps(_mm256_broadcast_ss(w + (size_t)q * n + i), vi));
        }
        for (i = r; i < n; i += 4) {
            const float *v0 = vs + (size_t)i * KF_PANEL;
            const __m256 a0 = _mm256_loadu_ps(v0), a1 = _mm256_loadu_ps(v0 + KF_PANEL);
            const __m256 a2 = _mm256_loadu_ps(v0 + 2 * KF_PANEL), a3 = _mm256_loadu_ps(v0 + 3 * KF_PANEL);
            for (q = 0; q < nj; q++) {
                const float *wq = w + (size_t)q * n + i;
                __m256 t = _mm256_mul_ps(_mm256_broadcast_ss(wq), a0);
                t = _mm256_add_ps(t, _mm256_mul_ps(_mm256_broadcast_ss(wq + 1), a1));
                t = _mm256_add_ps(t, _mm256_mul_ps(_mm256_broadcast_ss(wq + 2), a2));
                t = _mm256_add_ps(t, _mm256_mul_ps(_mm256_broadcast_ss(wq + 3), a3));
                acc[q] = _mm256_add_ps(acc[q], t);
            }
        }
        for (q = 0; q < nj; q++)
            _mm256_storeu_ps(out + (size_t)q * KF_PANEL + s0, acc[q]);
    }
}

void kf_fann_sums_avx2(const float *w, uint32_t n, uint32_t m, const float *v, uint32_t count, float *out)
{
    uint32_t q = 0;
    for (; q + 4 <= m; q += 4)
        sums_tile(w + (size_t)q * n, n, v, count, out + (size_t)q * KF_PANEL, 4);
    for (; q < m; q++)
        sums_tile(w + (size_t)q * n, n, v, count, out + (size_t)q * KF_PANEL, 1);
}

/* glibc's exp (exp_glibc.h) in four lanes, exact for 2^-54 <= |x| < 512; the lanes of *outside
 * (all bits set) are outside that range and their results meaningless. */
KF_INLINE __m256d exp_lanes(__m256d x, const int fused, __m256d *outside)
{
    const __m256d shift = _mm256_set1_pd(KF_EXP_SHIFT), inv = _mm256_set1_pd(KF_EXP_INV_LN2_N);
    const __m256d hi = _mm256_set1_pd(KF_EXP_NEG_LN2_HI_N), lo = _mm256_set1_pd(KF_EXP_NEG_LN2_LO_N);
    const __m256d ax = _mm256_andnot_pd(_mm256_set1_pd(-0.0), x);
    const long long *table = (const long long *)kf_exp_table;
    __m256d kd, r, r2, tail, scale, tmp;
    __m256i ki, idx;
    *outside = _mm256_andnot_pd(_mm256_and_pd(_mm256_cmp_pd(ax, _mm256_set1_pd(KF_EXP_MIN_ABS), _CMP_GE_OQ),
                                              _mm256_cmp_pd(ax, _mm256_set1_pd(KF_EXP_MAX_ABS), _CMP_LT_OQ)),
                                _mm256_castsi256_pd(_mm256_set1_epi64x(-1)));
    kd = fused ? _mm256_fmadd_pd(x, inv, shift) : _mm256_add_pd(_mm256_mul_pd(x, inv), shift);
    ki = _mm256_castpd_si256(kd);
    kd = _mm256_sub_pd(kd, shift);
    r = fused ? _mm256_fmadd_pd(kd, lo, _mm256_fmadd_pd(kd, hi, x))
              : _mm256_add_pd(_mm256_add_pd(x, _mm256_mul_pd(kd, hi)), _mm256_mul_pd(kd, lo));
    idx = _mm256_slli_epi64(_mm256_and_si256(ki, _mm256_set1_epi64x(KF_EXP_N - 1)), 1);
    tail = _mm256_castsi256_pd(_mm256_i64gather_epi64(table, idx, 8));
    scale = _mm256_castsi256_pd(
        _mm256_add_epi64(_mm256_i64gather_epi64(table + 1, idx, 8), _mm256_slli_epi64(ki, 52 - 7)));
    r2 = _mm256_mul_pd(r, r);
    if (fused) {
        tmp = _mm256_fmadd_pd(_mm256_fmadd_pd(r, _mm256_set1_pd(KF_EXP_C3), _mm256_set1_pd(KF_EXP_C2)), r2,
                              _mm256_add_pd(tail, r));
        tmp = _mm256_fmadd_pd(_mm256_mul_pd(r2, r2),
                              _mm256_fmadd_pd(r, _mm256_set1_pd(KF_EXP_C5), _mm256_set1_pd(KF_EXP_C4)), tmp);
        return _mm256_fmadd_pd(scale, tmp, scale);
    }
    tmp = _mm256_add_pd(_mm256_add_pd(tail, r),
                        _mm256_mul_pd(r2, _mm256_add_pd(_mm256_set1_pd(KF_EXP_C2),
                                                        _mm256_mul_pd(r, _mm256_set1_pd(KF_EXP_C3)))));
    tmp = _mm256_add_pd(tmp, _mm256_mul_pd(_mm256_mul_pd(r2, r2),
                                           _mm256_add_pd(_mm256_set1_pd(KF_EXP_C4),
                                                         _mm256_mul_pd(r, _mm256_set1_pd(KF_EXP_C5)))));
    return _mm256_add_pd(scale, _mm256_mul_pd(scale, tmp));
}

void kf_exp_model_avx2(const double *x, double *y, uint32_t n, kf_exp_kind kind)
{
    uint32_t i = 0, lane;
    for (; i + 4 <= n; i += 4) {
        __m256d outside;
        const __m256d v = _mm256_loadu_pd(x + i);
        unsigned bits;
        _mm256_storeu_pd(y + i, kind == KF_EXP_FUSED ? exp_lanes(v, 1, &outside) : exp_lanes(v, 0, &outside));
        bits = (unsigned)_mm256_movemask_pd(outside);
        for (lane = 0; lane < 4; lane++)
            if (bits >> lane & 1)
                y[i + lane] = kf_exp_model(x[i + lane], kind);
    }
    for (; i < n; i++)
        y[i] = kf_exp_model(x[i], kind);
}

enum exp_use { SIGMOID, SIGMOID_SYMMETRIC, GAUSSIAN, GAUSSIAN_SYMMETRIC };

/* An exp-based activation (activation.c) of four float arguments, in double. */
KF_INLINE __m128 exp_activation_half(__m128 arg, const int fused, const enum exp_use use, __m256d *outside)
{
    const __m256d one = _mm256_set1_pd(1.0), two = _mm256_set1_pd(2.0);
    const __m256d e = exp_lanes(_mm256_cvtps_pd(arg), fused, outside);
    switch (use) {
    case SIGMOID: return _mm256_cvtpd_ps(_mm256_div_pd(one, _mm256_add_pd(one, e)));
    case SIGMOID_SYMMETRIC:
        return _mm256_cvtpd_ps(_mm256_sub_pd(_mm256_div_pd(two, _mm256_add_pd(one, e)), one));
    case GAUSSIAN: return _mm256_cvtpd_ps(e);
    case GAUSSIAN_SYMMETRIC: return _mm256_cvtpd_ps(_mm256_sub_pd(_mm256_mul_pd(e, two), one));
    }
    return _mm_setzero_ps();
}

/* Lane bits of the two halves' double masks, eight bits. */
static inline unsigned mask_bits(__m256d lo, __m256d hi)
{
    return (unsigned)_mm256_movemask_pd(lo) | (unsigned)_mm256_movemask_pd(hi) << 4;
}

KF_INLINE __m256 exp_activation(__m256 arg, const int fused, const enum exp_use use, unsigned *outside)
{
    __m256d out_lo, out_hi;
    const __m128 lo = exp_activation_half(_mm256_castps256_ps128(arg), fused, use, &out_lo);
    const __m128 hi = exp_activation_half(_mm256_extractf128_ps(arg, 1), fused, use, &out_hi);
    *outside = mask_bits(out_lo, out_hi);
    return _mm256_insertf128_ps(_mm256_castps128_ps256(lo), hi, 1);
}

static __m256 exp_activation_of(kf_activation a, __m256 x, kf_exp_kind kind, unsigned *outside)
{
    const int fused = kind == KF_EXP_FUSED;
    switch (a) {
    case KF_SIGMOID:
    case KF_SIGMOID_SYMMETRIC: {
        const __m256 arg = _mm256_mul_ps(_mm256_set1_ps(-2.0f), x);
        if (a == KF_SIGMOID)
            return fused ? exp_activation(arg, 1, SIGMOID, outside) : exp_activation(arg, 0, SIGMOID, outside);
        return fused ? exp_activation(arg, 1, SIGMOID_SYMMETRIC, outside)
                     : exp_activation(arg, 0, SIGMOID_SYMMETRIC, outside);
    }
    default: { /* the gaussians: exp(-x * x) */
        const __m256 arg = _mm256_mul_ps(_mm256_xor_ps(x, _mm256_set1_ps(-0.0f)), x);
        if (a == KF_GAUSSIAN)
            return fused ? exp_activation(arg, 1, GAUSSIAN, outside) : exp_activation(arg, 0, GAUSSIAN, outside);
        return fused ? exp_activation(arg, 1, GAUSSIAN_SYMMETRIC, outside)
                     : exp_activation(arg, 0, GAUSSIAN_SYMMETRIC, outside);
    }
    }
}

/* FANN's stepwise interpolation (activation.c) in double for four lanes. */
static __m128 stepwise_half(const kf_stepwise *st, __m128 xf)
{
    const __m256d x = _mm256_cvtps_pd(xf);
    double vd[4], rd[4], dr[4], dv[4];
    int lane, k;
    __m256i seg = _mm256_setzero_si256();
    for (k = 1; k < 5; k++) /* the segment: how many inner breakpoints x has reached */
        seg = _mm256_sub_epi64(seg, _mm256_castpd_si256(_mm256_cmp_pd(x, _mm256_set1_pd(st->v[k]), _CMP_GE_OQ)));
    {
        long long at[4];
        _mm256_storeu_si256((__m256i *)at, seg);
        for (lane = 0; lane < 4; lane++) {
            const int i = (int)at[lane];
            vd[lane] = st->v[i];
            rd[lane] = st->r[i];
            dr[lane] = (double)st->r[i + 1] - st->r[i];
            dv[lane] = (double)st->v[i + 1] - st->v[i];
        }
    }
    return _mm256_cvtpd_ps(_mm256_add_pd(
        _mm256_div_pd(_mm256_mul_pd(_mm256_loadu_pd(dr), _mm256_sub_pd(x, _mm256_loadu_pd(vd))), _mm256_loadu_pd(dv)),
        _mm256_loadu_pd(rd)));
}

static __m256 stepwise(const kf_stepwise *st, __m256 x, unsigned *outside)
{
    const __m128 lo = stepwise_half(st, _mm256_castps256_ps128(x));
    const __m128 hi = stepwise_half(st, _mm256_extractf128_ps(x, 1));
    const __m256 below = _mm256_cmp_ps(x, _mm256_set1_ps(st->v[0]), _CMP_LT_OQ);
    const __m256 above = _mm256_cmp_ps(x, _mm256_set1_ps(st->v[5]), _CMP_GE_OQ);
    __m256 y = _mm256_insertf128_ps(_mm256_castps128_ps256(lo), hi, 1);
    y = _mm256_blendv_ps(y, _mm256_set1_ps(st->lo), below);
    *outside = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(x, x, _CMP_UNORD_Q)); /* NaN */
    return _mm256_blendv_ps(y, _mm256_set1_ps(st->hi), above);
}

/* value = activation(x) for eight lanes; *outside marks lanes left to the scalar function. */
static __m256 activation_of(kf_activation a, __m256 x, kf_exp_kind kind, unsigned *outside)
{
    const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f), minus_one = _mm256_set1_ps(-1.0f);
    *outside = 0;
    switch (a) {
    case KF_LINEAR: return x;
    case KF_THRESHOLD: return _mm256_blendv_ps(one, zero, _mm256_cmp_ps(x, zero, _CMP_LT_OQ));
    case KF_THRESHOLD_SYMMETRIC: return _mm256_blendv_ps(one, minus_one, _mm256_cmp_ps(x, zero, _CMP_LT_OQ));
    case KF_SIGMOID:
    case KF_SIGMOID_SYMMETRIC:
    case KF_GAUSSIAN:
    case KF_GAUSSIAN_SYMMETRIC:
        if (kind == KF_EXP_LIBM)
            break;
        return exp_activation_of(a, x, kind, outside);
    case KF_SIGMOID_STEPWISE:
    case KF_SIGMOID_SYMMETRIC_STEPWISE: return stepwise(kf_stepwise_of(a), x, outside);
    case KF_GAUSSIAN_STEPWISE: return zero;
    case KF_ELLIOT: {
        const __m256 ax = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
        return _mm256_add_ps(_mm256_div_ps(_mm256_div_ps(x, _mm256_set1_ps(2.0f)), _mm256_add_ps(one, ax)),
                             _mm256_set1_ps(0.5f));
    }
    case KF_ELLIOT_SYMMETRIC:
        return _mm256_div_ps(x, _mm256_add_ps(one, _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x)));
    case KF_LINEAR_PIECE: {
        const __m256 y = _mm256_blendv_ps(x, one, _mm256_cmp_ps(x, one, _CMP_GT_OQ));
        return _mm256_blendv_ps(y, zero, _mm256_cmp_ps(x, zero, _CMP_LT_OQ));
    }
    case KF_LINEAR_PIECE_SYMMETRIC: {
        const __m256 y = _mm256_blendv_ps(x, one, _mm256_cmp_ps(x, one, _CMP_GT_OQ));
        return _mm256_blendv_ps(y, minus_one, _mm256_cmp_ps(x, minus_one, _CMP_LT_OQ));
    }
    case KF_RELU: return _mm256_blendv_ps(zero, x, _mm256_cmp_ps(x, zero, _CMP_GT_OQ));
    case KF_LEAKY_RELU:
        return _mm256_blendv_ps(_mm256_mul_ps(_mm256_set1_ps(0.01f), x), x, _mm256_cmp_ps(x, zero, _CMP_GT_OQ));
    default: break; /* sin, cos: libm */
    }
    *outside = 0xff;
    return zero;
}

void kf_fann_activate_avx2(kf_activation activation, float steepness, kf_exp_kind exp_kind, const float *raw,
                           float *sum, float *value, uint32_t count)
{
    const __m256 steep = _mm256_set1_ps(steepness);
    const float max_sum = steepness != 0.0f ? 150.0f / steepness : 0.0f;
    uint32_t s;
    for (s = 0; s < count; s += W) {
        __m256 x = _mm256_mul_ps(steep, _mm256_loadu_ps(raw + s));
        unsigned outside;
        __m256 y;
        if (steepness != 0.0f) { /* kf_steep_sum: above max_sum, else below -max_sum */
            const __m256 above = _mm256_cmp_ps(x, _mm256_set1_ps(max_sum), _CMP_GT_OQ);
            const __m256 below = _mm256_andnot_ps(above, _mm256_cmp_ps(x, _mm256_set1_ps(-max_sum), _CMP_LT_OQ));
            x = _mm256_blendv_ps(x, _mm256_set1_ps(-max_sum), below);
            x = _mm256_blendv_ps(x, _mm256_set1_ps(max_sum), above);
        }
        if (sum)
            _mm256_storeu_ps(sum + s, x);
        y = activation_of(activation, x, exp_kind, &outside);
        if (outside) {
            float xs[W], ys[W];
            int lane;
            _mm256_storeu_ps(xs, x);
            _mm256_storeu_ps(ys, y);
            for (lane = 0; lane < W; lane++)
                if (outside >> lane & 1)
                    ys[lane] = kf_activation_apply(activation, xs[lane]);
            y = _mm256_loadu_ps(ys);
        }
        _mm256_storeu_ps(value + s, y);
    }
}
