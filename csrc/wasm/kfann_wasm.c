/*
 * kfann_wasm.c - the C core's exports for JavaScript (a wasm32-wasi "reactor": no main).
 *
 * Not part of the library: a thin layer that js/kimi-fann.mjs calls. Every argument is a
 * 32-bit integer, a float or an address in the module's memory (arrays that the caller
 * writes there with kfw_alloc). Each create function returns a kf_status and stores the new
 * object's address at *out, and the reason of a failure in the caller's kf_diag (kfw_diag_new);
 * the shim keeps no state of its own. The run
 * functions allocate their own scratch (one helper, run_with_scratch), so that the caller never
 * sizes it. The core's constants (status codes, limits, the number of SIMD paths) are read
 * through kfw_constant_*: the JavaScript module retypes none of them.
 */
#include "kfann.h"

#include <stdlib.h>
#include <string.h>

#define KFW_EXPORT(name) __attribute__((export_name(#name)))

/* ---- memory, status, SIMD ---- */

KFW_EXPORT(kfw_alloc) void *kfw_alloc(uint32_t bytes)
{
    return malloc(bytes ? bytes : 1);
}

KFW_EXPORT(kfw_free) void kfw_free(void *ptr)
{
    free(ptr);
}

KFW_EXPORT(kfw_status_str) const char *kfw_status_str(int32_t status)
{
    return kf_status_str((kf_status)status);
}

/* The table of kf_constants: its length, and each row's name and value (a double holds every
 * value exactly). */
KFW_EXPORT(kfw_constant_count) uint32_t kfw_constant_count(void)
{
    uint32_t count;
    (void)kf_constants(&count);
    return count;
}

KFW_EXPORT(kfw_constant_name) const char *kfw_constant_name(uint32_t i)
{
    uint32_t count;
    const kf_constant *table = kf_constants(&count);
    return i < count ? table[i].name : NULL;
}

KFW_EXPORT(kfw_constant_value) double kfw_constant_value(uint32_t i)
{
    uint32_t count;
    const kf_constant *table = kf_constants(&count);
    return i < count ? (double)table[i].value : 0.0;
}

/* ---- running with scratch: one call allocates what the model asks for, runs, frees ---- */

typedef struct kfw_call {
    kf_simd path;
    const void *x;
    uint32_t n;
    void *y, *y2; /* outputs: values, or experts and weights */
    void *y3;     /* the mixture's weights */
} kfw_call;

typedef uint64_t (*kfw_scratch_fn)(const void *model, uint64_t n);
typedef kf_status (*kfw_run_fn)(const void *model, const kfw_call *c, void *scratch, uint64_t bytes);

static int32_t run_with_scratch(const void *model, kfw_scratch_fn size, kfw_run_fn run, const kfw_call *c)
{
    const uint64_t bytes = size(model, c->n);
    void *scratch = bytes <= SIZE_MAX ? malloc(bytes ? (size_t)bytes : 1) : NULL;
    kf_status st;
    if (scratch == NULL)
        return KF_E_NOMEM;
    st = run(model, c, scratch, bytes);
    free(scratch);
    return st;
}

/* A cleared kf_diag for the create functions to explain a failure in (free it with kfw_free). */
KFW_EXPORT(kfw_diag_new) kf_diag *kfw_diag_new(void)
{
    return calloc(1, sizeof(kf_diag));
}

KFW_EXPORT(kfw_diag_message) const char *kfw_diag_message(const kf_diag *diag)
{
    return diag->message;
}

KFW_EXPORT(kfw_diag_line) uint32_t kfw_diag_line(const kf_diag *diag)
{
    return diag->line;
}

KFW_EXPORT(kfw_simd_name) const char *kfw_simd_name(int32_t path)
{
    return kf_simd_name((kf_simd)path);
}

KFW_EXPORT(kfw_simd_supported) int32_t kfw_simd_supported(int32_t path)
{
    return kf_simd_supported((kf_simd)path);
}

/* The active path's kf_simd number (negative status if KIMI_FANN_SIMD is wrong). */
KFW_EXPORT(kfw_simd_active) int32_t kfw_simd_active(void)
{
    kf_simd path;
    kf_status st = kf_simd_active(&path);
    return st == KF_OK ? (int32_t)path : (int32_t)st;
}

