/* The SIMD kernels: one table of function pointers per instruction set, each compiled in its
 * own file with its own flags. Every table computes the same integers as the scalar one.
 *
 * Packed weights (shared by every path): output rows in blocks of KF_ROWS, input columns in
 * groups of KF_COLS8 (int8 weights) or KF_COLS16 (int16 weights); within a group the KF_ROWS
 * rows follow each other, each with its group of columns:
 *   int8:  w[((rb * n_in_pad / 4 + g) * 16 + r) * 4 + c] = W[rb * 16 + r][g * 4 + c]
 *   int16: w[((rb * n_in_pad / 2 + g) * 16 + r) * 2 + c] = W[rb * 16 + r][g * 2 + c]
 * Rows are padded to a multiple of 16 and columns to a multiple of 4 with zero weights. */
#ifndef KF_KERNELS_H
#define KF_KERNELS_H

#include "exp_glibc.h"
#include "kfann.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h> /* _BitScanForward */
#endif

#define KF_ROWS 16
/* The row blocks of n rows. */
#define KF_ROW_BLOCKS(n) (((n) + KF_ROWS - 1) / KF_ROWS)
#define KF_COLS8 4
#define KF_COLS16 2
/* How far ahead of its reads the SIMD input quantizers prefetch a batch's float rows. A batch
 * larger than the caches streams its inputs from memory, a panel at a time between products:
 * the hardware prefetcher, which starts afresh at each panel, left a 768-input network's
 * quantizer waiting on memory (C 768-256-64 Q8 at batch 4096: 1.13 -> 0.88 us a row on the
 * AVX-512 path, 0.43 -> 0.38 on AMX). A prefetch never faults, past the batch's end included;
 * the address is formed as an integer so that no pointer leaves its array. */
#define KF_PREFETCH_BYTES 4096
/* Samples (or registers) whose table indices a kernel stores before it loads the entries one by
 * one: the Q8 and Q16 table epilogues and the exp activations. A load that reads part of a
 * vector store waits until the store has retired (no forwarding), and with the entries of the
 * others loaded in between that wait overlaps useful work (C microbenchmark on Zen 4, Q16 256 x
 * 256 at 96 samples: AVX-512 11.5 -> 7.4 ns per sixteen outputs). */
#define KF_KNOTS_AHEAD 8
/* Registers of sixteen values that the AVX-512 exp activations compute from their near exp
 * (exp_glibc.h) before they compute again, to libm's bits, the few of them with an unsure lane:
 * out of the main loop, whose constants a call inside it would push out of the registers. */
#define KF_NEAR_BLOCK 16

/* acc[s * acc_stride + j] = sum_i W[j][i] * x[s * x_stride + i] for s < nb, j < n_out, W packed
 * in KF_ROW_BLOCKS(n_out) blocks of KF_ROWS rows (kf_pack_weights, zero rows after n_out). The
 * sums of those zero rows are 0 or left as they were: a path whose tile covers half a block
 * skips a last half with no row wanted (eight router experts fill half a block). */
typedef void (*kf_q8_matmul_fn)(const uint8_t *x, size_t x_stride, size_t nb, const int8_t *w,
                                uint32_t n_out, uint32_t n_in_pad, int32_t *acc, size_t acc_stride);
/* The same with int16 activations and int16 weights. */
typedef void (*kf_q16_matmul_fn)(const int16_t *x, size_t x_stride, size_t nb, const int16_t *w,
                                 uint32_t n_out, uint32_t n_in_pad, int32_t *acc, size_t acc_stride);

/* An activation table (kfann.h, kf_qlayer_desc): knots[0 .. last] from t0 on, 2^seg_shift
 * apart. With seg_shift 0 a direct table: the outputs themselves. With seg_shift >= 1 an
 * interpolated one: knots in output units times 2^KF_QTABLE_FRAC_BITS, outputs clamped to
 * [out_lo, out_hi]. */
