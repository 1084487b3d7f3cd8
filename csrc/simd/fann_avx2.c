/* AVX2 float batch kernels (kernels.h): one neuron's value for eight samples per register, the
 * scalar reference's operations in every lane (multiply, then add: no contraction), exp as
 * glibc's model in four double lanes (exp_glibc.c), and the lanes libm treats specially handed
 * to kf_activation_apply: libfann's bits on every output. */
#include "kernels.h"

#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define W 8 /* samples per register */

#if defined(__GNUC__)
#define KF_INLINE static inline __attribute__((always_inline))
#else
#define KF_INLINE static inline
#endif

/* The sums of nj neurons (nj <= 8, a constant at each call) for sixteen samples from vs, in
 * two registers each. Each broadcast weight serves both, and the sixteen running sums give the
 * out-of-order core enough independent additions to keep both adders busy (four neurons of eight
 * samples left a third of the add slots empty on Zen 4); the ones that do not fit in registers
 * spill once per group of four sources. */
KF_INLINE void sums_tile(const float *w, uint32_t n, const float *vs, float *out, const int nj)
{
    const uint32_t r = n & 3u;
    __m256 acc[8][2];
    uint32_t i;
    int q, u;
    for (q = 0; q < nj; q++)
        acc[q][0] = acc[q][1] = _mm256_setzero_ps();
    for (i = r; i-- > 0;) { /* the leading terms, last to first */
        const float *vi = vs + (size_t)i * KF_PANEL;
        for (q = 0; q < nj; q++) {
            const __m256 b = _mm256_broadcast_ss(w + (size_t)q * n + i);
            for (u = 0; u < 2; u++)
                acc[q][u] = _mm256_add_ps(acc[q][u], _mm256_mul_ps(b, _mm256_loadu_ps(vi + u * W)));
        }
    }
    for (i = r; i < n; i += 4) {
        const float *v0 = vs + (size_t)i * KF_PANEL;
        for (q = 0; q < nj; q++) {
            const float *wq = w + (size_t)q * n + i;
            const __m256 b0 = _mm256_broadcast_ss(wq), b1 = _mm256_broadcast_ss(wq + 1);
            const __m256 b2 = _mm256_broadcast_ss(wq + 2), b3 = _mm256_broadcast_ss(wq + 3);
            for (u = 0; u < 2; u++) {
                const float *a = v0 + u * W;
                __m256 t = _mm256_mul_ps(b0, _mm256_loadu_ps(a));
                t = _mm256_add_ps(t, _mm256_mul_ps(b1, _mm256_loadu_ps(a + KF_PANEL)));
                t = _mm256_add_ps(t, _mm256_mul_ps(b2, _mm256_loadu_ps(a + 2 * KF_PANEL)));
                t = _mm256_add_ps(t, _mm256_mul_ps(b3, _mm256_loadu_ps(a + 3 * KF_PANEL)));
                acc[q][u] = _mm256_add_ps(acc[q][u], t);
            }
        }
    }
    for (q = 0; q < nj; q++)
        for (u = 0; u < 2; u++)
            _mm256_storeu_ps(out + (size_t)q * KF_PANEL + u * W, acc[q][u]);
}

/* nj neurons for the panel's samples, sixteen at a time (count is a multiple of KF_PANEL_STEP). */
KF_INLINE void sums_rows(const float *w, uint32_t n, const float *v, uint32_t count, float *out, const int nj)
{
    uint32_t s0;
    for (s0 = 0; s0 < count; s0 += 2 * W)
        sums_tile(w, n, v + s0, out + s0, nj);
}

void kf_fann_sums_avx2(const float *w, uint32_t n, uint32_t m, const float *v, uint32_t count, float *out)
{
    uint32_t q = 0;
    for (; q + 8 <= m; q += 8)
        sums_rows(w + (size_t)q * n, n, v, count, out + (size_t)q * KF_PANEL, 8);
    if (m - q >= 4) {
        sums_rows(w + (size_t)q * n, n, v, count, out + (size_t)q * KF_PANEL, 4);
        q += 4;
    }
    if (m - q >= 2) {
        sums_rows(w + (size_t)q * n, n, v, count, out + (size_t)q * KF_PANEL, 2);
        q += 2;
    }
    if (q < m)
        sums_rows(w + (size_t)q * n, n, v, count, out + (size_t)q * KF_PANEL, 1);
}

/* The table entries (tail, scale bits: 16 bytes each) of the four indices at[0..3], by four
 * 16-byte loads and two shuffles, cheaper than two 64-bit gathers on Zen 4. */
KF_INLINE void exp_entries(const uint64_t *at, const long long *table, __m256d *tail, __m256d *scale)
{
    const volatile uint64_t *in_memory = at; /* scalar loads, not lane extractions (gcc's choice) */
    __m256i lo, hi;
#define ENTRY(k) _mm_loadu_si128((const __m128i *)(table + 2 * in_memory[k]))
    lo = _mm256_inserti128_si256(_mm256_castsi128_si256(ENTRY(0)), ENTRY(2), 1);
    hi = _mm256_inserti128_si256(_mm256_castsi128_si256(ENTRY(1)), ENTRY(3), 1);
#undef ENTRY
    *tail = _mm256_castsi256_pd(_mm256_unpacklo_epi64(lo, hi));
    *scale = _mm256_castsi256_pd(_mm256_unpackhi_epi64(lo, hi));
}

/* glibc's exp (exp_glibc.h) in four lanes, in two stages (see fann_avx512.c): exp_reduce gives
 * x = k ln2 / N + r, with k's bits in *ki and k mod N stored at at[0..3]. */
