/* The router: gate scores (float, or quantized through the fixed-point kernels), top-k selection
 * without sorting, and the selected experts' weights.
 *
 * Large float routers also keep an int8 copy of their gates that screens the experts: its exact
 * integer scores, with a proven bound on how far each lies from the float score (screen_sample),
 * leave the few experts that can be among the top k, and only those are scored in float. The
 * choices and weights are the bits of scoring every expert; the int8 pass reads a quarter of
 * the bytes and runs on the integer kernels. */
#include "internal.h"

#include "../simd/kernels.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

#define RBLOCK 32 /* samples scored together */
/* Float routers screen through int8 gates from this many experts on, and at least this many
 * times top_k: below that, the screen leaves a third of the experts or more, and scoring them
 * after it costs more than scoring every expert (measured at dim 768, top 8: 64 experts lose,
 * 96 gain at batch 1 and tie at 256). */
#define SCREEN_MIN_EXPERTS 96u
#define SCREEN_MIN_RATIO 8u
/* Above this many inputs an int8 dot product could overflow int32 (127 * 255 * dim). */
#define SCREEN_MAX_DIM 66000u

struct kf_router {
    uint32_t n_experts, dim, top_k, scoring, gate_bits, has_bias;
    uint32_t screened; /* float gates with an int8 copy in packed */
    uint32_t dim_pad, experts_pad; /* padded sizes of the packed quantized gates */
    float scaling;
    kf_simd path;       /* the active path when the router was created */
    uint32_t supported; /* kf_simd_mask() then */
    float *gates;      /* float gates [n_experts * dim], or NULL */
    void *packed;      /* quantized gates (or a float router's int8 copy) in the kernels' layout, or NULL */
    float *gate_scale; /* [n_experts] */
    float *reach_x;    /* [n_experts] of a screened router: times ||x||, the bound on |score - int8 score| */
    float *reach_r;    /* [n_experts] of a screened router: times ||x - x8||, the rest of that bound */
    int32_t *row_sum;  /* [n_experts] sum of each quantized row (for the input zero point) */
    float *bias;       /* [n_experts] */
};

static uint32_t round_up(uint32_t n, uint32_t m)
{
    return (n + m - 1) / m * m;
}

static int screens(const kf_router_desc *d)
{
    return d->gate_bits == 32 && d->n_experts >= SCREEN_MIN_EXPERTS && d->n_experts >= SCREEN_MIN_RATIO * d->top_k
           && d->dim <= SCREEN_MAX_DIM;
}

/* The router's single block (arena.h): the struct, the gates (float, packed for the kernels,
 * or both), then a scale, a row sum and a bias per expert, and a screened router's norms. */
static void router_layout(kf_arena *a, void *obj, const void *ctx)
{
    const kf_router_desc *d = ctx;
    kf_router *r = kf_arena_take(a, 1, sizeof *r);
    (void)obj;
    if (d->gate_bits == 32)
        KF_CARVE(a, r, gates, (uint64_t)d->n_experts * d->dim);
    if (d->gate_bits != 32 || screens(d)) {
        void *packed = kf_arena_take(a, (uint64_t)round_up(d->dim, KF_COLS8) * round_up(d->n_experts, KF_ROWS),
                                     d->gate_bits == 16 ? 2 : 1);
        if (r)
            r->packed = packed;
    }
    KF_CARVE(a, r, gate_scale, d->n_experts);
    KF_CARVE(a, r, row_sum, d->n_experts);
    KF_CARVE(a, r, bias, d->n_experts);
    KF_CARVE(a, r, reach_x, screens(d) ? d->n_experts : 0);
    KF_CARVE(a, r, reach_r, screens(d) ? d->n_experts : 0);
}

/* A float router's int8 copy: each row on its own scale (largest |g| at 127), and the norms
 * that bound the copy's error (screen_sample), widened by 2^-19 of themselves. */