/* ---- float networks ----
 * con_start and con_src both 0 (NULL) stand for a fully connected network (kf_net_assemble). */

KFW_EXPORT(kfw_net_assemble)
int32_t kfw_net_assemble(uint32_t num_layers, uint32_t shortcut, float connection_rate, const uint32_t *layer_start,
                         const uint32_t *con_start, const uint32_t *con_src, const float *weights,
                         const uint8_t *activation, const float *steepness, const float *scaling, kf_net **out, kf_diag *diag)
{
    kf_params params;
    kf_params_default(&params);
    return kf_net_assemble(num_layers, shortcut ? KF_NET_SHORTCUT : KF_NET_LAYER, connection_rate, layer_start,
                           con_start, con_src, weights, activation, steepness, &params, scaling, out, diag);
}

KFW_EXPORT(kfw_net_parse_fann) int32_t kfw_net_parse_fann(const char *text, uint32_t len, kf_net **out, kf_diag *diag)
{
    return kf_net_parse_fann(text, len, out, diag);
}

KFW_EXPORT(kfw_net_num_input) uint32_t kfw_net_num_input(const kf_net *net)
{
    return kf_net_num_input(net);
}

KFW_EXPORT(kfw_net_num_output) uint32_t kfw_net_num_output(const kf_net *net)
{
    return kf_net_num_output(net);
}

static uint64_t net_scratch(const void *net, uint64_t n)
{
    (void)n;
    return kf_net_scratch_floats(net) * sizeof(float);
}

static kf_status net_run(const void *net, const kfw_call *c, void *scratch, uint64_t bytes)
{
    return kf_net_run(net, c->x, c->n, c->y, scratch, bytes / sizeof(float));
}

KFW_EXPORT(kfw_net_run) int32_t kfw_net_run(const kf_net *net, const float *in, uint32_t n, float *out)
{
    const kfw_call c = {KF_SIMD_AUTO, in, n, out, NULL, NULL};
    return run_with_scratch(net, net_scratch, net_run, &c);
}

KFW_EXPORT(kfw_net_free) void kfw_net_free(kf_net *net)
{
    kf_net_free(net);
}

/* ---- FANN fixed point ---- */

KFW_EXPORT(kfw_fixnet_parse_fann)
int32_t kfw_fixnet_parse_fann(const char *text, uint32_t len, kf_fixnet **out, kf_diag *diag)
{
    return kf_fixnet_parse_fann(text, len, out, diag);
}

KFW_EXPORT(kfw_fixnet_num_input) uint32_t kfw_fixnet_num_input(const kf_fixnet *net)
{
    return kf_fixnet_num_input(net);
}

KFW_EXPORT(kfw_fixnet_num_output) uint32_t kfw_fixnet_num_output(const kf_fixnet *net)
{
    return kf_fixnet_num_output(net);
}

KFW_EXPORT(kfw_fixnet_multiplier) int32_t kfw_fixnet_multiplier(const kf_fixnet *net)
{
    return kf_fixnet_multiplier(net);
}

static uint64_t fixnet_scratch(const void *net, uint64_t n)
{
    (void)n;
    return kf_fixnet_scratch_ints(net) * sizeof(int32_t);
}

static kf_status fixnet_run(const void *net, const kfw_call *c, void *scratch, uint64_t bytes)
{
    return kf_fixnet_run(net, c->x, c->n, c->y, scratch, bytes / sizeof(int32_t));
}

KFW_EXPORT(kfw_fixnet_run) int32_t kfw_fixnet_run(const kf_fixnet *net, const int32_t *in, uint32_t n, int32_t *out)
{
    const kfw_call c = {KF_SIMD_AUTO, in, n, out, NULL, NULL};
    return run_with_scratch(net, fixnet_scratch, fixnet_run, &c);
}

KFW_EXPORT(kfw_fixnet_free) void kfw_fixnet_free(kf_fixnet *net)
{
    kf_fixnet_free(net);
}

/* ---- native fixed point (Q8 / Q16) ----
 * info: 7 integers per layer (n_in, n_out, t0, seg_shift, num_knots, out_lo, out_hi);
 * arrays: 5 addresses per layer (weights int16, bias int32, multiplier int32, shift uint8,
 * knots int32), as kf_qlayer_desc holds them; shortcut as kf_qnet_desc's. */