typedef struct kf_qtable {
    /* last + 1 knots, then KF_QKNOTS_PAD more: a SIMD path may read knots[i] and knots[i + 1]
     * as one 64-bit value at any i <= last (the second weighs nothing at i = last) */
    const int32_t *knots;
    int32_t t0;
    uint32_t seg_shift, last;
    int32_t out_lo, out_hi;
    /* A direct table's outputs as bytes, for out_bits 8 (what the direct epilogue reads then):
     * bytes[i] = knots[i] for i <= last, then KF_QBYTES_PAD bytes of padding, so that a SIMD
     * path can read four bytes at any index (a 32-bit gather) and keep the first. */
    const uint8_t *bytes;
} kf_qtable;
#define KF_QBYTES_PAD 3
#define KF_QKNOTS_PAD 1
/* The largest interpolated Q8 table that kf_qnet_create expands into a direct table of bytes:
 * last << seg_shift at most this (as many entries, plus one, as the largest direct table). */
#define KF_QEXPAND_MAX 65536u

/* The interpolated table's output at rel in [0, last << seg_shift] (kf_epilogue_table_fn). */
static inline int32_t kf_qtable_value(const kf_qtable *t, int64_t rel)
{
    const uint32_t k = t->seg_shift, bits = k + KF_QTABLE_FRAC_BITS;
    const int64_t one = (int64_t)1 << k, i = rel >> k, f = rel & (one - 1);
    int64_t v = (int64_t)t->knots[i] * (one - f); /* knots may be negative: no left shift */
    if (f)
        v += (int64_t)t->knots[i + 1] * f;
    v = (v + ((int64_t)1 << (bits - 1))) >> bits;
    return (int32_t)(v < t->out_lo ? t->out_lo : (v > t->out_hi ? t->out_hi : v));
}
/* A layer's requantization: n outputs, each with its bias, multiplier and shift (kfann.h). */
typedef struct kf_qrequant {
    const int32_t *bias, *mult;
    const uint8_t *shift;
    uint32_t n;
} kf_qrequant;
/* Requantize and look up a direct table, nb samples of rq->n outputs: for sample s, output j,
 * with a = acc[s * acc_stride + j] and t = ((a + bias[j]) * mult[j] + 2^(shift[j]-1)) >> shift[j]
 * in 64-bit integers, out[s * out_stride + j] = knots[clamp(t - t0, 0, last)], stored as uint8
 * (out_bits 8: read from table->bytes) or int16 (out_bits 16: from table->knots). */
typedef void (*kf_epilogue_fn)(const int32_t *acc, size_t acc_stride, size_t nb, const kf_qrequant *rq,
                               const kf_qtable *table, void *out, size_t out_stride, uint32_t out_bits);
/* The same with an interpolated table: with rel = clamp(t - t0, 0, last << seg_shift),
 * i = rel >> seg_shift, f = rel mod 2^seg_shift,
 * out = clamp((knots[i] * (2^seg_shift - f) + knots[i + 1] * f + 2^(b - 1)) >> b, out_lo, out_hi)
 * with b = seg_shift + KF_QTABLE_FRAC_BITS, in 64-bit integers (knots[i + 1] is not read when
 * f is 0). */
typedef kf_epilogue_fn kf_epilogue_table_fn;
/* A network's input quantization, per input i < n: inv[i], zero[i], and the clamp bounds
 * lo_f[i] = (float)(lo - zero[i]), hi_f[i] = (float)(hi - zero[i]) of the range [lo, hi]. */
typedef struct kf_qinput {
    const float *inv, *lo_f, *hi_f;
    const int32_t *zero;
    uint32_t n;
} kf_qinput;
/* Quantize nb samples of q->n inputs (sample s at x + s * q->n): out[s * out_stride + i] =
 * clamp(floor(x * inv[i] + 0.5), lo_f[i], hi_f[i]) + zero[i] in float arithmetic, i.e.
 * clamp(floor(x * inv[i] + 0.5) + zero[i], lo, hi), stored as uint8 (out_bits 8) or int16 (16).
 * Returns 0 when every x is finite, nonzero otherwise (out is then unspecified). */
