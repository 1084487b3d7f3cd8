/* Every refusal of the public interface: each bad argument, description or text gives its status
 * code, the reason in kf_diag where the function takes one, and no object. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#include "../simd/kernels.h" /* the scalar row of the kernel table */
#include "../src/internal.h"

/* got must be want; when text is not NULL, diag's message must contain it. */
#define CHECK_REFUSED(expr, want, diag, text) check_refused(__FILE__, __LINE__, #expr, (expr), (want), (diag), (text))

static void check_refused(const char *file, int line, const char *what, kf_status got, kf_status want,
                          const kf_diag *diag, const char *text)
{
    if (got != want || (text != NULL && (diag == NULL || strstr(diag->message, text) == NULL))) {
        kf_test_failures++;
        fprintf(stderr, "%s:%d: %s gave %d \"%s\", expected %d \"%s\"\n", file, line, what, (int)got,
                diag ? diag->message : "", (int)want, text ? text : "");
    }
}

/* text with its first occurrence of from replaced by to (malloc'd; NULL if from is absent). */
static char *replaced(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    size_t head, out_len;
    char *out;
    if (at == NULL) {
        kf_test_failures++;
        fprintf(stderr, "test text lacks \"%s\"\n", from);
        return NULL;
    }
    head = (size_t)(at - text);
    out_len = strlen(text) - strlen(from) + strlen(to);
    out = malloc(out_len + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, text, head);
    strcpy(out + head, to);
    strcat(out, at + strlen(from));
    return out;
}

/* ---- router ---- */

static void expect_router_refused(const kf_router_desc *d, kf_status want, const char *text, int line)
{
    kf_router *r = NULL;
    kf_diag diag;
    const kf_status got = kf_router_create(d, &r, &diag);
    check_refused(__FILE__, line, "kf_router_create", got, want, &diag, text);
    CHECK(r == NULL);
    kf_router_free(r);
}

static void test_router_descriptions(void)
{
    float gates[4 * 3] = {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1};
    float bias[4] = {0, 0, 0, 0}, scale[4] = {0.5f, 0.5f, 0.5f, 0.5f};
    int16_t q[4 * 3] = {1, -2, 3, 4, 5, -6, 7, 8, 9, 10, 11, 12};
    kf_router_desc d = kf_test_float_router(gates, 4, 3, 2);
    kf_router *r = NULL;
    kf_diag diag;
    CHECK(kf_router_create(NULL, &r, &diag) == KF_E_ARG && r == NULL);
    CHECK(kf_router_create(&d, NULL, &diag) == KF_E_ARG);
    d.n_experts = 0;
    expect_router_refused(&d, KF_E_LIMIT, "need 1 to 65536 experts and 1 to 16777216 inputs", __LINE__);
    d.n_experts = KF_MAX_EXPERTS + 1;
    expect_router_refused(&d, KF_E_LIMIT, "need 1 to 65536 experts", __LINE__);
    d.n_experts = KF_MAX_EXPERTS;
    d.dim = 1u << 13; /* 2^16 x 2^13 gates: more than KF_MAX_CONNECTIONS, refused before any allocation */
    expect_router_refused(&d, KF_E_LIMIT, "experts and 1 to", __LINE__);
    d = kf_test_float_router(gates, 4, 0, 2);
    expect_router_refused(&d, KF_E_LIMIT, "1 to 16777216 inputs", __LINE__);
    d = kf_test_float_router(gates, 4, 3, 0);
    expect_router_refused(&d, KF_E_ARG, "top_k=0: expected 1 to min(64, n_experts=4)", __LINE__);
    d.top_k = 5;
    expect_router_refused(&d, KF_E_ARG, "top_k=5: expected 1 to min(64, n_experts=4)", __LINE__);
    d = kf_test_float_router(gates, 4, 3, 2);
    d.scoring = 2;
    expect_router_refused(&d, KF_E_ARG, "scoring must be softmax or sigmoid and scaling a positive number", __LINE__);
    d.scoring = KF_SCORING_SIGMOID;
    d.scaling = 0.0f;
    expect_router_refused(&d, KF_E_ARG, "scaling a positive number", __LINE__);
    d.scaling = INFINITY;
    expect_router_refused(&d, KF_E_ARG, "scaling a positive number", __LINE__);
    d = kf_test_float_router(gates, 4, 3, 2);
    d.gate_bits = 4;
    expect_router_refused(&d, KF_E_ARG, "gate_bits=4: expected 32, 16 or 8", __LINE__);
    d = kf_test_float_router(NULL, 4, 3, 2);
    expect_router_refused(&d, KF_E_ARG, "the gate matrix is missing", __LINE__);
    d.gate_bits = 8;
    d.gates_q = q; /* quantized gates need their scales too */
    expect_router_refused(&d, KF_E_ARG, "the gate matrix is missing", __LINE__);
    d = kf_test_float_router(gates, 4, 3, 2);
    d.bias = bias;
    bias[2] = INFINITY;
    expect_router_refused(&d, KF_E_NUMERIC, "bias[2] is not finite", __LINE__);
    bias[2] = 0.0f;
    gates[5] = NAN;
    expect_router_refused(&d, KF_E_NUMERIC, "gate weight 5 is not finite", __LINE__);
    gates[5] = 0.0f;
    d = kf_test_float_router(NULL, 4, 3, 2);
    d.gate_bits = 8;
    d.gates_q = q;
    d.gate_scale = scale;
    scale[1] = -1.0f;
    expect_router_refused(&d, KF_E_NUMERIC, "gate_scale[1] must be finite and >= 0", __LINE__);
    scale[1] = NAN;
    expect_router_refused(&d, KF_E_NUMERIC, "gate_scale[1] must be finite and >= 0", __LINE__);
    scale[1] = 0.5f;
    q[3] = 200;
    expect_router_refused(&d, KF_E_ARG, "quantized gate weight 3 is outside the 8-bit range", __LINE__);
    q[3] = -129;
    expect_router_refused(&d, KF_E_ARG, "quantized gate weight 3 is outside the 8-bit range", __LINE__);
    d.gate_bits = 16;
    q[3] = INT16_MIN; /* 16-bit gates are symmetric: -32768 has no positive twin */
    expect_router_refused(&d, KF_E_ARG, "quantized gate weight 3 is outside the 16-bit range", __LINE__);
    q[3] = 30000; /* row 1: (30000 + 5 + 6) x 32767 exceeds INT32_MAX */
    q[4] = 30000;
    q[5] = 30000;
    expect_router_refused(&d, KF_E_ARG, "gate row 1 can overflow a 32-bit accumulator", __LINE__);
    q[3] = 4;
    q[4] = 5;
    q[5] = -6;
    CHECK_OK(kf_router_create(&d, &r, &diag));
    CHECK(r != NULL && diag.message[0] == '\0');
    kf_router_free(r);
}

/* A path this build or CPU cannot run (KF_SIMD_COUNT_ when every path can). */
static kf_simd unusable_path(void)
{
    int p;
    for (p = KF_SIMD_SCALAR; p < KF_SIMD_COUNT_; p++)
        if (!kf_simd_supported((kf_simd)p))
            return (kf_simd)p;
    return KF_SIMD_COUNT_;
}