KF_INLINE __m256d exp_reduce(__m256d x, const int fused, __m256i *ki, uint64_t *at)
{
    const __m256d shift = _mm256_set1_pd(KF_EXP_SHIFT), inv = _mm256_set1_pd(KF_EXP_INV_LN2_N);
    const __m256d hi = _mm256_set1_pd(KF_EXP_NEG_LN2_HI_N), lo = _mm256_set1_pd(KF_EXP_NEG_LN2_LO_N);
    __m256d kd = fused ? _mm256_fmadd_pd(x, inv, shift) : _mm256_add_pd(_mm256_mul_pd(x, inv), shift);
    *ki = _mm256_castpd_si256(kd);
    kd = _mm256_sub_pd(kd, shift);
    _mm256_storeu_si256((__m256i *)at, _mm256_and_si256(*ki, _mm256_set1_epi64x(KF_EXP_N - 1)));
    return fused ? _mm256_fmadd_pd(kd, lo, _mm256_fmadd_pd(kd, hi, x))
                 : _mm256_add_pd(_mm256_add_pd(x, _mm256_mul_pd(kd, hi)), _mm256_mul_pd(kd, lo));
}

/* The second stage: exp(x) from exp_reduce's r, ki and stored indices. Exact for 2^-54 <= |x| <
 * 512 (and 1, libm's result, for |x| < 2^-54); meaningless elsewhere. */
