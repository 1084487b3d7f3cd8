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

const kf_kernels kf_kernels_avx512 = {
    .q8_matmul = kf_q8_matmul_avx512,
    .q16_matmul = kf_q16_matmul_avx512,
    .epilogue_direct = kf_epilogue_direct_avx2,
    .epilogue_table = kf_epilogue_table_avx2,
    .quantize = kf_quantize_avx2,
    .gate_scores = kf_gate_scores_avx2,
    .dot8_fann = kf_dot8_fann_avx2,
    .dot8_packed_fann = kf_dot8_packed_fann_avx2,
    .quantize_dynamic = kf_quantize_dynamic_avx2,
    .top_k = kf_top_k_avx2,
};
