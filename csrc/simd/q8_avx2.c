/* The AVX2 Q8 products (kernels.h's kf_q8_matmul_fn): int8 weights and uint8 activations widened
 * to int16 and multiplied with _mm256_madd_epi16, which is exact here (never
 * _mm256_maddubs_epi16, which saturates): the same int32 sums as the scalar reference.
 *
 * A file of its own for its flags. gcc's partial redundancy elimination, seeing the two halves
 * of each row combined after the loop, kept one of q8_half_block4's eight sums on the stack and
 * copied the others between registers at every group: nine extra instructions to eight
 * multiply-adds. CMakeLists.txt compiles this file with -fno-tree-pre under gcc (Q8 at batch 4096
 * on the AVX2 path, Zen 4: A, B and C 5-6% faster). */
#include "kernels.h"

#include <immintrin.h>
#include <string.h>

/* Rows 0-3 and 4-7 summed in halves ([r0a r0b r1a r1b | r2a r2b r3a r3b]) into [r0 .. r7]. */
static inline __m256i combine_halves(__m256i a, __m256i b)
{
    const __m256i order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
    return _mm256_permutevar8x32_epi32(_mm256_hadd_epi32(a, b), order);
}

/* 16 rows x 4 columns of weights, widened to int16: rows 4q .. 4q+3 in w[q]. */
static inline void load_group(const int8_t *block, __m256i w[4])
{
    w[0] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)block));
    w[1] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(block + 16)));
    w[2] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(block + 32)));
    w[3] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(block + 48)));
}

/* A group's four activations (already int16) repeated across the register. */
static inline __m256i x_group(const int16_t *x16)
{
    int64_t v;
    memcpy(&v, x16, sizeof v);
    return _mm256_set1_epi64x(v);
}

#define CHUNK 512 /* columns widened to int16 at a time */

/* Eight rows (half a row block: rows 8h .. 8h+7) by four samples over groups g0 .. g1 - 1, added
 * to (first: stored into) their sums: two widened weight registers serve four samples, so the
 * widening (a shuffle) costs a quarter of the multiply-adds instead of half. */
static inline void q8_half_block4(const int8_t *wr, int h, uint32_t g0, uint32_t g1, const int16_t *x16, int32_t *out,
                                  size_t acc_stride, int first)
{
    __m256i a[4][2], wv[2];
    uint32_t g;
    int k;
    for (k = 0; k < 4; k++)
        a[k][0] = a[k][1] = _mm256_setzero_si256();
    for (g = g0; g < g1; g++) {
        const int8_t *block = wr + (size_t)g * KF_ROWS * KF_COLS8 + h * 32;
        wv[0] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)block));
        wv[1] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(block + 16)));
        for (k = 0; k < 4; k++) {
            const __m256i v = x_group(x16 + (size_t)k * CHUNK + (g - g0) * KF_COLS8);
            a[k][0] = _mm256_add_epi32(a[k][0], _mm256_madd_epi16(wv[0], v));
            a[k][1] = _mm256_add_epi32(a[k][1], _mm256_madd_epi16(wv[1], v));
        }
    }
    for (k = 0; k < 4; k++) {
        __m256i *p = (__m256i *)(out + k * acc_stride + h * 8);
        const __m256i sums = combine_halves(a[k][0], a[k][1]);
        _mm256_storeu_si256(p, first ? sums : _mm256_add_epi32(_mm256_loadu_si256(p), sums));
    }
}

