/* AVX-512 float batch kernels (kernels.h): one neuron's value for sixteen samples per register.
 * Every lane performs exactly the scalar reference's operations in the same order (multiply,
 * then add: no contraction). The exp-based activations come from a faster exp close to glibc's
 * (exp_near), kept where the float they round to cannot differ from libfann's; the few other
 * registers are computed again with glibc's exp evaluated in eight double lanes as the model in
 * exp_glibc.c does, and NaN lanes go to kf_activation_apply. So every output has libfann's bits. */
#include "kernels.h"

#ifdef KF_SIMDE_AVX512
#include "simde_avx512_shim.h" /* test builds: the same source on emulated AVX-512 (CMakeLists.txt) */
#else
#include <immintrin.h>
#endif
#include <math.h>
#include <stdint.h>
#include <string.h>

#define W 16 /* samples per register */

#if defined(__GNUC__)
#define KF_INLINE static inline __attribute__((always_inline))
#else
#define KF_INLINE static inline
#endif

/* The sums of nj neurons (nj <= 8, a constant at each call) for the panel's samples. Each weight
 * is broadcast once per sixteen samples; the four source rows of a group are loaded once for the
 * nj neurons. */
KF_INLINE void sums_tile(const float *w, uint32_t n, const float *v, uint32_t count, float *out, const int nj)
{
    const uint32_t r = n & 3u;
    uint32_t s0, i;
    int q;
    for (s0 = 0; s0 < count; s0 += W) {
        const float *vs = v + s0;
        __m512 acc[8];
        for (q = 0; q < nj; q++)
            acc[q] = _mm512_setzero_ps();
        for (i = r; i-- > 0;) { /* the leading terms, last to first */
            const __m512 vi = _mm512_loadu_ps(vs + (size_t)i * KF_PANEL);
            for (q = 0; q < nj; q++)
                acc[q] = _mm512_add_ps(acc[q], _mm512_mul_ps(_mm512_set1_ps(w[(size_t)q * n + i]), vi));
        }
        for (i = r; i < n; i += 4) {
            const float *v0 = vs + (size_t)i * KF_PANEL;
            const __m512 a0 = _mm512_loadu_ps(v0), a1 = _mm512_loadu_ps(v0 + KF_PANEL);
            const __m512 a2 = _mm512_loadu_ps(v0 + 2 * KF_PANEL), a3 = _mm512_loadu_ps(v0 + 3 * KF_PANEL);
            for (q = 0; q < nj; q++) {
                const float *wq = w + (size_t)q * n + i;
                __m512 t = _mm512_mul_ps(_mm512_set1_ps(wq[0]), a0);
                t = _mm512_add_ps(t, _mm512_mul_ps(_mm512_set1_ps(wq[1]), a1));
                t = _mm512_add_ps(t, _mm512_mul_ps(_mm512_set1_ps(wq[2]), a2));
                t = _mm512_add_ps(t, _mm512_mul_ps(_mm512_set1_ps(wq[3]), a3));
                acc[q] = _mm512_add_ps(acc[q], t);
            }
        }
        for (q = 0; q < nj; q++)
            _mm512_storeu_ps(out + (size_t)q * KF_PANEL + s0, acc[q]);
    }
}

void kf_fann_sums_avx512(const float *w, uint32_t n, uint32_t m, const float *v, uint32_t count, float *out)
{
    uint32_t q = 0;
    for (; q + 8 <= m; q += 8)
        sums_tile(w + (size_t)q * n, n, v, count, out + (size_t)q * KF_PANEL, 8);
    if (m - q >= 4) {
        sums_tile(w + (size_t)q * n, n, v, count, out + (size_t)q * KF_PANEL, 4);
        q += 4;
    }
    if (m - q >= 2) {
        sums_tile(w + (size_t)q * n, n, v, count, out + (size_t)q * KF_PANEL, 2);
        q += 2;
    }
    if (q < m)
        sums_tile(w + (size_t)q * n, n, v, count, out + (size_t)q * KF_PANEL, 1);
}

/* One block's group of four sources (i .. i+3) into its running sum, in fann_run's order. */
static inline __m512 packed_group(__m512 sum, const float *w0, const float *v)
{
    __m512 g = _mm512_mul_ps(_mm512_loadu_ps(w0), _mm512_set1_ps(v[0]));
    g = _mm512_add_ps(g, _mm512_mul_ps(_mm512_loadu_ps(w0 + 16), _mm512_set1_ps(v[1])));
    g = _mm512_add_ps(g, _mm512_mul_ps(_mm512_loadu_ps(w0 + 32), _mm512_set1_ps(v[2])));
    g = _mm512_add_ps(g, _mm512_mul_ps(_mm512_loadu_ps(w0 + 48), _mm512_set1_ps(v[3])));
    return _mm512_add_ps(sum, g);
}

/* Up to four blocks (nb, a constant at each call) side by side. */
KF_INLINE void packed_blocks(const float *w, size_t block, const float *v, uint32_t n, float *out, const int nb)
{
    __m512 sum[4];
    uint32_t i;
    int b;
    for (b = 0; b < nb; b++)
        sum[b] = _mm512_setzero_ps();
    for (i = n & 3u; i-- > 0;) { /* the leading terms, last to first */
        const __m512 vi = _mm512_set1_ps(v[i]);
        for (b = 0; b < nb; b++)
            sum[b] = _mm512_add_ps(sum[b], _mm512_mul_ps(_mm512_loadu_ps(w + b * block + (size_t)i * 16), vi));
    }
    for (i = n & 3u; i < n; i += 4)
        for (b = 0; b < nb; b++)
            sum[b] = packed_group(sum[b], w + b * block + (size_t)i * 16, v + i);
    for (b = 0; b < nb; b++)
        _mm512_storeu_ps(out + (size_t)b * 16, sum[b]);
}

/* One sample's sums of blocks of sixteen neurons from their interleaved weights
 * (kf_dot_packed_fann_fn), one lane per neuron, up to four blocks at a time: independent sums in
 * flight hide the additions' latency and keep several weight streams coming. */