typedef int (*kf_quantize_fn)(const float *x, size_t nb, const kf_qinput *q, void *out, size_t out_stride,
                              uint32_t out_bits);

/* Dynamic quantization of one row (a router input): m = max |x[i]|, step = qmax / m in float (0
 * when m is 0, at most FLT_MAX), then out[i] as kf_quantize_fn gives it with that step and zero for every input.
 * Returns m's bit pattern, which is 0x7f800000 or more when some x[i] is not finite (out is then
 * left untouched). */
typedef uint32_t (*kf_quantize_dynamic_fn)(const float *x, uint32_t n, int32_t qmax, int32_t zero, int32_t lo,
                                           int32_t hi, void *out, uint32_t out_bits);

/* The k largest of the finite values v[0 .. n) (1 <= k <= KF_MAX_TOP_K): their indices into idx
 * in descending order of value, ties to the lower index. No sort: each value either beats the
 * current k-th or is skipped (kf_top_k_offer). SIMD versions skip values that cannot be among
 * the k largest a vector at a time: those below a lower bound of the k-th (the k-th largest of
 * the maxima of disjoint groups of v: k elements reach it), or, once k are held, not above the
 * current k-th. The rest are offered in order: the offered values hold the k largest in their
 * order, so every path makes the same choices. */
typedef void (*kf_top_k_fn)(const float *v, uint32_t n, uint32_t k, uint32_t *idx);

/* Router scores with float gates for nb samples: scores[s * n_rows + e] = sum_i x[s * dim + i]
 * * gates[row * dim + i] for row = rows[e] (or e when rows is NULL), accumulated in eight partial sums with fused multiply-adds (element i
 * into sum i % 8: s = fma(x, g, s); a partial last block leaves the other sums as they are),
 * combined as ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7)). A fused multiply-add rounds
 * once, exactly as C's fmaf does: every path gives the same bits. */
typedef void (*kf_gate_scores_fn)(const float *x, size_t nb, uint32_t dim, const float *gates, const uint32_t *rows,
                                  uint32_t n_rows, float *scores);

/* The float forward pass's sums, in fann_run's order (libfann's bits): a neuron over sources
 * v[0..n) adds its n % 4 leading terms last to first, then groups of four, each group added left
 * to right before it joins the running sum. One row: */
typedef float (*kf_dot_fann_fn)(const float *w, const float *v, uint32_t n);
/* Eight neurons with adjacent weight rows (row q at w + q * n) over the same sources: out[q]
 * is what kf_dot_fann_fn gives for row q. SIMD versions compute the eight side by side, one
 * lane per neuron, doing in each lane exactly the scalar operations. */
typedef void (*kf_dot8_fann_fn)(const float *w, const float *v, uint32_t n, float out[8]);
/* The same for `blocks` adjacent blocks of the path's packed_rows rows R (8, or 16 on AVX-512),
 * each interleaved (block b at w + b * R * n, w_b[i * R + q] = row q's weight i; kf_net's
 * weights_packed): out[b * R + q]. Blocks run side by side, independent sums. */
typedef void (*kf_dot_packed_fann_fn)(const float *w, const float *v, uint32_t n, uint32_t blocks, float *out);

/* Samples per panel of the float batch pass: a panel holds each neuron's values for KF_PANEL
 * samples side by side (row j at j * KF_PANEL), so that one vector holds one neuron's value for
 * several samples and the weights are broadcast. */
#define KF_PANEL 64
/* Panels run in multiples of this many samples (the widest vector); the rows of unused samples
 * hold finite values (zero inputs) that no result reads. */