static void build_screen(kf_router *r)
{
    const uint64_t padded = (uint64_t)r->dim_pad * r->experts_pad;
    const double m = (double)((r->dim + 7) / 8 + 3), gamma = m * 0x1p-24 / (1 - m * 0x1p-24);
    uint32_t e, i;
    memset(r->packed, 0, (size_t)padded);
    for (e = 0; e < r->n_experts; e++) {
        const float *g = r->gates + (size_t)e * r->dim;
        float amax = 0.0f, step;
        double err = 0, norm8 = 0, norm = 0;
        int32_t sum = 0;
        for (i = 0; i < r->dim; i++)
            amax = fabsf(g[i]) > amax ? fabsf(g[i]) : amax;
        step = amax / 127.0f;
        for (i = 0; i < r->dim; i++) {
            double q = step > 0 ? floor((double)g[i] / step + 0.5) : 0;
            double approx;
            q = q > 127 ? 127 : q < -127 ? -127 : q;
            approx = q * step; /* exact: 8 bits times 24 */
            err += ((double)g[i] - approx) * ((double)g[i] - approx);
            norm8 += approx * approx;
            norm += (double)g[i] * g[i];
            sum += (int32_t)q;
            ((int8_t *)r->packed)[kf_packed_index(e, i, r->dim, 8)] = (int8_t)q;
        }
        r->gate_scale[e] = step;
        r->row_sum[e] = sum;
        r->reach_x[e] = (float)((gamma * sqrt(norm) + sqrt(err)) * (1 + 0x1p-19));
        r->reach_r[e] = (float)(sqrt(norm8) * (1 + 0x1p-19));
    }
}

kf_status kf_router_create(const kf_router_desc *d, kf_router **out, kf_diag *diag)
{
    uint32_t e, i;
    kf_router *r;
    kf_status st;
    const int quantized = d && (d->gate_bits == 8 || d->gate_bits == 16);
    kf_diag_clear(diag);
    if (out == NULL || d == NULL)
        return KF_E_ARG;
    *out = NULL;
    if (d->n_experts < 1 || d->n_experts > KF_MAX_EXPERTS || d->dim < 1 || d->dim > KF_MAX_NEURONS
        || (uint64_t)d->n_experts * d->dim > KF_MAX_CONNECTIONS) {
        kf_diag_set(diag, 0, "need 1 to %u experts and 1 to %u inputs", KF_MAX_EXPERTS, KF_MAX_NEURONS);
        return KF_E_LIMIT;
    }
    if (d->top_k < 1 || d->top_k > d->n_experts || d->top_k > KF_MAX_TOP_K) {
        kf_diag_set(diag, 0, "top_k=%u: expected 1 to min(%u, n_experts=%u)", d->top_k, KF_MAX_TOP_K, d->n_experts);
        return KF_E_ARG;
    }
    if (d->scoring > KF_SCORING_SIGMOID || !isfinite(d->scaling) || !(d->scaling > 0)) {
        kf_diag_set(diag, 0, "scoring must be softmax or sigmoid and scaling a positive number");
        return KF_E_ARG;
    }
    if (d->gate_bits != 32 && !quantized) {
        kf_diag_set(diag, 0, "gate_bits=%u: expected 32, 16 or 8", d->gate_bits);
        return KF_E_ARG;
    }
    if (quantized ? (d->gates_q == NULL || d->gate_scale == NULL) : d->gates == NULL) {
        kf_diag_set(diag, 0, "the gate matrix is missing");
        return KF_E_ARG;
    }
    for (e = 0; e < d->n_experts; e++) {
        if (d->bias && !isfinite(d->bias[e])) {
            kf_diag_set(diag, 0, "bias[%u] is not finite", e);
            return KF_E_NUMERIC;
        }
        if (quantized && (!isfinite(d->gate_scale[e]) || d->gate_scale[e] < 0)) {
            kf_diag_set(diag, 0, "gate_scale[%u] must be finite and >= 0", e);
            return KF_E_NUMERIC;
        }
    }
    for (i = 0; i < d->n_experts * d->dim; i++) {
        if (!quantized && !isfinite(d->gates[i])) {
            kf_diag_set(diag, 0, "gate weight %u is not finite", i);
            return KF_E_NUMERIC;
        }
        if (quantized && (d->gate_bits == 8 ? (d->gates_q[i] < -128 || d->gates_q[i] > 127) : d->gates_q[i] == INT16_MIN)) {
            kf_diag_set(diag, 0, "quantized gate weight %u is outside the %u-bit range", i, d->gate_bits);
            return KF_E_ARG;
        }
    }
    /* Quantized inputs reach 255 (8 bits, zero point 128) or 32767: every row's sum of |w|
     * times that must stay within int32, as in the fixed-point engine. */
    if (quantized)
        for (e = 0; e < d->n_experts; e++) {
            int64_t bound = 0;
            for (i = 0; i < d->dim; i++) {
                const int64_t w = d->gates_q[(uint64_t)e * d->dim + i];
                bound += (w < 0 ? -w : w) * (d->gate_bits == 8 ? 255 : 32767);
            }
            if (bound > INT32_MAX) {
                kf_diag_set(diag, 0, "gate row %u can overflow a 32-bit accumulator", e);
                return KF_E_ARG;
            }
        }
    st = kf_arena_new(router_layout, d, (void **)&r);
    if (st != KF_OK)
        return st;
    r->dim_pad = round_up(d->dim, KF_COLS8);
    r->experts_pad = round_up(d->n_experts, KF_ROWS);
    r->n_experts = d->n_experts;
    r->dim = d->dim;
    r->top_k = d->top_k;
    r->scoring = d->scoring;
    r->gate_bits = d->gate_bits;
    r->scaling = d->scaling;
    r->screened = (uint32_t)screens(d);
    (void)kf_simd_active(&r->path);
    r->supported = kf_simd_mask();
    if (quantized)
        kf_pack_weights(d->gates_q, d->n_experts, d->dim, r->packed, d->gate_bits == 8 ? 8 : 16);
    else
        memcpy(r->gates, d->gates, sizeof(float) * (size_t)d->n_experts * d->dim);
    if (r->screened)
        build_screen(r);
    for (e = 0; quantized && e < d->n_experts; e++) {
        int32_t sum = 0;
        for (i = 0; i < d->dim; i++)
            sum += d->gates_q[(uint64_t)e * d->dim + i];
        r->gate_scale[e] = d->gate_scale[e];
        r->row_sum[e] = sum;
    }
    kf_router_set_bias(r, d->bias);
    *out = r;
    return KF_OK;
}