static void test_routing_refusals(void)
{
    const float gates[3 * 2] = {1, 0, 0, 1, 1, 1};
    const float huge[3 * 2] = {FLT_MAX, FLT_MAX, 1, 1, 0, 0};
    float x[2] = {1.0f, 2.0f}, weights[2], bias[3] = {0, 0, 0};
    uint32_t experts[2];
    kf_router_desc d = kf_test_float_router(gates, 3, 2, 2);
    kf_router *r = NULL, *over = NULL;
    kf_diag diag;
    uint64_t bytes;
    void *scratch;
    CHECK_OK(kf_router_create(&d, &r, &diag));
    if (r == NULL)
        return;
    CHECK(kf_router_n_experts(r) == 3 && kf_router_dim(r) == 2 && kf_router_top_k(r) == 2);
    CHECK(kf_router_n_experts(NULL) == 0 && kf_router_dim(NULL) == 0 && kf_router_top_k(NULL) == 0);
    CHECK(kf_router_scratch_bytes(NULL, 4) == 0);
    bytes = kf_router_scratch_bytes(r, 1);
    scratch = malloc(bytes);
    CHECK(kf_router_route(NULL, KF_SIMD_AUTO, x, 1, experts, weights, NULL, scratch, bytes) == KF_E_ARG);
    CHECK(kf_router_route(r, KF_SIMD_AUTO, NULL, 1, experts, weights, NULL, scratch, bytes) == KF_E_ARG);
    CHECK(kf_router_route(r, KF_SIMD_AUTO, x, 1, NULL, weights, NULL, scratch, bytes) == KF_E_ARG);
    CHECK(kf_router_route(r, KF_SIMD_AUTO, x, 1, experts, NULL, NULL, scratch, bytes) == KF_E_ARG);
    CHECK(kf_router_route(r, KF_SIMD_AUTO, x, 1, experts, weights, NULL, NULL, bytes) == KF_E_ARG);
    CHECK(kf_router_route(r, KF_SIMD_AUTO, x, 1, experts, weights, NULL, scratch, bytes - 1) == KF_E_SHAPE);
    CHECK(kf_router_route(r, unusable_path(), x, 1, experts, weights, NULL, scratch, bytes) == KF_E_UNSUPPORTED);
    CHECK(kf_router_route(r, KF_SIMD_COUNT_, x, 1, experts, weights, NULL, scratch, bytes) == KF_E_UNSUPPORTED);
    CHECK_OK(kf_router_route(r, KF_SIMD_AUTO, NULL, 0, NULL, NULL, NULL, scratch, bytes)); /* no samples */
    /* The selection bias is checked before it replaces the old one. */
    CHECK(kf_router_set_bias(NULL, bias) == KF_E_ARG);
    bias[1] = NAN;
    CHECK(kf_router_set_bias(r, bias) == KF_E_NUMERIC);
    CHECK_OK(kf_router_route(r, KF_SIMD_SCALAR, x, 1, experts, weights, NULL, scratch, bytes));
    CHECK(experts[0] == 2 && experts[1] == 1); /* scores 3, 2, 1: the NaN bias never landed */
    kf_router_free(r);
    /* Finite gates and inputs whose score overflows float: refused, not routed on infinities. */
    d = kf_test_float_router(huge, 3, 2, 1);
    CHECK_OK(kf_router_create(&d, &over, &diag));
    if (over != NULL)
        CHECK(kf_router_route(over, KF_SIMD_AUTO, x, 1, experts, weights, NULL, scratch, bytes) == KF_E_NUMERIC);
    kf_router_free(over);
    free(scratch);
}

/* ---- Q8/Q16 networks ---- */

typedef struct qnet_case {
    int16_t w[3 * 2];
    int32_t bias[2], mult[2], knots[2], zero[32];
    uint8_t shift[2];
    float inv[32];
    kf_qlayer_desc layers[2];
    kf_qnet_desc d;
} qnet_case;

/* A valid Q8 network: 3 inputs, 2 outputs, a two-knot identity-like table. */
static void qnet_case_init(qnet_case *c)
{
    int i;
    memset(c, 0, sizeof *c);
    for (i = 0; i < 6; i++)
        c->w[i] = (int16_t)(i - 3);
    for (i = 0; i < 2; i++) {
        c->mult[i] = 1 << 30;
        c->shift[i] = 31;
    }
    for (i = 0; i < 32; i++) { /* 3 used, 32 by the test of the weights' cap */
        c->inv[i] = 10.0f;
        c->zero[i] = 128;
    }
    c->knots[0] = 0;
    c->knots[1] = 255 * 256;
    c->layers[0].n_in = 3;
    c->layers[0].n_out = 2;
    c->layers[0].weights = c->w;
    c->layers[0].bias = c->bias;
    c->layers[0].multiplier = c->mult;
    c->layers[0].shift = c->shift;
    c->layers[0].t0 = 0;
    c->layers[0].seg_shift = 8;
    c->layers[0].num_knots = 2;
    c->layers[0].knots = c->knots;
    c->layers[0].out_lo = 0;
    c->layers[0].out_hi = 255;
    c->d.activation_bits = 8;
    c->d.weight_bits = 8;
    c->d.num_layers = 1;
    c->d.num_input = 3;
    c->d.input_inv_scale = c->inv;
    c->d.input_zero = c->zero;
    c->d.output_scale = 0.01f;
    c->d.output_zero = 128;
    c->d.layers = c->layers;
}

static void expect_qnet_refused(const kf_qnet_desc *d, kf_status want, const char *text, int line)
{
    kf_qnet *net = NULL;
    kf_diag diag;
    const kf_status got = kf_qnet_create(d, &net, &diag);
    check_refused(__FILE__, line, "kf_qnet_create", got, want, &diag, text);
    CHECK(net == NULL);
    kf_qnet_free(net);
}

static void test_qnet_descriptions(void)
{
    char text[128];
    qnet_case c;
    kf_qnet *net = NULL;
    kf_diag diag;
    qnet_case_init(&c);
    CHECK_OK(kf_qnet_create(&c.d, &net, &diag));
    CHECK(kf_qnet_num_input(net) == 3 && kf_qnet_num_output(net) == 2);
    kf_qnet_free(net);
    CHECK(kf_qnet_create(NULL, &net, &diag) == KF_E_ARG);
    CHECK(kf_qnet_create(&c.d, NULL, &diag) == KF_E_ARG);
    CHECK(kf_qnet_num_input(NULL) == 0 && kf_qnet_num_output(NULL) == 0 && kf_qnet_scratch_bytes(NULL, 1) == 0);
    c.d.activation_bits = 12;
    expect_qnet_refused(&c.d, KF_E_ARG, "precision must be Q8 (8-bit weights) or Q16", __LINE__);
    c.d.activation_bits = 8;
    c.d.weight_bits = 4;
    expect_qnet_refused(&c.d, KF_E_ARG, "precision must be Q8", __LINE__);
    c.d.weight_bits = 8;
    snprintf(text, sizeof text, "need 1 to %u layers, input parameters, and layer 0 reading num_input values",
             KF_MAX_LAYERS - 1);
    c.d.num_layers = 0;
    expect_qnet_refused(&c.d, KF_E_ARG, text, __LINE__);
    c.d.num_layers = KF_MAX_LAYERS;
    expect_qnet_refused(&c.d, KF_E_ARG, text, __LINE__);
    c.d.num_layers = 1;
    c.d.input_zero = NULL;
    expect_qnet_refused(&c.d, KF_E_ARG, "input parameters", __LINE__);
    c.d.input_zero = c.zero;
    c.d.num_input = 4;
    expect_qnet_refused(&c.d, KF_E_ARG, "layer 0 reading num_input values", __LINE__);
    c.d.num_input = 3;
    c.inv[2] = INFINITY;
    expect_qnet_refused(&c.d, KF_E_ARG, "input 2: scale not finite or |zero point| above 16711680", __LINE__);
    c.inv[2] = 10.0f;
    c.zero[1] = KF_MAX_INPUT_ZERO + 1;
    expect_qnet_refused(&c.d, KF_E_ARG, "input 1: scale not finite", __LINE__);
    c.zero[1] = -KF_MAX_INPUT_ZERO - 1;
    expect_qnet_refused(&c.d, KF_E_ARG, "input 1: scale not finite", __LINE__);
    c.zero[1] = 128;
    c.d.output_scale = NAN;
    expect_qnet_refused(&c.d, KF_E_ARG, "the output scale is not finite", __LINE__);
    c.d.output_scale = 0.01f;
    c.layers[0].n_out = 0;
    expect_qnet_refused(&c.d, KF_E_ARG, "layer 0: sizes must be between 1 and KF_MAX_NEURONS", __LINE__);
    c.layers[0].n_out = KF_MAX_NEURONS + 1;
    expect_qnet_refused(&c.d, KF_E_ARG, "layer 0: sizes must be between 1 and KF_MAX_NEURONS", __LINE__);
    c.layers[0].n_out = 1u << 24; /* 32 x 2^24 weights: within the neurons' cap, beyond the weights' */
    c.d.num_input = c.layers[0].n_in = 32;
    expect_qnet_refused(&c.d, KF_E_ARG, "layer 0: more weights than KF_MAX_CONNECTIONS", __LINE__);
    qnet_case_init(&c);
    c.d.num_layers = 2;
    c.layers[1] = c.layers[0]; /* reads 3 values where layer 0 gives 2 */
    expect_qnet_refused(&c.d, KF_E_ARG, "layer 1: n_in differs from the previous layer's n_out", __LINE__);
    qnet_case_init(&c);
    c.layers[0].knots = NULL;
    expect_qnet_refused(&c.d, KF_E_ARG, "layer 0: an array is missing", __LINE__);
    qnet_case_init(&c);
    c.layers[0].num_knots = 1;
    expect_qnet_refused(&c.d, KF_E_ARG, "the activation table needs 2 to 65537 knots and a spacing of at most 2^24",
                        __LINE__);
    c.layers[0].num_knots = 2;
    c.layers[0].seg_shift = 25;
    expect_qnet_refused(&c.d, KF_E_ARG, "a spacing of at most 2^24", __LINE__);
    c.layers[0].seg_shift = 8;
    c.layers[0].out_hi = 256;
    expect_qnet_refused(&c.d, KF_E_ARG, "layer 0: the output clamp leaves the activation range", __LINE__);
    c.layers[0].out_hi = 255;
    c.layers[0].out_lo = 200;
    c.layers[0].out_hi = 100;
    expect_qnet_refused(&c.d, KF_E_ARG, "the output clamp leaves the activation range", __LINE__);
    c.layers[0].out_lo = 0;
    c.layers[0].out_hi = 255;
    c.knots[1] = (1 << 25) + 1;
    expect_qnet_refused(&c.d, KF_E_ARG, "layer 0: a table knot is out of range", __LINE__);
    c.knots[1] = 255 * 256;
    c.mult[1] = -1;
    expect_qnet_refused(&c.d, KF_E_ARG, "a requantization shift is outside 1..62 or a multiplier is negative", __LINE__);
}