#define KF_PANEL_STEP 16
/* The sums of m neurons with adjacent weight rows (row q at w + q * n) over the same n sources,
 * for a panel of `count` samples (a multiple of KF_PANEL_STEP, at most KF_PANEL): with
 * v[i * KF_PANEL + s] source i's value for sample s, out[q * KF_PANEL + s] is what
 * kf_dot_fann_fn gives for row q and that sample's values, fann_run's order in every lane.
 * out does not overlap v. */
typedef void (*kf_fann_sums_fn)(const float *w, uint32_t n, uint32_t m, const float *v, uint32_t count, float *out);
/* One neuron over count samples (or count neurons of one sample sharing activation and
 * steepness, any count): sum[s] = kf_steep_sum(steepness,
 * raw[s]) (stored when sum is not NULL) and value[s] = kf_activation_apply(activation, sum[s]),
 * the same bits; exp is libm's through the model exp_kind names (exp_glibc.h). value may be raw. */
typedef void (*kf_fann_activate_fn)(kf_activation activation, float steepness, kf_exp_kind exp_kind,
                                    const float *raw, float *sum, float *value, uint32_t count);
/* Backpropagation through m neurons with adjacent weight rows over the same n sources, for a
 * panel: for q = 0 .. m-1 in turn, err[i * KF_PANEL + s] += e[q * KF_PANEL + s] * w[q * n + i]
 * for every source i < n and sample s < count (a multiple of KF_PANEL_STEP) -- fann_backpropagate_MSE's
 * operations in each lane. e and err do not overlap. */
typedef void (*kf_fann_backprop_fn)(const float *w, uint32_t n, uint32_t m, const float *e, uint32_t count,
                                    float *err);
/* The slope sums of m neurons with adjacent slope rows over the same n sources, samples in
 * order: for s = 0 .. count-1 in turn, slopes[q * n + i] += e[q * KF_PANEL + s] * vt[s * ldv + i]
 * (vt: the sources' values, one row per sample) -- fann_update_slopes_batch's operations. */
typedef void (*kf_fann_slopes_fn)(const float *e, const float *vt, size_t ldv, uint32_t n, uint32_t m,
                                  uint32_t count, float *slopes);
/* err[s] *= kf_activation_derived(activation, steepness, value[s], sum[s]) for s < count (any
 * count), the same bits. */
typedef void (*kf_fann_derive_fn)(kf_activation activation, float steepness, const float *value, const float *sum,
                                  float *err, uint32_t count);
/* FANN's tanh error function (fann_compute_MSE with FANN_ERRORFUNC_TANH) on count output errors,
 * in place: d[s] = kf_error_tanh(d[s]), the same bits (libm's log). */
typedef void (*kf_fann_error_tanh_fn)(float *d, uint32_t count);
/* The vector kf_fann_error_tanh's log: log((1 + d) / (1 - d)) = k ln 2 + log m, m in [0.75, 1.5),
 * log m = 2 atanh(s), s = (m - 1) / (m + 1) in [-1/7, 1/5), by atanh's series to s^17 (its
 * coefficients highest first, evaluated by Estrin's scheme): the terms left out are below 2^-45.5
 * of the log, and with the rounding within 2^-45.2. A lane keeps its float when everything within
 * 2^-43 of the approximation y (relative) rounds to it -- the true log and libm's, within an ulp of
 * it, then do. That margin is at most KF_ATANH_UNSURE_ULPS units in y's last place, and rounding to
 * float is monotonic: the float is sure unless y's 29 bits below a float's mantissa lie within
 * that many units of the midpoint pattern 2^28 (across a power of two both sides round to it).
 * The others (about one in 2^18), and NaN and subnormal floats, go to kf_error_tanh. */