KF_INLINE __m256d exp_finish(__m256d r, __m256i ki, const uint64_t *at, const int fused)
{
    __m256d r2, tail, scale, tmp;
    exp_entries(at, (const long long *)kf_exp_table, &tail, &scale);
    scale = _mm256_castsi256_pd(_mm256_add_epi64(_mm256_castpd_si256(scale), _mm256_slli_epi64(ki, 52 - 7)));
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

/* Both stages at once. */
KF_INLINE __m256d exp_core(__m256d x, const int fused)
{
    uint64_t at[4];
    __m256i ki;
    const __m256d r = exp_reduce(x, fused, &ki, at);
    return exp_finish(r, ki, at, fused);
}

/* exp_core where it is exact: the lanes of *outside (all bits set) are elsewhere and their
 * results meaningless. */
KF_INLINE __m256d exp_lanes(__m256d x, const int fused, __m256d *outside)
{
    const __m256d ax = _mm256_andnot_pd(_mm256_set1_pd(-0.0), x);
    *outside = _mm256_andnot_pd(_mm256_and_pd(_mm256_cmp_pd(ax, _mm256_set1_pd(KF_EXP_MIN_ABS), _CMP_GE_OQ),
                                              _mm256_cmp_pd(ax, _mm256_set1_pd(KF_EXP_MAX_ABS), _CMP_LT_OQ)),
                                _mm256_castsi256_pd(_mm256_set1_epi64x(-1)));
    return exp_core(x, fused);
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

/* An exp-based activation (activation.c) of four float arguments, in double: the arguments
 * clamped to where the activations saturate, so that every lane is inside exp_core's exact
 * range (see fann_avx512.c); only NaN is left to libm (*outside). */
KF_INLINE __m256d exp_clamped(__m256d x, __m256d *outside)
{
    const __m256d top = _mm256_set1_pd(KF_EXP_ACT_CLAMP), bottom = _mm256_set1_pd(-KF_EXP_ACT_CLAMP);
    *outside = _mm256_cmp_pd(x, x, _CMP_UNORD_Q);
    return _mm256_max_pd(_mm256_min_pd(x, top), bottom);
}

/* The activation from e = exp of its argument (exp_argument), four lanes in double. */
KF_INLINE __m128 exp_activation_of(const kf_activation a, __m256d e)
{
    const __m256d one = _mm256_set1_pd(1.0), two = _mm256_set1_pd(2.0);
    switch (a) {
    case KF_SIGMOID: return _mm256_cvtpd_ps(_mm256_div_pd(one, _mm256_add_pd(one, e)));
    case KF_SIGMOID_SYMMETRIC:
        return _mm256_cvtpd_ps(_mm256_sub_pd(_mm256_div_pd(two, _mm256_add_pd(one, e)), one));
    case KF_GAUSSIAN: return _mm256_cvtpd_ps(e);
    default: return _mm256_cvtpd_ps(_mm256_sub_pd(_mm256_mul_pd(e, two), one)); /* gaussian_symmetric */
    }
}

/* exp's argument for eight values: -2 x for the sigmoids, -x * x for the gaussians. */
KF_INLINE __m256 exp_argument(const kf_activation a, __m256 x)
{
    return a == KF_SIGMOID || a == KF_SIGMOID_SYMMETRIC ? _mm256_mul_ps(_mm256_set1_ps(-2.0f), x)
                                                         : _mm256_mul_ps(_mm256_xor_ps(x, _mm256_set1_ps(-0.0f)), x);
}

/* An exp-based activation of eight values; *outside: the lanes left to libm (NaN). */
KF_INLINE __m256 exp_activation(const kf_activation a, __m256 x, const int fused, unsigned *outside)
{
    const __m256 arg = exp_argument(a, x);
    __m256d out_lo, out_hi;
    const __m128 lo = exp_activation_of(a, exp_core(exp_clamped(_mm256_cvtps_pd(_mm256_castps256_ps128(arg)), &out_lo), fused));
    const __m128 hi = exp_activation_of(a, exp_core(exp_clamped(_mm256_cvtps_pd(_mm256_extractf128_ps(arg, 1)), &out_hi), fused));
    *outside = (unsigned)_mm256_movemask_pd(out_lo) | (unsigned)_mm256_movemask_pd(out_hi) << 4;
    return _mm256_insertf128_ps(_mm256_castps128_ps256(lo), hi, 1);
}

/* A stepwise activation's points in double, by segment 0..4 (activation.c), four lanes each. */
typedef struct stepwise_lanes {
    __m256d v_lo, v_hi, r_lo, r_hi, dr_lo, dr_hi, dv_lo, dv_hi; /* segments 0-3, and 4 in lane 0 */
    __m256d inner[4];
    __m256 v0, v5, lo, hi;
} stepwise_lanes;

static void stepwise_prepare(const kf_stepwise *st, stepwise_lanes *t)
{
    double v[8] = {0}, r[8] = {0}, dr[8] = {0}, dv[8] = {0};
    int k;
    for (k = 0; k < 5; k++) {
        v[k] = st->v[k];
        r[k] = st->r[k];
        dr[k] = (double)st->r[k + 1] - st->r[k];
        dv[k] = (double)st->v[k + 1] - st->v[k];
    }
    for (k = 0; k < 4; k++)
        t->inner[k] = _mm256_set1_pd(st->v[k + 1]);
    t->v_lo = _mm256_loadu_pd(v), t->v_hi = _mm256_loadu_pd(v + 4);
    t->r_lo = _mm256_loadu_pd(r), t->r_hi = _mm256_loadu_pd(r + 4);
    t->dr_lo = _mm256_loadu_pd(dr), t->dr_hi = _mm256_loadu_pd(dr + 4);
    t->dv_lo = _mm256_loadu_pd(dv), t->dv_hi = _mm256_loadu_pd(dv + 4);
    t->v0 = _mm256_set1_ps(st->v[0]);
    t->v5 = _mm256_set1_ps(st->v[5]);
    t->lo = _mm256_set1_ps(st->lo);
    t->hi = _mm256_set1_ps(st->hi);
}

/* Entry i (0..4) of a five-entry table held in lo (0-3) and hi (4), for each lane. */
static inline __m256d pick(__m256d lo, __m256d hi, __m256i i, __m256d is_last)
{
    const __m256i both = _mm256_or_si256(i, _mm256_slli_epi64(i, 32)); /* i in both 32-bit halves */
    const __m256i pairs = _mm256_add_epi32(_mm256_slli_epi32(both, 1), _mm256_setr_epi32(0, 1, 0, 1, 0, 1, 0, 1));
    const __m256d low = _mm256_castps_pd(_mm256_permutevar8x32_ps(_mm256_castpd_ps(lo), pairs));
    return _mm256_blendv_pd(low, _mm256_permute4x64_pd(hi, 0), is_last);
}

KF_INLINE __m128 stepwise_half(const stepwise_lanes *t, __m128 xf)
{
    const __m256d x = _mm256_cvtps_pd(xf);
    __m256i i = _mm256_setzero_si256();
    __m256d is_last;
    int k;
    for (k = 0; k < 4; k++) /* the segment: how many inner breakpoints x has reached */
        i = _mm256_sub_epi64(i, _mm256_castpd_si256(_mm256_cmp_pd(x, t->inner[k], _CMP_GE_OQ)));
    is_last = _mm256_castsi256_pd(_mm256_cmpeq_epi64(i, _mm256_set1_epi64x(4)));
    i = _mm256_and_si256(i, _mm256_set1_epi64x(3));
    return _mm256_cvtpd_ps(_mm256_add_pd(
        _mm256_div_pd(_mm256_mul_pd(pick(t->dr_lo, t->dr_hi, i, is_last), _mm256_sub_pd(x, pick(t->v_lo, t->v_hi, i, is_last))),
                      pick(t->dv_lo, t->dv_hi, i, is_last)),
        pick(t->r_lo, t->r_hi, i, is_last)));
}

KF_INLINE __m256 stepwise(const stepwise_lanes *t, __m256 x, unsigned *outside)
{
    const __m128 lo = stepwise_half(t, _mm256_castps256_ps128(x));
    const __m128 hi = stepwise_half(t, _mm256_extractf128_ps(x, 1));
    const __m256 below = _mm256_cmp_ps(x, t->v0, _CMP_LT_OQ), above = _mm256_cmp_ps(x, t->v5, _CMP_GE_OQ);
    const __m256 y = _mm256_blendv_ps(_mm256_insertf128_ps(_mm256_castps128_ps256(lo), hi, 1), t->lo, below);
    *outside = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(x, x, _CMP_UNORD_Q)); /* NaN */
    return _mm256_blendv_ps(y, t->hi, above);
}

/* activation(x) for eight lanes (a constant at each call); *outside marks the lanes left to the
 * scalar function. */
KF_INLINE __m256 activation_of(const kf_activation a, __m256 x, const int fused, const stepwise_lanes *st,
                               unsigned *outside)
{
    const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f), minus_one = _mm256_set1_ps(-1.0f);
    const __m256 ax = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
    *outside = 0;
    switch (a) {
    case KF_THRESHOLD: return _mm256_blendv_ps(one, zero, _mm256_cmp_ps(x, zero, _CMP_LT_OQ));
    case KF_THRESHOLD_SYMMETRIC: return _mm256_blendv_ps(one, minus_one, _mm256_cmp_ps(x, zero, _CMP_LT_OQ));
    case KF_SIGMOID:
    case KF_SIGMOID_SYMMETRIC:
    case KF_GAUSSIAN:
    case KF_GAUSSIAN_SYMMETRIC: return exp_activation(a, x, fused, outside);
    case KF_SIGMOID_STEPWISE:
    case KF_SIGMOID_SYMMETRIC_STEPWISE: return stepwise(st, x, outside);
    case KF_GAUSSIAN_STEPWISE: return zero;
    case KF_ELLIOT:
        return _mm256_add_ps(_mm256_div_ps(_mm256_div_ps(x, _mm256_set1_ps(2.0f)), _mm256_add_ps(one, ax)),
                             _mm256_set1_ps(0.5f));
    case KF_ELLIOT_SYMMETRIC: return _mm256_div_ps(x, _mm256_add_ps(one, ax));
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
    default: return x; /* linear */
    }
}

