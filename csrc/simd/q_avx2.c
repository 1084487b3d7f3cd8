/* AVX2 integer kernels (kernels.h). int8 weights and uint8 activations are widened to int16 and
 * multiplied with _mm256_madd_epi16, which is exact here (never _mm256_maddubs_epi16, which
 * saturates): the same int32 sums as the scalar reference. */
#include "kernels.h"

#include <immintrin.h>
#include <string.h>

/* Four uint8 activations as int16, repeated across the register: [x0 x1 x2 x3] x 4. */
static inline __m256i x4_u8(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return _mm256_broadcastq_epi64(_mm_cvtepu8_epi16(_mm_cvtsi32_si128((int)v)));
}

/* Rows 0-3 and 4-7 summed in halves ([r0a r0b r1a r1b | r2a r2b r3a r3b]) into [r0 .. r7]. */
static inline __m256i combine_halves(__m256i a, __m256i b)
{
    const __m256i order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
    return _mm256_permutevar8x32_epi32(_mm256_hadd_epi32(a, b), order);
}

static void q8_matmul(const uint8_t *x, size_t x_stride, size_t nb, const int8_t *w, uint32_t n_out_pad,
                      uint32_t n_in_pad, int32_t *acc, size_t acc_stride)
{
    const uint32_t groups = n_in_pad / KF_COLS8;
    uint32_t rb, g;
    size_t s;
    for (rb = 0; rb < n_out_pad / KF_ROWS; rb++) {
        const int8_t *wr = w + (size_t)rb * groups * KF_ROWS * KF_COLS8;
        for (s = 0; s < nb; s += 2) {
            const int two = s + 1 < nb;
            const uint8_t *x0 = x + s * x_stride, *x1 = two ? x0 + x_stride : x0;
            __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
            __m256i b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            int32_t *out;
            for (g = 0; g < groups; g++) {
                const int8_t *block = wr + (size_t)g * KF_ROWS * KF_COLS8;
                const __m256i w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)block));
                const __m256i w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(block + 16)));
                const __m256i w2 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(block + 32)));
                const __m256i w3 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(block + 48)));
                const __m256i v0 = x4_u8(x0 + g * KF_COLS8), v1 = x4_u8(x1 + g * KF_COLS8);
                a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(w0, v0));
                a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(w1, v0));
                a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(w2, v0));
                a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(w3, v0));
                b0 = _mm256_add_epi32(b0, _mm256_madd_epi16(w0, v1));
                b1 = _mm256_add_epi32(b1, _mm256_madd_epi16(w1, v1));
                b2 = _mm256_add_epi32(b2, _mm256_madd_epi16(w2, v1));
                b3 = _mm256_add_epi32(b3, _mm256_madd_epi16(w3, v1));
            }
            out = acc + s * acc_stride + (size_t)rb * KF_ROWS;
            _mm256_storeu_si256((__m256i *)out, combine_halves(a0, a1));
            _mm256_storeu_si256((__m256i *)(out + 8), combine_halves(a2, a3));
            if (two) {
                out += acc_stride;
                _mm256_storeu_si256((__m256i *)out, combine_halves(b0, b1));
                _mm256_storeu_si256((__m256i *)(out + 8), combine_halves(b2, b3));
            }
        }
    }
}

static void q16_matmul(const int16_t *x, size_t x_stride, size_t nb, const int16_t *w, uint32_t n_out_pad,
                       uint32_t n_in_pad, int32_t *acc, size_t acc_stride)
{
    const uint32_t groups = n_in_pad / KF_COLS16;
    uint32_t rb, g;
    size_t s;
    for (rb = 0; rb < n_out_pad / KF_ROWS; rb++) {
        const int16_t *wr = w + (size_t)rb * groups * KF_ROWS * KF_COLS16;
        for (s = 0; s < nb; s += 4) {
            const size_t count = nb - s < 4 ? nb - s : 4;
            __m256i lo[4], hi[4];
            size_t k;
            for (k = 0; k < 4; k++)
                lo[k] = hi[k] = _mm256_setzero_si256();
            for (g = 0; g < groups; g++) {
                const int16_t *block = wr + (size_t)g * KF_ROWS * KF_COLS16;
                const __m256i w0 = _mm256_loadu_si256((const __m256i *)block);
                const __m256i w1 = _mm256_loadu_si256((const __m256i *)(block + 16));
                for (k = 0; k < count; k++) {
                    int32_t pair;
                    __m256i v;
                    memcpy(&pair, x + (s + k) * x_stride + (size_t)g * KF_COLS16, sizeof pair);
                    v = _mm256_set1_epi32(pair);
                    lo[k] = _mm256_add_epi32(lo[k], _mm256_madd_epi16(w0, v));
                    hi[k] = _mm256_add_epi32(hi[k], _mm256_madd_epi16(w1, v));
                }
            }
            for (k = 0; k < count; k++) {
                int32_t *out = acc + (s + k) * acc_stride + (size_t)rb * KF_ROWS;
                _mm256_storeu_si256((__m256i *)out, lo[k]);
                _mm256_storeu_si256((__m256i *)(out + 8), hi[k]);
            }
        }
    }
}

const kf_kernels kf_kernels_avx2 = {q8_matmul, q16_matmul};