#define KF_ATANH_TERMS 9
#define KF_ATANH_SERIES {1.0 / 17, 1.0 / 15, 1.0 / 13, 1.0 / 11, 1.0 / 9, 1.0 / 7, 1.0 / 5, 1.0 / 3, 1.0}
#define KF_ATANH_UNSURE_ULPS (1 << 10)
/* dst[c * ldd + r] = src[r * lds + c] for r < rows, c < cols (no overlap): between row-major
 * samples and a panel's rows. Returns 1 when every value copied is finite, 0 otherwise: a
 * caller that must refuse NaN and infinity checks its data here, where it is read anyway. */
typedef int (*kf_transpose_fn)(const float *src, size_t lds, uint32_t rows, uint32_t cols, float *dst, size_t ldd);
/* y[i] = kf_exp_model(x[i], kind) for i < n, the same bits (kind FUSED or UNFUSED): the exp
 * inside the path's activations, on its own so that tests can hold it against libm. */
typedef void (*kf_exp_model_fn)(const double *x, double *y, uint32_t n, kf_exp_kind kind);

/* A register-only multiply-accumulate loop, rounds times, of kind (kf_peak_kind) with the
 * instruction this path's kernels of that kind use; returns the multiply-accumulates done.
 * *sink seeds the operands and receives a value that depends on every sum, so that no compiler
 * drops or folds the work. Timed by the caller: the path's peak. */
typedef uint64_t (*kf_peak_fn)(uint32_t kind, uint64_t rounds, uint32_t *sink);

typedef struct kf_kernels {
    kf_q8_matmul_fn q8_matmul;
    /* q8_matmul's products for activations of at most 127, on paths with a faster kernel for
     * them (AVX2, whose byte multiply-add saturates beyond), else NULL: a float router's int8
     * screen then quantizes its inputs to 7 bits */
    kf_q8_matmul_fn q7_matmul;
    kf_q16_matmul_fn q16_matmul;
    kf_epilogue_fn epilogue_direct;
    kf_epilogue_table_fn epilogue_table;
    kf_quantize_fn quantize;
    kf_gate_scores_fn gate_scores;
    kf_dot8_fann_fn dot8_fann;
    kf_dot_packed_fann_fn dot_packed_fann;
    uint32_t packed_rows; /* rows that dot_packed_fann sums together: 8 or 16 */
    kf_quantize_dynamic_fn quantize_dynamic;
    kf_top_k_fn top_k;
    kf_fann_sums_fn fann_sums;
    kf_fann_activate_fn fann_activate;
    kf_exp_model_fn exp_model;
    kf_fann_backprop_fn fann_backprop;
    kf_fann_slopes_fn fann_slopes;
    kf_fann_derive_fn fann_derive;
    kf_transpose_fn transpose;
    kf_fann_error_tanh_fn fann_error_tanh;
    kf_peak_fn peak;
} kf_kernels;

/* FANN's tanh error function of one output error (already halved for symmetric outputs). */
static inline float kf_error_tanh(float diff)
{
    if (diff < -.9999999)
        return -17.0f;
    if (diff > .9999999)
        return 17.0f;
    return (float)log((1.0 + diff) / (1.0 - diff));
}

/* FANN's piecewise-linear "stepwise" activations: outputs r[0..5] at the six breakpoints v[0..5],
 * interpolated in double between them, lo below v[0] and hi from v[5] on. */
typedef struct kf_stepwise {
    float v[6], r[6], lo, hi;
} kf_stepwise;
/* The breakpoints of sigmoid_stepwise or sigmoid_symmetric_stepwise (activation.c), NULL for
 * any other activation. */
const kf_stepwise *kf_stepwise_of(kf_activation a);

/* FANN's derivative of activation a at (steepness, value, sum) (activation.c). */
float kf_activation_derived(kf_activation a, float steepness, float value, float sum);

/* FANN's weighted sum times the neuron's steepness, bounded to +-150 / steepness (fann_run). */
static inline float kf_steep_sum(float steepness, float sum)
{
    sum = steepness * sum;
    if (steepness != 0.0f) {
        const float max_sum = 150.0f / steepness;
        if (sum > max_sum)
            sum = max_sum;
        else if (sum < -max_sum)
            sum = -max_sum;
    }
    return sum;
}