/* kf_steep_sum of eight sums: steepness * raw clamped to [-150, 150] / steepness (top and
 * bottom: +- that bound). */
KF_INLINE __m256 steep_sum(__m256 raw, float steepness, __m256 steep, __m256 top, __m256 bottom)
{
    const __m256 x = _mm256_mul_ps(steep, raw);
    if (steepness > 0.0f) /* NaN stays (vminps, vmaxps return their second operand) */
        return _mm256_max_ps(bottom, _mm256_min_ps(top, x));
    if (steepness != 0.0f) { /* above max_sum (< 0), else below -max_sum */
        const __m256 above = _mm256_cmp_ps(x, top, _CMP_GT_OQ);
        const __m256 below = _mm256_andnot_ps(above, _mm256_cmp_ps(x, bottom, _CMP_LT_OQ));
        return _mm256_blendv_ps(_mm256_blendv_ps(x, bottom, below), top, above);
    }
    return x;
}

/* The exp-based activations over `full` values (a multiple of W), KF_KNOTS_AHEAD registers at a
 * time: each register's exp arguments reduced and their table indices stored, then every
 * register's entries loaded (the loads would wait for stores just made: KF_KNOTS_AHEAD). */
KF_INLINE void exp_rows(const kf_activation a, const int fused, float steepness, const float *raw, float *sum,
                        float *value, uint32_t full)
{
    const __m256 steep = _mm256_set1_ps(steepness);
    const float max_sum = steepness != 0.0f ? 150.0f / steepness : 0.0f;
    const __m256 top = _mm256_set1_ps(max_sum), bottom = _mm256_set1_ps(-max_sum);
    uint32_t s0, v, h;
    for (s0 = 0; s0 < full; s0 += W * KF_KNOTS_AHEAD) {
        const uint32_t regs = (full - s0) / W < KF_KNOTS_AHEAD ? (full - s0) / W : KF_KNOTS_AHEAD;
        __m256 x[KF_KNOTS_AHEAD];
        __m256d r[KF_KNOTS_AHEAD][2], outside[KF_KNOTS_AHEAD][2];
        __m256i ki[KF_KNOTS_AHEAD][2];
        uint64_t at[KF_KNOTS_AHEAD][2][4];
        for (v = 0; v < regs; v++) {
            const __m256 arg = exp_argument(a, x[v] = steep_sum(_mm256_loadu_ps(raw + s0 + v * W), steepness, steep, top, bottom));
            if (sum)
                _mm256_storeu_ps(sum + s0 + v * W, x[v]);
            for (h = 0; h < 2; h++)
                r[v][h] = exp_reduce(exp_clamped(_mm256_cvtps_pd(h ? _mm256_extractf128_ps(arg, 1) : _mm256_castps256_ps128(arg)),
                                                 &outside[v][h]),
                                     fused, &ki[v][h], at[v][h]);
        }
        for (v = 0; v < regs; v++) {
            float *out = value + s0 + v * W;
            const unsigned bad = (unsigned)_mm256_movemask_pd(outside[v][0]) | (unsigned)_mm256_movemask_pd(outside[v][1]) << 4;
            const __m128 lo = exp_activation_of(a, exp_finish(r[v][0], ki[v][0], at[v][0], fused));
            const __m128 hi = exp_activation_of(a, exp_finish(r[v][1], ki[v][1], at[v][1], fused));
            _mm256_storeu_ps(out, _mm256_insertf128_ps(_mm256_castps128_ps256(lo), hi, 1));
            if (bad) {
                float xs[W];
                int lane;
                _mm256_storeu_ps(xs, x[v]);
                for (lane = 0; lane < W; lane++)
                    if (bad >> lane & 1)
                        out[lane] = kf_activation_apply(a, xs[lane]);
            }
        }
    }
}

/* The row loop for one activation (a constant at each call, so that each gets its own loop); a
 * last partial register goes through a zero-padded copy. */
KF_INLINE void activate_row(const kf_activation a, const int fused, float steepness, const float *raw, float *sum,
                            float *value, uint32_t count)
{
    const __m256 steep = _mm256_set1_ps(steepness);
    const float max_sum = steepness != 0.0f ? 150.0f / steepness : 0.0f;
    const __m256 top = _mm256_set1_ps(max_sum), bottom = _mm256_set1_ps(-max_sum);
    float raw_tail[W] = {0}, sum_tail[W], value_tail[W];
    stepwise_lanes st;
    uint32_t s;
    if (a == KF_SIGMOID_STEPWISE || a == KF_SIGMOID_SYMMETRIC_STEPWISE)
        stepwise_prepare(kf_stepwise_of(a), &st);
    s = 0;
    if (a == KF_SIGMOID || a == KF_SIGMOID_SYMMETRIC || a == KF_GAUSSIAN || a == KF_GAUSSIAN_SYMMETRIC) {
        s = count / W * W;
        exp_rows(a, fused, steepness, raw, sum, value, s);
    }
    for (; s < count; s += W) {
        const int tail = count - s < W;
        const float *in = raw + s;
        float *sum_out = sum ? sum + s : NULL, *out = value + s;
        __m256 x;
        unsigned outside;
        if (tail) {
            memcpy(raw_tail, in, (count - s) * sizeof(float));
            in = raw_tail;
            sum_out = sum ? sum_tail : NULL;
            out = value_tail;
        }
        x = steep_sum(_mm256_loadu_ps(in), steepness, steep, top, bottom);
        if (sum_out)
            _mm256_storeu_ps(sum_out, x);
        _mm256_storeu_ps(out, activation_of(a, x, fused, &st, &outside));
        if (outside) {
            float xs[W];
            int lane;
            _mm256_storeu_ps(xs, x);
            for (lane = 0; lane < W; lane++)
                if (outside >> lane & 1)
                    out[lane] = kf_activation_apply(a, xs[lane]);
        }
        if (tail) {
            memcpy(value + s, value_tail, (count - s) * sizeof(float));
            if (sum)
                memcpy(sum + s, sum_tail, (count - s) * sizeof(float));
        }
    }
}