static void test_qnet_run_refusals(void)
{
    qnet_case c;
    kf_qnet *net = NULL;
    kf_diag diag;
    const float in[3] = {0.1f, NAN, 0.2f};
    const int32_t raw[3] = {1, 2, 3};
    float out[2];
    int32_t raw_out[2];
    uint64_t bytes;
    void *scratch;
    qnet_case_init(&c);
    CHECK_OK(kf_qnet_create(&c.d, &net, &diag));
    if (net == NULL)
        return;
    bytes = kf_qnet_scratch_bytes(net, 1);
    scratch = malloc(bytes);
    CHECK(kf_qnet_run(NULL, KF_SIMD_AUTO, in, 1, out, scratch, bytes) == KF_E_ARG);
    CHECK(kf_qnet_run(net, KF_SIMD_AUTO, NULL, 1, out, scratch, bytes) == KF_E_ARG);
    CHECK(kf_qnet_run(net, KF_SIMD_AUTO, in, 1, out, NULL, bytes) == KF_E_ARG);
    CHECK(kf_qnet_run(net, KF_SIMD_AUTO, in, 1, out, scratch, bytes - 1) == KF_E_SHAPE);
    CHECK(kf_qnet_run(net, unusable_path(), in, 1, out, scratch, bytes) == KF_E_UNSUPPORTED);
    CHECK(kf_qnet_run(net, KF_SIMD_AUTO, in, 1, out, scratch, bytes) == KF_E_NUMERIC);
    CHECK(kf_qnet_run_raw(net, KF_SIMD_AUTO, raw, 1, NULL, scratch, bytes) == KF_E_ARG);
    CHECK_OK(kf_qnet_run_raw(net, KF_SIMD_SCALAR, raw, 1, raw_out, scratch, bytes));
    /* rows (-3, -2, -1) and (0, 1, 2) give -10 and 8, halved (rounding half up) to -5 and 4, through
     * a table of slope 1 from 0: 0 (clamped) and 4 */
    CHECK(raw_out[0] == 0 && raw_out[1] == 4);
    kf_qnet_free(net);
    free(scratch);
}

/* ---- mixture ---- */

static void test_mixture_refusals(void)
{
    const float gates[2 * 3] = {1, 0, 0, 0, 1, 0};
    const uint32_t sizes3[2] = {3, 2}, sizes4[2] = {4, 2};
    kf_router_desc d = kf_test_float_router(gates, 2, 3, 1);
    kf_router *r = NULL;
    kf_net *a = NULL, *wide = NULL;
    kf_expert experts[2];
    kf_moe *moe = NULL;
    kf_diag diag;
    float x[3] = {1, 2, 3}, y[2];
    uint64_t bytes;
    void *scratch;
    CHECK_OK(kf_router_create(&d, &r, &diag));
    CHECK_OK(kf_net_create(sizes3, 2, KF_NET_LAYER, 1.0f, 1, &a));
    CHECK_OK(kf_net_create(sizes4, 2, KF_NET_LAYER, 1.0f, 1, &wide));
    if (r == NULL || a == NULL || wide == NULL)
        goto done;
    experts[0].kind = KF_EXPERT_FLOAT;
    experts[0].model = a;
    experts[1].kind = 7;
    experts[1].model = a;
    CHECK(kf_moe_create(NULL, experts, 2, NULL, &moe, &diag) == KF_E_ARG);
    CHECK(kf_moe_create(r, NULL, 2, NULL, &moe, &diag) == KF_E_ARG);
    CHECK(kf_moe_create(r, experts, 2, NULL, NULL, &diag) == KF_E_ARG);
    CHECK_REFUSED(kf_moe_create(r, experts, 2, NULL, &moe, &diag), KF_E_ARG, &diag,
                  "expert 1 is missing or of an unknown kind");
    CHECK(moe == NULL);
    experts[1].kind = KF_EXPERT_QUANTIZED;
    experts[1].model = NULL;
    CHECK_REFUSED(kf_moe_create(r, experts, 2, NULL, &moe, &diag), KF_E_ARG, &diag,
                  "expert 1 is missing or of an unknown kind");
    experts[1].kind = KF_EXPERT_FLOAT;
    experts[1].model = wide;
    CHECK_REFUSED(kf_moe_create(r, experts, 2, NULL, &moe, &diag), KF_E_SHAPE, &diag,
                  "expert 1 takes 4 inputs; the router has 3");
    experts[1].model = a;
    {
        kf_expert shared = {KF_EXPERT_QUANTIZED, NULL};
        CHECK_REFUSED(kf_moe_create(r, experts, 2, &shared, &moe, &diag), KF_E_ARG, &diag,
                      "shared expert 0 is missing or of an unknown kind");
    }
    CHECK_OK(kf_moe_create(r, experts, 2, NULL, &moe, &diag));
    if (moe == NULL)
        goto done;
    CHECK(kf_moe_num_output(moe) == 2 && kf_moe_num_output(NULL) == 0 && kf_moe_scratch_bytes(NULL, 1) == 0);
    bytes = kf_moe_scratch_bytes(moe, 1);
    scratch = malloc(bytes);
    CHECK(kf_moe_run(NULL, KF_SIMD_AUTO, x, 1, y, NULL, NULL, scratch, bytes) == KF_E_ARG);
    CHECK(kf_moe_run(moe, KF_SIMD_AUTO, NULL, 1, y, NULL, NULL, scratch, bytes) == KF_E_ARG);
    CHECK(kf_moe_run(moe, KF_SIMD_AUTO, x, 1, NULL, NULL, NULL, scratch, bytes) == KF_E_ARG);
    CHECK(kf_moe_run(moe, KF_SIMD_AUTO, x, 1, y, NULL, NULL, NULL, bytes) == KF_E_ARG);
    CHECK(kf_moe_run(moe, KF_SIMD_AUTO, x, 1, y, NULL, NULL, scratch, bytes - 1) == KF_E_SHAPE);
    free(scratch);
done:
    kf_moe_free(moe);
    kf_net_free(a);
    kf_net_free(wide);
    kf_router_free(r);
}

/* ---- float networks ---- */

typedef struct net_arrays {
    uint32_t layer_start[4], con_start[16], con_src[64];
    uint8_t activation[16];
    float steepness[16], weights[64], scaling[4 * 5];
    kf_params params;
} net_arrays;