void kf_dot16_packed_fann_avx512(const float *w, const float *v, uint32_t n, uint32_t blocks, float *out)
{
    const size_t block = (size_t)16 * n;
    uint32_t b = 0;
    for (; b + 4 <= blocks; b += 4)
        packed_blocks(w + b * block, block, v, n, out + (size_t)b * 16, 4);
    if (b + 2 <= blocks) {
        packed_blocks(w + b * block, block, v, n, out + (size_t)b * 16, 2);
        b += 2;
    }
    if (b < blocks)
        packed_blocks(w + b * block, block, v, n, out + (size_t)b * 16, 1);
}

/* A register's two halves (AVX-512F only: no DQ instructions). */
static inline __m512 join(__m256 lo, __m256 hi)
{
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(lo)), _mm256_castps_pd(hi), 1));
}

static inline __m256 upper(__m512 x)
{
    return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1));
}

/* The table entries (tail, scale bits: 16 bytes each) of the eight indices at[0..7], by eight
 * 16-byte loads and two shuffles, cheaper than two 64-bit gathers on Zen 4. */
KF_INLINE void exp_entries(const uint64_t *at, const long long *table, __m512d *tail, __m512d *scale)
{
    const volatile uint64_t *in_memory = at; /* scalar loads, not lane extractions (gcc's choice) */
    __m512i lo, hi;
#define ENTRY(k) _mm_loadu_si128((const __m128i *)(table + 2 * in_memory[k]))
    lo = _mm512_inserti32x4(_mm512_castsi128_si512(ENTRY(0)), ENTRY(1), 1);
    lo = _mm512_inserti32x4(_mm512_inserti32x4(lo, ENTRY(2), 2), ENTRY(3), 3);
    hi = _mm512_inserti32x4(_mm512_castsi128_si512(ENTRY(4)), ENTRY(5), 1);
    hi = _mm512_inserti32x4(_mm512_inserti32x4(hi, ENTRY(6), 2), ENTRY(7), 3);
#undef ENTRY
    *tail = _mm512_castsi512_pd(_mm512_permutex2var_epi64(lo, _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14), hi));
    *scale = _mm512_castsi512_pd(_mm512_permutex2var_epi64(lo, _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15), hi));
}

/* glibc's exp (exp_glibc.h) in eight lanes: x = k ln2 / N + r, k mod N's table entries loaded
 * from indices stored to memory (the exact path of the activations, and kf_exp_model_avx512).
 * Exact for 2^-54 <= |x| < 512 (and 1, libm's result, for |x| < 2^-54); meaningless elsewhere. */
KF_INLINE __m512d exp_core(__m512d x, const int fused)
{
    const __m512d shift = _mm512_set1_pd(KF_EXP_SHIFT), inv = _mm512_set1_pd(KF_EXP_INV_LN2_N);
    const __m512d hi = _mm512_set1_pd(KF_EXP_NEG_LN2_HI_N), lo = _mm512_set1_pd(KF_EXP_NEG_LN2_LO_N);
    uint64_t at[8];
    __m512d kd = fused ? _mm512_fmadd_pd(x, inv, shift) : _mm512_add_pd(_mm512_mul_pd(x, inv), shift);
    const __m512i ki = _mm512_castpd_si512(kd);
    __m512d r, r2, tail, scale, tmp;
    kd = _mm512_sub_pd(kd, shift);
    _mm512_storeu_si512(at, _mm512_and_si512(ki, _mm512_set1_epi64(KF_EXP_N - 1)));
    r = fused ? _mm512_fmadd_pd(kd, lo, _mm512_fmadd_pd(kd, hi, x))
              : _mm512_add_pd(_mm512_add_pd(x, _mm512_mul_pd(kd, hi)), _mm512_mul_pd(kd, lo));
    exp_entries(at, (const long long *)kf_exp_table, &tail, &scale);
    scale = _mm512_castsi512_pd(_mm512_add_epi64(_mm512_castpd_si512(scale), _mm512_slli_epi64(ki, 52 - 7)));
    r2 = _mm512_mul_pd(r, r);
    if (fused) {
        tmp = _mm512_fmadd_pd(_mm512_fmadd_pd(r, _mm512_set1_pd(KF_EXP_C3), _mm512_set1_pd(KF_EXP_C2)), r2,
                              _mm512_add_pd(tail, r));
        tmp = _mm512_fmadd_pd(_mm512_mul_pd(r2, r2),
                              _mm512_fmadd_pd(r, _mm512_set1_pd(KF_EXP_C5), _mm512_set1_pd(KF_EXP_C4)), tmp);
        return _mm512_fmadd_pd(scale, tmp, scale);
    }
    tmp = _mm512_add_pd(_mm512_add_pd(tail, r),
                        _mm512_mul_pd(r2, _mm512_add_pd(_mm512_set1_pd(KF_EXP_C2),
                                                        _mm512_mul_pd(r, _mm512_set1_pd(KF_EXP_C3)))));
    tmp = _mm512_add_pd(tmp, _mm512_mul_pd(_mm512_mul_pd(r2, r2),
                                           _mm512_add_pd(_mm512_set1_pd(KF_EXP_C4),
                                                         _mm512_mul_pd(r, _mm512_set1_pd(KF_EXP_C5)))));
    return _mm512_add_pd(scale, _mm512_mul_pd(scale, tmp));
}

/* exp_core where it is exact: *outside gets the other lanes, whose results are meaningless. */
KF_INLINE __m512d exp_lanes(__m512d x, const int fused, __mmask8 *outside)
{
    const __m512d ax = _mm512_abs_pd(x);
    *outside = (__mmask8)~(_mm512_cmp_pd_mask(ax, _mm512_set1_pd(KF_EXP_MIN_ABS), _CMP_GE_OQ)
                           & _mm512_cmp_pd_mask(ax, _mm512_set1_pd(KF_EXP_MAX_ABS), _CMP_LT_OQ));
    return exp_core(x, fused);
}