/* The 8 x 8 block at src transposed into dst, only its first `cols` columns read (masked loads:
 * the others are zeros) and as many rows of dst written. A value's exponent bits plus 0x00800000
 * carry into its top bit exactly when they are all ones (NaN, infinity): those sums ORed into
 * *flags mark a block with one. */
KF_INLINE void transpose_block(const float *src, size_t lds, uint32_t cols, float *dst, size_t ldd, __m256i *flags)
{
    const __m256i exponent = _mm256_set1_epi32(0x7f800000), carry = _mm256_set1_epi32(0x00800000);
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)cols), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    __m256 a[8], b[8];
    uint32_t k;
    for (k = 0; k < 8; k++) {
        a[k] = cols >= 8 ? _mm256_loadu_ps(src + k * lds) : _mm256_maskload_ps(src + k * lds, mask);
        *flags = _mm256_or_si256(*flags, _mm256_add_epi32(_mm256_and_si256(_mm256_castps_si256(a[k]), exponent), carry));
    }
    for (k = 0; k < 8; k += 2) { /* pairs of rows interleaved */
        b[k] = _mm256_unpacklo_ps(a[k], a[k + 1]);
        b[k + 1] = _mm256_unpackhi_ps(a[k], a[k + 1]);
    }
    for (k = 0; k < 8; k += 4) { /* then pairs of pairs */
        a[k] = _mm256_shuffle_ps(b[k], b[k + 2], 0x44);
        a[k + 1] = _mm256_shuffle_ps(b[k], b[k + 2], 0xee);
        a[k + 2] = _mm256_shuffle_ps(b[k + 1], b[k + 3], 0x44);
        a[k + 3] = _mm256_shuffle_ps(b[k + 1], b[k + 3], 0xee);
    }
    for (k = 0; k < 4; k++) { /* and the two halves of the eight rows */
        b[k] = _mm256_permute2f128_ps(a[k], a[k + 4], 0x20);
        b[k + 4] = _mm256_permute2f128_ps(a[k], a[k + 4], 0x31);
    }
    for (k = 0; k < 8 && k < cols; k++)
        _mm256_storeu_ps(dst + k * ldd, b[k]);
}

/* Eight by eight blocks transposed in registers (the last columns of each eight rows too, by
 * masked loads), the last rows by the scalar loop. */
int kf_transpose_avx2(const float *src, size_t lds, uint32_t rows, uint32_t cols, float *dst, size_t ldd)
{
    const uint32_t rows8 = rows & ~7u;
    __m256i flags = _mm256_setzero_si256();
    uint32_t r, c;
    int finite;
    for (r = 0; r < rows8; r += 8) {
        for (c = 0; c + 8 <= cols; c += 8)
            transpose_block(src + r * lds + c, lds, 8, dst + c * ldd + r, ldd, &flags);
        if (c < cols)
            transpose_block(src + r * lds + c, lds, cols - c, dst + c * ldd + r, ldd, &flags);
    }
    finite = _mm256_movemask_ps(_mm256_castsi256_ps(flags)) == 0;
    if (rows8 < rows)
        finite &= kf_transpose_scalar(src + rows8 * lds, lds, rows - rows8, cols, dst + rows8, ldd);
    return finite;
}

/* ---- training (kernels.h): backpropagation, slope sums and derivatives ---- */

/* ni sources (ni <= 4, a constant at each call) of a backpropagation tile: their errors stay in
 * registers while the m neurons are added in turn. */
KF_INLINE void backprop_tile(const float *w, uint32_t n, uint32_t m, const float *e, uint32_t count, float *err,
                             const int ni)
{
    uint32_t s0, q;
    int i;
    for (s0 = 0; s0 < count; s0 += 2 * W) {
        __m256 acc[4][2];
        for (i = 0; i < ni; i++) {
            acc[i][0] = _mm256_loadu_ps(err + (size_t)i * KF_PANEL + s0);
            acc[i][1] = _mm256_loadu_ps(err + (size_t)i * KF_PANEL + s0 + W);
        }
        for (q = 0; q < m; q++) {
            const __m256 e0 = _mm256_loadu_ps(e + (size_t)q * KF_PANEL + s0);
            const __m256 e1 = _mm256_loadu_ps(e + (size_t)q * KF_PANEL + s0 + W);
            const float *wq = w + (size_t)q * n;
            for (i = 0; i < ni; i++) {
                const __m256 wi = _mm256_broadcast_ss(wq + i);
                acc[i][0] = _mm256_add_ps(acc[i][0], _mm256_mul_ps(e0, wi));
                acc[i][1] = _mm256_add_ps(acc[i][1], _mm256_mul_ps(e1, wi));
            }
        }
        for (i = 0; i < ni; i++) {
            _mm256_storeu_ps(err + (size_t)i * KF_PANEL + s0, acc[i][0]);
            _mm256_storeu_ps(err + (size_t)i * KF_PANEL + s0 + W, acc[i][1]);
        }
    }
}