KFW_EXPORT(kfw_qnet_create)
int32_t kfw_qnet_create(uint32_t activation_bits, uint32_t weight_bits, uint32_t num_layers, uint32_t num_input,
                        const float *input_inv_scale, const int32_t *input_zero, float output_scale,
                        int32_t output_zero, const int32_t *info, const uint32_t *arrays, kf_qnet **out, kf_diag *diag,
                        uint32_t shortcut)
{
    kf_qnet_desc desc;
    kf_qlayer_desc *layers;
    kf_status st;
    uint32_t l;
    if (num_layers == 0 || num_layers >= KF_MAX_LAYERS)
        return KF_E_ARG;
    layers = calloc(num_layers, sizeof *layers);
    if (layers == NULL)
        return KF_E_NOMEM;
    for (l = 0; l < num_layers; l++) {
        const int32_t *i = info + 7 * l;
        const uint32_t *a = arrays + 5 * l;
        layers[l].n_in = (uint32_t)i[0];
        layers[l].n_out = (uint32_t)i[1];
        layers[l].t0 = i[2];
        layers[l].seg_shift = (uint32_t)i[3];
        layers[l].num_knots = (uint32_t)i[4];
        layers[l].out_lo = i[5];
        layers[l].out_hi = i[6];
        layers[l].weights = (const int16_t *)(uintptr_t)a[0];
        layers[l].bias = (const int32_t *)(uintptr_t)a[1];
        layers[l].multiplier = (const int32_t *)(uintptr_t)a[2];
        layers[l].shift = (const uint8_t *)(uintptr_t)a[3];
        layers[l].knots = (const int32_t *)(uintptr_t)a[4];
    }
    desc.activation_bits = activation_bits;
    desc.weight_bits = weight_bits;
    desc.num_layers = num_layers;
    desc.num_input = num_input;
    desc.input_inv_scale = input_inv_scale;
    desc.input_zero = input_zero;
    desc.output_scale = output_scale;
    desc.output_zero = output_zero;
    desc.layers = layers;
    desc.shortcut = shortcut;
    st = kf_qnet_create(&desc, out, diag);
    free(layers);
    return st;
}

KFW_EXPORT(kfw_qnet_num_input) uint32_t kfw_qnet_num_input(const kf_qnet *net)
{
    return kf_qnet_num_input(net);
}

KFW_EXPORT(kfw_qnet_num_output) uint32_t kfw_qnet_num_output(const kf_qnet *net)
{
    return kf_qnet_num_output(net);
}

static uint64_t qnet_scratch(const void *net, uint64_t n)
{
    return kf_qnet_scratch_bytes(net, n);
}

static kf_status qnet_run(const void *net, const kfw_call *c, void *scratch, uint64_t bytes)
{
    return kf_qnet_run(net, c->path, c->x, c->n, c->y, scratch, bytes);
}

static kf_status qnet_run_raw(const void *net, const kfw_call *c, void *scratch, uint64_t bytes)
{
    return kf_qnet_run_raw(net, c->path, c->x, c->n, c->y, scratch, bytes);
}

KFW_EXPORT(kfw_qnet_run)
int32_t kfw_qnet_run(const kf_qnet *net, int32_t path, const float *in, uint32_t n, float *out)
{
    const kfw_call c = {(kf_simd)path, in, n, out, NULL, NULL};
    return run_with_scratch(net, qnet_scratch, qnet_run, &c);
}

KFW_EXPORT(kfw_qnet_run_raw)
int32_t kfw_qnet_run_raw(const kf_qnet *net, int32_t path, const int32_t *in, uint32_t n, int32_t *out)
{
    const kfw_call c = {(kf_simd)path, in, n, out, NULL, NULL};
    return run_with_scratch(net, qnet_scratch, qnet_run_raw, &c);
}

KFW_EXPORT(kfw_qnet_free) void kfw_qnet_free(kf_qnet *net)
{
    kf_qnet_free(net);
}

/* ---- router ---- */