/* The arrays of a 3-4-2 layered network (neurons 0-3, 4-8, 9-11; 16 + 10 connections). */
static void net_arrays_init(net_arrays *a)
{
    const uint32_t sizes[3] = {3, 4, 2};
    kf_net *net = NULL;
    memset(a, 0, sizeof *a);
    if (kf_net_create(sizes, 3, KF_NET_LAYER, 1.0f, 5, &net) != KF_OK) {
        CHECK(0);
        return;
    }
    CHECK_OK(kf_net_get_structure(net, a->layer_start, a->con_start, a->con_src, a->activation, a->steepness));
    CHECK_OK(kf_net_get_weights(net, a->weights, kf_net_total_connections(net)));
    kf_params_default(&a->params);
    kf_net_free(net);
}

static kf_status assemble(const net_arrays *a, float connection_rate, const float *scaling, kf_diag *diag)
{
    kf_net *net = NULL;
    const kf_status st = kf_net_assemble(3, KF_NET_LAYER, connection_rate, a->layer_start, a->con_start, a->con_src,
                                         a->weights, a->activation, a->steepness, &a->params, scaling, &net, diag);
    CHECK((st == KF_OK) == (net != NULL));
    kf_net_free(net);
    return st;
}

/* kf_net_assemble checks what it is given as a parsed file is checked, and says what is wrong. */
static void test_assemble_refusals(void)
{
    char text[128];
    net_arrays a;
    kf_net *net = NULL;
    kf_diag diag;
    uint32_t saved;
    net_arrays_init(&a);
    CHECK_OK(assemble(&a, 1.0f, NULL, &diag));
    CHECK(kf_net_assemble(3, KF_NET_LAYER, 1.0f, a.layer_start, a.con_start, a.con_src, a.weights, a.activation,
                          a.steepness, &a.params, NULL, NULL, &diag) == KF_E_ARG);
    snprintf(text, sizeof text, "need 2 to %u layers of type 0 or 1", KF_MAX_LAYERS);
    CHECK_REFUSED(kf_net_assemble(1, KF_NET_LAYER, 1.0f, a.layer_start, a.con_start, a.con_src, a.weights,
                                  a.activation, a.steepness, &a.params, NULL, &net, &diag),
                  KF_E_FORMAT, &diag, text);
    CHECK_REFUSED(kf_net_assemble(3, (kf_net_type)2, 1.0f, a.layer_start, a.con_start, a.con_src, a.weights,
                                  a.activation, a.steepness, &a.params, NULL, &net, &diag),
                  KF_E_FORMAT, &diag, text);
    /* layer starts */
    saved = a.layer_start[2];
    a.layer_start[2] = a.layer_start[1];
    CHECK_REFUSED(assemble(&a, 1.0f, NULL, &diag), KF_E_FORMAT, &diag, "layer 1 is empty or the layer starts decrease");
    a.layer_start[2] = saved;
    a.layer_start[0] = 1;
    CHECK_REFUSED(assemble(&a, 1.0f, NULL, &diag), KF_E_FORMAT, &diag,
                  "layer starts must begin at 0, the input layer hold a bias, and at most 16777216 neurons");
    a.layer_start[0] = 0;
    /* fully connected from the layer starts, but a layer of one neuron (its bias) cannot feed anything */
    {
        const uint32_t starts[4] = {0, 2, 3, 5};
        CHECK_REFUSED(kf_net_assemble(3, KF_NET_LAYER, 1.0f, starts, NULL, NULL, a.weights, a.activation,
                                      a.steepness, &a.params, NULL, &net, &diag),
                      KF_E_FORMAT, &diag, "the layer sizes do not describe a fully connected network within the limits");
    }
    /* connections */
    CHECK_REFUSED(kf_net_assemble(3, KF_NET_LAYER, 1.0f, a.layer_start, a.con_start, a.con_src, NULL, a.activation,
                                  a.steepness, &a.params, NULL, &net, &diag),
                  KF_E_FORMAT, &diag, "too many or missing connections");
    {
        const uint32_t starts[3] = {0, 3, 4}; /* a shortcut network whose output layer is empty */
        const uint32_t cons[5] = {0, 0, 0, 0, 0};
        CHECK_REFUSED(kf_net_assemble(2, KF_NET_LAYER, 1.0f, starts, cons, a.con_src, a.weights, a.activation,
                                      a.steepness, &a.params, NULL, &net, &diag),
                      KF_E_FORMAT, &diag, "the output layer has no neurons");
    }
    /* parameters and scaling */
    a.params.training_algorithm = KF_TRAIN_COUNT_;
    CHECK_REFUSED(assemble(&a, 1.0f, NULL, &diag), KF_E_FORMAT, &diag, "training parameters out of range");
    kf_params_default(&a.params);
    a.params.cascade_activation_functions_count = KF_MAX_CASCADE_LIST + 1;
    CHECK_REFUSED(assemble(&a, 1.0f, NULL, &diag), KF_E_FORMAT, &diag, "training parameters out of range");
    kf_params_default(&a.params);
    a.params.cascade_activation_functions[0] = KF_ACTIVATION_COUNT_;
    CHECK_REFUSED(assemble(&a, 1.0f, NULL, &diag), KF_E_FORMAT, &diag, "training parameters out of range");
    kf_params_default(&a.params);
    a.params.cascade_activation_steepnesses[1] = NAN;
    CHECK_REFUSED(assemble(&a, 1.0f, NULL, &diag), KF_E_FORMAT, &diag, "training parameters out of range");
    kf_params_default(&a.params);
    a.scaling[7] = INFINITY;
    CHECK_REFUSED(assemble(&a, 1.0f, a.scaling, &diag), KF_E_FORMAT, &diag, "a scaling parameter is not finite");
    a.scaling[7] = 1.0f;
    CHECK_OK(assemble(&a, 1.0f, a.scaling, &diag));
    /* the rest of a parsed file's checks */
    CHECK_REFUSED(assemble(&a, NAN, NULL, &diag), KF_E_FORMAT, &diag, "connection_rate must be a finite number >= 0");
    CHECK_REFUSED(assemble(&a, -0.5f, NULL, &diag), KF_E_FORMAT, &diag, "connection_rate must be a finite number >= 0");
    a.steepness[5] = INFINITY;
    CHECK_REFUSED(assemble(&a, 1.0f, NULL, &diag), KF_E_FORMAT, &diag, "neuron 5: steepness is not finite");
    a.steepness[5] = 0.5f;
    a.weights[3] = NAN;
    CHECK_REFUSED(assemble(&a, 1.0f, NULL, &diag), KF_E_FORMAT, &diag, "connection 3: weight is not finite");
    a.weights[3] = 0.25f;
    CHECK_OK(assemble(&a, 1.0f, NULL, &diag));
}

/* The structure checks shared by assembled, parsed and fixed-point networks. */
static void test_structure_refusals(void)
{
    net_arrays a;
    kf_diag diag;
    net_arrays_init(&a);
    a.con_start[0] = 1; /* the connections must start at 0 */
    CHECK_REFUSED(assemble(&a, 1.0f, NULL, &diag), KF_E_FORMAT, &diag,
                  "the neurons' connections run from 1 to 26, expected 0 to 26");
    net_arrays_init(&a);
    a.con_start[5] = a.con_start[6] + 1; /* neuron 5 ends before it starts */
    CHECK_REFUSED(assemble(&a, 1.0f, NULL, &diag), KF_E_FORMAT, &diag, "neuron 5 has a negative connection count");
    net_arrays_init(&a);
    a.activation[6] = KF_ACTIVATION_COUNT_;
    CHECK_REFUSED(assemble(&a, 1.0f, NULL, &diag), KF_E_FORMAT, &diag, "neuron 6: activation function 20 is not one of 0..19");
    net_arrays_init(&a);
    a.con_start[1] = 1; /* input neuron 0 with a connection (taken from neuron 4's) */
    a.con_start[2] = a.con_start[3] = a.con_start[4] = 1;
    CHECK_REFUSED(assemble(&a, 1.0f, NULL, &diag), KF_E_FORMAT, &diag, "input neuron 0 has 1 incoming connections, expected 0");
    net_arrays_init(&a);
    a.con_src[20] = 10; /* a connection of output neuron 9 that reads the output layer itself */
    CHECK_REFUSED(assemble(&a, 1.0f, NULL, &diag), KF_E_FORMAT, &diag, "which is not in an earlier layer");
    /* a layered network's hidden layer needs a neuron besides its bias */
    {
        const uint32_t starts[4] = {0, 3, 4, 6}, cons[7] = {0, 0, 0, 0, 0, 0, 0};
        kf_net *net = NULL;
        CHECK_REFUSED(kf_net_assemble(3, KF_NET_LAYER, 1.0f, starts, cons, a.con_src, a.weights, a.activation,
                                      a.steepness, &a.params, NULL, &net, &diag),
                      KF_E_FORMAT, &diag, "layer 1 has 1 neurons (bias included); at least 2 are needed");
    }
    /* a shortcut network's hidden layers need no bias, but at least one neuron */
    {
        const uint32_t starts[4] = {0, 3, 3, 5};
        kf_net *net = NULL;
        CHECK_REFUSED(kf_net_assemble(3, KF_NET_SHORTCUT, 1.0f, starts, NULL, NULL, a.weights, a.activation,
                                      a.steepness, &a.params, NULL, &net, &diag),
                      KF_E_FORMAT, &diag, "layer 1 is empty or the layer starts decrease");
    }
}

