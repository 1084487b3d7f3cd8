/* The router: gate scores (float, or quantized through the fixed-point kernels), top-k selection
 * without sorting, and the selected experts' weights. */
#include "internal.h"

#include "../simd/kernels.h"

#include <stdlib.h>
#include <string.h>

#define RBLOCK 32 /* samples scored together */

struct kf_router {
    uint32_t n_experts, dim, top_k, scoring, gate_bits, has_bias;
    uint32_t dim_pad, experts_pad; /* padded sizes of the packed quantized gates */
    float scaling;
    kf_simd path;       /* the active path when the router was created */
    uint32_t supported; /* kf_simd_mask() then */
    float *gates;      /* float gates [n_experts * dim], or NULL */
    void *packed;      /* quantized gates in the kernels' layout, or NULL */
    float *gate_scale; /* [n_experts] */
    int32_t *row_sum;  /* [n_experts] sum of each quantized row (for the input zero point) */
    float *bias;       /* [n_experts] */
};

static uint32_t round_up(uint32_t n, uint32_t m)
{
    return (n + m - 1) / m * m;
}

/* The router's single block (arena.h): the struct, the gates (float, or packed for the
 * kernels), then a scale, a row sum and a bias per expert. */
static void router_layout(kf_arena *a, void *obj, const void *ctx)
{
    const kf_router_desc *d = ctx;
    kf_router *r = kf_arena_take(a, 1, sizeof *r);
    (void)obj;
    if (d->gate_bits == 32) {
        KF_CARVE(a, r, gates, (uint64_t)d->n_experts * d->dim);
    } else {
        void *packed = kf_arena_take(a, (uint64_t)round_up(d->dim, KF_COLS8) * round_up(d->n_experts, KF_ROWS),
                                     d->gate_bits / 8);
        if (r)
            r->packed = packed;
    }
    KF_CARVE(a, r, gate_scale, d->n_experts);
    KF_CARVE(a, r, row_sum, d->n_experts);
    KF_CARVE(a, r, bias, d->n_experts);
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
    (void)kf_simd_active(&r->path);
    r->supported = kf_simd_mask();
    if (quantized)
        kf_pack_weights(d->gates_q, d->n_experts, d->dim, r->packed, d->gate_bits == 8 ? 8 : 16);
    else
        memcpy(r->gates, d->gates, sizeof(float) * (size_t)d->n_experts * d->dim);
    for (e = 0; e < d->n_experts; e++) {
        r->gate_scale[e] = quantized ? d->gate_scale[e] : 1.0f;
        if (quantized) {
            int32_t sum = 0;
            for (i = 0; i < d->dim; i++)
                sum += d->gates_q[(uint64_t)e * d->dim + i];
            r->row_sum[e] = sum;
        }
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
 * the accumulators of every expert, the input's scale and its quantized values. */
typedef struct route_scratch {
    float *scores, *sel, *x_scale;
    int32_t *acc;
    unsigned char *xq;
} route_scratch;

typedef struct route_sizes {
    const kf_router *r;
    uint64_t block;
} route_sizes;

static void route_layout(kf_arena *a, void *obj, const void *ctx)
{
    const route_sizes *z = ctx;
    const uint64_t cells = z->block * z->r->experts_pad;
    route_scratch *s = obj;
    KF_CARVE(a, s, scores, cells);
    KF_CARVE(a, s, sel, cells);
    KF_CARVE(a, s, acc, cells);
    KF_CARVE(a, s, x_scale, z->block);
    KF_CARVE(a, s, xq, z->block * z->r->dim_pad * 2); /* 8- or 16-bit values */
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

/* Selection and weights of one sample from its scores. */
static void select_sample(const kf_router *r, const kf_kernels *kern, float *scores, float *sel, uint32_t *experts,
                          float *weights, uint64_t *load)
{
    const uint32_t n = r->n_experts, k = r->top_k;
    uint32_t e, i;
    double total = 0;
    if (r->scoring == KF_SCORING_SIGMOID) {
        if (r->has_bias) {
            for (e = 0; e < n; e++) {
                scores[e] = 1.0f / (1.0f + expf(-scores[e]));
                sel[e] = scores[e] + r->bias[e];
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
        double top;
        if (r->has_bias) { /* the bias steers the choice here too; the weights use the raw scores */
            for (e = 0; e < n; e++)
                sel[e] = scores[e] + r->bias[e];
            kern->top_k(sel, n, k, experts);
        } else {
            kern->top_k(scores, n, k, experts);
        }
        top = scores[experts[0]];
        for (i = 1; i < k; i++)
            if (scores[experts[i]] > top)
                top = scores[experts[i]];
        for (i = 0; i < k; i++)
            total += exp((double)scores[experts[i]] - top);
        for (i = 0; i < k; i++)
            weights[i] = (float)(exp((double)scores[experts[i]] - top) / total);
    }
    if (load)
        for (i = 0; i < k; i++)
            load[experts[i]]++;
}

kf_status kf_router_route(const kf_router *r, kf_simd path, const float *x, uint64_t n, uint32_t *experts,
                          float *weights, uint64_t *load, void *scratch, uint64_t scratch_bytes)
{
    const size_t block = block_of(n);
    const kf_kernels *kern;
    float *scores, *sel, *x_scale;
    int32_t *acc;
    void *xq;
    uint64_t s0;
    route_scratch rs;
    route_sizes sizes;
    kf_arena arena;
    if (r == NULL || (n > 0 && (x == NULL || experts == NULL || weights == NULL || scratch == NULL)))
        return KF_E_ARG;
    if (scratch_bytes < kf_router_scratch_bytes(r, n))
        return KF_E_SHAPE;
    kern = kf_kernels_run(path, r->path, r->supported);
    if (kern == NULL)
        return KF_E_UNSUPPORTED;
    if (r->gates && !kf_all_finite(x, n * r->dim)) /* quantized gates: the quantizer checks */
        return KF_E_NUMERIC;
    sizes = route_sizes_of(r, n);
    arena = kf_arena_over(scratch);
    route_layout(&arena, &rs, &sizes);
    scores = rs.scores;
    sel = rs.sel;
    acc = rs.acc;
    x_scale = rs.x_scale;
    xq = rs.xq;
    for (s0 = 0; s0 < n; s0 += block) {
        const size_t nb = (size_t)(n - s0 < block ? n - s0 : block);
        size_t s;
        uint32_t e;
        if (r->gates) {
            kern->gate_scores(x + s0 * r->dim, nb, r->dim, r->gates, r->n_experts, scores);
            for (s = nb; s-- > 1;) /* spread the rows out to the block's padded stride */
                memmove(scores + s * r->experts_pad, scores + s * r->n_experts, sizeof(float) * r->n_experts);
        } else {
            /* Each sample quantized on its own range: 8 bits as 0..255 around 128, 16 bits
             * symmetric; the kernels then give exact integer dot products. */
            const int eight = r->gate_bits == 8;
            const int32_t z = eight ? 128 : 0, qmax = eight ? 127 : 32767;
            const size_t elem = eight ? 1 : 2, row = r->dim_pad * elem;
            for (s = 0; s < nb; s++) {
                unsigned char *xs = (unsigned char *)xq + s * row;
                const uint32_t top = kern->quantize_dynamic(x + (s0 + s) * r->dim, r->dim, qmax, z, eight ? 0 : -32767,
                                                            eight ? 255 : 32767, xs, eight ? 8 : 16);
                float amax;
                if (top >= 0x7f800000u)
                    return KF_E_NUMERIC;
                memcpy(&amax, &top, sizeof amax);
                x_scale[s] = top ? amax / (float)qmax : 0.0f;
                memset(xs + r->dim * elem, 0, row - r->dim * elem);
            }
            if (eight)
                kern->q8_matmul(xq, r->dim_pad, nb, r->packed, r->experts_pad, r->dim_pad, acc, r->experts_pad);
            else
                kern->q16_matmul(xq, r->dim_pad, nb, r->packed, r->experts_pad, r->dim_pad, acc, r->experts_pad);
            for (s = 0; s < nb; s++)
                for (e = 0; e < r->n_experts; e++) {
                    const int32_t a = acc[s * r->experts_pad + e] - z * r->row_sum[e];
                    scores[s * r->experts_pad + e] = (float)a * (x_scale[s] * r->gate_scale[e]);
                }
        }
        for (s = 0; s < nb; s++) {
            float *sc = scores + s * r->experts_pad;
            for (e = 0; e < r->n_experts; e++)
                if (!isfinite(sc[e]))
                    return KF_E_NUMERIC; /* finite inputs, but a score overflowed float */
            select_sample(r, kern, sc, sel + s * r->experts_pad, experts + (s0 + s) * r->top_k, weights + (s0 + s) * r->top_k,
                          load);
        }
    }
    return KF_OK;
}