void kf_fann_backprop_avx2(const float *w, uint32_t n, uint32_t m, const float *e, uint32_t count, float *err)
{
    uint32_t i = 0;
    for (; i + 4 <= n; i += 4)
        backprop_tile(w + i, n, m, e, count, err + (size_t)i * KF_PANEL, 4);
    switch (n - i) { /* the last sources in one tile, their chains side by side */
    case 3: backprop_tile(w + i, n, m, e, count, err + (size_t)i * KF_PANEL, 3); break;
    case 2: backprop_tile(w + i, n, m, e, count, err + (size_t)i * KF_PANEL, 2); break;
    case 1: backprop_tile(w + i, n, m, e, count, err + (size_t)i * KF_PANEL, 1); break;
    default: break;
    }
}

/* Lanes below `left` set (a maskload / maskstore mask). */
static inline __m256i first_lanes(uint32_t left)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(left < W ? left : W)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* A slope tile: nq neurons (nq <= 4, a constant) by up to 16 sources (masks lo, hi; with `full`,
 * a constant, all 16: plain loads and stores, as AMD's masked ones cost more), the samples added
 * in turn. */
KF_INLINE void slopes_tile(const float *e, const float *vt, size_t ldv, uint32_t n, uint32_t count, float *slopes,
                           __m256i lo, __m256i hi, const int nq, const int full)
{
    __m256 acc[4][2];
    uint32_t s;
    int q;
    for (q = 0; q < nq; q++) {
        acc[q][0] = full ? _mm256_loadu_ps(slopes + (size_t)q * n) : _mm256_maskload_ps(slopes + (size_t)q * n, lo);
        acc[q][1] = full ? _mm256_loadu_ps(slopes + (size_t)q * n + W)
                         : _mm256_maskload_ps(slopes + (size_t)q * n + W, hi);
    }
    for (s = 0; s < count; s++) {
        const __m256 v0 = full ? _mm256_loadu_ps(vt + s * ldv) : _mm256_maskload_ps(vt + s * ldv, lo);
        const __m256 v1 = full ? _mm256_loadu_ps(vt + s * ldv + W) : _mm256_maskload_ps(vt + s * ldv + W, hi);
        for (q = 0; q < nq; q++) {
            const __m256 eq = _mm256_broadcast_ss(e + (size_t)q * KF_PANEL + s);
            acc[q][0] = _mm256_add_ps(acc[q][0], _mm256_mul_ps(eq, v0));
            acc[q][1] = _mm256_add_ps(acc[q][1], _mm256_mul_ps(eq, v1));
        }
    }
    for (q = 0; q < nq; q++) {
        if (full) {
            _mm256_storeu_ps(slopes + (size_t)q * n, acc[q][0]);
            _mm256_storeu_ps(slopes + (size_t)q * n + W, acc[q][1]);
        } else {
            _mm256_maskstore_ps(slopes + (size_t)q * n, lo, acc[q][0]);
            _mm256_maskstore_ps(slopes + (size_t)q * n + W, hi, acc[q][1]);
        }
    }
}

/* One pass of up to 16 sources over the m neurons, four at a time, and the last one to three in
 * one tile: their chains side by side, where one neuron at a time would wait on each add's
 * latency. */
KF_INLINE void slopes_pass(const float *e, const float *vt, size_t ldv, uint32_t n, uint32_t m, uint32_t count,
                           float *slopes, __m256i lo, __m256i hi, const int full)
{
    uint32_t q;
    for (q = 0; q + 4 <= m; q += 4)
        slopes_tile(e + (size_t)q * KF_PANEL, vt, ldv, n, count, slopes + (size_t)q * n, lo, hi, 4, full);
    e += (size_t)q * KF_PANEL;
    slopes += (size_t)q * n;
    switch (m - q) {
    case 3: slopes_tile(e, vt, ldv, n, count, slopes, lo, hi, 3, full); break;
    case 2: slopes_tile(e, vt, ldv, n, count, slopes, lo, hi, 2, full); break;
    case 1: slopes_tile(e, vt, ldv, n, count, slopes, lo, hi, 1, full); break;
    default: break;
    }
}

/* The last few sources (at most FEW_SOURCES, such as a layer's bias), eight neurons to a
 * register instead of eight sources (as fann_avx512.c): the errors of up to GROUPS x 8 neurons
 * transposed once, the groups' sums side by side, the slopes gathered and stored back lane by
 * lane (stride n). */
#define FEW_SOURCES 2
#define GROUPS 4
static void slopes_few_sources(const float *e, const float *vt, size_t ldv, uint32_t n, uint32_t first, uint32_t m,
                               uint32_t count, float *slopes)
{
    float et[KF_PANEL * GROUPS * W], out[W]; /* et[s * GROUPS * W + q]: neuron q0 + q's error for sample s */
    const __m256i rows = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int)n));
    uint32_t q0, i, s, l;
    int g;
    for (q0 = 0; q0 < m; q0 += GROUPS * W) {
        const uint32_t nq = m - q0 < GROUPS * W ? m - q0 : GROUPS * W, groups = (nq + W - 1) / W;
        __m256i k[GROUPS];
        for (g = 0; g < GROUPS; g++)
            k[g] = first_lanes(nq > (uint32_t)g * W ? nq - (uint32_t)g * W : 0);
        if (nq % W)
            memset(et, 0, sizeof et); /* the lanes of absent neurons: read, never stored */
        kf_transpose_avx2(e + (size_t)q0 * KF_PANEL, KF_PANEL, nq, count, et, GROUPS * W);
        for (i = first; i < n; i++) {
            float *base = slopes + (size_t)q0 * n + i;
            __m256 acc[GROUPS];
            for (g = 0; g < (int)groups; g++)
                acc[g] = _mm256_mask_i32gather_ps(_mm256_setzero_ps(), base + (size_t)g * W * n, rows,
                                                  _mm256_castsi256_ps(k[g]), 4);
            for (s = 0; s < count; s++) {
                const __m256 v = _mm256_broadcast_ss(vt + s * ldv + i);
                for (g = 0; g < (int)groups; g++)
                    acc[g] = _mm256_add_ps(acc[g], _mm256_mul_ps(_mm256_loadu_ps(et + ((size_t)s * GROUPS + g) * W), v));
            }
            for (g = 0; g < (int)groups; g++) {
                const uint32_t have = nq - (uint32_t)g * W < W ? nq - (uint32_t)g * W : W;
                _mm256_storeu_ps(out, acc[g]);
                for (l = 0; l < have; l++)
                    base[((size_t)g * W + l) * n] = out[l];
            }
        }
    }
}