static void test_structure_full_limits(void)
{
    uint32_t starts[KF_MAX_LAYERS + 1], con_start[8], l;
    memset(starts, 0, sizeof starts);
    /* 2^24 + 2 neurons: refused from the layer starts, before anything is written */
    starts[1] = 2;
    starts[2] = KF_MAX_NEURONS + 2;
    CHECK(kf_structure_full(2, KF_NET_LAYER, starts, con_start, NULL) == KF_E_LIMIT);
    /* five layers of 8193 neurons: 4 x 8192 x 8193 connections, just over 2^28 */
    for (l = 1; l <= 5; l++)
        starts[l] = 8193 * l;
    CHECK(kf_structure_full(5, KF_NET_LAYER, starts, con_start, NULL) == KF_E_LIMIT);
}

static void test_network_argument_refusals(void)
{
    const uint32_t sizes[3] = {2, 3, 1}, big[2] = {KF_MAX_NEURONS + 1, 1};
    kf_net *net = NULL, *copy = NULL;
    kf_activation act;
    float steep, weights[13], values[12];
    uint32_t starts[4];
    kf_data *data = NULL;
    CHECK(kf_net_create(NULL, 3, KF_NET_LAYER, 1.0f, 0, &net) == KF_E_ARG);
    CHECK(kf_net_create(sizes, 3, KF_NET_LAYER, 1.0f, 0, NULL) == KF_E_ARG);
    CHECK(kf_net_create(sizes, 3, (kf_net_type)2, 1.0f, 0, &net) == KF_E_ARG && net == NULL);
    CHECK(kf_net_create(sizes, 3, KF_NET_SHORTCUT, 0.5f, 0, &net) == KF_E_UNSUPPORTED && net == NULL);
    CHECK(kf_net_create(big, 2, KF_NET_LAYER, 1.0f, 0, &net) == KF_E_LIMIT && net == NULL);
    /* a rate above 1 is a fully connected network, as in fann_create_sparse */
    CHECK_OK(kf_net_create(sizes, 3, KF_NET_LAYER, 2.5f, 0, &net));
    if (net == NULL)
        return;
    CHECK(kf_net_connection_rate(net) == 1.0f && kf_net_total_connections(net) == 3 * 3 + 4);
    CHECK(kf_net_copy(NULL, &copy) == KF_E_ARG && kf_net_copy(net, NULL) == KF_E_ARG);
    CHECK(kf_net_get_structure(NULL, starts, NULL, NULL, NULL, NULL) == KF_E_ARG);
    CHECK(kf_net_get_weights(NULL, weights, 13) == KF_E_ARG);
    CHECK(kf_net_get_weights(net, NULL, 13) == KF_E_ARG);
    /* layer and neuron addressing */
    CHECK(kf_net_set_activation(NULL, 1, -1, KF_LINEAR) == KF_E_ARG);
    CHECK(kf_net_set_activation(net, 0, -1, KF_LINEAR) == KF_E_ARG); /* the input layer has none */
    CHECK(kf_net_set_activation(net, 3, -1, KF_LINEAR) == KF_E_ARG);
    CHECK(kf_net_set_activation(net, 1, 4, KF_LINEAR) == KF_E_ARG); /* 3 neurons and the bias */
    CHECK(kf_net_set_activation(net, 1, 0, KF_ACTIVATION_COUNT_) == KF_E_ARG);
    CHECK(kf_net_set_steepness(net, 2, 5, 1.0f) == KF_E_ARG);
    CHECK(kf_net_set_steepness(net, 2, 0, NAN) == KF_E_NUMERIC);
    CHECK(kf_net_get_activation(net, 1, 0x80000000u, &act, &steep) == KF_E_ARG);
    CHECK(kf_net_get_activation(net, 0, 0, &act, &steep) == KF_E_ARG);
    CHECK_OK(kf_net_set_activation(net, 1, 3, KF_ELLIOT)); /* the bias neuron is addressable, as in FANN */
    CHECK_OK(kf_net_get_activation(net, 1, 3, &act, &steep));
    CHECK(act == KF_ELLIOT && steep == 0.0f);
    CHECK_OK(kf_net_get_activation(net, 1, 3, NULL, NULL));
    /* weights */
    CHECK(kf_net_randomize_weights(NULL, -1, 1, 0) == KF_E_ARG);
    CHECK(kf_net_randomize_weights(net, NAN, 1, 0) == KF_E_NUMERIC);
    CHECK(kf_net_randomize_weights(net, -FLT_MAX, FLT_MAX, 0) == KF_E_NUMERIC); /* the width overflows */
    CHECK(kf_net_randomize_weights(net, 1, -1, 0) == KF_E_ARG);
    CHECK(kf_net_set_weights(NULL, weights, 13) == KF_E_ARG);
    CHECK(kf_net_set_weights(net, NULL, 13) == KF_E_ARG);
    CHECK(kf_net_set_weights(net, weights, 12) == KF_E_SHAPE);
    memset(weights, 0, sizeof weights);
    weights[12] = INFINITY;
    CHECK(kf_net_set_weights(net, weights, 13) == KF_E_NUMERIC);
    CHECK_OK(kf_net_get_weights(net, weights, 13));
    CHECK(isfinite(weights[12])); /* the refused weights never landed */
    /* Nguyen-Widrow needs data of the network's width with a range of inputs */
    CHECK(kf_net_init_weights(NULL, data, 0) == KF_E_ARG);
    CHECK(kf_net_init_weights(net, NULL, 0) == KF_E_ARG);
    CHECK_OK(kf_data_alloc(2, 3, 1, &data));
    CHECK(data != NULL && kf_net_init_weights(net, data, 0) == KF_E_SHAPE);
    kf_free(data);
    CHECK_OK(kf_data_alloc(0, 2, 1, &data));
    CHECK(data != NULL && kf_net_init_weights(net, data, 0) == KF_E_SHAPE); /* no pairs */
    kf_free(data);
    CHECK_OK(kf_data_alloc(2, 2, 1, &data));
    if (data != NULL) {
        data->input[0] = 1.0f;
        data->input[3] = NAN;
        CHECK(kf_net_init_weights(net, data, 0) == KF_E_NUMERIC);
        data->input[3] = 1.0f;
        CHECK_OK(kf_net_init_weights(net, data, 0));
        data->input[0] = 0.0f;
        data->input[3] = 1e-45f; /* a range of one subnormal step: the factor overflows */
        CHECK(kf_net_init_weights(net, data, 0) == KF_E_NUMERIC);
        data->input[3] = 0.0f;
        CHECK(kf_net_init_weights(net, data, 0) == KF_E_NUMERIC); /* every input equal */
    }
    kf_free(data);
    /* scaling values */
    CHECK(kf_net_get_scaling_values(NULL, values, 12) == KF_E_ARG);
    CHECK(kf_net_get_scaling_values(net, NULL, 12) == KF_E_ARG);
    CHECK(kf_net_get_scaling_values(net, values, 11) == KF_E_SHAPE);
    CHECK(kf_net_set_scaling_values(NULL, values, 12) == KF_E_ARG);
    CHECK(kf_net_set_scaling_values(net, NULL, 12) == KF_E_ARG);
    kf_net_free(net);
}