KFW_EXPORT(kfw_router_create)
int32_t kfw_router_create(uint32_t n_experts, uint32_t dim, uint32_t top_k, uint32_t scoring, uint32_t gate_bits,
                          const float *gates, const int16_t *gates_q, const float *gate_scale, const float *bias,
                          float scaling, kf_router **out, kf_diag *diag)
{
    kf_router_desc desc;
    desc.n_experts = n_experts;
    desc.dim = dim;
    desc.top_k = top_k;
    desc.scoring = scoring;
    desc.gate_bits = gate_bits;
    desc.gates = gates;
    desc.gates_q = gates_q;
    desc.gate_scale = gate_scale;
    desc.bias = bias;
    desc.scaling = scaling;
    return kf_router_create(&desc, out, diag);
}

KFW_EXPORT(kfw_router_n_experts) uint32_t kfw_router_n_experts(const kf_router *r)
{
    return kf_router_n_experts(r);
}

KFW_EXPORT(kfw_router_dim) uint32_t kfw_router_dim(const kf_router *r)
{
    return kf_router_dim(r);
}

KFW_EXPORT(kfw_router_top_k) uint32_t kfw_router_top_k(const kf_router *r)
{
    return kf_router_top_k(r);
}

static uint64_t router_scratch(const void *r, uint64_t n)
{
    return kf_router_scratch_bytes(r, n);
}

static kf_status router_route(const void *r, const kfw_call *c, void *scratch, uint64_t bytes)
{
    return kf_router_route(r, c->path, c->x, c->n, c->y, c->y2, NULL, scratch, bytes);
}

KFW_EXPORT(kfw_router_route)
int32_t kfw_router_route(const kf_router *r, int32_t path, const float *x, uint32_t n, uint32_t *experts,
                         float *weights)
{
    const kfw_call c = {(kf_simd)path, x, n, experts, weights, NULL};
    return run_with_scratch(r, router_scratch, router_route, &c);
}

KFW_EXPORT(kfw_router_free) void kfw_router_free(kf_router *r)
{
    kf_router_free(r);
}

/* ---- mixture of experts ----
 * kinds[i] is kf_expert_kind, models[i] the address of a kf_net or kf_qnet; shared_kind < 0
 * for no shared expert. */

KFW_EXPORT(kfw_moe_create)
int32_t kfw_moe_create(const kf_router *router, const uint32_t *kinds, const uint32_t *models, uint32_t n_experts,
                       int32_t shared_kind, uint32_t shared_model, kf_moe **out, kf_diag *diag)
{
    kf_expert *table = calloc(n_experts ? n_experts : 1, sizeof *table);
    kf_expert shared;
    kf_status st;
    uint32_t i;
    if (table == NULL)
        return KF_E_NOMEM;
    for (i = 0; i < n_experts; i++) {
        table[i].kind = kinds[i];
        table[i].model = (const void *)(uintptr_t)models[i];
    }
    shared.kind = shared_kind < 0 ? 0u : (uint32_t)shared_kind;
    shared.model = (const void *)(uintptr_t)shared_model;
    st = kf_moe_create(router, table, n_experts, shared_kind < 0 ? NULL : &shared, out, diag);
    free(table);
    return st;
}

KFW_EXPORT(kfw_moe_num_output) uint32_t kfw_moe_num_output(const kf_moe *moe)
{
    return kf_moe_num_output(moe);
}

static uint64_t moe_scratch(const void *moe, uint64_t n)
{
    return kf_moe_scratch_bytes(moe, n);
}

static kf_status moe_run(const void *moe, const kfw_call *c, void *scratch, uint64_t bytes)
{
    return kf_moe_run(moe, c->path, c->x, c->n, c->y, c->y2, c->y3, scratch, bytes);
}

KFW_EXPORT(kfw_moe_run)
int32_t kfw_moe_run(const kf_moe *moe, int32_t path, const float *x, uint32_t n, float *y, uint32_t *experts,
                    float *weights)
{
    const kfw_call c = {(kf_simd)path, x, n, y, experts, weights};
    return run_with_scratch(moe, moe_scratch, moe_run, &c);
}

KFW_EXPORT(kfw_moe_free) void kfw_moe_free(kf_moe *moe)
{
    kf_moe_free(moe);
}
