/* Allocation failures. Every allocation a constructor, parser or writer makes is failed in turn:
 * each failed run returns KF_E_NOMEM and no object, and frees what it had taken (LeakSanitizer
 * checks that when tools/ci/sanitize.sh runs these tests). The counts of allocations are part of
 * the design: every model is one allocation (docs/architecture.md).
 *
 * The test binary is linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc (CMakeLists.txt,
 * where the linker has --wrap): the library's calls reach the wrappers below, which count them
 * and fail the one a test names. The library has no hook and no state for this; elsewhere
 * (KF_TEST_WRAP_ALLOC unset) these tests are skipped. */
#include <stdlib.h>
#include <string.h>

#include "test.h"

#ifdef KF_TEST_WRAP_ALLOC

void *__real_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *ptr, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t count, size_t size);
void *__wrap_realloc(void *ptr, size_t size);

static unsigned long calls;   /* allocations since the failure was armed */
static unsigned long fail_at; /* the one that fails, from 1; 0 when none is armed */

static int this_one_fails(void)
{
    return fail_at != 0 && ++calls == fail_at;
}

void *__wrap_malloc(size_t size)
{
    return this_one_fails() ? NULL : __real_malloc(size);
}

void *__wrap_calloc(size_t count, size_t size)
{
    return this_one_fails() ? NULL : __real_calloc(count, size);
}

void *__wrap_realloc(void *ptr, size_t size)
{
    return this_one_fails() ? NULL : __real_realloc(ptr, size);
}

/* Run op with its 1st, 2nd, ... allocation failing until a run completes without reaching the
 * failing one; every run that did reach it must give KF_E_NOMEM. Returns how many allocations
 * the complete run made. */
static unsigned long fail_each(const char *name, kf_status (*op)(void))
{
    unsigned long n;
    for (n = 1; n < 10000; n++) {
        kf_status st;
        calls = 0;
        fail_at = n;
        st = op();
        fail_at = 0;
        if (calls < n) {
            if (st != KF_OK) {
                kf_test_failures++;
                fprintf(stderr, "%s: %d with every allocation granted\n", name, (int)st);
            }
            return calls;
        }
        if (st != KF_E_NOMEM) {
            kf_test_failures++;
            fprintf(stderr, "%s: allocation %lu failed, status %d instead of KF_E_NOMEM\n", name, n, (int)st);
        }
    }
    kf_test_failures++;
    return 0;
}

#define FAIL_EACH(op) fail_each(#op, op)

/* ---- what the operations work on, made once per test ---- */

static kf_net *dense_net, *big_net;
static kf_fixnet *fixed_net;
static kf_router *router;
static kf_qnet *qnet;
static kf_data *small_data;
static char *net_text, *fixed_text;
static size_t net_len, fixed_len;

/* A Q8 network of one layer: n_in (at most 3) inputs of scale 1 and zero points zero, weights
 * w, one output through a two-knot table. */
static void one_layer_q8(uint32_t n_in, const int16_t *w, const int32_t *zero, kf_qlayer_desc *layer, kf_qnet_desc *d)
{
    static const int32_t bias[1] = {0}, mult[1] = {1 << 30}, knots[2] = {0, 255 * 256};
    static const uint8_t shift[1] = {31};
    static const float inv[3] = {1.0f, 1.0f, 1.0f};
    memset(layer, 0, sizeof *layer);
    memset(d, 0, sizeof *d);
    layer->n_in = n_in;
    layer->n_out = 1;
    layer->weights = w;
    layer->bias = bias;
    layer->multiplier = mult;
    layer->shift = shift;
    layer->seg_shift = 8;
    layer->num_knots = 2;
    layer->knots = knots;
    layer->out_hi = 255;
    d->activation_bits = d->weight_bits = 8;
    d->num_layers = 1;
    d->num_input = n_in;
    d->input_inv_scale = inv;
    d->input_zero = zero;
    d->output_scale = 1.0f;
    d->layers = layer;
}

/* A 2-3-1 network with scaling parameters, a 10-20-5 one (its text outgrows the writer's first
 * 4096 bytes twice), their texts, and a Q8 network and a router of two experts over 2 inputs. */
