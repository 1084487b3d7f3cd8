/* AMX kernels (kernels.h): the uint8 x int8 product on tiles (tdpbusd, exact into int32, as the
 * accumulation bound is proven at load time); everything else, and products too small for
 * tiles, from the AVX-512 table. Compiled with the AMX-TILE, AMX-INT8 and AVX-512 flags; the
 * path is offered only where CPUID, XCR0 and (on Linux) the kernel's permission allow AMX
 * (simd.c).
 *
 * Tiles: eight registers of 16 rows x 64 bytes. C0..C3 (tmm0-3) hold 32 samples x 32 outputs
 * of int32 sums, A0, A1 (tmm4, 5) 16 samples x 64 columns of activations each, B0, B1 (tmm6,
 * 7) 64 columns x 16 outputs of weights each. The packed weight layout (kernels.h) is AMX's
 * B layout already: 16 consecutive groups of one row block are a B tile, 64 bytes a row. So
 * for each 64 columns: two A loads, two B loads, four tdpbusd (2 x 2 tiles). Column tails (a
 * multiple of four below 64) and samples beyond the last 16 go through AVX-512 VNNI.
 *
 * Tile state belongs to the thread: the configuration is loaded at the start of every call and
 * released at its end, so nothing is left configured between calls. */
#include "kernels.h"

#include "kfann.h"

#include <immintrin.h>
#include <string.h>