void kf_router_free(kf_router *r)
{
    kf_block_free(r);
}

kf_status kf_router_set_bias(kf_router *r, const float *bias)
{
    uint32_t e;
    if (r == NULL)
        return KF_E_ARG;
    if (bias)
        for (e = 0; e < r->n_experts; e++)
            if (!isfinite(bias[e]))
                return KF_E_NUMERIC;
    for (e = 0; e < r->n_experts; e++)
        r->bias[e] = bias ? bias[e] : 0.0f;
    r->has_bias = bias != NULL;
    return KF_OK;
}

uint32_t kf_router_n_experts(const kf_router *r)
{
    return r ? r->n_experts : 0;
}

uint32_t kf_router_dim(const kf_router *r)
{
    return r ? r->dim : 0;
}

uint32_t kf_router_top_k(const kf_router *r)
{
    return r ? r->top_k : 0;
}

/* Samples scored together for a batch of n: up to RBLOCK (scratch holds one block). */
static size_t block_of(uint64_t n)
{
    return n < RBLOCK ? (size_t)n : RBLOCK;
}

/* The scratch of a routing call: per sample of a block, the scores, the selection values and
 * the accumulators of every expert, the input's scale and its quantized values; for a screened
 * router, one sample's bounds, candidates and their scores, selection values and biases, and
 * its input beside its int8 residual. */
typedef struct route_scratch {
    float *scores, *sel, *x_scale;
    int32_t *acc;
    unsigned char *xq;
    float *lo, *hi, *cand_scores, *cand_sel, *cand_bias, *x_residual;
    uint32_t *cand, *rest;
} route_scratch;

typedef struct route_sizes {
    const kf_router *r;
    uint64_t block;
} route_sizes;