static int make_fixtures(void)
{
    const uint32_t small[3] = {2, 3, 1}, big[3] = {10, 20, 5};
    static const float gates[2 * 2] = {1, 0, 0, 1};
    static const int16_t w[2] = {1, -1};
    static const int32_t zero[2] = {128, 128};
    kf_qlayer_desc layer;
    kf_qnet_desc qd;
    kf_router_desc rd;
    one_layer_q8(2, w, zero, &layer, &qd);
    qd.output_zero = 128;
    memset(&rd, 0, sizeof rd);
    rd.n_experts = 2;
    rd.dim = 2;
    rd.top_k = 1;
    rd.gate_bits = 32;
    rd.gates = gates;
    rd.scaling = 1.0f;
    if (kf_net_create(small, 3, KF_NET_LAYER, 1.0f, 3, &dense_net) != KF_OK
        || kf_net_create(big, 3, KF_NET_LAYER, 1.0f, 3, &big_net) != KF_OK
        || kf_net_to_fixnet(dense_net, &fixed_net) != KF_OK || kf_qnet_create(&qd, &qnet, NULL) != KF_OK
        || kf_router_create(&rd, &router, NULL) != KF_OK || kf_data_alloc(3, 2, 1, &small_data) != KF_OK)
        return 0;
    kf_net_clear_scaling(dense_net);
    return kf_net_format_fann(dense_net, &net_text, &net_len) == KF_OK
           && kf_fixnet_format_fann(fixed_net, &fixed_text, &fixed_len) == KF_OK;
}

static void free_fixtures(void)
{
    kf_net_free(dense_net);
    kf_net_free(big_net);
    kf_fixnet_free(fixed_net);
    kf_router_free(router);
    kf_qnet_free(qnet);
    kf_free(small_data);
    kf_free(net_text);
    kf_free(fixed_text);
    dense_net = big_net = NULL;
    fixed_net = NULL;
    router = NULL;
    qnet = NULL;
    small_data = NULL;
    net_text = fixed_text = NULL;
}

/* ---- the operations: each returns its status, checks that a failure returned nothing, and
 * frees what a success made ---- */

static kf_status create_dense(void)
{
    const uint32_t sizes[3] = {4, 6, 3};
    kf_net *net = (kf_net *)&net; /* any non-NULL value: a failure must clear it */
    const kf_status st = kf_net_create(sizes, 3, KF_NET_LAYER, 1.0f, 1, &net);
    CHECK((st == KF_OK) == (net != NULL));
    kf_net_free(net);
    return st;
}

static kf_status create_sparse(void)
{
    const uint32_t sizes[4] = {4, 6, 5, 3};
    kf_net *net = NULL;
    const kf_status st = kf_net_create(sizes, 4, KF_NET_LAYER, 0.5f, 1, &net);
    CHECK((st == KF_OK) == (net != NULL));
    kf_net_free(net);
    return st;
}

static kf_status copy_net(void)
{
    kf_net *net = NULL;
    const kf_status st = kf_net_copy(dense_net, &net);
    CHECK((st == KF_OK) == (net != NULL));
    kf_net_free(net);
    return st;
}

static kf_status assemble_full(void)
{
    uint32_t layer_start[4];
    uint8_t activation[16];
    float steepness[16], weights[16];
    kf_params params;
    kf_net *net = NULL;
    kf_diag diag;
    kf_status st;
    kf_params_default(&params);
    if (kf_net_get_structure(dense_net, layer_start, NULL, NULL, activation, steepness) != KF_OK
        || kf_net_get_weights(dense_net, weights, 13) != KF_OK)
        return KF_E_ARG;
    st = kf_net_assemble(3, KF_NET_LAYER, 1.0f, layer_start, NULL, NULL, weights, activation, steepness, &params,
                         NULL, &net, &diag);
    CHECK((st == KF_OK) == (net != NULL));
    CHECK(st != KF_E_NOMEM || diag.message[0] == '\0'); /* the status says it all */
    kf_net_free(net);
    return st;
}

static kf_status parse_net(void)
{
    kf_net *net = NULL;
    const kf_status st = kf_net_parse_fann(net_text, net_len, &net, NULL);
    CHECK((st == KF_OK) == (net != NULL));
    CHECK(st != KF_OK || kf_net_has_scaling(net));
    kf_net_free(net);
    return st;
}

static kf_status format_big_net(void)
{
    char *text = (char *)&text;
    size_t len = 0;
    const kf_status st = kf_net_format_fann(big_net, &text, &len);
    CHECK(st == KF_OK ? len > 8192 : text == (char *)&text); /* a failed write leaves *text alone */
    if (st == KF_OK)
        kf_free(text);
    return st;
}

static kf_status parse_fixed(void)
{
    kf_fixnet *net = NULL;
    const kf_status st = kf_fixnet_parse_fann(fixed_text, fixed_len, &net, NULL);
    CHECK((st == KF_OK) == (net != NULL));
    kf_fixnet_free(net);
    return st;
}

static kf_status to_fixed(void)
{
    kf_fixnet *net = NULL;
    const kf_status st = kf_net_to_fixnet(dense_net, &net);
    CHECK((st == KF_OK) == (net != NULL));
    kf_fixnet_free(net);
    return st;
}