/* v (index e) joins the running selection best/idx (count entries, descending) if there is room
 * or it beats the k-th; a later equal value never displaces an earlier one. */
static inline void kf_top_k_offer(float *best, uint32_t *idx, uint32_t *count, uint32_t k, float v, uint32_t e)
{
    uint32_t at;
    if (*count == k && !(v > best[k - 1]))
        return;
    at = *count < k ? (*count)++ : k - 1;
    while (at > 0 && v > best[at - 1]) {
        best[at] = best[at - 1];
        idx[at] = idx[at - 1];
        at--;
    }
    best[at] = v;
    idx[at] = e;
}

/* The index of the lowest set bit of a nonzero mask. */
static inline uint32_t kf_lowest_bit(uint32_t mask)
{
#if defined(_MSC_VER) && !defined(__clang__)
    unsigned long i;
    _BitScanForward(&i, mask);
    return (uint32_t)i;
#else
    return (uint32_t)__builtin_ctz(mask);
#endif
}

/* The set bits of a mask. */
static inline uint32_t kf_popcount(uint32_t mask)
{
#if defined(_MSC_VER) && !defined(__clang__)
    mask = mask - ((mask >> 1) & 0x55555555u);
    mask = (mask & 0x33333333u) + ((mask >> 2) & 0x33333333u);
    return (((mask + (mask >> 4)) & 0x0f0f0f0fu) * 0x01010101u) >> 24;
#else
    return (uint32_t)__builtin_popcount(mask);
#endif
}

/* The scalar versions, which the other paths also use for their last few elements. */
void kf_epilogue_direct_scalar(const int32_t *acc, size_t acc_stride, size_t nb, const kf_qrequant *rq,
                               const kf_qtable *table, void *out, size_t out_stride, uint32_t out_bits);
void kf_epilogue_table_scalar(const int32_t *acc, size_t acc_stride, size_t nb, const kf_qrequant *rq,
                              const kf_qtable *table, void *out, size_t out_stride, uint32_t out_bits);
int kf_quantize_scalar(const float *x, size_t nb, const kf_qinput *q, void *out, size_t out_stride,
                       uint32_t out_bits);
/* kf_quantize_fn's arithmetic with one step and zero point for all n inputs. */
void kf_quantize_step_scalar(const float *x, uint32_t n, float step, int32_t zero, int32_t lo, int32_t hi, void *out,
                             uint32_t out_bits);
/* The running maximum of |x[i]|'s bit pattern over n values, starting from top, and the step
 * qmax / m of kf_quantize_dynamic_fn for the finite m whose bit pattern is top. */
uint32_t kf_abs_max_bits_scalar(const float *x, uint32_t n, uint32_t top);
float kf_dynamic_step(uint32_t top, int32_t qmax);
uint32_t kf_quantize_dynamic_scalar(const float *x, uint32_t n, int32_t qmax, int32_t zero, int32_t lo, int32_t hi,
                                    void *out, uint32_t out_bits);
void kf_top_k_scalar(const float *v, uint32_t n, uint32_t k, uint32_t *idx);
uint64_t kf_peak_scalar(uint32_t kind, uint64_t rounds, uint32_t *sink);
void kf_gate_scores_scalar(const float *x, size_t nb, uint32_t dim, const float *gates, const uint32_t *rows,
                           uint32_t n_rows, float *scores);