void kf_exp_model_avx512(const double *x, double *y, uint32_t n, kf_exp_kind kind)
{
    uint32_t i = 0, lane;
    for (; i + 8 <= n; i += 8) {
        __mmask8 outside;
        const __m512d v = _mm512_loadu_pd(x + i);
        _mm512_storeu_pd(y + i, kind == KF_EXP_FUSED ? exp_lanes(v, 1, &outside) : exp_lanes(v, 0, &outside));
        for (lane = 0; lane < 8; lane++)
            if (outside >> lane & 1)
                y[i + lane] = kf_exp_model(x[i + lane], kind);
    }
    for (; i < n; i++)
        y[i] = kf_exp_model(x[i], kind);
}

/* An exp-based activation (activation.c) of eight float arguments, in double. */
/* The activations need no exp to the bit outside [-KF_EXP_ACT_CLAMP, KF_EXP_ACT_CLAMP]: there
 * exp(x) is below 2^-369 or above 2^369, so that 1 + e rounds to 1 and 1 / (1 + e) (float) to +0,
 * and (float) e or e * 2 - 1 to +0 or -1, whatever e is beyond. Clamping the arguments there
 * keeps every lane inside exp_core's exact range (which gives libm's 1 for |x| < 2^-54 as well);
 * only NaN is left to libm. */
KF_INLINE __m512d exp_clamped(__m512d x, __mmask8 *outside)
{
    const __m512d top = _mm512_set1_pd(KF_EXP_ACT_CLAMP), bottom = _mm512_set1_pd(-KF_EXP_ACT_CLAMP);
    *outside = _mm512_cmp_pd_mask(x, x, _CMP_UNORD_Q);
    return _mm512_max_pd(_mm512_min_pd(x, top), bottom);
}

KF_INLINE __m512d exp_for_activation(__m512d x, const int fused, __mmask8 *outside)
{
    return exp_core(exp_clamped(x, outside), fused);
}

/* The activation from e = exp of its argument (exp_argument), eight lanes in double. */
KF_INLINE __m256 exp_activation_of(const kf_activation a, __m512d e)
{
    const __m512d one = _mm512_set1_pd(1.0), two = _mm512_set1_pd(2.0);
    switch (a) {
    case KF_SIGMOID: return _mm512_cvtpd_ps(_mm512_div_pd(one, _mm512_add_pd(one, e)));
    case KF_SIGMOID_SYMMETRIC:
        return _mm512_cvtpd_ps(_mm512_sub_pd(_mm512_div_pd(two, _mm512_add_pd(one, e)), one));
    case KF_GAUSSIAN: return _mm512_cvtpd_ps(e);
    default: return _mm512_cvtpd_ps(_mm512_sub_pd(_mm512_mul_pd(e, two), one)); /* gaussian_symmetric */
    }
}

/* exp's argument for sixteen values: -2 x for the sigmoids, -x * x for the gaussians. */
KF_INLINE __m512 exp_argument(const kf_activation a, __m512 x)
{
    const __m512 neg = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(x), _mm512_set1_epi32(INT32_MIN)));
    return a == KF_SIGMOID || a == KF_SIGMOID_SYMMETRIC ? _mm512_mul_ps(_mm512_set1_ps(-2.0f), x) : _mm512_mul_ps(neg, x);
}

/* An exp-based activation of sixteen values; *outside: the lanes left to libm (NaN). */
KF_INLINE __m512 exp_activation(const kf_activation a, __m512 x, const int fused, __mmask16 *outside)
{
    const __m512 arg = exp_argument(a, x);
    __mmask8 out_lo, out_hi;
    const __m256 lo = exp_activation_of(a, exp_for_activation(_mm512_cvtps_pd(_mm512_castps512_ps256(arg)), fused, &out_lo));
    const __m256 hi = exp_activation_of(a, exp_for_activation(_mm512_cvtps_pd(upper(arg)), fused, &out_hi));
    *outside = (__mmask16)(out_lo | (uint32_t)out_hi << 8);
    return join(lo, hi);
}

/* A stepwise activation's six points in double lanes, indexed by segment 0..4 (activation.c). */
typedef struct stepwise_lanes {
    __m512d v, r, dr, dv;
    __m512 v0, v5, lo, hi;
    __m512d inner[4];
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
        t->inner[k] = _mm512_set1_pd(st->v[k + 1]);
    t->v = _mm512_loadu_pd(v);
    t->r = _mm512_loadu_pd(r);
    t->dr = _mm512_loadu_pd(dr);
    t->dv = _mm512_loadu_pd(dv);
    t->v0 = _mm512_set1_ps(st->v[0]);
    t->v5 = _mm512_set1_ps(st->v[5]);
    t->lo = _mm512_set1_ps(st->lo);
    t->hi = _mm512_set1_ps(st->hi);
}

KF_INLINE __m256 stepwise_half(const stepwise_lanes *t, __m256 xf)
{
    const __m512d x = _mm512_cvtps_pd(xf);
    __m512i i = _mm512_setzero_si512();
    int k;
    for (k = 0; k < 4; k++) /* the segment: how many inner breakpoints x has reached */
        i = _mm512_mask_add_epi64(i, _mm512_cmp_pd_mask(x, t->inner[k], _CMP_GE_OQ), i, _mm512_set1_epi64(1));
    return _mm512_cvtpd_ps(_mm512_add_pd(
        _mm512_div_pd(_mm512_mul_pd(_mm512_permutexvar_pd(i, t->dr), _mm512_sub_pd(x, _mm512_permutexvar_pd(i, t->v))),
                      _mm512_permutexvar_pd(i, t->dv)),
        _mm512_permutexvar_pd(i, t->r)));
}