/* ---- scaling ---- */

static void test_scaling_refusals(void)
{
    const uint32_t sizes[2] = {2, 1};
    kf_net *net = NULL;
    kf_data *data = NULL, *narrow = NULL, *empty = NULL;
    float row[2] = {3.0f, 4.0f}, values[12];
    CHECK_OK(kf_net_create(sizes, 2, KF_NET_LAYER, 1.0f, 1, &net));
    CHECK_OK(kf_data_alloc(3, 2, 1, &data));
    CHECK_OK(kf_data_alloc(3, 1, 1, &narrow));
    CHECK_OK(kf_data_alloc(0, 2, 1, &empty));
    if (net == NULL || data == NULL || narrow == NULL || empty == NULL)
        goto done;
    CHECK(kf_net_scale(net, KF_SCALE_INPUT, row, 1) == KF_E_UNSUPPORTED); /* no parameters yet */
    CHECK(kf_net_set_scaling(NULL, data, 2, -1, 1, -1, 1) == KF_E_ARG);
    CHECK(kf_net_set_scaling(net, NULL, 2, -1, 1, -1, 1) == KF_E_ARG);
    CHECK(kf_net_set_scaling(net, data, 3, -1, 1, -1, 1) == KF_E_ARG);
    CHECK(kf_net_set_scaling(net, data, -1, -1, 1, -1, 1) == KF_E_ARG);
    CHECK(kf_net_set_scaling(net, narrow, 2, -1, 1, -1, 1) == KF_E_SHAPE);
    CHECK(kf_net_set_scaling(net, data, 2, -1, INFINITY, -1, 1) == KF_E_NUMERIC);
    CHECK(kf_net_set_scaling(net, data, 2, -1, 1, NAN, 1) == KF_E_NUMERIC);
    CHECK(kf_net_set_scaling(net, data, 2, 1, -1, -1, 1) == KF_E_ARG);
    CHECK(kf_net_set_scaling(net, data, 2, -1, 1, 1, 1) == KF_E_ARG);
    data->input[4] = NAN;
    CHECK(kf_net_set_scaling(net, data, 0, -1, 1, -1, 1) == KF_E_NUMERIC);
    data->input[4] = 0.0f;
    data->output[2] = INFINITY;
    CHECK(kf_net_set_scaling(net, data, 1, -1, 1, -1, 1) == KF_E_NUMERIC);
    CHECK(!kf_net_has_scaling(net)); /* nothing was set by the refused calls */
    /* No pairs: the identity-like defaults (mean 0, deviation 1, new_min -1, factor 1). */
    CHECK_OK(kf_net_set_scaling(net, empty, 2, -0.5f, 0.5f, 0.0f, 1.0f));
    CHECK_OK(kf_net_get_scaling_values(net, values, 12));
    CHECK(values[0] == 0.0f && values[2] == 1.0f && values[4] == -1.0f && values[6] == 1.0f);
    CHECK(values[8] == 0.0f && values[9] == 1.0f && values[10] == -1.0f && values[11] == 1.0f);
    CHECK_OK(kf_net_scale(net, KF_SCALE_INPUT, row, 1));
    CHECK(row[0] == 3.0f && row[1] == 4.0f); /* (x - 0) / 1 + 1, times 1, minus 1 */
    CHECK(kf_net_scale(NULL, KF_SCALE_INPUT, row, 1) == KF_E_ARG);
    CHECK(kf_net_scale(net, KF_SCALE_INPUT, NULL, 1) == KF_E_ARG);
    CHECK(kf_net_scale(net, (kf_scale_op)4, row, 1) == KF_E_ARG);
    CHECK(!kf_net_has_scaling(NULL));
    kf_net_clear_scaling(NULL); /* a no-op, as kf_free(NULL) */
done:
    kf_free(data);
    kf_free(narrow);
    kf_free(empty);
    kf_net_free(net);
}

/* ---- training data ---- */

static void test_data_refusals(void)
{
    kf_data *data = NULL;
    char *text = NULL;
    size_t len;
    kf_diag diag;
    CHECK(kf_data_alloc(1, 1, 1, NULL) == KF_E_ARG);
    CHECK(kf_data_alloc(1u << 31, 2, 1, &data) == KF_E_LIMIT && data == NULL); /* 3 x 2^31 values */
    CHECK(kf_data_parse("1 1 1\n0\n0\n", 6, NULL, &diag) == KF_E_ARG);
    CHECK(kf_data_parse(NULL, 6, &data, &diag) == KF_E_ARG);
    CHECK(kf_data_format(NULL, &text, &len) == KF_E_ARG);
    kf_data_shuffle(NULL, 1); /* nothing to shuffle */
    CHECK_OK(kf_data_alloc(2, 1, 1, &data));
    if (data == NULL)
        return;
    CHECK(kf_data_format(data, NULL, &len) == KF_E_ARG);
    CHECK(kf_data_scale(NULL, 0, -1, 1) == KF_E_ARG);
    CHECK(kf_data_scale(data, 3, -1, 1) == KF_E_ARG);
    CHECK(kf_data_scale(data, -1, -1, 1) == KF_E_ARG);
    CHECK(kf_data_scale(data, 0, -1, INFINITY) == KF_E_NUMERIC);
    CHECK(kf_data_scale(data, 0, 1, 1) == KF_E_ARG);
    CHECK(kf_data_scale(data, 0, -1, 1) == KF_E_NUMERIC); /* both inputs 0: no range to map */
    data->input[1] = NAN;
    CHECK(kf_data_scale(data, 2, -1, 1) == KF_E_NUMERIC);
    data->input[1] = 2.0f;
    data->output[0] = 5.0f;
    CHECK_OK(kf_data_scale(data, 2, -1, 1));
    CHECK(data->input[0] == -1.0f && data->input[1] == 1.0f && data->output[0] == 1.0f && data->output[1] == -1.0f);
    kf_free(data);
    /* zero pairs: nothing to scale, and that is not an error */
    CHECK_OK(kf_data_alloc(0, 2, 1, &data));
    CHECK(data != NULL && kf_data_scale(data, 2, -1, 1) == KF_OK);
    kf_free(data);
}

/* Values print with the fewest of 6 to 9 significant digits that read back exactly. */
static void test_data_values_round_trip(void)
{
    kf_data *data = NULL, *back = NULL;
    char *text = NULL;
    size_t len = 0;
    CHECK_OK(kf_data_alloc(1, 3, 1, &data));
    if (data == NULL)
        return;
    data->input[0] = FLT_MAX;     /* eight digits */
    data->input[1] = 0.1f;        /* six */
    data->input[2] = 122.537186f; /* nine: "122.53719" reads back as the next float */
    data->output[0] = -0.0f;
    CHECK_OK(kf_data_format(data, &text, &len));
    CHECK(text != NULL && strcmp(text, "1 3 1\n3.4028235e+38 0.1 122.537186 \n-0 \n") == 0);
    CHECK_OK(kf_data_parse(text, len, &back, NULL));
    CHECK(back != NULL && back->input[0] == FLT_MAX && back->input[1] == 0.1f && back->input[2] == 122.537186f
          && signbit(back->output[0]));
    kf_free(back);
    kf_free(text);
    kf_free(data);
}

/* ---- training ---- */