/* The 64-byte tile configuration (palette 1): every tile 16 rows of 64 bytes. */
typedef struct tile_config {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;

static void configure(void)
{
    tile_config c;
    int t;
    memset(&c, 0, sizeof c);
    c.palette = 1;
    for (t = 0; t < 8; t++) {
        c.colsb[t] = 64;
        c.rows[t] = 16;
    }
    _tile_loadconfig(&c);
}

/* Sums over columns [c0, n_in_pad) (c0 a multiple of 4) added to acc, samples [0, nb), with
 * VNNI: the column tail of the tiled part. */
static void add_column_tail(const uint8_t *x, size_t x_stride, size_t nb, const int8_t *w, uint32_t n_out_pad,
                            uint32_t n_in_pad, uint32_t c0, int32_t *acc, size_t acc_stride)
{
    const size_t groups = n_in_pad / KF_COLS8;
    uint32_t rb;
    size_t s, g;
    for (s = 0; s < nb; s++)
        for (rb = 0; rb < n_out_pad / KF_ROWS; rb++) {
            int32_t *out = acc + s * acc_stride + (size_t)rb * KF_ROWS;
            __m512i sum = _mm512_loadu_si512((const void *)out);
            for (g = c0 / KF_COLS8; g < groups; g++) {
                int32_t v;
                memcpy(&v, x + s * x_stride + g * KF_COLS8, sizeof v);
                sum = _mm512_dpbusd_epi32(sum, _mm512_set1_epi32(v),
                                          _mm512_loadu_si512((const void *)(w + (rb * groups + g) * 64)));
            }
            _mm512_storeu_si512((void *)out, sum);
        }
}

/* One block of two sample tiles (rows s, s + 16) by two row blocks (b0 at w0, b1 at w1) over
 * kblocks blocks of 64 columns; the sums stored to acc (sample s, first output of b0). Row
 * block weights advance 1024 bytes (16 groups) per 64 columns. */
static void block_2x2(const uint8_t *x, size_t x_stride, const int8_t *w0, const int8_t *w1, size_t kblocks,
                      int32_t *acc, size_t acc_stride)
{
    const size_t xs = x_stride, cs = acc_stride * sizeof(int32_t);
    size_t k;
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (k = 0; k < kblocks; k++) {
        _tile_loadd(4, x + k * 64, xs);
        _tile_loadd(5, x + 16 * xs + k * 64, xs);
        _tile_loadd(6, w0 + k * 1024, 64);
        _tile_loadd(7, w1 + k * 1024, 64);
        _tile_dpbusd(0, 4, 6);
        _tile_dpbusd(1, 4, 7);
        _tile_dpbusd(2, 5, 6);
        _tile_dpbusd(3, 5, 7);
    }
    _tile_stored(0, acc, cs);
    _tile_stored(1, acc + KF_ROWS, cs);
    _tile_stored(2, acc + 16 * acc_stride, cs);
    _tile_stored(3, acc + 16 * acc_stride + KF_ROWS, cs);
}

/* The same with one sample tile and/or one row block (rows2, cols2: 0 or 1). */
static void block_small(const uint8_t *x, size_t x_stride, const int8_t *w0, const int8_t *w1, size_t kblocks,
                        int32_t *acc, size_t acc_stride, int rows2, int cols2)
{
    const size_t xs = x_stride, cs = acc_stride * sizeof(int32_t);
    size_t k;
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    for (k = 0; k < kblocks; k++) {
        _tile_loadd(4, x + k * 64, xs);
        _tile_loadd(6, w0 + k * 1024, 64);
        _tile_dpbusd(0, 4, 6);
        if (cols2) {
            _tile_loadd(7, w1 + k * 1024, 64);
            _tile_dpbusd(1, 4, 7);
        }
        if (rows2) {
            _tile_loadd(5, x + 16 * xs + k * 64, xs);
            _tile_dpbusd(2, 5, 6);
        }
    }
    _tile_stored(0, acc, cs);
    if (cols2)
        _tile_stored(1, acc + KF_ROWS, cs);
    if (rows2)
        _tile_stored(2, acc + 16 * acc_stride, cs);
}

static void q8_matmul(const uint8_t *x, size_t x_stride, size_t nb, const int8_t *w, uint32_t n_out,
                      uint32_t n_in_pad, int32_t *acc, size_t acc_stride)
{
    const size_t groups = n_in_pad / KF_COLS8, kblocks = n_in_pad / 64, tiled = nb / 16 * 16;
    const size_t w_stride = groups * 64; /* bytes between row blocks */
    const uint32_t blocks = KF_ROW_BLOCKS(n_out);
    size_t s;
    uint32_t rb;
    if (kblocks == 0 || tiled == 0) {
        kf_q8_matmul_avx512(x, x_stride, nb, w, n_out, n_in_pad, acc, acc_stride);
        return;
    }
    configure();
    /* Row block pairs outside, samples inside: a pair's weights (32 x n_in bytes) stay in
     * cache while the activations of every sample pass. */
    for (rb = 0; rb < blocks; rb += 2) {
        const int cols2 = rb + 1 < blocks;
        const int8_t *w0 = w + rb * w_stride, *w1 = cols2 ? w0 + w_stride : w0;
        for (s = 0; s + 32 <= tiled; s += 32)
            if (cols2)
                block_2x2(x + s * x_stride, x_stride, w0, w1, kblocks, acc + s * acc_stride + rb * KF_ROWS, acc_stride);
            else
                block_small(x + s * x_stride, x_stride, w0, w1, kblocks, acc + s * acc_stride + rb * KF_ROWS, acc_stride,
                            1, 0);
        if (s < tiled)
            block_small(x + s * x_stride, x_stride, w0, w1, kblocks, acc + s * acc_stride + rb * KF_ROWS, acc_stride, 0,
                        cols2);
    }
    _tile_release();
    if (kblocks * 64 < n_in_pad)
        add_column_tail(x, x_stride, tiled, w, blocks * KF_ROWS, n_in_pad, (uint32_t)kblocks * 64, acc, acc_stride);
    if (tiled < nb)
        kf_q8_matmul_avx512(x + tiled * x_stride, x_stride, nb - tiled, w, n_out, n_in_pad, acc + tiled * acc_stride,
                            acc_stride);
}

/* AMX peak (int8): four tdpbusd into four sum tiles per round from two A and two B tiles that
 * stay in registers, 16 x 16 x 64 multiply-accumulates each; int16 and float from the AVX-512
 * table (whose Q16 and float kernels this path uses). */
static uint64_t peak(uint32_t kind, uint64_t rounds, uint32_t *sink)
{
    unsigned char operands[1024];
    int32_t sums[16 * 16];
    uint64_t r;
    int i;
    if (kind != KF_PEAK_INT8)
        return kf_peak_avx512(kind, rounds, sink);
    for (i = 0; i < 1024; i++)
        operands[i] = (unsigned char)((*sink >> (i & 7)) & 0x3f);
    configure();
    _tile_loadd(4, operands, 64);
    _tile_loadd(5, operands, 64);
    _tile_loadd(6, operands, 64);
    _tile_loadd(7, operands, 64);
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (r = 0; r < rounds; r++) {
        _tile_dpbusd(0, 4, 6);
        _tile_dpbusd(1, 4, 7);
        _tile_dpbusd(2, 5, 6);
        _tile_dpbusd(3, 5, 7);
    }
    _tile_stored(0, sums, 64);
    *sink = (uint32_t)sums[0];
    _tile_stored(3, sums, 64);
    *sink ^= (uint32_t)sums[255];
    _tile_release();
    return rounds * 4 * 16 * 16 * 64;
}

const kf_kernels kf_kernels_amx = {
    .q8_matmul = q8_matmul,
    .q16_matmul = kf_q16_matmul_avx512,
    .epilogue_direct = kf_epilogue_direct_gather_avx512,
    .epilogue_table = kf_epilogue_table_avx512,
    .quantize = kf_quantize_avx512,
    .gate_scores = kf_gate_scores_avx2,
    .dot8_fann = kf_dot8_fann_avx2,
    .dot_packed_fann = kf_dot16_packed_fann_avx512,
    .packed_rows = 16,
    .quantize_dynamic = kf_quantize_dynamic_avx512,
    .top_k = kf_top_k_avx512,
    .fann_sums = kf_fann_sums_avx512,
    .fann_activate = kf_fann_activate_avx512,
    .exp_model = kf_exp_model_avx512,
    .fann_backprop = kf_fann_backprop_avx512,
    .fann_slopes = kf_fann_slopes_avx512,
    .fann_derive = kf_fann_derive_avx512,
    .transpose = kf_transpose_avx2,
    .fann_error_tanh = kf_fann_error_tanh_avx512,
    .peak = peak,
};
