/* WebAssembly SIMD128 integer kernels (kernels.h): int16 dot products with i32x4.dot_i16x8_s,
 * exact (not the relaxed-SIMD dot products, whose results are implementation-defined). */
#include "kernels.h"

#include "kfann.h"

#include <wasm_simd128.h>

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
            /* half[q]: rows 2q and 2q+1 of this block summed in pairs of columns. */
            v128_t half[8];
            for (q = 0; q < 8; q++)
                half[q] = wasm_i32x4_splat(0);
            for (g = 0; g < groups; g++) {
                const int8_t *block = wr + (size_t)g * KF_ROWS * KF_COLS8;
                const v128_t xv = wasm_u16x8_extend_low_u8x16(wasm_v128_load32_zero(xs + g * KF_COLS8));
                const v128_t x2 = wasm_i16x8_shuffle(xv, xv, 0, 1, 2, 3, 0, 1, 2, 3);
                for (q = 0; q < 8; q++)
                    half[q] = wasm_i32x4_add(half[q], wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(block + q * 8), x2));
            }
            for (q = 0; q < 8; q++) {
                /* lanes: row 2q (cols 0-1, 2-3), row 2q+1 (cols 0-1, 2-3) */
                acc[s * acc_stride + (size_t)rb * KF_ROWS + 2 * q] =
                    wasm_i32x4_extract_lane(half[q], 0) + wasm_i32x4_extract_lane(half[q], 1);
                acc[s * acc_stride + (size_t)rb * KF_ROWS + 2 * q + 1] =
                    wasm_i32x4_extract_lane(half[q], 2) + wasm_i32x4_extract_lane(half[q], 3);
            }
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
            v128_t sum[4];
            for (q = 0; q < 4; q++)
                sum[q] = wasm_i32x4_splat(0);
            for (g = 0; g < groups; g++) {
                const int16_t *block = wr + (size_t)g * KF_ROWS * KF_COLS16;
                const v128_t xv = wasm_i32x4_splat((int32_t)((uint32_t)(uint16_t)xs[g * 2] | ((uint32_t)(uint16_t)xs[g * 2 + 1] << 16)));
                for (q = 0; q < 4; q++) /* rows 4q .. 4q+3, two columns each */
                    sum[q] = wasm_i32x4_add(sum[q], wasm_i32x4_dot_i16x8(wasm_v128_load(block + q * 8), xv));
            }
            for (q = 0; q < 4; q++)
                wasm_v128_store(acc + s * acc_stride + (size_t)rb * KF_ROWS + q * 4, sum[q]);
        }
    }
}

/* SIMD128 peaks: twelve chains of i32x4.dot_i16x8_s plus an add (eight int16 multiply-
 * accumulates, the integer kernels' arithmetic) or of a float multiply then an add (four; no
 * fused multiply-add outside relaxed SIMD). Each chain's product reads its own sum: with
 * constant operands a compiler computes the product once, before the loop. */
#define CHAINS12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

static uint64_t peak(uint32_t kind, uint64_t rounds, uint32_t *sink)
{
    uint64_t r;
    if (kind == KF_PEAK_FLOAT) {
        const v128_t a = wasm_f32x4_splat(0.999f + (float)(*sink & 1) * 1e-7f), b = wasm_f32x4_splat(1e-3f);
        v128_t total = wasm_f32x4_splat(0.0f);
#define DECLARE(k) v128_t c##k = wasm_f32x4_splat((float)(k));
#define STEP(k) c##k = wasm_f32x4_add(wasm_f32x4_mul(c##k, a), b);
#define FOLD(k) total = wasm_f32x4_add(total, c##k);
        CHAINS12(DECLARE)
        for (r = 0; r < rounds; r++) {
            CHAINS12(STEP)
        }
        CHAINS12(FOLD)
#undef DECLARE
#undef STEP
#undef FOLD
        *sink = (uint32_t)wasm_i32x4_extract_lane(total, 0);
        return rounds * 12 * 4;
    } else {
        const v128_t b = wasm_i16x8_splat((int16_t)(*sink >> 8 & 0x7f));
        v128_t total = wasm_i32x4_splat(0);
#define DECLARE(k) v128_t c##k = wasm_i32x4_splat((int32_t)(*sink & 0x7f) + k);
#define STEP(k) c##k = wasm_i32x4_add(c##k, wasm_i32x4_dot_i16x8(c##k, b));
#define FOLD(k) total = wasm_v128_xor(total, c##k);
        CHAINS12(DECLARE)
        for (r = 0; r < rounds; r++) {
            CHAINS12(STEP)
        }
        CHAINS12(FOLD)
#undef DECLARE
#undef STEP
#undef FOLD
        *sink = (uint32_t)wasm_i32x4_extract_lane(total, 0);
        return rounds * 12 * 8;
    }
}

const kf_kernels kf_kernels_wasm = {
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
    .fann_sums = kf_fann_sums_wasm,
    .fann_activate = kf_fann_activate_scalar,
    .exp_model = kf_exp_model_scalar,
    .fann_backprop = kf_fann_backprop_wasm,
    .fann_slopes = kf_fann_slopes_wasm,
    .fann_derive = kf_fann_derive_scalar,
    .transpose = kf_transpose_scalar,
    .fann_error_tanh = kf_fann_error_tanh_scalar,
    .peak = peak,
};