static void route_layout(kf_arena *a, void *obj, const void *ctx)
{
    const route_sizes *z = ctx;
    const uint64_t cells = z->block * z->r->experts_pad, one = z->r->screened ? z->r->n_experts : 0;
    route_scratch *s = obj;
    KF_CARVE(a, s, scores, cells);
    KF_CARVE(a, s, sel, cells);
    KF_CARVE(a, s, acc, cells);
    KF_CARVE(a, s, x_scale, z->block);
    KF_CARVE(a, s, xq, z->block * z->r->dim_pad * 2); /* 8- or 16-bit values */
    KF_CARVE(a, s, lo, one);
    KF_CARVE(a, s, hi, one);
    KF_CARVE(a, s, cand_scores, one);
    KF_CARVE(a, s, cand_sel, one);
    KF_CARVE(a, s, cand_bias, one);
    KF_CARVE(a, s, cand, one);
    KF_CARVE(a, s, rest, one);
    KF_CARVE(a, s, x_residual, z->r->screened ? 2 * (uint64_t)z->r->dim : 0);
}

static route_sizes route_sizes_of(const kf_router *r, uint64_t n)
{
    route_sizes z;
    z.r = r;
    z.block = n ? block_of(n) : 1;
    return z;
}

uint64_t kf_router_scratch_bytes(const kf_router *r, uint64_t n)
{
    route_sizes z;
    if (r == NULL)
        return 0;
    z = route_sizes_of(r, n);
    return kf_arena_bytes(route_layout, &z);
}

/* Selection and weights of one sample from the scores of n experts (bias: theirs, or NULL):
 * experts receives positions in 0..n-1. */
static void select_sample(const kf_router *r, const kf_kernels *kern, uint32_t n, const float *bias, float *scores,
                          float *sel, uint32_t *experts, float *weights)
{
    const uint32_t k = r->top_k;
    uint32_t e, i;
    double total = 0;
    if (r->scoring == KF_SCORING_SIGMOID) {
        if (bias) {
            for (e = 0; e < n; e++) {
                scores[e] = 1.0f / (1.0f + expf(-scores[e]));
                sel[e] = scores[e] + bias[e];
            }
            kern->top_k(sel, n, k, experts);
        } else { /* the sigmoid keeps the order: choose on the raw scores, squash only the chosen */
            kern->top_k(scores, n, k, experts);
            for (i = 0; i < k; i++)
                scores[experts[i]] = 1.0f / (1.0f + expf(-scores[experts[i]]));
        }
        for (i = 0; i < k; i++)
            total += scores[experts[i]];
        for (i = 0; i < k; i++)
            weights[i] = total > 0 ? (float)(scores[experts[i]] / total * r->scaling) : (float)(r->scaling / k);
    } else {
        double top, ex[KF_MAX_TOP_K];
        if (bias) { /* the bias steers the choice here too; the weights use the raw scores */
            for (e = 0; e < n; e++)
                sel[e] = scores[e] + bias[e];
            kern->top_k(sel, n, k, experts);
        } else {
            kern->top_k(scores, n, k, experts);
        }
        top = scores[experts[0]];
        for (i = 1; i < k; i++)
            if (scores[experts[i]] > top)
                top = scores[experts[i]];
        for (i = 0; i < k; i++)
            total += ex[i] = exp((double)scores[experts[i]] - top);
        for (i = 0; i < k; i++)
            weights[i] = (float)(ex[i] / total);
    }
}

/* The value an expert of float score `score` is chosen by: as select_sample computes it. */
static float selection_value(const kf_router *r, float score, uint32_t e)
{
    if (!r->has_bias)
        return score;
    if (r->scoring == KF_SCORING_SIGMOID) {
        const float squashed = 1.0f / (1.0f + expf(-score));
        return squashed + r->bias[e];
    }
    return score + r->bias[e];
}

/* Upper bounds on ||x|| and ||x - x8|| from the kernels' float sums of squares, x and the
 * residual side by side in both (two samples by two rows in one call): each term rounds at
 * most m = ceil(dim / 8) + 3 times (relative error gamma_m, u = 2^-24) and underflow adds at
 * most 2^-149 a term. The residual computed in float lies within 2^-23 (|x| + |x - x8|) of
 * itself a value (a product and a difference, each rounded once). */
static void norms_above(const kf_kernels *kern, float *both, uint32_t dim, double *nx, double *dx)
{
    const double m = (double)((dim + 7) / 8 + 3), gamma = m * 0x1p-24 / (1 - m * 0x1p-24);
    const double underflow = (dim + 8.0) * 0x1p-149;
    float products[4]; /* x.x, x.r, r.x, r.r */
    kern->gate_scores(both, 2, dim, both, NULL, 2, products);
    *nx = sqrt((double)products[0] / (1 - gamma) + underflow);
    *dx = (sqrt((double)products[3] / (1 - gamma) + underflow) + 0x1p-23 * *nx) / (1 - 0x1p-23) + dim * 0x1p-149;
}