float kf_dot_fann_scalar(const float *w, const float *v, uint32_t n);
/* Four rows (row q at w + q * n), as kf_dot8_fann_fn does eight. */
void kf_dot4_fann_scalar(const float *w, const float *v, uint32_t n, float out[4]);
void kf_dot8_fann_scalar(const float *w, const float *v, uint32_t n, float out[8]);
void kf_dot8_packed_fann_scalar(const float *w, const float *v, uint32_t n, uint32_t blocks, float *out);
void kf_fann_sums_avx512(const float *w, uint32_t n, uint32_t m, const float *v, uint32_t count, float *out);
void kf_fann_activate_avx512(kf_activation activation, float steepness, kf_exp_kind exp_kind, const float *raw,
                             float *sum, float *value, uint32_t count);
void kf_dot16_packed_fann_avx512(const float *w, const float *v, uint32_t n, uint32_t blocks, float *out);
void kf_exp_model_avx512(const double *x, double *y, uint32_t n, kf_exp_kind kind);
void kf_fann_sums_avx2(const float *w, uint32_t n, uint32_t m, const float *v, uint32_t count, float *out);
void kf_fann_activate_avx2(kf_activation activation, float steepness, kf_exp_kind exp_kind, const float *raw,
                           float *sum, float *value, uint32_t count);
void kf_exp_model_avx2(const double *x, double *y, uint32_t n, kf_exp_kind kind);
void kf_exp_model_scalar(const double *x, double *y, uint32_t n, kf_exp_kind kind);
void kf_fann_backprop_scalar(const float *w, uint32_t n, uint32_t m, const float *e, uint32_t count, float *err);
void kf_fann_slopes_scalar(const float *e, const float *vt, size_t ldv, uint32_t n, uint32_t m, uint32_t count,
                           float *slopes);
void kf_fann_derive_scalar(kf_activation activation, float steepness, const float *value, const float *sum,
                           float *err, uint32_t count);
void kf_fann_sums_neon(const float *w, uint32_t n, uint32_t m, const float *v, uint32_t count, float *out);
void kf_fann_backprop_neon(const float *w, uint32_t n, uint32_t m, const float *e, uint32_t count, float *err);
void kf_fann_slopes_neon(const float *e, const float *vt, size_t ldv, uint32_t n, uint32_t m, uint32_t count,
                         float *slopes);
void kf_fann_sums_wasm(const float *w, uint32_t n, uint32_t m, const float *v, uint32_t count, float *out);
void kf_fann_backprop_wasm(const float *w, uint32_t n, uint32_t m, const float *e, uint32_t count, float *err);
void kf_fann_slopes_wasm(const float *e, const float *vt, size_t ldv, uint32_t n, uint32_t m, uint32_t count,
                         float *slopes);
void kf_fann_error_tanh_scalar(float *d, uint32_t count);
void kf_fann_error_tanh_avx2(float *d, uint32_t count);
void kf_fann_error_tanh_avx512(float *d, uint32_t count);
int kf_transpose_scalar(const float *src, size_t lds, uint32_t rows, uint32_t cols, float *dst, size_t ldd);
int kf_transpose_avx2(const float *src, size_t lds, uint32_t rows, uint32_t cols, float *dst, size_t ldd);
void kf_fann_backprop_avx512(const float *w, uint32_t n, uint32_t m, const float *e, uint32_t count, float *err);
void kf_fann_slopes_avx512(const float *e, const float *vt, size_t ldv, uint32_t n, uint32_t m, uint32_t count,
                           float *slopes);
void kf_fann_derive_avx512(kf_activation activation, float steepness, const float *value, const float *sum,
                           float *err, uint32_t count);
void kf_fann_backprop_avx2(const float *w, uint32_t n, uint32_t m, const float *e, uint32_t count, float *err);
void kf_fann_slopes_avx2(const float *e, const float *vt, size_t ldv, uint32_t n, uint32_t m, uint32_t count,
                         float *slopes);
void kf_fann_derive_avx2(kf_activation activation, float steepness, const float *value, const float *sum,
                         float *err, uint32_t count);