KF_INLINE __m512 stepwise(const stepwise_lanes *t, __m512 x, __mmask16 *outside)
{
    const __mmask16 below = _mm512_cmp_ps_mask(x, t->v0, _CMP_LT_OQ);
    const __mmask16 above = _mm512_cmp_ps_mask(x, t->v5, _CMP_GE_OQ);
    const __m512 y = join(stepwise_half(t, _mm512_castps512_ps256(x)), stepwise_half(t, upper(x)));
    *outside = (__mmask16)~_mm512_cmp_ps_mask(x, x, _CMP_ORD_Q); /* NaN */
    return _mm512_mask_blend_ps(above, _mm512_mask_blend_ps(below, y, t->lo), t->hi);
}

/* activation(x) for sixteen lanes (a constant at each call); *outside marks the lanes left to
 * the scalar function. */
KF_INLINE __m512 activation_of(const kf_activation a, __m512 x, const int fused, const stepwise_lanes *st,
                               __mmask16 *outside)
{
    const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f), minus_one = _mm512_set1_ps(-1.0f);
    *outside = 0;
    switch (a) {
    case KF_THRESHOLD: return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, zero, _CMP_LT_OQ), one, zero);
    case KF_THRESHOLD_SYMMETRIC: return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, zero, _CMP_LT_OQ), one, minus_one);
    case KF_SIGMOID:
    case KF_SIGMOID_SYMMETRIC:
    case KF_GAUSSIAN:
    case KF_GAUSSIAN_SYMMETRIC: return exp_activation(a, x, fused, outside);
    case KF_SIGMOID_STEPWISE:
    case KF_SIGMOID_SYMMETRIC_STEPWISE: return stepwise(st, x, outside);
    case KF_GAUSSIAN_STEPWISE: return zero;
    case KF_ELLIOT:
        return _mm512_add_ps(_mm512_div_ps(_mm512_div_ps(x, _mm512_set1_ps(2.0f)), _mm512_add_ps(one, _mm512_abs_ps(x))),
                             _mm512_set1_ps(0.5f));
    case KF_ELLIOT_SYMMETRIC: return _mm512_div_ps(x, _mm512_add_ps(one, _mm512_abs_ps(x)));
    case KF_LINEAR_PIECE: {
        const __m512 y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, one, _CMP_GT_OQ), x, one);
        return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, zero, _CMP_LT_OQ), y, zero);
    }
    case KF_LINEAR_PIECE_SYMMETRIC: {
        const __m512 y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, one, _CMP_GT_OQ), x, one);
        return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, minus_one, _CMP_LT_OQ), y, minus_one);
    }
    case KF_RELU: return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, zero, _CMP_GT_OQ), zero, x);
    case KF_LEAKY_RELU:
        return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, zero, _CMP_GT_OQ), _mm512_mul_ps(_mm512_set1_ps(0.01f), x), x);
    default: return x; /* linear */
    }
}

/* kf_steep_sum of sixteen sums: steepness * raw clamped to [-150, 150] / steepness (top and
 * bottom: +- that bound). */
KF_INLINE __m512 steep_sum(__m512 raw, float steepness, __m512 steep, __m512 top, __m512 bottom)
{
    const __m512 x = _mm512_mul_ps(steep, raw);
    if (steepness > 0.0f) /* NaN stays (vminps, vmaxps return their second operand) */
        return _mm512_max_ps(bottom, _mm512_min_ps(top, x));
    if (steepness != 0.0f) { /* above max_sum (< 0), else below -max_sum */
        const __mmask16 above = _mm512_cmp_ps_mask(x, top, _CMP_GT_OQ);
        const __mmask16 below = _mm512_cmp_ps_mask(x, bottom, _CMP_LT_OQ);
        return _mm512_mask_blend_ps(above, _mm512_mask_blend_ps((__mmask16)(below & ~above), x, bottom), top);
    }
    return x;
}

/* exp_near's table (exp_glibc.h) in two registers, each entry's bits less j << 48: adding the
 * reduction's bits of 16 k + j shifted left by 48 then adds k to the exponent. */
typedef struct near_table {
    __m512i lo, hi;
} near_table;

static inline near_table near_table_load(void)
{
    const __m512i j48 = _mm512_slli_epi64(_mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7), 48);
    near_table t;
    t.lo = _mm512_sub_epi64(_mm512_loadu_si512(kf_exp_near_table), j48);
    t.hi = _mm512_sub_epi64(_mm512_loadu_si512(kf_exp_near_table + 8), _mm512_add_epi64(j48, _mm512_set1_epi64(8LL << 48)));
    return t;
}

/* exp(x) within KF_EXP_NEAR_ERROR of glibc's, for |x| <= KF_EXP_ACT_CLAMP (exp_glibc.h). */
KF_INLINE __m512d exp_near(__m512d x, const near_table *t)
{
    const __m512d shift = _mm512_set1_pd(KF_EXP_SHIFT);
    __m512d kd = _mm512_fmadd_pd(x, _mm512_set1_pd(KF_EXP_NEAR_16_LN2), shift);
    const __m512i ki = _mm512_castpd_si512(kd); /* 16 k + j in the low bits */
    const __m512d scale = _mm512_castsi512_pd(
        _mm512_add_epi64(_mm512_permutex2var_epi64(t->lo, ki, t->hi), _mm512_slli_epi64(ki, 48)));
    __m512d r, p;
    kd = _mm512_sub_pd(kd, shift);
    r = _mm512_fnmadd_pd(kd, _mm512_set1_pd(KF_EXP_NEAR_LN2_16), x);
    p = _mm512_fmadd_pd(_mm512_set1_pd(KF_EXP_NEAR_C5), r, _mm512_set1_pd(KF_EXP_NEAR_C4));
    p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(KF_EXP_NEAR_C3));
    p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(KF_EXP_NEAR_C2));
    p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(1.0));
    return _mm512_fmadd_pd(scale, _mm512_mul_pd(p, r), scale); /* scale (1 + (exp(r) - 1)) */
}

