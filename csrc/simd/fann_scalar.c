/* Scalar reference of the float batch kernels (kernels.h): a panel's sums in fann_run's order,
 * the activations through kf_activation_apply, which calls libm as libfann does, and the
 * training passes (backpropagation, slopes, derivatives) in libfann's order. */
#include "kernels.h"

#include <string.h>

#define LANES 8 /* samples summed side by side (independent sums: compilers may vectorise) */

void kf_fann_sums_scalar(const float *w, uint32_t n, uint32_t m, const float *v, uint32_t count, float *out)
{
    const uint32_t r = n & 3u;
    uint32_t q, s0, s, i;
    for (q = 0; q < m; q++) {
        const float *wq = w + (size_t)q * n;
        for (s0 = 0; s0 < count; s0 += LANES) {
            const float *vs = v + s0;
            float acc[LANES] = {0};
            for (i = r; i-- > 0;) /* the leading terms, last to first */
                for (s = 0; s < LANES; s++)
                    acc[s] += wq[i] * vs[(size_t)i * KF_PANEL + s];
            for (i = r; i < n; i += 4) {
                const float *v0 = vs + (size_t)i * KF_PANEL;
                for (s = 0; s < LANES; s++)
                    acc[s] += wq[i] * v0[s] + wq[i + 1] * v0[KF_PANEL + s] + wq[i + 2] * v0[2 * KF_PANEL + s]
                            + wq[i + 3] * v0[3 * KF_PANEL + s];
            }
            for (s = 0; s < LANES; s++)
                out[(size_t)q * KF_PANEL + s0 + s] = acc[s];
        }
    }
}

void kf_fann_activate_scalar(kf_activation activation, float steepness, kf_exp_kind exp_kind, const float *raw,
                             float *sum, float *value, uint32_t count)
{
    uint32_t s;
    (void)exp_kind; /* libm itself */
    for (s = 0; s < count; s++) {
        const float x = kf_steep_sum(steepness, raw[s]);
        if (sum)
            sum[s] = x;
        value[s] = kf_activation_apply(activation, x);
    }
}

void kf_exp_model_scalar(const double *x, double *y, uint32_t n, kf_exp_kind kind)
{
    uint32_t i;
    for (i = 0; i < n; i++)
        y[i] = kf_exp_model(x[i], kind);
}

void kf_fann_backprop_scalar(const float *w, uint32_t n, uint32_t m, const float *e, uint32_t count, float *err)
{
    uint32_t q, i, s;
    for (q = 0; q < m; q++)
        for (i = 0; i < n; i++) {
            const float wi = w[(size_t)q * n + i];
            float *row = err + (size_t)i * KF_PANEL;
            for (s = 0; s < count; s++)
                row[s] += e[(size_t)q * KF_PANEL + s] * wi;
        }
}

void kf_fann_slopes_scalar(const float *e, const float *vt, size_t ldv, uint32_t n, uint32_t m, uint32_t count,
                           float *slopes)
{
    uint32_t q, i, s;
    for (s = 0; s < count; s++)
        for (q = 0; q < m; q++) {
            const float eq = e[(size_t)q * KF_PANEL + s];
            float *row = slopes + (size_t)q * n;
            for (i = 0; i < n; i++)
                row[i] += eq * vt[s * ldv + i];
        }
}

void kf_fann_derive_scalar(kf_activation activation, float steepness, const float *value, const float *sum,
                           float *err, uint32_t count)
{
    uint32_t s;
    for (s = 0; s < count; s++)
        err[s] *= kf_activation_derived(activation, steepness, value[s], sum[s]);
}

/* The finiteness test is kf_all_finite's: exponent bits all ones for NaN and infinity only. */
int kf_transpose_scalar(const float *src, size_t lds, uint32_t rows, uint32_t cols, float *dst, size_t ldd)
{
    uint32_t r, c, bad = 0;
    for (r = 0; r < rows; r++)
        for (c = 0; c < cols; c++) {
            uint32_t bits;
            memcpy(&bits, src + r * lds + c, sizeof bits);
            bad |= (bits & 0x7f800000u) == 0x7f800000u;
            dst[c * ldd + r] = src[r * lds + c];
        }
    return !bad;
}

void kf_fann_error_tanh_scalar(float *d, uint32_t count)
{
    uint32_t s;
    for (s = 0; s < count; s++)
        d[s] = kf_error_tanh(d[s]);
}