void kf_fann_slopes_avx2(const float *e, const float *vt, size_t ldv, uint32_t n, uint32_t m, uint32_t count,
                         float *slopes)
{
    uint32_t i;
    for (i = 0; i < n; i += 2 * W) {
        const __m256i lo = first_lanes(n - i), hi = first_lanes(n - i > W ? n - i - W : 0);
        if (n - i <= FEW_SOURCES && m >= 2 * W && (size_t)n * W < (size_t)INT32_MAX) {
            slopes_few_sources(e, vt, ldv, n, i, m, count, slopes);
            return;
        }
        if (n - i >= 2 * W)
            slopes_pass(e, vt + i, ldv, n, m, count, slopes + i, lo, hi, 1);
        else
            slopes_pass(e, vt + i, ldv, n, m, count, slopes + i, lo, hi, 0);
    }
}

static inline __m256 clip(__m256 x, float lo, float hi)
{
    /* x < lo ? lo : (x > hi ? hi : x), NaN kept */
    const __m256 upper = _mm256_blendv_ps(x, _mm256_set1_ps(hi), _mm256_cmp_ps(x, _mm256_set1_ps(hi), _CMP_GT_OQ));
    return _mm256_blendv_ps(upper, _mm256_set1_ps(lo), _mm256_cmp_ps(x, _mm256_set1_ps(lo), _CMP_LT_OQ));
}

/* kf_activation_derived for eight lanes (a constant activation at each call; the ones with sin
 * or cos are not here). */
KF_INLINE __m256 derived(const kf_activation a, __m256 steep, __m256 value, __m256 sum)
{
    const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
    switch (a) {
    case KF_SIGMOID: {
        const __m256 v = clip(value, 0.01f, 0.99f);
        return _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(2.0f), steep), v), _mm256_sub_ps(one, v));
    }
    case KF_SIGMOID_SYMMETRIC: {
        const __m256 v = clip(value, -0.98f, 0.98f);
        return _mm256_mul_ps(steep, _mm256_sub_ps(one, _mm256_mul_ps(v, v)));
    }
    case KF_GAUSSIAN:
    case KF_GAUSSIAN_SYMMETRIC: {
        const __m256 v = a == KF_GAUSSIAN ? value : _mm256_add_ps(value, one);
        return _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(-2.0f), sum), v), steep), steep);
    }
    case KF_ELLIOT:
    case KF_ELLIOT_SYMMETRIC: {
        const __m256 d = _mm256_add_ps(one, _mm256_andnot_ps(_mm256_set1_ps(-0.0f), sum));
        const __m256 dd = a == KF_ELLIOT ? _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(2.0f), d), d) : _mm256_mul_ps(d, d);
        return _mm256_div_ps(_mm256_mul_ps(steep, one), dd);
    }
    case KF_RELU:
    case KF_LEAKY_RELU:
        return _mm256_blendv_ps(a == KF_RELU ? zero : _mm256_mul_ps(_mm256_set1_ps(0.01f), steep), steep,
                                _mm256_cmp_ps(value, zero, _CMP_GT_OQ));
    case KF_THRESHOLD: return zero;
    default: return steep; /* the linear ones */
    }
}

KF_INLINE void derive_row(const kf_activation a, float steepness, const float *value, const float *sum, float *err,
                          uint32_t count)
{
    const __m256 steep = _mm256_set1_ps(steepness);
    uint32_t s;
    for (s = 0; s + W <= count; s += W) /* plain stores: AMD's masked ones are several times slower */
        _mm256_storeu_ps(err + s, _mm256_mul_ps(_mm256_loadu_ps(err + s), derived(a, steep, _mm256_loadu_ps(value + s),
                                                                                   _mm256_loadu_ps(sum + s))));
    if (s < count) {
        const __m256i k = first_lanes(count - s);
        const __m256 d = derived(a, steep, _mm256_maskload_ps(value + s, k), _mm256_maskload_ps(sum + s, k));
        _mm256_maskstore_ps(err + s, k, _mm256_mul_ps(_mm256_maskload_ps(err + s, k), d));
    }
}

#define KF_ISA(name) kf_##name##_avx2
#include "fann_dispatch.h"

/* The lanes whose float the approximated log y cannot settle (KF_ATANH_UNSURE_ULPS, kernels.h):
 * y's 29 bits below a float's mantissa near the midpoint pattern, or its float subnormal (not
 * zero). NaN errors, whose y means nothing, are the caller's. */
static inline __m256d atanh_unsure(__m256d y)
{
    /* the 29 bits minus the midpoint, plus the margin, modulo 2^29: at most twice the margin
     * exactly when the bits lie within the margin of the midpoint */
    const __m256i shifted = _mm256_add_epi64(_mm256_castpd_si256(y), _mm256_set1_epi64x(KF_ATANH_UNSURE_ULPS - (1 << 28)));
    const __m256i low = _mm256_and_si256(shifted, _mm256_set1_epi64x((1 << 29) - 1));
    const __m256d near_midpoint =
        _mm256_castsi256_pd(_mm256_cmpgt_epi64(_mm256_set1_epi64x(2 * KF_ATANH_UNSURE_ULPS + 1), low));
    const __m256d tiny = _mm256_and_pd(
        _mm256_cmp_pd(_mm256_andnot_pd(_mm256_set1_pd(-0.0), y), _mm256_set1_pd(0x1p-125), _CMP_LT_OQ),
        _mm256_cmp_pd(y, _mm256_setzero_pd(), _CMP_NEQ_OQ));
    return _mm256_or_pd(near_midpoint, tiny);
}