/* The activation of eight arguments of exp (exp_argument, clamped) from exp_near, and *unsure:
 * the lanes whose float might differ from libfann's. libfann's double before its rounding to
 * float lies within 2^-39 of ours: relatively for the sigmoid and the gaussian (the bound is
 * KF_EXP_NEAR_ERROR and the roundings of the addition and the division: below 2^-42.4),
 * absolutely for the symmetric two, whose subtraction of 1 cancels (twice that, and a rounding:
 * below 2^-41.4). Where both ends of that interval round to the same float, so does every value
 * inside it. */
KF_INLINE __m256 near_activation(const kf_activation a, __m512d arg, const near_table *t, __mmask8 *unsure)
{
    const __m512d one = _mm512_set1_pd(1.0), two = _mm512_set1_pd(2.0), margin = _mm512_set1_pd(0x1p-39);
    const __m512d e = exp_near(arg, t);
    __m512d y, lo, hi;
    switch (a) {
    case KF_SIGMOID: y = _mm512_div_pd(one, _mm512_add_pd(one, e)); break;
    case KF_SIGMOID_SYMMETRIC: y = _mm512_sub_pd(_mm512_div_pd(two, _mm512_add_pd(one, e)), one); break;
    case KF_GAUSSIAN: y = e; break;
    default: y = _mm512_sub_pd(_mm512_mul_pd(e, two), one); break; /* gaussian_symmetric */
    }
    if (a == KF_SIGMOID || a == KF_GAUSSIAN) { /* y >= 0 */
        lo = _mm512_mul_pd(y, _mm512_sub_pd(one, margin));
        hi = _mm512_mul_pd(y, _mm512_add_pd(one, margin));
    } else {
        lo = _mm512_sub_pd(y, margin);
        hi = _mm512_add_pd(y, margin);
    }
    {
        const __m256 below = _mm512_cvtpd_ps(lo); /* the float, where sure */
        *unsure = (__mmask8)~_mm256_cmp_ps_mask(below, _mm512_cvtpd_ps(hi), _CMP_EQ_OQ);
        return below;
    }
}

/* One register of an exp-based activation to libm's bits (exp_activation, the rest from libm):
 * out of line, for the rare registers exp_rows is unsure of. */
static void exact_register(kf_activation a, int fused, __m512 x, float *out)
{
    __mmask16 outside = 0;
    float xs[W];
    int lane;
    switch (a) {
    case KF_SIGMOID: _mm512_storeu_ps(out, exp_activation(KF_SIGMOID, x, fused, &outside)); break;
    case KF_SIGMOID_SYMMETRIC: _mm512_storeu_ps(out, exp_activation(KF_SIGMOID_SYMMETRIC, x, fused, &outside)); break;
    case KF_GAUSSIAN: _mm512_storeu_ps(out, exp_activation(KF_GAUSSIAN, x, fused, &outside)); break;
    default: _mm512_storeu_ps(out, exp_activation(KF_GAUSSIAN_SYMMETRIC, x, fused, &outside)); break;
    }
    _mm512_storeu_ps(xs, x);
    for (lane = 0; lane < W; lane++)
        if (outside >> lane & 1)
            out[lane] = kf_activation_apply(a, xs[lane]);
}

/* The exp-based activations over `full` values (a multiple of W): each register from exp_near,
 * then again by exact_register where a lane was unsure or NaN, after each block of up to
 * KF_NEAR_BLOCK registers. The block's arguments are kept aside, as raw may be value. */
KF_INLINE void exp_rows(const kf_activation a, const int fused, float steepness, const float *raw, float *sum,
                        float *value, uint32_t full)
{
    const __m512 steep = _mm512_set1_ps(steepness);
    const float max_sum = steepness != 0.0f ? 150.0f / steepness : 0.0f;
    const __m512 top = _mm512_set1_ps(max_sum), bottom = _mm512_set1_ps(-max_sum);
    const __m512 clamp = _mm512_set1_ps((float)KF_EXP_ACT_CLAMP);
    const near_table t = near_table_load();
    float xs[KF_NEAR_BLOCK][W];
    uint32_t s0, v;
    for (s0 = 0; s0 < full; s0 += KF_NEAR_BLOCK * W) {
        const uint32_t regs = (full - s0) / W < KF_NEAR_BLOCK ? (full - s0) / W : KF_NEAR_BLOCK;
        uint32_t redo = 0;
        for (v = 0; v < regs; v++) {
            const uint32_t at = s0 + v * W;
            const __m512 x = steep_sum(_mm512_loadu_ps(raw + at), steepness, steep, top, bottom);
            const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
            const __m512 arg = _mm512_max_ps(_mm512_min_ps(exp_argument(a, x), clamp), _mm512_sub_ps(_mm512_setzero_ps(), clamp));
            __mmask8 unsure_lo, unsure_hi;
            const __m256 lo = near_activation(a, _mm512_cvtps_pd(_mm512_castps512_ps256(arg)), &t, &unsure_lo);
            const __m256 hi = near_activation(a, _mm512_cvtps_pd(upper(arg)), &t, &unsure_hi);
            _mm512_storeu_ps(xs[v], x);
            if (sum)
                _mm512_storeu_ps(sum + at, x);
            _mm512_storeu_ps(value + at, join(lo, hi));
            redo |= (uint32_t)((nan | unsure_lo | unsure_hi) != 0) << v;
        }
        for (v = 0; redo; v++, redo >>= 1)
            if (redo & 1)
                exact_register(a, fused, _mm512_loadu_ps(xs[v]), value + s0 + v * W);
    }
}

/* The row loop for one activation (a constant at each call, so that each gets its own loop); a
 * last partial register goes through a zero-padded copy. */