/* The experts of one sample that can be among the top k of a screened router, in cand
 * (ascending) with their float scores in cand_scores, from the int8 copy's accumulators (acc)
 * and the input's quantized values xq around zero (128 for 8 bits, 64 for 7) on step x_scale.
 * Returns their count, or 0
 * when all must be scored: the bounds leave float's range, or more than half the experts
 * remain.
 *
 * Why it holds. With g8 and x8 the int8 values times their steps, the float score f of g . x
 * differs from a8 = g8 . x8 by at most
 *   |f - g . x| + |(g - g8) . x| + |g8 . (x - x8)|
 *   <= (gamma ||g|| + ||g - g8||) ||x|| + ||g8|| ||x - x8|| + (dim + 8) 2^-149
 * (Cauchy-Schwarz; gamma = m u / (1 - m u), u = 2^-24, for the m = ceil(dim / 8) + 3 roundings
 * on any term's way through the kernels' eight fused sums and three adds; the 2^-149 terms
 * cover underflow). The norms are bounded from above (norms_above), the per-expert factors were widened by
 * 2^-19 when the router was made, and the bound by 2^-20 of the score and 2^-100: more than
 * every float rounding of this computation. A selection value of bounded score is bounded in
 * turn: plus the bias, or the sigmoid (1/4-Lipschitz, computed within 2^-21) plus the bias,
 * widened by those operations' rounding. Let L be the least selection value of k experts
 * (those of the k largest lower bounds, scored in float). If an expert of the true top k had
 * an upper bound below L, those k would lie strictly above it: so every expert of the top k has
 * an upper bound of at least L, and the choices made among those (ties to the lower index, in
 * the same order) are the choices made among all. */
static uint32_t screen_sample(const kf_router *r, const kf_kernels *kern, const float *x, const unsigned char *xq,
                              int32_t zero, float x_scale, const int32_t *acc, const route_scratch *rs)
{
    const uint32_t n = r->n_experts, k = r->top_k;
    const float limit = FLT_MAX / 4;
    const float *restrict bias = r->bias, *restrict reach_x = r->reach_x, *restrict reach_r = r->reach_r;
    const float *restrict gate_scale = r->gate_scale;
    const int32_t *restrict row_sum = r->row_sum;
    float *restrict lo = rs->lo, *restrict hi = rs->hi, *restrict both = rs->x_residual;
    double nx, dx;
    float fx, fd, least;
    int inside = 1;
    uint32_t e, i, count = 0, rest = 0;
    memcpy(both, x, sizeof(float) * r->dim);
    for (i = 0; i < r->dim; i++)
        both[r->dim + i] = x[i] - (float)((int32_t)xq[i] - zero) * x_scale;
    norms_above(kern, both, r->dim, &nx, &dx);
    fx = (float)(nx * (1 + 0x1p-22));
    fd = (float)(dx * (1 + 0x1p-22));
    for (e = 0; e < n; e++) {
        const float approx = (float)(acc[e] - zero * row_sum[e]) * (x_scale * gate_scale[e]);
        const float reach = reach_x[e] * fx + reach_r[e] * fd + 0x1p-100f + 0x1p-20f * fabsf(approx);
        lo[e] = approx - reach;
        hi[e] = approx + reach;
        inside &= (lo[e] > -limit) & (hi[e] < limit);
    }
    if (!inside)
        return 0;
    if (r->has_bias && r->scoring == KF_SCORING_SIGMOID)
        for (e = 0; e < n; e++) { /* a quarter of the width: twice the Lipschitz reach, for mid's rounding */
            const float mid = (lo[e] + hi[e]) * 0.5f, half = (hi[e] - lo[e]) * 0.25f * (1 + 0x1p-20f);
            const float value = 1.0f / (1.0f + expf(-mid)) + bias[e];
            const float slack = half + 0x1p-18f * (1 + fabsf(bias[e]));
            lo[e] = value - slack;
            hi[e] = value + slack;
        }
    else if (r->has_bias)
        for (e = 0; e < n; e++) {
            const float b = bias[e];
            lo[e] = lo[e] + b - 0x1p-20f * (fabsf(lo[e]) + fabsf(b));
            hi[e] = hi[e] + b + 0x1p-20f * (fabsf(hi[e]) + fabsf(b));
        }
    /* The k largest lower bounds, scored in float first: the least of their selection values is
     * a threshold that k experts reach, and it lies near the k-th score rather than a whole
     * bound below it. Their scores wait in lo, their upper bounds marked infinite. */
    kern->top_k(lo, n, k, rs->cand);
    kern->gate_scores(x, 1, r->dim, r->gates, rs->cand, k, rs->cand_bias);
    least = INFINITY;
    for (i = 0; i < k; i++) {
        const float value = selection_value(r, rs->cand_bias[i], rs->cand[i]);
        least = value < least ? value : least;
        lo[rs->cand[i]] = rs->cand_bias[i];
        hi[rs->cand[i]] = INFINITY;
    }
    for (e = 0; e < n; e++) { /* without a branch: which experts pass is close to random */
        rs->cand[count] = e;
        count += hi[e] >= least;
    }
    if (count > n / 2)
        return 0;
    for (i = 0; i < count; i++) { /* the others, scored now */
        rs->rest[rest] = rs->cand[i];
        rest += hi[rs->cand[i]] != INFINITY;
    }
    kern->gate_scores(x, 1, r->dim, r->gates, rs->rest, rest, rs->cand_sel);
    for (i = 0, rest = 0; i < count; i++) {
        e = rs->cand[i];
        rs->cand_scores[i] = hi[e] == INFINITY ? lo[e] : rs->cand_sel[rest++];
    }
    return count;
}

