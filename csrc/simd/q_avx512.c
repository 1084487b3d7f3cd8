/* AVX-512 VNNI integer kernels (kernels.h): uint8 x int8 with vpdpbusd and int16 x int16 with
 * vpdpwssd, both exact into int32 (the accumulation bound is proven at load time, and integer
 * sums do not depend on their order: any blocking gives the scalar reference's integers).
 *
 * Register blocking: a tile of up to TILE_R row blocks (16 outputs each) by TILE_S samples keeps
 * its TILE_R * TILE_S accumulators in zmm registers while the columns stream past: for each
 * group of columns (four bytes of every sample: four uint8 or two int16 values), each row
 * block's 64-byte weight vector is loaded once and each sample's group broadcast once, then
 * TILE_R * TILE_S multiply-accumulates. 4 x 6 uses 24 accumulators, 4 weights and a broadcast
 * of the 32 registers. Edge tiles (fewer row blocks or samples) are the same code with smaller
 * constants. */
#include "kernels.h"

#include "kfann.h"

#include <immintrin.h>
#include <string.h>

#if defined(_MSC_VER) && !defined(__clang__)
#define KF_ALWAYS_INLINE static __forceinline
#else
#define KF_ALWAYS_INLINE static inline __attribute__((always_inline))
#endif

#define TILE_R 4
#define TILE_S 6

static inline __m512i broadcast32(const unsigned char *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm512_set1_epi32(v);
}

/* One R x S tile over `groups` column groups. x: the first sample's activations (bytes), samples
 * x_stride bytes apart; w: the first row block's packed weights, row blocks w_stride bytes
 * apart, 64 bytes per group; acc: the first sample's first output. wide selects int16 x int16
 * (vpdpwssd) instead of uint8 x int8 (vpdpbusd). R, S and wide are constants where inlined:
 * the accumulators are named variables (an array of vectors would live on the stack), and
 * those of rows or samples beyond R and S are never used, so the compiler drops them. */