KF_INLINE void activate_row(const kf_activation a, const int fused, float steepness, const float *raw, float *sum,
                            float *value, uint32_t count)
{
    const __m512 steep = _mm512_set1_ps(steepness);
    const float max_sum = steepness != 0.0f ? 150.0f / steepness : 0.0f;
    const __m512 top = _mm512_set1_ps(max_sum), bottom = _mm512_set1_ps(-max_sum);
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
        __m512 x;
        __mmask16 outside;
        if (tail) {
            memcpy(raw_tail, in, (count - s) * sizeof(float));
            in = raw_tail;
            sum_out = sum ? sum_tail : NULL;
            out = value_tail;
        }
        x = steep_sum(_mm512_loadu_ps(in), steepness, steep, top, bottom);
        if (sum_out)
            _mm512_storeu_ps(sum_out, x);
        _mm512_storeu_ps(out, activation_of(a, x, fused, &st, &outside));
        if (outside) {
            float xs[W];
            int lane;
            _mm512_storeu_ps(xs, x);
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

/* ---- training (kernels.h): backpropagation, slope sums and derivatives ---- */

/* ni sources (ni <= 8, a constant at each call) of a backpropagation tile, all the panel's
 * sample registers: the sources' errors stay in registers while the m neurons are added in turn. */
KF_INLINE void backprop_tile(const float *w, uint32_t n, uint32_t m, const float *e, uint32_t count, float *err,
                             const int ni)
{
    uint32_t s0, q;
    int i;
    for (s0 = 0; s0 < count; s0 += W) {
        __m512 acc[8];
        for (i = 0; i < ni; i++)
            acc[i] = _mm512_loadu_ps(err + (size_t)i * KF_PANEL + s0);
        for (q = 0; q < m; q++) {
            const __m512 eq = _mm512_loadu_ps(e + (size_t)q * KF_PANEL + s0);
            const float *wq = w + (size_t)q * n;
            for (i = 0; i < ni; i++)
                acc[i] = _mm512_add_ps(acc[i], _mm512_mul_ps(eq, _mm512_set1_ps(wq[i])));
        }
        for (i = 0; i < ni; i++)
            _mm512_storeu_ps(err + (size_t)i * KF_PANEL + s0, acc[i]);
    }
}

void kf_fann_backprop_avx512(const float *w, uint32_t n, uint32_t m, const float *e, uint32_t count, float *err)
{
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8)
        backprop_tile(w + i, n, m, e, count, err + (size_t)i * KF_PANEL, 8);
    for (; i < n; i++)
        backprop_tile(w + i, n, m, e, count, err + (size_t)i * KF_PANEL, 1);
}

/* A slope tile: nq neurons by nv registers of sources (nv 1, 2 or 4, nq * nv <= 16: constants at
 * each call; k[h]: the lanes of register h), the samples added in turn. Every broadcast error
 * costs a vector slot on Zen 4, as a multiply does: the more registers of sources it serves, the
 * closer the tile runs to the multiply-add peak. */
KF_INLINE void slopes_tile(const float *e, const float *vt, size_t ldv, uint32_t n, uint32_t count, float *slopes,
                           const __mmask16 *k, const int nq, const int nv)
{
    __m512 acc[16][4];
    uint32_t s;
    int q, h;
    for (q = 0; q < nq; q++)
        for (h = 0; h < nv; h++)
            acc[q][h] = _mm512_maskz_loadu_ps(k[h], slopes + (size_t)q * n + h * W);
    for (s = 0; s < count; s++) {
        __m512 v[4];
        for (h = 0; h < nv; h++)
            v[h] = _mm512_maskz_loadu_ps(k[h], vt + s * ldv + h * W);
        for (q = 0; q < nq; q++) {
            const __m512 eq = _mm512_set1_ps(e[(size_t)q * KF_PANEL + s]);
            for (h = 0; h < nv; h++)
                acc[q][h] = _mm512_add_ps(acc[q][h], _mm512_mul_ps(eq, v[h]));
        }
    }
    for (q = 0; q < nq; q++)
        for (h = 0; h < nv; h++)
            _mm512_mask_storeu_ps(slopes + (size_t)q * n + h * W, k[h], acc[q][h]);
}

/* The last few sources (at most FEW_SOURCES, such as a layer's bias), sixteen neurons to a
 * register instead of sixteen sources: the errors of up to GROUPS x 16 neurons transposed once,
 * then per sample one multiply and one add per source and register, where a register of sources
 * would take sixteen of each for the one or two sources it holds. The groups' sums are
 * independent chains, run side by side; the slopes are gathered and scattered with stride n. */
#define FEW_SOURCES 8
#define GROUPS 4
static void slopes_few_sources(const float *e, const float *vt, size_t ldv, uint32_t n, uint32_t first, uint32_t m,
                               uint32_t count, float *slopes)
{
    float et[KF_PANEL * GROUPS * W]; /* et[s * GROUPS * W + q]: neuron q0 + q's error for sample s */
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i rows = _mm512_mullo_epi32(lane, _mm512_set1_epi32((int)n));
    uint32_t q0, i, s;
    int g;
    for (q0 = 0; q0 < m; q0 += GROUPS * W) {
        const uint32_t nq = m - q0 < GROUPS * W ? m - q0 : GROUPS * W, groups = (nq + W - 1) / W;
        __mmask16 k[GROUPS];
        for (g = 0; g < GROUPS; g++) {
            const uint32_t have = nq > (uint32_t)g * W ? nq - (uint32_t)g * W : 0;
            k[g] = have >= W ? (__mmask16)0xffff : (__mmask16)((1u << have) - 1);
        }
        kf_transpose_avx2(e + (size_t)q0 * KF_PANEL, KF_PANEL, nq, count, et, GROUPS * W);
        if (nq % W) /* the last register's lanes of absent neurons: read, never stored */
            for (s = 0; s < count; s++)
                _mm512_mask_storeu_ps(et + ((size_t)s * GROUPS + groups - 1) * W, (__mmask16)~k[groups - 1],
                                      _mm512_setzero_ps());
        for (i = first; i < n; i++) {
            float *base = slopes + (size_t)q0 * n + i;
            __m512 acc[GROUPS];
            for (g = 0; g < (int)groups; g++)
                acc[g] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), k[g], rows, base + (size_t)g * W * n, 4);
            for (s = 0; s < count; s++) {
                const __m512 v = _mm512_set1_ps(vt[s * ldv + i]);
                for (g = 0; g < (int)groups; g++)
                    acc[g] = _mm512_add_ps(acc[g], _mm512_mul_ps(_mm512_loadu_ps(et + ((size_t)s * GROUPS + g) * W), v));
            }
            for (g = 0; g < (int)groups; g++)
                _mm512_mask_i32scatter_ps(base + (size_t)g * W * n, k[g], rows, acc[g], 4);
        }
    }
}