static void test_training_refusals(void)
{
    const uint32_t sizes[2] = {2, 1};
    kf_net *net = NULL;
    kf_trainer *t = NULL;
    kf_data *data = NULL;
    kf_epoch_stats stats;
    float in[2] = {0, 1}, out[1] = {1}, scratch[64];
    CHECK(kf_trainer_create(NULL, 0, &t) == KF_E_ARG);
    CHECK_OK(kf_net_create(sizes, 2, KF_NET_LAYER, 1.0f, 1, &net));
    CHECK(kf_trainer_create(net, 0, NULL) == KF_E_ARG);
    CHECK_OK(kf_trainer_create(net, 0, &t));
    CHECK_OK(kf_data_alloc(2, 2, 1, &data));
    kf_trainer_reset(NULL);
    kf_trainer_reset_mse(NULL);
    if (net == NULL || t == NULL || data == NULL)
        goto done;
    CHECK(kf_train_epoch(NULL, t, data, &stats) == KF_E_ARG);
    CHECK(kf_train_epoch(net, NULL, data, &stats) == KF_E_ARG);
    CHECK(kf_train_epoch(net, t, NULL, &stats) == KF_E_ARG);
    CHECK(kf_train_sample(NULL, t, in, out) == KF_E_ARG);
    CHECK(kf_train_sample(net, t, NULL, out) == KF_E_ARG);
    CHECK(kf_train_sample(net, t, in, NULL) == KF_E_ARG);
    in[1] = NAN;
    CHECK(kf_train_sample(net, t, in, out) == KF_E_NUMERIC);
    in[1] = 1.0f;
    CHECK(kf_trainer_get_mse(NULL, &stats) == KF_E_ARG);
    /* testing: arguments, scratch, shapes, values */
    CHECK(kf_net_test(NULL, data, scratch, 64, &stats) == KF_E_ARG);
    CHECK(kf_net_test(net, NULL, scratch, 64, &stats) == KF_E_ARG);
    CHECK(kf_net_test(net, data, NULL, 64, &stats) == KF_E_ARG);
    CHECK(kf_net_test(net, data, scratch, 64, NULL) == KF_E_ARG);
    CHECK(kf_net_test(net, data, scratch, 3, &stats) == KF_E_SHAPE);
    data->num_output = 2;
    CHECK(kf_net_test(net, data, scratch, 64, &stats) == KF_E_SHAPE);
    data->num_output = 1;
    data->input[3] = INFINITY;
    CHECK(kf_net_test(net, data, scratch, 64, &stats) == KF_E_NUMERIC);
    data->input[3] = 0.0f;
    data->output[1] = NAN;
    CHECK(kf_net_test(net, data, scratch, 64, &stats) == KF_E_NUMERIC);
done:
    kf_free(data);
    kf_trainer_free(t);
    kf_net_free(net);
}

/* ---- parameters ---- */

static void test_parameter_refusals(void)
{
    const uint32_t sizes[2] = {2, 1};
    kf_net *net = NULL;
    double v;
    uint32_t functions[KF_MAX_CASCADE_LIST], nf, ns;
    float steep[KF_MAX_CASCADE_LIST];
    CHECK(kf_param_name(KF_PARAM_COUNT_) == NULL && kf_param_name((kf_param)-1) == NULL);
    CHECK_OK(kf_net_create(sizes, 2, KF_NET_LAYER, 1.0f, 1, &net));
    if (net == NULL)
        return;
    CHECK(kf_net_get_param(NULL, KF_PARAM_LEARNING_RATE, &v) == KF_E_ARG);
    CHECK(kf_net_get_param(net, KF_PARAM_LEARNING_RATE, NULL) == KF_E_ARG);
    CHECK(kf_net_get_param(net, KF_PARAM_COUNT_, &v) == KF_E_ARG);
    CHECK(kf_net_set_param(NULL, KF_PARAM_LEARNING_RATE, 0.5) == KF_E_ARG);
    CHECK(kf_net_set_param(net, KF_PARAM_COUNT_, 0.5) == KF_E_ARG);
    CHECK(kf_net_set_param(net, KF_PARAM_LEARNING_RATE, 1e39) == KF_E_NUMERIC); /* finite double, not float */
    CHECK(kf_net_set_param(net, KF_PARAM_TRAINING_ALGORITHM, 1.5) == KF_E_ARG);
    CHECK(kf_net_set_param(net, KF_PARAM_TRAINING_ALGORITHM, KF_TRAIN_COUNT_) == KF_E_ARG);
    CHECK_OK(kf_net_get_param(net, KF_PARAM_LEARNING_RATE, &v));
    CHECK(v == (double)0.7f); /* unchanged by the refusals */
    CHECK(kf_net_get_cascade(NULL, functions, &nf, steep, &ns) == KF_E_ARG);
    CHECK(kf_net_get_cascade(net, functions, &nf, steep, NULL) == KF_E_ARG);
    CHECK(kf_net_set_cascade(NULL, functions, 0, steep, 0) == KF_E_ARG);
    CHECK(kf_net_set_cascade(net, NULL, 1, steep, 0) == KF_E_ARG);
    CHECK(kf_net_set_cascade(net, functions, 0, NULL, 1) == KF_E_ARG);
    CHECK_OK(kf_net_set_cascade(net, NULL, 0, NULL, 0)); /* empty lists */
    CHECK_OK(kf_net_get_cascade(net, functions, &nf, steep, &ns));
    CHECK(nf == 0 && ns == 0);
    kf_net_free(net);
}

/* ---- FANN .net text ---- */

/* The text libfann would write for a 2-1 network, with scaling parameters. */
static char *sample_text(void)
{
    const uint32_t sizes[2] = {2, 1};
    kf_net *net = NULL;
    char *text = NULL;
    size_t len;
    if (kf_net_create(sizes, 2, KF_NET_LAYER, 1.0f, 9, &net) != KF_OK)
        return NULL;
    kf_net_clear_scaling(net);
    CHECK_OK(kf_net_format_fann(net, &text, &len));
    kf_net_free(net);
    return text;
}

/* Parse text with one replacement; the status, the reason and its line must be as given. */
static void expect_parse_refused(const char *text, const char *from, const char *to, kf_status want,
                                 const char *reason, uint32_t line, int at)
{
    char *bad = replaced(text, from, to);
    kf_net *net = NULL;
    kf_diag diag;
    kf_status got;
    if (bad == NULL)
        return;
    got = kf_net_parse_fann(bad, strlen(bad), &net, &diag);
    check_refused(__FILE__, at, from, got, want, &diag, reason);
    if (line && diag.line != line) {
        kf_test_failures++;
        fprintf(stderr, "%s:%d: line %u, expected %u\n", __FILE__, at, diag.line, line);
    }
    CHECK(net == NULL);
    /* without a kf_diag: the same status */
    CHECK(kf_net_parse_fann(bad, strlen(bad), &net, NULL) == want && net == NULL);
    free(bad);
}

static void test_net_text_refusals(void)
{
    char *text = sample_text();
    kf_net *net = NULL;
    kf_diag diag;
    char *long_number;
    if (text == NULL)
        return;
    CHECK_OK(kf_net_parse_fann(text, strlen(text), &net, &diag));
    kf_net_free(net);
    net = NULL;
    CHECK(kf_net_parse_fann(text, strlen(text), NULL, &diag) == KF_E_ARG);
    CHECK(kf_net_parse_fann(NULL, 5, &net, &diag) == KF_E_ARG);
    CHECK(kf_net_format_fann(NULL, &long_number, NULL) == KF_E_ARG);
    expect_parse_refused(text, "cascade_activation_functions_count=10", "cascade_activation_functions_count=65",
                         KF_E_FORMAT, "cascade_activation_functions_count=65 exceeds 64", 29, __LINE__);
    expect_parse_refused(text, "cascade_activation_functions=3 ", "cascade_activation_functions=20 ", KF_E_FORMAT,
                         "cascade activation function 20 is not one of 0..19", 30, __LINE__);
    expect_parse_refused(text, "cascade_activation_steepnesses_count=4", "cascade_activation_steepnesses_count=99",
                         KF_E_FORMAT, "cascade_activation_steepnesses_count=99 exceeds 64", 31, __LINE__);
    expect_parse_refused(text, "scale_included=1", "scale_included=2", KF_E_FORMAT,
                         "scale_included=2; expected 0 or 1", 34, __LINE__);
    expect_parse_refused(text, "layer_sizes=3 2", "layer_sizes=3 200", KF_E_FORMAT,
                         "the scale block needs 804 values, more than the rest of the file holds", 34, __LINE__);
    expect_parse_refused(text, "scale_deviation_in=", "scale_spread_in=", KF_E_FORMAT,
                         "expected 'scale_deviation_in=', found \"scale_spread_in=", 36, __LINE__);
    expect_parse_refused(text, "scale_factor_out=1.000000", "scale_factor_out=one", KF_E_FORMAT,
                         "expected scale_factor_out (a number), found \"one\"", 42, __LINE__);
    expect_parse_refused(text, "layer_sizes=3 2", "layer_sizes=1 2", KF_E_FORMAT,
                         "layer_sizes count the bias neuron: the input layer needs at least 2 neurons", 0, __LINE__);
    expect_parse_refused(text, "(3, 4,", "(300000000, 4,", KF_E_FORMAT, "more than 268435456 connections in all", 43,
                         __LINE__);
    /* numbers: too long to be one, an integer beyond 32 bits, a sign alone */
    long_number = malloc(80);
    if (long_number != NULL) {
        memset(long_number, '1', 70);
        strcpy(long_number + 70, " 2\n");
        memcpy(long_number, "layer_sizes=", 12);
        expect_parse_refused(text, "layer_sizes=3 2 \n", long_number, KF_E_FORMAT,
                             "expected a layer size (an unsigned integer), found \"1111", 33, __LINE__);
        free(long_number);
    }
    expect_parse_refused(text, "num_layers=2", "num_layers=4294967296", KF_E_FORMAT,
                         "num_layers is too large: \"4294967296\"", 2, __LINE__);
    free(text);
}