void kf_q8_matmul_avx2(const uint8_t *x, size_t x_stride, size_t nb, const int8_t *w, uint32_t n_out,
                       uint32_t n_in_pad, int32_t *acc, size_t acc_stride)
{
    const uint32_t groups = n_in_pad / KF_COLS8;
    int16_t x16[4][CHUNK];
    uint32_t rb, g, c0, i;
    size_t s = 0;
    for (; s + 4 <= nb; s += 4) /* four samples at a time, in half row blocks */
        for (c0 = 0; c0 < n_in_pad; c0 += CHUNK) {
            const uint32_t cols = n_in_pad - c0 < CHUNK ? n_in_pad - c0 : CHUNK;
            const uint32_t g0 = c0 / KF_COLS8, g1 = g0 + cols / KF_COLS8;
            size_t k;
            for (k = 0; k < 4; k++)
                for (i = 0; i < cols; i++)
                    x16[k][i] = x[(s + k) * x_stride + c0 + i];
            for (rb = 0; rb < KF_ROW_BLOCKS(n_out); rb++) {
                const int8_t *wr = w + (size_t)rb * groups * KF_ROWS * KF_COLS8;
                int32_t *out = acc + s * acc_stride + (size_t)rb * KF_ROWS;
                q8_half_block4(wr, 0, g0, g1, x16[0], out, acc_stride, c0 == 0);
                if (rb * KF_ROWS + 8 < n_out) /* else no row of the second half is wanted */
                    q8_half_block4(wr, 1, g0, g1, x16[0], out, acc_stride, c0 == 0);
            }
        }
    for (; s < nb; s += 2) {
        const size_t count = nb - s < 2 ? 1 : 2;
        for (c0 = 0; c0 < n_in_pad; c0 += CHUNK) {
            const uint32_t cols = n_in_pad - c0 < CHUNK ? n_in_pad - c0 : CHUNK;
            const uint32_t g0 = c0 / KF_COLS8, g1 = g0 + cols / KF_COLS8;
            size_t k;
            for (k = 0; k < count; k++)
                for (i = 0; i < cols; i++)
                    x16[k][i] = x[(s + k) * x_stride + c0 + i];
            for (rb = 0; rb < KF_ROW_BLOCKS(n_out); rb++) {
                const int8_t *wr = w + (size_t)rb * groups * KF_ROWS * KF_COLS8;
                int32_t *out0 = acc + s * acc_stride + (size_t)rb * KF_ROWS, *out1 = out0 + acc_stride;
                __m256i a[4], b[4], wv[4];
                int q;
                for (q = 0; q < 4; q++)
                    a[q] = b[q] = _mm256_setzero_si256();
                if (count == 2) {
                    for (g = g0; g < g1; g++) {
                        const __m256i v0 = x_group(x16[0] + (g - g0) * KF_COLS8), v1 = x_group(x16[1] + (g - g0) * KF_COLS8);
                        load_group(wr + (size_t)g * KF_ROWS * KF_COLS8, wv);
                        for (q = 0; q < 4; q++) {
                            a[q] = _mm256_add_epi32(a[q], _mm256_madd_epi16(wv[q], v0));
                            b[q] = _mm256_add_epi32(b[q], _mm256_madd_epi16(wv[q], v1));
                        }
                    }
                } else {
                    for (g = g0; g < g1; g++) {
                        const __m256i v0 = x_group(x16[0] + (g - g0) * KF_COLS8);
                        load_group(wr + (size_t)g * KF_ROWS * KF_COLS8, wv);
                        for (q = 0; q < 4; q++)
                            a[q] = _mm256_add_epi32(a[q], _mm256_madd_epi16(wv[q], v0));
                    }
                }
                if (c0 == 0) {
                    _mm256_storeu_si256((__m256i *)out0, combine_halves(a[0], a[1]));
                    _mm256_storeu_si256((__m256i *)(out0 + 8), combine_halves(a[2], a[3]));
                    if (count == 2) {
                        _mm256_storeu_si256((__m256i *)out1, combine_halves(b[0], b[1]));
                        _mm256_storeu_si256((__m256i *)(out1 + 8), combine_halves(b[2], b[3]));
                    }
                } else { /* later column chunks add to the first one's sums */
                    __m256i *p0 = (__m256i *)out0, *p1 = (__m256i *)out1;
                    _mm256_storeu_si256(p0, _mm256_add_epi32(_mm256_loadu_si256(p0), combine_halves(a[0], a[1])));
                    _mm256_storeu_si256(p0 + 1, _mm256_add_epi32(_mm256_loadu_si256(p0 + 1), combine_halves(a[2], a[3])));
                    if (count == 2) {
                        _mm256_storeu_si256(p1, _mm256_add_epi32(_mm256_loadu_si256(p1), combine_halves(b[0], b[1])));
                        _mm256_storeu_si256(p1 + 1, _mm256_add_epi32(_mm256_loadu_si256(p1 + 1), combine_halves(b[2], b[3])));
                    }
                }
            }
        }
    }
}

/* kernels.h's q7_matmul: the Q8 products for activations of at most 127. _mm256_maddubs_epi16
 * adds two products of at most 127 x 128 in magnitude, which int16 holds, so that nothing
 * saturates; _mm256_madd_epi16 with ones then adds the pairs into int32. Seven instructions per
 * 64 multiply-adds where widening the weights takes thirteen at one sample (the float router's
 * screen at batch 1), and fewer than the four-sample tile's too. A row block's weights stay in
 * L1 while every sample passes over them. */
void kf_q7_matmul_avx2(const uint8_t *x, size_t x_stride, size_t nb, const int8_t *w, uint32_t n_out,
                       uint32_t n_in_pad, int32_t *acc, size_t acc_stride)
{
    const __m256i ones = _mm256_set1_epi16(1);
    const uint32_t groups = n_in_pad / KF_COLS8;
    uint32_t rb, g;
    size_t s;
    for (rb = 0; rb < KF_ROW_BLOCKS(n_out); rb++) {
        const int8_t *wr = w + (size_t)rb * groups * KF_ROWS * KF_COLS8;
        const int upper = rb * KF_ROWS + 8 < n_out; /* a row of the second half is wanted */
        for (s = 0; s < nb; s++) {
            const uint8_t *xs = x + s * x_stride;
            __m256i lo = _mm256_setzero_si256(), hi = _mm256_setzero_si256(); /* rows 0-7, 8-15 */
            for (g = 0; g < groups; g++) {
                const __m256i *block = (const __m256i *)(wr + (size_t)g * KF_ROWS * KF_COLS8);
                int32_t four;
                __m256i v;
                memcpy(&four, xs + (size_t)g * KF_COLS8, sizeof four);
                v = _mm256_set1_epi32(four);
                lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_maddubs_epi16(v, _mm256_loadu_si256(block)), ones));
                if (upper)
                    hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_maddubs_epi16(v, _mm256_loadu_si256(block + 1)), ones));
            }
            _mm256_storeu_si256((__m256i *)(acc + s * acc_stride + (size_t)rb * KF_ROWS), lo);
            if (upper)
                _mm256_storeu_si256((__m256i *)(acc + s * acc_stride + (size_t)rb * KF_ROWS + 8), hi);
        }
    }
}
