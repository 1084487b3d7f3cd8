/* NEON integer kernels (kernels.h): widen to int16, multiply-accumulate with vmlal_s16 into
 * int32 lanes, exact as the scalar reference. */
#include "kernels.h"

#include "kfann.h"

#include <arm_neon.h>
#include <string.h>

static void q8_matmul(const uint8_t *x, size_t x_stride, size_t nb, const int8_t *w, uint32_t n_out,
                      uint32_t n_in_pad, int32_t *acc, size_t acc_stride)
{
    const uint32_t groups = n_in_pad / KF_COLS8;
    uint32_t rb, g, q;
    size_t s;
    for (s = 0; s < nb; s++) {
        const uint8_t *xs = x + s * x_stride;
        for (rb = 0; rb < KF_ROW_BLOCKS(n_out); rb++) {
            const int8_t *wr = w + (size_t)rb * groups * KF_ROWS * KF_COLS8;
            /* sum[q] holds rows 4q .. 4q+3; each 4-column group adds four products per row. */
            int32x4_t sum[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
            for (g = 0; g < groups; g++) {
                const int8_t *block = wr + (size_t)g * KF_ROWS * KF_COLS8;
                uint32_t four;
                int16x4_t xv;
                memcpy(&four, xs + g * KF_COLS8, sizeof four); /* exactly this group's four bytes */
                xv = vget_low_s16(vreinterpretq_s16_u16(vmovl_u8(vcreate_u8((uint64_t)four))));
                for (q = 0; q < 4; q++) {
                    const int16x8_t w01 = vmovl_s8(vld1_s8(block + q * 16));     /* rows 4q, 4q+1 */
                    const int16x8_t w23 = vmovl_s8(vld1_s8(block + q * 16 + 8)); /* rows 4q+2, 4q+3 */
                    const int32x4_t p0 = vmull_s16(vget_low_s16(w01), xv), p1 = vmull_s16(vget_high_s16(w01), xv);
                    const int32x4_t p2 = vmull_s16(vget_low_s16(w23), xv), p3 = vmull_s16(vget_high_s16(w23), xv);
                    const int32x4_t r = {vaddvq_s32(p0), vaddvq_s32(p1), vaddvq_s32(p2), vaddvq_s32(p3)};
                    sum[q] = vaddq_s32(sum[q], r);
                }
            }
            for (q = 0; q < 4; q++)
                vst1q_s32(acc + s * acc_stride + (size_t)rb * KF_ROWS + q * 4, sum[q]);
        }
    }
}

static void q16_matmul(const int16_t *x, size_t x_stride, size_t nb, const int16_t *w, uint32_t n_out,
                       uint32_t n_in_pad, int32_t *acc, size_t acc_stride)
{
    const uint32_t groups = n_in_pad / KF_COLS16;
    uint32_t rb, g, q;
    size_t s;
    for (s = 0; s < nb; s++) {
        const int16_t *xs = x + s * x_stride;
        for (rb = 0; rb < KF_ROW_BLOCKS(n_out); rb++) {
            const int16_t *wr = w + (size_t)rb * groups * KF_ROWS * KF_COLS16;
            int32x4_t sum[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
            for (g = 0; g < groups; g++) {
                const int16_t *block = wr + (size_t)g * KF_ROWS * KF_COLS16;
                const int16x4_t xv = {xs[g * 2], xs[g * 2 + 1], xs[g * 2], xs[g * 2 + 1]};
                for (q = 0; q < 4; q++) {
                    const int16x8_t wv = vld1q_s16(block + q * 8); /* rows 4q .. 4q+3, two columns each */
                    const int32x4_t lo = vmull_s16(vget_low_s16(wv), xv), hi = vmull_s16(vget_high_s16(wv), xv);
                    sum[q] = vaddq_s32(sum[q], vpaddq_s32(lo, hi));
                }
            }
            for (q = 0; q < 4; q++)
                vst1q_s32(acc + s * acc_stride + (size_t)rb * KF_ROWS + q * 4, sum[q]);
        }
    }
}

/* NEON peaks: twelve chains of vmlal_s16 (four widening int16 multiply-accumulates into int32,
 * the integer kernels' arithmetic) or of vfmaq_f32 (four float fused multiply-adds). */
#define CHAINS12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

static uint64_t peak(uint32_t kind, uint64_t rounds, uint32_t *sink)
{
    uint64_t r;
    if (kind == KF_PEAK_FLOAT) {
        const float32x4_t a = vdupq_n_f32(0.999f + (float)(*sink & 1) * 1e-7f), b = vdupq_n_f32(1e-3f);
        float32x4_t total = vdupq_n_f32(0.0f);
        float out;
#define DECLARE(k) float32x4_t c##k = vdupq_n_f32((float)(k));
#define STEP(k) c##k = vfmaq_f32(c##k, a, b);
#define FOLD(k) total = vaddq_f32(total, c##k);
        CHAINS12(DECLARE)
        for (r = 0; r < rounds; r++) {
            CHAINS12(STEP)
        }
        CHAINS12(FOLD)
#undef DECLARE
#undef STEP
#undef FOLD
        out = vaddvq_f32(total);
        memcpy(sink, &out, sizeof out);
        return rounds * 12 * 4;
    } else {
        const int16x4_t a = vdup_n_s16((int16_t)(*sink & 0x7f)), b = vdup_n_s16((int16_t)(*sink >> 8 & 0x7f));
        int32x4_t total = vdupq_n_s32(0);
#define DECLARE(k) int32x4_t c##k = vdupq_n_s32(k);
#define STEP(k) c##k = vmlal_s16(c##k, a, b);
#define FOLD(k) total = veorq_s32(total, c##k);
        CHAINS12(DECLARE)
        for (r = 0; r < rounds; r++) {
            CHAINS12(STEP)
        }
        CHAINS12(FOLD)
#undef DECLARE
#undef STEP
#undef FOLD
        *sink = (uint32_t)vaddvq_s32(total);
        return rounds * 12 * 4;
    }
}

const kf_kernels kf_kernels_neon = {
    .q8_matmul = q8_matmul,
    .q16_matmul = q16_matmul,
    .epilogue_direct = kf_epilogue_direct_scalar,
    .epilogue_table = kf_epilogue_table_scalar,
    .quantize = kf_quantize_scalar,
    .gate_scores = kf_gate_scores_scalar,
    .dot8_fann = kf_dot8_fann_scalar,
    .dot_packed_fann = kf_dot8_packed_fann_scalar,
    .packed_rows = 8,
    .quantize_dynamic = kf_quantize_dynamic_scalar,
    .top_k = kf_top_k_scalar,
    .fann_sums = kf_fann_sums_neon,
    .fann_activate = kf_fann_activate_scalar,
    .exp_model = kf_exp_model_scalar,
    .fann_backprop = kf_fann_backprop_neon,
    .fann_slopes = kf_fann_slopes_neon,
    .fann_derive = kf_fann_derive_scalar,
    .transpose = kf_transpose_scalar,
    .fann_error_tanh = kf_fann_error_tanh_scalar,
    .peak = peak,
};