/* kf_error_tanh for eight errors, as fann_avx512.c does it: the quotient formed exactly, its log
 * approximated (KF_ATANH_SERIES, kernels.h), and the rare lanes near a rounding boundary given to
 * kf_error_tanh. */
void kf_fann_error_tanh_avx2(float *d, uint32_t count)
{
    static const double series[KF_ATANH_TERMS] = KF_ATANH_SERIES;
    const __m256d one = _mm256_set1_pd(1.0), limit = _mm256_set1_pd(.9999999);
    const __m256i exponent = _mm256_set1_epi64x(0x7ff0000000000000ll);
    uint32_t s0;
    int h, lane;
    for (s0 = 0; s0 < count; s0 += W) {
        const __m256i k8 = first_lanes(count - s0);
        const __m256 in = count - s0 >= W ? _mm256_loadu_ps(d + s0) : _mm256_maskload_ps(d + s0, k8);
        __m128 half[2];
        unsigned unsure = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(in, in, _CMP_UNORD_Q));
        for (h = 0; h < 2; h++) {
            const __m256d x = _mm256_cvtps_pd(h ? _mm256_extractf128_ps(in, 1) : _mm256_castps256_ps128(in));
            const __m256d q = _mm256_div_pd(_mm256_add_pd(one, x), _mm256_sub_pd(one, x));
            /* q = 2^e M, M in [1, 2) (q is a positive normal number); m = M or M / 2 in [0.75, 1.5) */
            const __m256i bits = _mm256_castpd_si256(q);
            const __m256i e = _mm256_sub_epi64(_mm256_srli_epi64(bits, 52), _mm256_set1_epi64x(1023));
            const __m256d mant = _mm256_castsi256_pd(
                _mm256_or_si256(_mm256_andnot_si256(exponent, bits), _mm256_set1_epi64x(0x3ff0000000000000ll)));
            const __m256d halve = _mm256_cmp_pd(mant, _mm256_set1_pd(1.5), _CMP_GE_OQ);
            const __m256d m = _mm256_blendv_pd(mant, _mm256_mul_pd(mant, _mm256_set1_pd(0.5)), halve);
            /* e as a double (|e| < 2^51): through the bits of 1.5 * 2^52 + e */
            const __m256d ed = _mm256_sub_pd(
                _mm256_castsi256_pd(_mm256_add_epi64(e, _mm256_castpd_si256(_mm256_set1_pd(0x1.8p52)))),
                _mm256_set1_pd(0x1.8p52));
            const __m256d k = _mm256_add_pd(ed, _mm256_and_pd(halve, one));
            const __m256d t = _mm256_div_pd(_mm256_sub_pd(m, one), _mm256_add_pd(m, one));
            const __m256d z = _mm256_mul_pd(t, t);
            const __m256d below = _mm256_cmp_pd(x, _mm256_sub_pd(_mm256_setzero_pd(), limit), _CMP_LT_OQ);
            const __m256d above = _mm256_cmp_pd(x, limit, _CMP_GT_OQ);
            __m256d p = _mm256_set1_pd(series[0]), y;
            { /* Estrin's scheme: half of Horner's chain of dependent operations */
                const __m256d z2 = _mm256_mul_pd(z, z), z4 = _mm256_mul_pd(z2, z2);
                const __m256d a = _mm256_fmadd_pd(_mm256_set1_pd(series[7]), z, _mm256_set1_pd(series[8]));
                const __m256d b = _mm256_fmadd_pd(_mm256_set1_pd(series[5]), z, _mm256_set1_pd(series[6]));
                const __m256d e2 = _mm256_fmadd_pd(_mm256_set1_pd(series[3]), z, _mm256_set1_pd(series[4]));
                const __m256d f2 = _mm256_fmadd_pd(_mm256_set1_pd(series[1]), z, _mm256_set1_pd(series[2]));
                const __m256d lo = _mm256_fmadd_pd(b, z2, a), hi = _mm256_fmadd_pd(f2, z2, e2);
                p = _mm256_fmadd_pd(_mm256_fmadd_pd(p, z4, hi), z4, lo);
            }
            y = _mm256_add_pd(_mm256_mul_pd(k, _mm256_set1_pd(0x1.62e42fefa3800p-1)),
                              _mm256_fmadd_pd(k, _mm256_set1_pd(0x1.ef35793c76730p-45),
                                              _mm256_mul_pd(_mm256_add_pd(t, t), p)));
            unsure |= (unsigned)_mm256_movemask_pd(_mm256_andnot_pd(_mm256_or_pd(below, above), atanh_unsure(y)))
                      << (4 * h);
            y = _mm256_blendv_pd(y, _mm256_set1_pd(-17.0), below);
            half[h] = _mm256_cvtpd_ps(_mm256_blendv_pd(y, _mm256_set1_pd(17.0), above));
        }
        {
            float before[W];
            const __m256 out = _mm256_insertf128_ps(_mm256_castps128_ps256(half[0]), half[1], 1);
            _mm256_storeu_ps(before, in);
            if (count - s0 >= W) /* a plain store where it can: AMD's masked stores are slow */
                _mm256_storeu_ps(d + s0, out);
            else
                _mm256_maskstore_ps(d + s0, k8, out);
            for (lane = 0; unsure && lane < W; lane++)
                if ((unsure >> lane & 1) && s0 + (uint32_t)lane < count)
                    d[s0 + lane] = kf_error_tanh(before[lane]);
        }
    }
}
