/* AVX-512 VNNI integer kernels (kernels.h): uint8 x int8 with vpdpbusd and int16 x int16 with
 * vpdpwssd, both exact into int32 (the accumulation bound is proven at load time). */
#include "kernels.h"

#include <immintrin.h>
#include <string.h>

#define SAMPLES 4

static inline __m512i broadcast32(const void *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm512_set1_epi32(v);
}

static void q8_matmul(const uint8_t *x, size_t x_stride, size_t nb, const int8_t *w, uint32_t n_out_pad,
                      uint32_t n_in_pad, int32_t *acc, size_t acc_stride)
{
    const uint32_t groups = n_in_pad / KF_COLS8;
    uint32_t rb, g;
    size_t s, k;
    for (rb = 0; rb < n_out_pad / KF_ROWS; rb++) {
        const int8_t *wr = w + (size_t)rb * groups * KF_ROWS * KF_COLS8;
        for (s = 0; s < nb; s += SAMPLES) {
            const size_t count = nb - s < SAMPLES ? nb - s : SAMPLES;
            __m512i sum[SAMPLES];
            for (k = 0; k < SAMPLES; k++)
                sum[k] = _mm512_setzero_si512();
            for (g = 0; g < groups; g++) {
                const __m512i wv = _mm512_loadu_si512((const void *)(wr + (size_t)g * KF_ROWS * KF_COLS8));
                for (k = 0; k < count; k++)
                    sum[k] = _mm512_dpbusd_epi32(sum[k], broadcast32(x + (s + k) * x_stride + (size_t)g * KF_COLS8), wv);
            }
            for (k = 0; k < count; k++)
                _mm512_storeu_si512((void *)(acc + (s + k) * acc_stride + (size_t)rb * KF_ROWS), sum[k]);
        }
    }
}

static void q16_matmul(const int16_t *x, size_t x_stride, size_t nb, const int16_t *w, uint32_t n_out_pad,
                       uint32_t n_in_pad, int32_t *acc, size_t acc_stride)
{
    const uint32_t groups = n_in_pad / KF_COLS16;
    uint32_t rb, g;
    size_t s, k;
    for (rb = 0; rb < n_out_pad / KF_ROWS; rb++) {
        const int16_t *wr = w + (size_t)rb * groups * KF_ROWS * KF_COLS16;
        for (s = 0; s < nb; s += SAMPLES) {
            const size_t count = nb - s < SAMPLES ? nb - s : SAMPLES;
            __m512i sum[SAMPLES];
            for (k = 0; k < SAMPLES; k++)
                sum[k] = _mm512_setzero_si512();
            for (g = 0; g < groups; g++) {
                const __m512i wv = _mm512_loadu_si512((const void *)(wr + (size_t)g * KF_ROWS * KF_COLS16));
                for (k = 0; k < count; k++)
                    sum[k] = _mm512_dpwssd_epi32(sum[k], broadcast32(x + (s + k) * x_stride + (size_t)g * KF_COLS16), wv);
            }
            for (k = 0; k < count; k++)
                _mm512_storeu_si512((void *)(acc + (s + k) * acc_stride + (size_t)rb * KF_ROWS), sum[k]);
        }
    }
}

const kf_kernels kf_kernels_avx512 = {
    .q8_matmul = q8_matmul,
    .q16_matmul = q16_matmul,
    .epilogue_direct = kf_epilogue_direct_avx2,
    .epilogue_table = kf_epilogue_table_avx2,
    .quantize = kf_quantize_avx2,
    .gate_scores = kf_gate_scores_avx2,
    .dot8_fann = kf_dot8_fann_avx2,
    .dot_packed_fann = kf_dot16_packed_fann_avx512,
    .packed_rows = 16,
    .quantize_dynamic = kf_quantize_dynamic_avx2,
    .top_k = kf_top_k_avx2,
    .fann_sums = kf_fann_sums_avx512,
    .fann_activate = kf_fann_activate_avx512,
    .exp_model = kf_exp_model_avx512,
    .fann_backprop = kf_fann_backprop_avx512,
    .fann_slopes = kf_fann_slopes_avx512,
    .fann_derive = kf_fann_derive_avx512,
    .transpose = kf_transpose_avx2,
    .fann_error_tanh = kf_fann_error_tanh_avx512,
};