/* Sources 64 at a time by four neurons, then 32 by eight; a last run of at most sixteen sources
 * by sixteen neurons, so that a source count just past a multiple of 32 costs half a pass, not a
 * whole, and a last run of a few sources by slopes_few_sources. */
void kf_fann_slopes_avx512(const float *e, const float *vt, size_t ldv, uint32_t n, uint32_t m, uint32_t count,
                           float *slopes)
{
    uint32_t i, q;
    for (i = 0; i < n;) {
        const uint32_t left = n - i, step = left >= 4 * W ? 4 * W : 2 * W;
        const float *v = vt + i;
        float *out = slopes + i;
        __mmask16 k[4];
        int h;
        if (left <= FEW_SOURCES && m > 1 && (size_t)n * W < (size_t)INT32_MAX) {
            slopes_few_sources(e, vt, ldv, n, i, m, count, slopes);
            return;
        }
        for (h = 0; h < 4; h++) {
            const uint32_t have = left > (uint32_t)h * W ? left - (uint32_t)h * W : 0;
            k[h] = have >= W ? (__mmask16)0xffff : (__mmask16)((1u << have) - 1);
        }
        q = 0;
        if (left >= 4 * W) {
            for (; q + 4 <= m; q += 4)
                slopes_tile(e + (size_t)q * KF_PANEL, v, ldv, n, count, out + (size_t)q * n, k, 4, 4);
            for (; q < m; q++)
                slopes_tile(e + (size_t)q * KF_PANEL, v, ldv, n, count, out + (size_t)q * n, k, 1, 4);
        } else if (left > W) {
            for (; q + 8 <= m; q += 8)
                slopes_tile(e + (size_t)q * KF_PANEL, v, ldv, n, count, out + (size_t)q * n, k, 8, 2);
            if (q + 4 <= m) {
                slopes_tile(e + (size_t)q * KF_PANEL, v, ldv, n, count, out + (size_t)q * n, k, 4, 2);
                q += 4;
            }
            for (; q < m; q++)
                slopes_tile(e + (size_t)q * KF_PANEL, v, ldv, n, count, out + (size_t)q * n, k, 1, 2);
        } else {
            for (; q + 16 <= m; q += 16)
                slopes_tile(e + (size_t)q * KF_PANEL, v, ldv, n, count, out + (size_t)q * n, k, 16, 1);
            if (q + 8 <= m) {
                slopes_tile(e + (size_t)q * KF_PANEL, v, ldv, n, count, out + (size_t)q * n, k, 8, 1);
                q += 8;
            }
            if (q + 4 <= m) {
                slopes_tile(e + (size_t)q * KF_PANEL, v, ldv, n, count, out + (size_t)q * n, k, 4, 1);
                q += 4;
            }
            for (; q < m; q++)
                slopes_tile(e + (size_t)q * KF_PANEL, v, ldv, n, count, out + (size_t)q * n, k, 1, 1);
        }
        i += step;
    }
}

static inline __m512 clip(__m512 x, float lo, float hi)
{
    /* x < lo ? lo : (x > hi ? hi : x), NaN kept */
    const __m512 upper = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(hi), _CMP_GT_OQ), x,
                                              _mm512_set1_ps(hi));
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(lo), _CMP_LT_OQ), upper, _mm512_set1_ps(lo));
}

/* kf_activation_derived for sixteen lanes (a constant activation at each call; the ones with
 * sin or cos are not here). */
KF_INLINE __m512 derived(const kf_activation a, __m512 steep, __m512 value, __m512 sum)
{
    const __m512 one = _mm512_set1_ps(1.0f), zero = _mm512_setzero_ps();
    switch (a) {
    case KF_SIGMOID:
    case KF_SIGMOID_STEPWISE: {
        const __m512 v = clip(value, 0.01f, 0.99f);
        return _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(2.0f), steep), v), _mm512_sub_ps(one, v));
    }
    case KF_SIGMOID_SYMMETRIC:
    case KF_SIGMOID_SYMMETRIC_STEPWISE: {
        const __m512 v = clip(value, -0.98f, 0.98f);
        return _mm512_mul_ps(steep, _mm512_sub_ps(one, _mm512_mul_ps(v, v)));
    }
    case KF_GAUSSIAN:
    case KF_GAUSSIAN_SYMMETRIC: {
        const __m512 v = a == KF_GAUSSIAN ? value : _mm512_add_ps(value, one);
        return _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(-2.0f), sum), v), steep), steep);
    }
    case KF_ELLIOT:
    case KF_ELLIOT_SYMMETRIC: {
        const __m512 d = _mm512_add_ps(one, _mm512_abs_ps(sum));
        const __m512 dd = a == KF_ELLIOT ? _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(2.0f), d), d) : _mm512_mul_ps(d, d);
        return _mm512_div_ps(_mm512_mul_ps(steep, one), dd);
    }
    case KF_RELU:
    case KF_LEAKY_RELU:
        return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(value, zero, _CMP_GT_OQ),
                                    a == KF_RELU ? zero : _mm512_mul_ps(_mm512_set1_ps(0.01f), steep), steep);
    case KF_THRESHOLD:
    case KF_THRESHOLD_SYMMETRIC:
    case KF_GAUSSIAN_STEPWISE: return zero;
    default: return steep; /* the linear ones */
    }
}

