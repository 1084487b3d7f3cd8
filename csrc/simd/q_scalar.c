/* Scalar reference of the kernels (kernels.h): the integer ones on the packed weight layout, and
 * the float forward pass's sums in fann_run's order. */
#include "kernels.h"

#include "kfann.h"

#include <float.h>
#include <math.h>
#include <string.h>

static void q8_matmul(const uint8_t *x, size_t x_stride, size_t nb, const int8_t *w, uint32_t n_out,
                      uint32_t n_in_pad, int32_t *acc, size_t acc_stride)
{
    const uint32_t groups = n_in_pad / KF_COLS8;
    size_t s;
    uint32_t rb, g, r, c;
    for (s = 0; s < nb; s++) {
        const uint8_t *xs = x + s * x_stride;
        for (rb = 0; rb < KF_ROW_BLOCKS(n_out); rb++) {
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

static void q16_matmul(const int16_t *x, size_t x_stride, size_t nb, const int16_t *w, uint32_t n_out,
                       uint32_t n_in_pad, int32_t *acc, size_t acc_stride)
{
    const uint32_t groups = n_in_pad / KF_COLS16;
    size_t s;
    uint32_t rb, g, r, c;
    for (s = 0; s < nb; s++) {
        const int16_t *xs = x + s * x_stride;
        for (rb = 0; rb < KF_ROW_BLOCKS(n_out); rb++) {
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

void kf_epilogue_direct_scalar(const int32_t *acc, size_t acc_stride, size_t nb, const kf_qrequant *rq,
                               const kf_qtable *table, void *out, size_t out_stride, uint32_t out_bits)
{
    size_t s;
    uint32_t j;
    for (s = 0; s < nb; s++)
        for (j = 0; j < rq->n; j++) {
            int64_t rel = kf_requantize(acc[s * acc_stride + j] + rq->bias[j], rq->mult[j], rq->shift[j]) - table->t0;
            rel = rel < 0 ? 0 : (rel > (int64_t)table->last ? (int64_t)table->last : rel);
            if (out_bits == 8)
                ((uint8_t *)out)[s * out_stride + j] = table->bytes[rel];
            else
                ((int16_t *)out)[s * out_stride + j] = (int16_t)table->knots[rel];
        }
}

void kf_epilogue_table_scalar(const int32_t *acc, size_t acc_stride, size_t nb, const kf_qrequant *rq,
                              const kf_qtable *table, void *out, size_t out_stride, uint32_t out_bits)
{
    const int64_t span = (int64_t)table->last << table->seg_shift;
    size_t s;
    uint32_t j;
    for (s = 0; s < nb; s++)
        for (j = 0; j < rq->n; j++) {
            int64_t rel = kf_requantize(acc[s * acc_stride + j] + rq->bias[j], rq->mult[j], rq->shift[j]) - table->t0;
            int32_t v;
            rel = rel < 0 ? 0 : (rel > span ? span : rel);
            v = kf_qtable_value(table, rel);
            if (out_bits == 8)
                ((uint8_t *)out)[s * out_stride + j] = (uint8_t)v;
            else
                ((int16_t *)out)[s * out_stride + j] = (int16_t)v;
        }
}

/* floor(v) clamped to [lo_f, hi_f] (integers): clamp first, since floor commutes with clamping
 * to integers, then truncate toward zero and correct below zero. */
static inline int32_t clamped_floor(float v, float lo_f, float hi_f)
{
    int32_t t;
    if (v < lo_f)
        v = lo_f;
    if (v > hi_f)
        v = hi_f;
    t = (int32_t)v;
    return t - ((float)t > v);
}

static inline void store_one(void *out, size_t i, int32_t q, uint32_t out_bits)
{
    if (out_bits == 8)
        ((uint8_t *)out)[i] = (uint8_t)q;
    else
        ((int16_t *)out)[i] = (int16_t)q;
}

int kf_quantize_scalar(const float *x, size_t nb, const kf_qinput *q, void *out, size_t out_stride, uint32_t out_bits)
{
    size_t s;
    uint32_t i, bad = 0;
    for (s = 0; s < nb; s++)
        for (i = 0; i < q->n; i++) {
            const float v = x[s * q->n + i];
            uint32_t bits, special;
            memcpy(&bits, &v, sizeof bits);
            special = (bits & 0x7f800000u) == 0x7f800000u;
            bad |= special;
            /* a NaN would reach a float-to-int conversion (undefined): quantize 0 instead */
            store_one(out, s * out_stride + i,
                      clamped_floor((special ? 0.0f : v) * q->inv[i] + 0.5f, q->lo_f[i], q->hi_f[i]) + q->zero[i], out_bits);
        }
    return bad != 0;
}

void kf_quantize_step_scalar(const float *x, uint32_t n, float step, int32_t zero, int32_t lo, int32_t hi, void *out,
                             uint32_t out_bits)
{
    const float lo_f = (float)(lo - zero), hi_f = (float)(hi - zero);
    uint32_t i;
    for (i = 0; i < n; i++)
        store_one(out, i, clamped_floor(x[i] * step + 0.5f, lo_f, hi_f) + zero, out_bits);
}

uint32_t kf_abs_max_bits_scalar(const float *x, uint32_t n, uint32_t top)
{
    /* the bit patterns of |x| order as the values do, and inf and NaN are above every finite one */
    uint32_t i;
    for (i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, x + i, sizeof bits);
        bits &= 0x7fffffffu;
        top = bits > top ? bits : top;
    }
    return top;
}

float kf_dynamic_step(uint32_t top, int32_t qmax)
{
    float m, step;
    memcpy(&m, &top, sizeof m);
    step = top ? (float)qmax / m : 0.0f;
    /* below about 4e-37 the step overflows, and 0 * inf is NaN: the largest float still maps
     * every |x| <= m into range */
    return step <= FLT_MAX ? step : FLT_MAX;
}

uint32_t kf_quantize_dynamic_scalar(const float *x, uint32_t n, int32_t qmax, int32_t zero, int32_t lo, int32_t hi,
                                    void *out, uint32_t out_bits)
{
    const uint32_t top = kf_abs_max_bits_scalar(x, n, 0);
    if (top < 0x7f800000u)
        kf_quantize_step_scalar(x, n, kf_dynamic_step(top, qmax), zero, lo, hi, out, out_bits);
    return top;
}

void kf_top_k_scalar(const float *v, uint32_t n, uint32_t k, uint32_t *idx)
{
    float best[KF_MAX_TOP_K];
    uint32_t count = 0, e;
    for (e = 0; e < n; e++)
        kf_top_k_offer(best, idx, &count, k, v[e], e);
}

/* fmaf(x, y, s), bit for bit. Without a fused multiply-add instruction (baseline x86-64, wasm)
 * fmaf is a library call; instead: the product of two floats is exact in double, so one double
 * addition and a rounding to float give fmaf's result, unless that double lies halfway between
 * two floats (the second rounding could then go the wrong way) or below the smallest normal
 * float; those rare cases take fmaf. */
static inline float exact_fma(float x, float y, float s)
{
#if defined(__FP_FAST_FMAF) || defined(FP_FAST_FMAF)
    return fmaf(x, y, s);
#else
    const double r = (double)x * y + s;
    uint64_t bits;
    memcpy(&bits, &r, sizeof bits);
    if ((bits & 0x1fffffffu) == 0x10000000u || (fabs(r) < FLT_MIN && r != 0.0))
        return fmaf(x, y, s);
    return (float)r;
#endif
}

void kf_gate_scores_scalar(const float *x, size_t nb, uint32_t dim, const float *gates, const uint32_t *rows,
                           uint32_t n_rows, float *scores)
{
    size_t s;
    uint32_t e, i;
    for (s = 0; s < nb; s++)
        for (e = 0; e < n_rows; e++) {
            const float *g = gates + (size_t)(rows ? rows[e] : e) * dim, *xs = x + s * dim;
            float sum[8] = {0};
            for (i = 0; i < dim; i++)
                sum[i % 8] = exact_fma(xs[i], g[i], sum[i % 8]);
            scores[s * n_rows + e] = ((sum[0] + sum[4]) + (sum[2] + sum[6])) + ((sum[1] + sum[5]) + (sum[3] + sum[7]));
        }
}

float kf_dot_fann_scalar(const float *w, const float *v, uint32_t n)
{
    float sum = 0.0f;
    const float *end = w + n;
    const uint32_t r = n & 3u;
    if (r == 3)
        sum += w[2] * v[2];
    if (r >= 2)
        sum += w[1] * v[1];
    if (r >= 1)
        sum += w[0] * v[0];
    for (w += r, v += r; w != end; w += 4, v += 4)
        sum += w[0] * v[0] + w[1] * v[1] + w[2] * v[2] + w[3] * v[3];
    return sum;
}

void kf_dot4_fann_scalar(const float *w, const float *v, uint32_t n, float out[4])
{
    const float *w1 = w + n, *w2 = w + 2 * (size_t)n, *w3 = w + 3 * (size_t)n;
    float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
    uint32_t i;
    const uint32_t r = n & 3u;
    if (r == 3) {
        s0 += w[2] * v[2];
        s1 += w1[2] * v[2];
        s2 += w2[2] * v[2];
        s3 += w3[2] * v[2];
    }
    if (r >= 2) {
        s0 += w[1] * v[1];
        s1 += w1[1] * v[1];
        s2 += w2[1] * v[1];
        s3 += w3[1] * v[1];
    }
    if (r >= 1) {
        s0 += w[0] * v[0];
        s1 += w1[0] * v[0];
        s2 += w2[0] * v[0];
        s3 += w3[0] * v[0];
    }
    for (i = r; i < n; i += 4) {
        s0 += w[i] * v[i] + w[i + 1] * v[i + 1] + w[i + 2] * v[i + 2] + w[i + 3] * v[i + 3];
        s1 += w1[i] * v[i] + w1[i + 1] * v[i + 1] + w1[i + 2] * v[i + 2] + w1[i + 3] * v[i + 3];
        s2 += w2[i] * v[i] + w2[i + 1] * v[i + 1] + w2[i + 2] * v[i + 2] + w2[i + 3] * v[i + 3];
        s3 += w3[i] * v[i] + w3[i + 1] * v[i + 1] + w3[i + 2] * v[i + 2] + w3[i + 3] * v[i + 3];
    }
    out[0] = s0;
    out[1] = s1;
    out[2] = s2;
    out[3] = s3;
}

void kf_dot8_fann_scalar(const float *w, const float *v, uint32_t n, float out[8])
{
    kf_dot4_fann_scalar(w, v, n, out);
    kf_dot4_fann_scalar(w + 4 * (size_t)n, v, n, out + 4);
}

void kf_dot8_packed_fann_scalar(const float *w, const float *v, uint32_t n, uint32_t blocks, float *out)
{
    uint32_t b, i, q;
    for (b = 0; b < blocks; b++, w += (size_t)8 * n, out += 8) {
        float sum[8] = {0};
        for (i = n & 3u; i-- > 0;) /* the leading terms, last to first */
            for (q = 0; q < 8; q++)
                sum[q] += w[(size_t)i * 8 + q] * v[i];
        for (i = n & 3u; i < n; i += 4) {
            const float *w0 = w + (size_t)i * 8;
            for (q = 0; q < 8; q++)
                sum[q] += w0[q] * v[i] + w0[8 + q] * v[i + 1] + w0[16 + q] * v[i + 2] + w0[24 + q] * v[i + 3];
        }
        memcpy(out, sum, sizeof sum);
    }
}

/* Scalar peaks. Integers: eight chains of sum += w * x (the scalar kernels' operation), the
 * multiplier changing every round with the last sum so that no compiler can fold the rounds.
 * Float: sixteen chains of a multiply then an add (no contraction, as the float kernels). */
#define CHAINS8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define CHAINS16(X) CHAINS8(X) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)

uint64_t kf_peak_scalar(uint32_t kind, uint64_t rounds, uint32_t *sink)
{
    uint64_t r;
    if (kind == KF_PEAK_FLOAT) {
        const float m = 0.999f + (float)(*sink & 1) * 1e-7f, c = 1e-3f;
        float total = 0.0f;
#define DECLARE(k) float f##k = (float)(k);
#define STEP(k) f##k = f##k * m + c;
#define FOLD(k) total += f##k;
        CHAINS16(DECLARE)
        for (r = 0; r < rounds; r++) {
            CHAINS16(STEP)
        }
        CHAINS16(FOLD)
#undef DECLARE
#undef STEP
#undef FOLD
        memcpy(sink, &total, sizeof total);
        return rounds * 16;
    } else {
        uint32_t w = *sink | 1u, total = 0;
#define DECLARE(k) uint32_t s##k = 0, x##k = (*sink >> k & 0x7fu) | 1u;
#define STEP(k) s##k += w * x##k;
#define FOLD(k) total ^= s##k;
        CHAINS8(DECLARE)
        for (r = 0; r < rounds; r++) {
            CHAINS8(STEP)
            w ^= s7;
        }
        CHAINS8(FOLD)
#undef DECLARE
#undef STEP
#undef FOLD
        *sink = total;
        return rounds * 8;
    }
}

const kf_kernels kf_kernels_scalar = {
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
    .fann_sums = kf_fann_sums_scalar,
    .fann_activate = kf_fann_activate_scalar,
    .exp_model = kf_exp_model_scalar,
    .fann_backprop = kf_fann_backprop_scalar,
    .fann_slopes = kf_fann_slopes_scalar,
    .fann_derive = kf_fann_derive_scalar,
    .transpose = kf_transpose_scalar,
    .fann_error_tanh = kf_fann_error_tanh_scalar,
    .peak = kf_peak_scalar,
};
