/* Mixture of experts: route, group by expert, run each expert on its group, combine. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define MOE_BLOCK 4096u /* samples per pass (bounds the scratch) */

struct kf_moe {
    const kf_router *router;
    uint32_t n_experts, dim, top_k, num_output, has_shared;
    uint64_t expert_scratch; /* bytes, the most any expert needs for MOE_BLOCK * top_k rows */
    kf_expert shared;
    kf_expert *experts; /* [n_experts] */
};

/* The mixture's block (arena.h): the struct, then its table of experts. */
static void moe_layout(kf_arena *a, void *obj, const void *ctx)
{
    kf_moe *moe = kf_arena_take(a, 1, sizeof *moe);
    (void)obj;
    KF_CARVE(a, moe, experts, *(const uint32_t *)ctx);
}

static uint32_t expert_inputs(const kf_expert *e)
{
    return e->kind == KF_EXPERT_FLOAT ? kf_net_num_input(e->model) : kf_qnet_num_input(e->model);
}

static uint32_t expert_outputs(const kf_expert *e)
{
    return e->kind == KF_EXPERT_FLOAT ? kf_net_num_output(e->model) : kf_qnet_num_output(e->model);
}

static uint64_t expert_scratch(const kf_expert *e, uint64_t rows)
{
    return e->kind == KF_EXPERT_FLOAT ? kf_net_scratch_floats(e->model) * sizeof(float)
                                      : kf_qnet_scratch_bytes(e->model, rows);
}

static kf_status run_expert(const kf_expert *e, kf_simd path, const float *x, uint64_t n, float *y, void *scratch,
                            uint64_t bytes)
{
    if (e->kind == KF_EXPERT_FLOAT)
        return kf_net_run(e->model, x, n, y, scratch, bytes / sizeof(float));
    return kf_qnet_run(e->model, path, x, n, y, scratch, bytes);
}

static kf_status check_expert(const kf_expert *e, uint32_t dim, uint32_t *num_output, const char *what, uint32_t i,
                              kf_diag *diag)
{
    if (e->model == NULL || e->kind > KF_EXPERT_QUANTIZED) {
        kf_diag_set(diag, 0, "%s %u is missing or of an unknown kind", what, i);
        return KF_E_ARG;
    }
    if (expert_inputs(e) != dim) {
        kf_diag_set(diag, 0, "%s %u takes %u inputs; the router has %u", what, i, expert_inputs(e), dim);
        return KF_E_SHAPE;
    }
    if (*num_output == 0)
        *num_output = expert_outputs(e);
    if (expert_outputs(e) != *num_output) {
        kf_diag_set(diag, 0, "%s %u gives %u outputs; the others %u", what, i, expert_outputs(e), *num_output);
        return KF_E_SHAPE;
    }
    return KF_OK;
}

kf_status kf_moe_create(const kf_router *router, const kf_expert *experts, uint32_t n_experts, const kf_expert *shared,
                        kf_moe **out, kf_diag *diag)
{
    uint32_t i, num_output = 0;
    kf_moe *moe;
    kf_status st;
    kf_diag_clear(diag);
    if (out == NULL || router == NULL || (experts == NULL && n_experts > 0))
        return KF_E_ARG;
    *out = NULL;
    if (n_experts != kf_router_n_experts(router)) {
        kf_diag_set(diag, 0, "%u experts for a router over %u", n_experts, kf_router_n_experts(router));
        return KF_E_SHAPE;
    }
    for (i = 0; i < n_experts; i++)
        if ((st = check_expert(&experts[i], kf_router_dim(router), &num_output, "expert", i, diag)) != KF_OK)
            return st;
    if (shared && (st = check_expert(shared, kf_router_dim(router), &num_output, "shared expert", 0, diag)) != KF_OK)
        return st;
    st = kf_arena_new(moe_layout, &n_experts, (void **)&moe);
    if (st != KF_OK)
        return st;
    moe->router = router;
    moe->n_experts = n_experts;
    moe->dim = kf_router_dim(router);
    moe->top_k = kf_router_top_k(router);
    moe->num_output = num_output;
    if (n_experts)
        memcpy(moe->experts, experts, sizeof(kf_expert) * (size_t)n_experts);
    if (shared) {
        moe->shared = *shared;
        moe->has_shared = 1;
        moe->expert_scratch = expert_scratch(shared, MOE_BLOCK);
    }
    for (i = 0; i < n_experts; i++) {
        const uint64_t b = expert_scratch(&experts[i], (uint64_t)MOE_BLOCK * moe->top_k);
        if (b > moe->expert_scratch)
            moe->expert_scratch = b;
    }
    *out = moe;
    return KF_OK;
}

void kf_moe_free(kf_moe *moe)
{
    kf_block_free(moe);
}

uint32_t kf_moe_num_output(const kf_moe *moe)
{
    return moe ? moe->num_output : 0;
}