KF_INLINE void derive_row(const kf_activation a, float steepness, const float *value, const float *sum, float *err,
                          uint32_t count)
{
    const __m512 steep = _mm512_set1_ps(steepness);
    uint32_t s;
    for (s = 0; s < count; s += W) {
        const __mmask16 k = count - s >= W ? (__mmask16)0xffff : (__mmask16)((1u << (count - s)) - 1);
        const __m512 d = derived(a, steep, _mm512_maskz_loadu_ps(k, value + s), _mm512_maskz_loadu_ps(k, sum + s));
        _mm512_mask_storeu_ps(err + s, k, _mm512_mul_ps(_mm512_maskz_loadu_ps(k, err + s), d));
    }
}

#define KF_ISA(name) kf_##name##_avx512
#include "fann_dispatch.h"

/* The lanes whose float the approximated log y cannot settle (KF_ATANH_UNSURE_ULPS, kernels.h):
 * y's 29 bits below a float's mantissa near the midpoint pattern, or its float subnormal (not
 * zero). NaN errors, whose y means nothing, are the caller's. */
static inline __mmask8 atanh_unsure(__m512d y)
{
    const __m512i low = _mm512_and_si512(
        _mm512_add_epi64(_mm512_castpd_si512(y), _mm512_set1_epi64(KF_ATANH_UNSURE_ULPS - (1 << 28))),
        _mm512_set1_epi64((1 << 29) - 1));
    return _mm512_cmple_epu64_mask(low, _mm512_set1_epi64(2 * KF_ATANH_UNSURE_ULPS))
           | (_mm512_cmp_pd_mask(_mm512_abs_pd(y), _mm512_set1_pd(0x1p-125), _CMP_LT_OQ)
              & _mm512_cmp_pd_mask(y, _mm512_setzero_pd(), _CMP_NEQ_OQ));
}

/* kf_error_tanh for sixteen errors. log((1 + d) / (1 - d)) is needed only to the float it
 * rounds to: the quotient is formed exactly as the scalar code forms it, then its log
 * approximated (KF_ATANH_SERIES, kernels.h). */
void kf_fann_error_tanh_avx512(float *d, uint32_t count)
{
    static const double series[KF_ATANH_TERMS] = KF_ATANH_SERIES;
    const __m512d one = _mm512_set1_pd(1.0), limit = _mm512_set1_pd(.9999999);
    uint32_t s0;
    int h, lane;
    for (s0 = 0; s0 < count; s0 += W) {
        const __mmask16 k16 = count - s0 >= W ? (__mmask16)0xffff : (__mmask16)((1u << (count - s0)) - 1);
        const __m512 in = _mm512_maskz_loadu_ps(k16, d + s0);
        __m256 half[2];
        __mmask8 unsure[2];
        for (h = 0; h < 2; h++) {
            const __m512d x = _mm512_cvtps_pd(h ? upper(in) : _mm512_castps512_ps256(in));
            const __m512d q = _mm512_div_pd(_mm512_add_pd(one, x), _mm512_sub_pd(one, x));
            const __m512d m = _mm512_getmant_pd(q, _MM_MANT_NORM_p75_1p5, _MM_MANT_SIGN_src);
            /* m is q's mantissa, halved from 1.5 on: q = 2^k m */
            const __m512d k = _mm512_mask_add_pd(_mm512_getexp_pd(q), _mm512_cmp_pd_mask(m, one, _CMP_LT_OQ),
                                                 _mm512_getexp_pd(q), one);
            const __m512d t = _mm512_div_pd(_mm512_sub_pd(m, one), _mm512_add_pd(m, one));
            const __m512d z = _mm512_mul_pd(t, t);
            __m512d p = _mm512_set1_pd(series[0]), y;
            const __mmask8 below = _mm512_cmp_pd_mask(x, _mm512_sub_pd(_mm512_setzero_pd(), limit), _CMP_LT_OQ);
            const __mmask8 above = _mm512_cmp_pd_mask(x, limit, _CMP_GT_OQ);
            { /* Estrin's scheme: half of Horner's chain of dependent operations */
                const __m512d z2 = _mm512_mul_pd(z, z), z4 = _mm512_mul_pd(z2, z2);
                const __m512d a = _mm512_fmadd_pd(_mm512_set1_pd(series[7]), z, _mm512_set1_pd(series[8]));
                const __m512d b = _mm512_fmadd_pd(_mm512_set1_pd(series[5]), z, _mm512_set1_pd(series[6]));
                const __m512d e = _mm512_fmadd_pd(_mm512_set1_pd(series[3]), z, _mm512_set1_pd(series[4]));
                const __m512d f = _mm512_fmadd_pd(_mm512_set1_pd(series[1]), z, _mm512_set1_pd(series[2]));
                const __m512d lo = _mm512_fmadd_pd(b, z2, a), hi = _mm512_fmadd_pd(f, z2, e);
                p = _mm512_fmadd_pd(_mm512_fmadd_pd(p, z4, hi), z4, lo);
            }
            y = _mm512_add_pd(_mm512_mul_pd(k, _mm512_set1_pd(0x1.62e42fefa3800p-1)),
                              _mm512_fmadd_pd(k, _mm512_set1_pd(0x1.ef35793c76730p-45),
                                              _mm512_mul_pd(_mm512_add_pd(t, t), p)));
            unsure[h] = (__mmask8)(atanh_unsure(y) & ~(below | above));
            half[h] = _mm512_cvtpd_ps(y);
            half[h] = _mm256_mask_blend_ps(below, half[h], _mm256_set1_ps(-17.0f));
            half[h] = _mm256_mask_blend_ps(above, half[h], _mm256_set1_ps(17.0f));
        }
        {
            const __m512 out = join(half[0], half[1]);
            const __mmask16 nan = _mm512_cmp_ps_mask(in, in, _CMP_UNORD_Q);
            const uint32_t redo = (unsure[0] | (uint32_t)unsure[1] << 8 | nan) & k16;
            float before[W];
            _mm512_storeu_ps(before, in);
            _mm512_mask_storeu_ps(d + s0, k16, out);
            for (lane = 0; redo && lane < W; lane++)
                if (redo >> lane & 1)
                    d[s0 + lane] = kf_error_tanh(before[lane]);
        }
    }
}