static kf_status format_fixed(void)
{
    char *text = NULL;
    size_t len;
    const kf_status st = kf_fixnet_format_fann(fixed_net, &text, &len);
    CHECK((st == KF_OK) == (text != NULL));
    kf_free(text);
    return st;
}

static kf_status create_trainer(void)
{
    kf_trainer *t = NULL;
    const kf_status st = kf_trainer_create(dense_net, 1, &t);
    CHECK((st == KF_OK) == (t != NULL));
    kf_trainer_free(t);
    return st;
}

static kf_status alloc_data(void)
{
    kf_data *d = NULL;
    const kf_status st = kf_data_alloc(4, 3, 2, &d);
    CHECK((st == KF_OK) == (d != NULL));
    kf_free(d);
    return st;
}

static kf_status parse_data(void)
{
    static const char text[] = "2 2 1\n0 1\n1\n1 0\n1\n";
    kf_data *d = NULL;
    kf_diag diag;
    const kf_status st = kf_data_parse(text, sizeof text - 1, &d, &diag);
    CHECK((st == KF_OK) == (d != NULL));
    kf_free(d);
    return st;
}

static kf_status format_data(void)
{
    char *text = NULL;
    size_t len;
    const kf_status st = kf_data_format(small_data, &text, &len);
    CHECK((st == KF_OK) == (text != NULL));
    kf_free(text);
    return st;
}

static kf_status create_qnet(void)
{
    static const int16_t w[3] = {1, 2, 3};
    static const int32_t zero[3] = {0, 0, 0};
    kf_qlayer_desc layer;
    kf_qnet_desc d;
    kf_qnet *net = NULL;
    kf_status st;
    one_layer_q8(3, w, zero, &layer, &d);
    st = kf_qnet_create(&d, &net, NULL);
    CHECK((st == KF_OK) == (net != NULL));
    kf_qnet_free(net);
    return st;
}

static kf_status create_router(void)
{
    static const float gates[3 * 2] = {1, 2, 3, 4, 5, 6};
    kf_router_desc d;
    kf_router *r = NULL;
    kf_status st;
    memset(&d, 0, sizeof d);
    d.n_experts = 3;
    d.dim = 2;
    d.top_k = 2;
    d.gate_bits = 32;
    d.gates = gates;
    d.scaling = 1.0f;
    st = kf_router_create(&d, &r, NULL);
    CHECK((st == KF_OK) == (r != NULL));
    kf_router_free(r);
    return st;
}

static kf_status create_moe(void)
{
    kf_expert experts[2];
    kf_moe *moe = NULL;
    kf_status st;
    experts[0].kind = KF_EXPERT_QUANTIZED;
    experts[0].model = qnet;
    experts[1].kind = KF_EXPERT_QUANTIZED;
    experts[1].model = qnet;
    st = kf_moe_create(router, experts, 2, &experts[0], &moe, NULL);
    CHECK((st == KF_OK) == (moe != NULL));
    kf_moe_free(moe);
    return st;
}

/* Every model is one allocation; parsers add their temporary arrays; writers grow one buffer. */
static void test_every_allocation_failure(void)
{
    if (!make_fixtures()) {
        CHECK(!"fixtures");
        free_fixtures();
        return;
    }
    CHECK(FAIL_EACH(create_dense) == 1);
    CHECK(FAIL_EACH(create_sparse) == 1 + 2 * 3); /* the block, then two work arrays per sparse layer */
    CHECK(FAIL_EACH(copy_net) == 1);
    CHECK(FAIL_EACH(assemble_full) == 2); /* the implied connection starts, then the block */
    CHECK(FAIL_EACH(parse_net) == 1 + 3 + 2 + 1); /* scaling, per-neuron and per-connection arrays, block */
    CHECK(FAIL_EACH(format_big_net) == 3);        /* 4096, 8192 then 16384 bytes */
    CHECK(FAIL_EACH(parse_fixed) == 3 + 2 + 1);
    CHECK(FAIL_EACH(to_fixed) == 1);
    CHECK(FAIL_EACH(format_fixed) == 1);
    CHECK(FAIL_EACH(create_trainer) == 1);
    CHECK(FAIL_EACH(alloc_data) == 1);
    CHECK(FAIL_EACH(parse_data) == 1);
    CHECK(FAIL_EACH(format_data) == 1);
    CHECK(FAIL_EACH(create_qnet) == 1);
    CHECK(FAIL_EACH(create_router) == 1);
    CHECK(FAIL_EACH(create_moe) == 1);
    free_fixtures();
}

const kf_test_case kf_nomem_tests[] = {
    {"every_allocation_failure", test_every_allocation_failure},
    {NULL, NULL},
};

#else /* the linker cannot wrap the allocator here */

const kf_test_case kf_nomem_tests[] = {
    {NULL, NULL},
};

#endif