/* Scratch, in order: routing (experts, weights), per-expert counts and starts, each routing
 * entry's slot, grouped inputs, grouped outputs, the router's and the experts' own scratch. */
typedef struct moe_scratch {
    uint32_t *experts, *count, *start, *slot;
    float *weights, *gx, *gy;
    unsigned char *router, *expert;
} moe_scratch;

static void scratch_layout(kf_arena *a, void *obj, const void *ctx)
{
    const kf_moe *m = ctx;
    const uint64_t entries = (uint64_t)MOE_BLOCK * m->top_k;
    moe_scratch *s = obj;
    KF_CARVE(a, s, experts, entries);
    KF_CARVE(a, s, weights, entries);
    KF_CARVE(a, s, count, m->n_experts + 1);
    KF_CARVE(a, s, start, m->n_experts + 1);
    KF_CARVE(a, s, slot, entries);
    KF_CARVE(a, s, gx, entries * m->dim);
    KF_CARVE(a, s, gy, entries * m->num_output);
    KF_CARVE(a, s, router, kf_router_scratch_bytes(m->router, MOE_BLOCK));
    KF_CARVE(a, s, expert, m->expert_scratch);
}

uint64_t kf_moe_scratch_bytes(const kf_moe *m, uint64_t n)
{
    (void)n; /* samples go MOE_BLOCK at a time */
    return m ? kf_arena_bytes(scratch_layout, m) : 0;
}

static kf_status run_block(const kf_moe *m, kf_simd path, const float *x, uint32_t nb, float *y, uint32_t *experts,
                           float *weights, moe_scratch *s, uint64_t router_bytes)
{
    const uint32_t k = m->top_k, entries = nb * k, dim = m->dim, n_out = m->num_output;
    uint32_t e, i, j;
    kf_status st = kf_router_route(m->router, path, x, nb, experts, weights, NULL, s->router, router_bytes);
    if (st != KF_OK)
        return st;
    /* Counting sort of the routing entries by expert: each entry gets a slot in its expert's
     * contiguous group, in sample order. */
    memset(s->count, 0, sizeof(uint32_t) * m->n_experts);
    for (i = 0; i < entries; i++)
        s->count[experts[i]]++;
    for (e = 0, i = 0; e < m->n_experts; e++) {
        s->start[e] = i;
        i += s->count[e];
    }
    memcpy(s->count, s->start, sizeof(uint32_t) * m->n_experts); /* next free slot per expert */
    for (i = 0; i < entries; i++) {
        const uint32_t slot = s->count[experts[i]]++;
        s->slot[i] = slot;
        memcpy(s->gx + (size_t)slot * dim, x + (size_t)(i / k) * dim, sizeof(float) * dim);
    }
    for (e = 0; e < m->n_experts; e++) {
        const uint32_t rows = s->count[e] - s->start[e];
        if (rows == 0)
            continue;
        st = run_expert(&m->experts[e], path, s->gx + (size_t)s->start[e] * dim, rows,
                        s->gy + (size_t)s->start[e] * n_out, s->expert, m->expert_scratch);
        if (st != KF_OK)
            return st;
    }
    if (m->has_shared) {
        st = run_expert(&m->shared, path, x, nb, y, s->expert, m->expert_scratch);
        if (st != KF_OK)
            return st;
    } else {
        memset(y, 0, sizeof(float) * (size_t)nb * n_out);
    }
    for (i = 0; i < nb; i++) {
        float *row = y + (size_t)i * n_out;
        for (j = 0; j < k; j++) {
            const float w = weights[i * k + j], *out = s->gy + (size_t)s->slot[i * k + j] * n_out;
            uint32_t o;
            for (o = 0; o < n_out; o++)
                row[o] += w * out[o];
        }
    }
    return KF_OK;
}

kf_status kf_moe_run(const kf_moe *m, kf_simd path, const float *x, uint64_t n, float *y, uint32_t *experts,
                     float *weights, void *scratch, uint64_t scratch_bytes)
{
    moe_scratch s;
    uint64_t s0;
    kf_arena a;
    if (m == NULL || (n > 0 && (x == NULL || y == NULL || scratch == NULL)))
        return KF_E_ARG;
    if (scratch_bytes < kf_moe_scratch_bytes(m, n))
        return KF_E_SHAPE;
    a = kf_arena_over(scratch);
    scratch_layout(&a, &s, m);
    for (s0 = 0; s0 < n; s0 += MOE_BLOCK) {
        const uint32_t nb = (uint32_t)(n - s0 < MOE_BLOCK ? n - s0 : MOE_BLOCK);
        uint32_t *ex = experts ? experts + s0 * m->top_k : s.experts;
        float *w = weights ? weights + s0 * m->top_k : s.weights;
        const kf_status st = run_block(m, path, x + s0 * m->dim, nb, y + s0 * m->num_output, ex, w, &s,
                                       kf_router_scratch_bytes(m->router, MOE_BLOCK));
        if (st != KF_OK)
            return st;
    }
    return KF_OK;
}