/* Each sample of a block quantized on its own range: 8 bits as 0..255 around 128, 7 bits as
 * 0..127 around 64, 16 bits symmetric; the kernels then give exact integer dot products. */
static kf_status quantize_block(const kf_router *r, const kf_kernels *kern, const float *x, size_t nb, int bits,
                                unsigned char *xq, float *x_scale)
{
    const int eight = bits <= 8;
    const int32_t z = eight ? 1 << (bits - 1) : 0, qmax = eight ? (1 << (bits - 1)) - 1 : 32767;
    const size_t elem = eight ? 1 : 2, row = r->dim_pad * elem;
    size_t s;
    for (s = 0; s < nb; s++) {
        unsigned char *xs = xq + s * row;
        const uint32_t top = kern->quantize_dynamic(x + s * r->dim, r->dim, qmax, z, eight ? 0 : -32767,
                                                    eight ? 2 * z - 1 : 32767, xs, eight ? 8 : 16);
        float amax;
        if (top >= 0x7f800000u)
            return KF_E_NUMERIC;
        memcpy(&amax, &top, sizeof amax);
        x_scale[s] = top ? amax / (float)qmax : 0.0f;
        memset(xs + r->dim * elem, 0, row - r->dim * elem);
    }
    return KF_OK;
}

/* Selection of one sample from n scores, of the experts in rows (or all, when rows is NULL). */
static kf_status choose(const kf_router *r, const kf_kernels *kern, uint32_t n, const uint32_t *rows, float *scores,
                        float *sel, float *bias_of_rows, uint32_t *experts, float *weights, uint64_t *load)
{
    const float *bias = r->has_bias ? r->bias : NULL;
    uint32_t e, i;
    if (!kf_all_finite(scores, n))
        return KF_E_NUMERIC; /* finite inputs, but a score overflowed float */
    if (rows && bias) {
        for (e = 0; e < n; e++)
            bias_of_rows[e] = bias[rows[e]];
        bias = bias_of_rows;
    }
    select_sample(r, kern, n, bias, scores, sel, experts, weights);
    for (i = 0; rows && i < r->top_k; i++)
        experts[i] = rows[experts[i]];
    for (i = 0; load && i < r->top_k; i++)
        load[experts[i]]++;
    return KF_OK;
}