void kf_fann_sums_scalar(const float *w, uint32_t n, uint32_t m, const float *v, uint32_t count, float *out);
void kf_fann_activate_scalar(kf_activation activation, float steepness, kf_exp_kind exp_kind, const float *raw,
                             float *sum, float *value, uint32_t count);
/* The AVX2 float sums, shared by the AVX-512 table. */
void kf_dot8_fann_avx2(const float *w, const float *v, uint32_t n, float out[8]);
void kf_dot8_packed_fann_avx2(const float *w, const float *v, uint32_t n, uint32_t blocks, float *out);
/* The AVX2 Q8 products (q8_avx2.c, a file of its own for its compiler flags). */
void kf_q7_matmul_avx2(const uint8_t *x, size_t x_stride, size_t nb, const int8_t *w, uint32_t n_out,
                       uint32_t n_in_pad, int32_t *acc, size_t acc_stride);
void kf_q8_matmul_avx2(const uint8_t *x, size_t x_stride, size_t nb, const int8_t *w, uint32_t n_out,
                       uint32_t n_in_pad, int32_t *acc, size_t acc_stride);
/* The AVX2 dynamic quantization and top-k selection, shared by the AVX-512 table. */
uint32_t kf_quantize_dynamic_avx2(const float *x, uint32_t n, int32_t qmax, int32_t zero, int32_t lo, int32_t hi,
                                  void *out, uint32_t out_bits);
void kf_top_k_avx2(const float *v, uint32_t n, uint32_t k, uint32_t *idx);
/* The AVX2 peak loops (float: FMA), the AVX-512 table's float one. */
uint64_t kf_peak_avx2(uint32_t kind, uint64_t rounds, uint32_t *sink);
/* The AVX-512 kernels that the AMX table shares. */
void kf_q8_matmul_avx512(const uint8_t *x, size_t x_stride, size_t nb, const int8_t *w, uint32_t n_out,
                         uint32_t n_in_pad, int32_t *acc, size_t acc_stride);
void kf_q16_matmul_avx512(const int16_t *x, size_t x_stride, size_t nb, const int16_t *w, uint32_t n_out,
                          uint32_t n_in_pad, int32_t *acc, size_t acc_stride);
void kf_epilogue_direct_avx512(const int32_t *acc, size_t acc_stride, size_t nb, const kf_qrequant *rq,
                               const kf_qtable *table, void *out, size_t out_stride, uint32_t out_bits);
void kf_epilogue_direct_gather_avx512(const int32_t *acc, size_t acc_stride, size_t nb, const kf_qrequant *rq,
                                      const kf_qtable *table, void *out, size_t out_stride, uint32_t out_bits);
void kf_epilogue_table_avx512(const int32_t *acc, size_t acc_stride, size_t nb, const kf_qrequant *rq,
                              const kf_qtable *table, void *out, size_t out_stride, uint32_t out_bits);
uint64_t kf_peak_avx512(uint32_t kind, uint64_t rounds, uint32_t *sink);
uint32_t kf_quantize_dynamic_avx512(const float *x, uint32_t n, int32_t qmax, int32_t zero, int32_t lo, int32_t hi,
                                    void *out, uint32_t out_bits);
void kf_top_k_avx512(const float *v, uint32_t n, uint32_t k, uint32_t *idx);
int kf_quantize_avx512(const float *x, size_t nb, const kf_qinput *q, void *out, size_t out_stride,
                       uint32_t out_bits);
/* The AVX2 gate scores, shared by the AVX-512 table. */
void kf_gate_scores_avx2(const float *x, size_t nb, uint32_t dim, const float *gates, const uint32_t *rows,
                         uint32_t n_rows, float *scores);

extern const kf_kernels kf_kernels_scalar;
extern const kf_kernels kf_kernels_avx2;
extern const kf_kernels kf_kernels_avx512;
extern const kf_kernels kf_kernels_amx;

extern const kf_kernels kf_kernels_neon;
extern const kf_kernels kf_kernels_wasm;

#endif