#define DP(c, xv, wv) c = wide ? _mm512_dpwssd_epi32(c, xv, wv) : _mm512_dpbusd_epi32(c, xv, wv)
#define SAMPLE(s)                                                                                                  \
    if (S > s) {                                                                                                   \
        const __m512i xv = broadcast32(x + s * x_stride + g * 4);                                                  \
        DP(c0##s, xv, w0);                                                                                         \
        if (R > 1)                                                                                                 \
            DP(c1##s, xv, w1);                                                                                     \
        if (R > 2)                                                                                                 \
            DP(c2##s, xv, w2);                                                                                     \
        if (R > 3)                                                                                                 \
            DP(c3##s, xv, w3);                                                                                     \
    }
#define STORE(s)                                                                                                   \
    if (S > s) {                                                                                                   \
        int32_t *out = acc + s * acc_stride;                                                                       \
        _mm512_storeu_si512((void *)out, c0##s);                                                                   \
        if (R > 1)                                                                                                 \
            _mm512_storeu_si512((void *)(out + KF_ROWS), c1##s);                                                   \
        if (R > 2)                                                                                                 \
            _mm512_storeu_si512((void *)(out + 2 * KF_ROWS), c2##s);                                               \
        if (R > 3)                                                                                                 \
            _mm512_storeu_si512((void *)(out + 3 * KF_ROWS), c3##s);                                               \
    }
#define ZERO4(s) c0##s = c1##s = c2##s = c3##s = _mm512_setzero_si512()

KF_ALWAYS_INLINE void tile(const unsigned char *x, size_t x_stride, const unsigned char *w, size_t w_stride,
                           size_t groups, int32_t *acc, size_t acc_stride, const int R, const int S, const int wide)
{
    __m512i c00, c10, c20, c30, c01, c11, c21, c31, c02, c12, c22, c32;
    __m512i c03, c13, c23, c33, c04, c14, c24, c34, c05, c15, c25, c35;
    size_t g;
    ZERO4(0);
    ZERO4(1);
    ZERO4(2);
    ZERO4(3);
    ZERO4(4);
    ZERO4(5);
    for (g = 0; g < groups; g++) {
        const unsigned char *wg = w + g * 64;
        const __m512i w0 = _mm512_loadu_si512((const void *)wg);
        const __m512i w1 = R > 1 ? _mm512_loadu_si512((const void *)(wg + w_stride)) : w0;
        const __m512i w2 = R > 2 ? _mm512_loadu_si512((const void *)(wg + 2 * w_stride)) : w0;
        const __m512i w3 = R > 3 ? _mm512_loadu_si512((const void *)(wg + 3 * w_stride)) : w0;
        SAMPLE(0)
        SAMPLE(1)
        SAMPLE(2)
        SAMPLE(3)
        SAMPLE(4)
        SAMPLE(5)
    }
    STORE(0)
    STORE(1)
    STORE(2)
    STORE(3)
    STORE(4)
    STORE(5)
}

typedef void (*tile_fn)(const unsigned char *x, size_t x_stride, const unsigned char *w, size_t w_stride,
                        size_t groups, int32_t *acc, size_t acc_stride);

#define TILE_FN(R, S)                                                                                              \
    static void q8_tile_##R##_##S(const unsigned char *x, size_t x_stride, const unsigned char *w, size_t w_stride,  \
                                  size_t groups, int32_t *acc, size_t acc_stride)                                 \
    {                                                                                                              \
        tile(x, x_stride, w, w_stride, groups, acc, acc_stride, R, S, 0);                                          \
    }                                                                                                              \
    static void q16_tile_##R##_##S(const unsigned char *x, size_t x_stride, const unsigned char *w, size_t w_stride, \
                                   size_t groups, int32_t *acc, size_t acc_stride)                                \
    {                                                                                                              \
        tile(x, x_stride, w, w_stride, groups, acc, acc_stride, R, S, 1);                                          \
    }
#define TILE_ROW(R) TILE_FN(R, 1) TILE_FN(R, 2) TILE_FN(R, 3) TILE_FN(R, 4) TILE_FN(R, 5) TILE_FN(R, 6)
TILE_ROW(1)
TILE_ROW(2)
TILE_ROW(3)
TILE_ROW(4)

#define TILE_NAMES(p, R) {p##_tile_##R##_1, p##_tile_##R##_2, p##_tile_##R##_3, p##_tile_##R##_4, p##_tile_##R##_5, p##_tile_##R##_6}
static const tile_fn q8_tiles[TILE_R][TILE_S] = {TILE_NAMES(q8, 1), TILE_NAMES(q8, 2), TILE_NAMES(q8, 3), TILE_NAMES(q8, 4)};
static const tile_fn q16_tiles[TILE_R][TILE_S] = {TILE_NAMES(q16, 1), TILE_NAMES(q16, 2), TILE_NAMES(q16, 3),
                                                  TILE_NAMES(q16, 4)};

/* Every tile of the product: row blocks in steps of TILE_R (the weights of one step stay in
 * cache while every sample passes), samples in steps of TILE_S. */
static void matmul(const tile_fn tiles[TILE_R][TILE_S], const unsigned char *x, size_t x_stride, size_t nb,
                   const unsigned char *w, uint32_t n_out_pad, size_t groups, int32_t *acc, size_t acc_stride)
{
    const uint32_t blocks = n_out_pad / KF_ROWS;
    const size_t w_stride = groups * 64;
    uint32_t rb;
    size_t s;
    for (rb = 0; rb < blocks; rb += TILE_R) {
        const uint32_t r = blocks - rb < TILE_R ? blocks - rb : TILE_R;
        for (s = 0; s < nb; s += TILE_S) {
            const size_t count = nb - s < TILE_S ? nb - s : TILE_S;
            tiles[r - 1][count - 1](x + s * x_stride, x_stride, w + rb * w_stride, w_stride, groups,
                                    acc + s * acc_stride + (size_t)rb * KF_ROWS, acc_stride);
        }
    }
}

void kf_q8_matmul_avx512(const uint8_t *x, size_t x_stride, size_t nb, const int8_t *w, uint32_t n_out_pad,
                         uint32_t n_in_pad, int32_t *acc, size_t acc_stride)
{
    matmul(q8_tiles, x, x_stride, nb, (const unsigned char *)w, n_out_pad, n_in_pad / KF_COLS8, acc, acc_stride);
}

void kf_q16_matmul_avx512(const int16_t *x, size_t x_stride, size_t nb, const int16_t *w, uint32_t n_out_pad,
                          uint32_t n_in_pad, int32_t *acc, size_t acc_stride)
{
    matmul(q16_tiles, (const unsigned char *)x, x_stride * sizeof(int16_t), nb, (const unsigned char *)w, n_out_pad,
           n_in_pad / KF_COLS16, acc, acc_stride);
}

/* ---- Requantization, tables and input quantization, sixteen lanes at a time ---- */

/* Lanes below n (of 16). */
static inline __mmask16 lanes(uint32_t n)
{
    return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u);
}

/* kf_requantize(sum, mult, shift) - t0 in 64-bit lanes (the low 32 bits of sum and mult,
 * sign-extended), clamped to [lo, hi]. With p = sum * mult and y = p >> (shift - 1) (a floor
 * division), (p + 2^(shift-1)) >> shift = (y + 1) >> 1, and minus t0 that is (y + c) >> 1 with
 * c = 1 - 2 t0: both exact for shift >= 1. shift1 holds shift - 1. */
static inline __m512i requant_half(__m512i sum, __m512i mult, __m512i shift1, __m512i c, __m512i lo, __m512i hi)
{
    const __m512i t = _mm512_srai_epi64(_mm512_add_epi64(_mm512_srav_epi64(_mm512_mul_epi32(sum, mult), shift1), c), 1);
    return _mm512_min_epi64(_mm512_max_epi64(t, lo), hi);
}

/* Sixteen outputs' direct table indices: clamp(kf_requantize(sum, mult, shift) - t0, 0, last),
 * shift1 = shift - 1, c = 1 - 2 t0. */
static inline __m512i direct_index(__m512i sum, __m512i mult, __m512i shift1, __m512i c, __m512i last)
{
    const __m512i low = _mm512_set1_epi64(0xffffffff), zero = _mm512_setzero_si512();
    const __m512i even = requant_half(sum, mult, _mm512_and_si512(shift1, low), c, zero, last);
    const __m512i odd = requant_half(_mm512_srli_epi64(sum, 32), _mm512_srli_epi64(mult, 32),
                                     _mm512_srli_epi64(shift1, 32), c, zero, last);
    /* both within [0, last] < 2^31: back into element order */
    return _mm512_mask_blend_epi32((__mmask16)0xaaaa, even, _mm512_slli_epi64(odd, 32));
}

/* Sixteen int32 values within the output range, stored as uint8 or int16 (lanes in mask). */
static inline void store_narrow16(__m512i v, void *out, uint32_t out_bits, __mmask16 mask)
{
    if (out_bits == 8)
        _mm512_mask_cvtepi32_storeu_epi8(out, mask, v);
    else
        _mm512_mask_cvtepi32_storeu_epi16(out, mask, v);
}

static void epilogue_direct(const int32_t *acc, const int32_t *bias, const int32_t *mult, const uint8_t *shift,
                            uint32_t n, int32_t t0, const int32_t *table, uint32_t last, void *out, uint32_t out_bits)
{
    const __m512i c = _mm512_set1_epi64(1 - 2 * (int64_t)t0), lastv = _mm512_set1_epi64(last);
    const __m512i one = _mm512_set1_epi32(1);
    const size_t elem = out_bits / 8;
    uint32_t j;
    for (j = 0; j < n; j += 16) {
        const __mmask16 m = lanes(n - j);
        const __m512i sum = _mm512_add_epi32(_mm512_maskz_loadu_epi32(m, acc + j), _mm512_maskz_loadu_epi32(m, bias + j));
        const __m512i sh1 = _mm512_sub_epi32(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, shift + j)), one);
        const __m512i idx = direct_index(sum, _mm512_maskz_loadu_epi32(m, mult + j), sh1, c, lastv);
        /* lanes beyond n hold indices within [0, last] too: the gather reads the table only */
        store_narrow16(_mm512_i32gather_epi32(idx, table, 4), (char *)out + j * elem, out_bits, m);
    }
}

/* Eight outputs of kf_epilogue_table_fn, one per 64-bit lane, stored as uint8 or int16. */
static inline void table_eighth(const int32_t *acc, const int32_t *bias, const int32_t *mult, const uint8_t *shift,
                                const kf_qtable *t, __mmask8 m, void *out, uint32_t out_bits)
{
    const __m512i one = _mm512_set1_epi64(1), k = _mm512_set1_epi64(t->seg_shift);
    const __m512i step = _mm512_sllv_epi64(one, k), bits = _mm512_set1_epi64(t->seg_shift + KF_QTABLE_FRAC_BITS);
    const __m256i sum = _mm256_add_epi32(_mm256_maskz_loadu_epi32(m, acc), _mm256_maskz_loadu_epi32(m, bias));
    const __m512i sh1 = _mm512_sub_epi64(_mm512_cvtepu8_epi64(_mm_maskz_loadu_epi8(m, shift)), one);
    const __m512i rel = requant_half(_mm512_cvtepi32_epi64(sum), _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(m, mult)),
                                     sh1, _mm512_set1_epi64(1 - 2 * (int64_t)t->t0), _mm512_setzero_si512(),
                                     _mm512_set1_epi64((int64_t)t->last << t->seg_shift));
    const __m512i i = _mm512_srlv_epi64(rel, k), f = _mm512_and_si512(rel, _mm512_sub_epi64(step, one));
    /* knots[i + 1] counts only where f > 0, i.e. i < last: clamp the index there */
    const __m512i a = _mm512_cvtepi32_epi64(_mm512_i64gather_epi32(i, t->knots, 4));
    const __m512i b = _mm512_cvtepi32_epi64(
        _mm512_i64gather_epi32(_mm512_min_epi64(_mm512_add_epi64(i, one), _mm512_set1_epi64(t->last)), t->knots, 4));
    __m512i v = _mm512_add_epi64(_mm512_mul_epi32(a, _mm512_sub_epi64(step, f)), _mm512_mul_epi32(b, f));
    v = _mm512_srav_epi64(_mm512_add_epi64(v, _mm512_sllv_epi64(one, _mm512_sub_epi64(bits, one))), bits);
    v = _mm512_min_epi64(_mm512_max_epi64(v, _mm512_set1_epi64(t->out_lo)), _mm512_set1_epi64(t->out_hi));
    if (out_bits == 8)
        _mm512_mask_cvtepi64_storeu_epi8(out, m, v);
    else
        _mm512_mask_cvtepi64_storeu_epi16(out, m, v);
}

static void epilogue_table(const int32_t *acc, const int32_t *bias, const int32_t *mult, const uint8_t *shift,
                           uint32_t n, const kf_qtable *table, void *out, uint32_t out_bits)
{
    const size_t elem = out_bits / 8;
    uint32_t j;
    for (j = 0; j < n; j += 8)
        table_eighth(acc + j, bias + j, mult + j, shift + j, table, (__mmask8)lanes(n - j < 8 ? n - j : 8),
                     (char *)out + j * elem, out_bits);
}

static void quantize(const float *x, uint32_t n, const float *inv, const int32_t *zero, int32_t lo, int32_t hi, void *out,
                     uint32_t out_bits)
{
    const __m512i lov = _mm512_set1_epi32(lo), hiv = _mm512_set1_epi32(hi);
    const __m512 half = _mm512_set1_ps(0.5f);
    const size_t elem = out_bits / 8;
    uint32_t i;
    for (i = 0; i < n; i += 16) {
        const __mmask16 m = lanes(n - i);
        const __m512i z = _mm512_maskz_loadu_epi32(m, zero + i);
        /* the scalar version's float operations: multiply, add, clamp, floor */
        __m512 v = _mm512_add_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, inv + i)), half);
        v = _mm512_max_ps(v, _mm512_cvtepi32_ps(_mm512_sub_epi32(lov, z)));
        v = _mm512_min_ps(v, _mm512_cvtepi32_ps(_mm512_sub_epi32(hiv, z)));
        v = _mm512_roundscale_ps(v, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
        store_narrow16(_mm512_add_epi32(_mm512_cvttps_epi32(v), z), (char *)out + i * elem, out_bits, m);
    }
}

const kf_kernels kf_kernels_avx512 = {
    .q8_matmul = kf_q8_matmul_avx512,
    .q16_matmul = kf_q16_matmul_avx512,
    .epilogue_direct = epilogue_direct,
    .epilogue_table = epilogue_table,
    .quantize = quantize,
    .gate_scores = kf_gate_scores_avx2,
    .dot8_fann = kf_dot8_fann_avx2,
    .dot8_packed_fann = kf_dot8_packed_fann_avx2,
    .quantize_dynamic = kf_quantize_dynamic_avx2,
    .top_k = kf_top_k_avx2,
};