kf_status kf_router_route(const kf_router *r, kf_simd path, const float *x, uint64_t n, uint32_t *experts,
                          float *weights, uint64_t *load, void *scratch, uint64_t scratch_bytes)
{
    const size_t block = block_of(n);
    const kf_kernels *kern;
    uint64_t s0;
    route_scratch rs;
    route_sizes sizes;
    kf_arena arena;
    kf_status st;
    int bits;
    if (r == NULL || (n > 0 && (x == NULL || experts == NULL || weights == NULL || scratch == NULL)))
        return KF_E_ARG;
    if (scratch_bytes < kf_router_scratch_bytes(r, n))
        return KF_E_SHAPE;
    kern = kf_kernels_run(path, r->path, r->supported);
    if (kern == NULL)
        return KF_E_UNSUPPORTED;
    /* No pass over x for NaN and infinity: the quantizer finds them (integer scores), and with
     * float gates one makes every score of its sample NaN or infinite (0 * inf is NaN, and
     * nothing finite cancels an infinity), which choose refuses. */
    /* the inputs' bits: the gates', or the screen's (7 where the path's products are faster so:
     * a wider bound, more experts scored in float, the same choices) */
    bits = r->gate_bits != 32 ? (int)r->gate_bits : kern->q7_matmul ? 7 : 8;
    sizes = route_sizes_of(r, n);
    arena = kf_arena_over(scratch);
    route_layout(&arena, &rs, &sizes);
    for (s0 = 0; s0 < n; s0 += block) {
        const size_t nb = (size_t)(n - s0 < block ? n - s0 : block);
        const float *xb = x + s0 * r->dim;
        uint32_t *eb = experts + s0 * r->top_k;
        float *wb = weights + s0 * r->top_k;
        size_t s;
        uint32_t e;
        if (r->gate_bits != 32 || r->screened) { /* integer scores: quantized gates, or the screen's */
            const void *xq = rs.xq;
            if ((st = quantize_block(r, kern, xb, nb, bits, rs.xq, rs.x_scale)) != KF_OK)
                return st;
            if (bits == 7)
                kern->q7_matmul(xq, r->dim_pad, nb, r->packed, r->n_experts, r->dim_pad, rs.acc, r->experts_pad);
            else if (bits == 8)
                kern->q8_matmul(xq, r->dim_pad, nb, r->packed, r->n_experts, r->dim_pad, rs.acc, r->experts_pad);
            else
                kern->q16_matmul(xq, r->dim_pad, nb, r->packed, r->n_experts, r->dim_pad, rs.acc, r->experts_pad);
        } else {
            kern->gate_scores(xb, nb, r->dim, r->gates, NULL, r->n_experts, rs.scores);
            for (s = nb; s-- > 1;) /* spread the rows out to the block's padded stride */
                memmove(rs.scores + s * r->experts_pad, rs.scores + s * r->n_experts, sizeof(float) * r->n_experts);
        }
        for (s = 0; s < nb; s++) {
            const float *xs = xb + s * r->dim;
            const int32_t *acc = rs.acc + s * r->experts_pad;
            float *sc = rs.scores + s * r->experts_pad, *sel = rs.sel + s * r->experts_pad;
            uint32_t count;
            if (r->gate_bits != 32) {
                const int32_t z = r->gate_bits == 8 ? 128 : 0;
                for (e = 0; e < r->n_experts; e++)
                    sc[e] = (float)(acc[e] - z * r->row_sum[e]) * (rs.x_scale[s] * r->gate_scale[e]);
                st = choose(r, kern, r->n_experts, NULL, sc, sel, NULL, eb + s * r->top_k, wb + s * r->top_k, load);
            } else if (r->screened
                       && (count = screen_sample(r, kern, xs, rs.xq + s * r->dim_pad, 1 << (bits - 1), rs.x_scale[s], acc,
                                                 &rs)) > 0) {
                st = choose(r, kern, count, rs.cand, rs.cand_scores, rs.cand_sel, rs.cand_bias, eb + s * r->top_k,
                            wb + s * r->top_k, load);
            } else {
                if (r->screened) /* the screen left too many: all of them */
                    kern->gate_scores(xs, 1, r->dim, r->gates, NULL, r->n_experts, sc);
                st = choose(r, kern, r->n_experts, NULL, sc, sel, NULL, eb + s * r->top_k, wb + s * r->top_k, load);
            }
            if (st != KF_OK)
                return st;
        }
    }
    return KF_OK;
}
