/* Scalar reference of the integer kernels (kernels.h), on the packed weight layout. */
#include "kernels.h"

static void q8_matmul(const uint8_t *x, size_t x_stride, size_t nb, const int8_t *w, uint32_t n_out_pad,
                      uint32_t n_in_pad, int32_t *acc, size_t acc_stride)
{
    const uint32_t groups = n_in_pad / KF_COLS8;
    size_t s;
    uint32_t rb, g, r, c;
    for (s = 0; s < nb; s++) {
        const uint8_t *xs = x + s * x_stride;
        for (rb = 0; rb < n_out_pad / KF_ROWS; rb++) {
            int32_t sum[KF_ROWS] = {0};
            for (g = 0; g < groups; g++) {
                const int8_t *block = w + ((size_t)rb * groups + g) * KF_ROWS * KF_COLS8;
                for (r = 0; r < KF_ROWS; r++)
                    for (c = 0; c < KF_COLS8; c++)
                        sum[r] += (int32_t)block[r * KF_COLS8 + c] * xs[g * KF_COLS8 + c];
            }
            for (r = 0; r < KF_ROWS; r++)
                acc[s * acc_stride + rb * KF_ROWS + r] = sum[r];
        }
    }
}

static void q16_matmul(const int16_t *x, size_t x_stride, size_t nb, const int16_t *w, uint32_t n_out_pad,
                       uint32_t n_in_pad, int32_t *acc, size_t acc_stride)
{
    const uint32_t groups = n_in_pad / KF_COLS16;
    size_t s;
    uint32_t rb, g, r, c;
    for (s = 0; s < nb; s++) {
        const int16_t *xs = x + s * x_stride;
        for (rb = 0; rb < n_out_pad / KF_ROWS; rb++) {
            int32_t sum[KF_ROWS] = {0};
            for (g = 0; g < groups; g++) {
                const int16_t *block = w + ((size_t)rb * groups + g) * KF_ROWS * KF_COLS16;
                for (r = 0; r < KF_ROWS; r++)
                    for (c = 0; c < KF_COLS16; c++)
                        sum[r] += (int32_t)block[r * KF_COLS16 + c] * xs[g * KF_COLS16 + c];
            }
            for (r = 0; r < KF_ROWS; r++)
                acc[s * acc_stride + rb * KF_ROWS + r] = sum[r];
        }
    }
}

const kf_kernels kf_kernels_scalar = {q8_matmul, q16_matmul};