/* The same checks on FANN_FIX_2.0 texts, and the structure checks after parsing (line 0: they
 * concern the whole network, not a line). */
static void test_fixed_text_refusals(void)
{
    const uint32_t sizes[2] = {2, 1};
    kf_net *net = NULL;
    kf_fixnet *fx = NULL;
    char *text = NULL, *bad;
    size_t len;
    kf_diag diag;
    int32_t in[2] = {0, 0}, out[1], scratch[8], weights[3];
    uint32_t starts[3];
    CHECK_OK(kf_net_create(sizes, 2, KF_NET_LAYER, 1.0f, 9, &net));
    if (net == NULL)
        return;
    CHECK(kf_net_to_fixnet(NULL, &fx) == KF_E_ARG && kf_net_to_fixnet(net, NULL) == KF_E_ARG);
    CHECK_OK(kf_net_to_fixnet(net, &fx));
    kf_net_free(net);
    if (fx == NULL)
        return;
    CHECK(kf_fixnet_format_fann(NULL, &text, &len) == KF_E_ARG && kf_fixnet_format_fann(fx, NULL, &len) == KF_E_ARG);
    CHECK_OK(kf_fixnet_format_fann(fx, &text, &len));
    CHECK(kf_fixnet_get_structure(NULL, starts, NULL, NULL, NULL, NULL) == KF_E_ARG);
    CHECK(kf_fixnet_get_weights(NULL, weights, 3) == KF_E_ARG);
    CHECK(kf_fixnet_check(NULL, &diag) == KF_E_ARG);
    CHECK(kf_fixnet_run(NULL, in, 1, out, scratch, 8) == KF_E_ARG);
    CHECK(kf_fixnet_run(fx, NULL, 1, out, scratch, 8) == KF_E_ARG);
    CHECK(kf_fixnet_run(fx, in, 1, out, scratch, 4) == KF_E_SHAPE); /* 5 neurons */
    CHECK_OK(kf_fixnet_run(fx, in, 1, out, scratch, 8));
    kf_fixnet_free(fx);
    fx = NULL;
    CHECK(kf_fixnet_parse_fann(text, len, NULL, &diag) == KF_E_ARG);
    CHECK(kf_fixnet_parse_fann(NULL, len, &fx, &diag) == KF_E_ARG);
    /* connection 0 of the output neuron reads the output neuron itself */
    bad = text ? replaced(text, "connections (connected_to_neuron, weight)=(0,",
                          "connections (connected_to_neuron, weight)=(3,") : NULL;
    if (bad != NULL) {
        CHECK_REFUSED(kf_fixnet_parse_fann(bad, strlen(bad), &fx, &diag), KF_E_FORMAT, &diag,
                      "connection 0 of neuron 3 (layer 1) reads neuron 3, which is not in an earlier layer");
        CHECK(fx == NULL && diag.line == 0);
        free(bad);
    }
    bad = text ? replaced(text, "(3, 4, ", "(3, 4, 99999999999") : NULL;
    if (bad != NULL) {
        CHECK_REFUSED(kf_fixnet_parse_fann(bad, strlen(bad), &fx, &diag), KF_E_FORMAT, &diag,
                      "a steepness does not fit in 32 bits: \"99999999999");
        free(bad);
    }
    bad = text ? replaced(text, "(3, 4, ", "(3, 4, -") : NULL; /* a sign with no digits */
    if (bad != NULL) {
        char *sign = replaced(bad, "(3, 4, -", "(3, 4, - ");
        if (sign != NULL) {
            CHECK_REFUSED(kf_fixnet_parse_fann(sign, strlen(sign), &fx, &diag), KF_E_FORMAT, &diag,
                          "expected a steepness (an integer), found \"-\"");
            free(sign);
        }
        free(bad);
    }
    bad = text ? replaced(text, "(3, 4, ", "(3, 4, x") : NULL;
    if (bad != NULL) {
        CHECK_REFUSED(kf_fixnet_parse_fann(bad, strlen(bad), &fx, &diag), KF_E_FORMAT, &diag,
                      "expected a steepness (an integer), found \"x");
        free(bad);
    }
    kf_free(text);
}

/* ---- the rest: activations, SIMD selection, kernels ---- */

static void test_small_refusals(void)
{
    kf_activation a = KF_LINEAR;
    const kf_kernels *scalar = kf_kernels_for(KF_SIMD_SCALAR);
    const double x[4] = {-1.5, 0.0, 0.5, 80.0};
    double y[4];
    int i;
    CHECK(kf_activation_from_name(NULL, &a) == KF_E_ARG);
    CHECK(kf_activation_from_name("sigmoid", NULL) == KF_E_ARG);
    CHECK(kf_activation_from_name("softmax", &a) == KF_E_ARG && a == KF_LINEAR);
    CHECK(kf_activation_apply(KF_ACTIVATION_COUNT_, 1.0f) == 0.0f);
    CHECK(kf_activation_name(KF_ACTIVATION_COUNT_) == NULL);
    CHECK(kf_simd_active(NULL) == KF_E_ARG);
    CHECK(!kf_simd_supported(KF_SIMD_AUTO) && !kf_simd_supported(KF_SIMD_COUNT_));
    CHECK(kf_simd_built(KF_SIMD_COUNT_) == 0 && kf_kernels_for(KF_SIMD_AUTO) == NULL);
    CHECK(kf_net_scratch_floats(NULL) == 0 && kf_fixnet_scratch_ints(NULL) == 0);
    CHECK(kf_net_run(NULL, NULL, 0, NULL, NULL, 0) == KF_E_ARG);
    /* The scalar row's vector exp is the glibc model itself, argument by argument. */
    if (kf_exp_kind_of_libm() != KF_EXP_LIBM && scalar != NULL) {
        scalar->exp_model(x, y, 4, kf_exp_kind_of_libm());
        for (i = 0; i < 4; i++)
            CHECK(memcmp(&y[i], &(double){kf_exp_model(x[i], kf_exp_kind_of_libm())}, sizeof(double)) == 0);
    }
}

const kf_test_case kf_error_tests[] = {
    {"router_descriptions", test_router_descriptions},
    {"routing_refusals", test_routing_refusals},
    {"qnet_descriptions", test_qnet_descriptions},
    {"qnet_run_refusals", test_qnet_run_refusals},
    {"mixture_refusals", test_mixture_refusals},
    {"assemble_refusals", test_assemble_refusals},
    {"structure_refusals", test_structure_refusals},
    {"structure_full_limits", test_structure_full_limits},
    {"network_argument_refusals", test_network_argument_refusals},
    {"scaling_refusals", test_scaling_refusals},
    {"data_refusals", test_data_refusals},
    {"data_values_round_trip", test_data_values_round_trip},
    {"training_refusals", test_training_refusals},
    {"parameter_refusals", test_parameter_refusals},
    {"net_text_refusals", test_net_text_refusals},
    {"fixed_text_refusals", test_fixed_text_refusals},
    {"small_refusals", test_small_refusals},
    {NULL, NULL},
};
