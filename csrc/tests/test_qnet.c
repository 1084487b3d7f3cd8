/* Native fixed point: every SIMD path this machine runs gives the scalar path's integers, and
 * descriptions that could overflow or leave their ranges are refused. */
#include <stdlib.h>
#include <string.h>

#include "test.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

static int32_t between(int32_t lo, int32_t hi)
{
    return lo + (int32_t)(next() % (uint32_t)(hi - lo + 1));
}

typedef struct owned_layer {
    int16_t *w;
    int32_t *bias, *mult, *knots;
    uint8_t *shift;
} owned_layer;

#define MAX_L 4

/* A random valid description with the given precision and layer sizes. */
static void random_desc(kf_qnet_desc *d, kf_qlayer_desc *layers, owned_layer *own, uint32_t abits, uint32_t wbits,
                        const uint32_t *sizes, uint32_t nl, float *inv, int32_t *zero)
{
    const int32_t lo = abits == 8 ? 0 : -32768, hi = abits == 8 ? 255 : 32767;
    const int32_t wmax = wbits == 8 ? 127 : 700;
    uint32_t l, i;
    d->activation_bits = abits;
    d->weight_bits = wbits;
    d->num_layers = nl;
    d->num_input = sizes[0];
    d->input_inv_scale = inv;
    d->input_zero = zero;
    d->output_scale = 0.01f;
    d->output_zero = abits == 8 ? 128 : 0;
    d->layers = layers;
    d->shortcut = 0;
    for (i = 0; i < sizes[0]; i++) {
        inv[i] = 10.0f;
        zero[i] = abits == 8 ? 128 : 0;
    }
    for (l = 0; l < nl; l++) {
        const uint32_t n_in = sizes[l], n_out = sizes[l + 1];
        kf_qlayer_desc *q = &layers[l];
        own[l].w = malloc(sizeof(int16_t) * n_in * n_out);
        own[l].bias = malloc(sizeof(int32_t) * n_out);
        own[l].mult = malloc(sizeof(int32_t) * n_out);
        own[l].shift = malloc(n_out);
        own[l].knots = malloc(sizeof(int32_t) * 2049);
        for (i = 0; i < n_in * n_out; i++)
            own[l].w[i] = (int16_t)between(-wmax, wmax);
        for (i = 0; i < n_out; i++) {
            own[l].bias[i] = between(-100000, 100000);
            own[l].mult[i] = between(1 << 30, INT32_MAX);
            own[l].shift[i] = (uint8_t)between(20, 40);
        }
        for (i = 0; i < 2049; i++) /* a rising staircase through the output range, x 256 */
            own[l].knots[i] = (lo + (int32_t)((int64_t)(hi - lo) * i / 2048)) * 256 + between(-128, 127);
        q->n_in = n_in;
        q->n_out = n_out;
        q->weights = own[l].w;
        q->bias = own[l].bias;
        q->multiplier = own[l].mult;
        q->shift = own[l].shift;
        q->t0 = -(1 << 20);
        q->seg_shift = 10;
        q->num_knots = 2049;
        q->knots = own[l].knots;
        q->out_lo = lo;
        q->out_hi = hi;
    }
}

static void release(owned_layer *own, uint32_t nl)
{
    uint32_t l;
    for (l = 0; l < nl; l++) {
        free(own[l].w);
        free(own[l].bias);
        free(own[l].mult);
        free(own[l].shift);
        free(own[l].knots);
    }
}

static void test_paths_agree(void)
{
    static const uint32_t shapes[][MAX_L + 1] = {{1, 1}, {3, 5, 2}, {17, 33, 7}, {64, 100, 10}, {5, 16, 16, 3}, {40, 1, 9}};
    static const uint32_t counts[] = {2, 3, 3, 3, 4, 3};
    static const uint32_t precisions[3][2] = {{8, 8}, {16, 8}, {16, 16}};
    size_t sh, pr;
    for (sh = 0; sh < sizeof counts / sizeof counts[0]; sh++) {
        for (pr = 0; pr < 3; pr++) {
            kf_qnet_desc d;
            kf_qlayer_desc layers[MAX_L];
            owned_layer own[MAX_L];
            float inv[128];
            int32_t zero[128];
            kf_qnet *net = NULL;
            kf_diag diag;
            const uint32_t nl = counts[sh] - 1, n_in = shapes[sh][0], n_out = shapes[sh][nl];
            const uint32_t abits = precisions[pr][0];
            uint64_t n;
            random_desc(&d, layers, own, abits, precisions[pr][1], shapes[sh], nl, inv, zero);
            CHECK_OK(kf_qnet_create(&d, &net, &diag));
            for (n = 1; net != NULL && n <= 40; n += 13) {
                int32_t *in = malloc(sizeof(int32_t) * n * n_in), *ref = malloc(sizeof(int32_t) * n * n_out);
                int32_t *got = malloc(sizeof(int32_t) * n * n_out);
                const uint64_t bytes = kf_qnet_scratch_bytes(net, n);
                void *scratch = malloc(bytes);
                int p;
                uint64_t k;
                for (k = 0; k < n * n_in; k++)
                    in[k] = abits == 8 ? between(0, 255) : between(-32768, 32767);
                CHECK_OK(kf_qnet_run_raw(net, KF_SIMD_SCALAR, in, n, ref, scratch, bytes));
                for (p = KF_SIMD_SCALAR + 1; p < KF_SIMD_COUNT_; p++) {
                    if (!kf_simd_supported((kf_simd)p)) {
                        CHECK(kf_qnet_run_raw(net, (kf_simd)p, in, n, got, scratch, bytes) == KF_E_UNSUPPORTED);
                        continue;
                    }
                    CHECK_OK(kf_qnet_run_raw(net, (kf_simd)p, in, n, got, scratch, bytes));
                    if (memcmp(got, ref, sizeof(int32_t) * n * n_out) != 0) {
                        kf_test_failures++;
                        fprintf(stderr, "path %s differs from scalar (shape %zu, precision %zu, n %llu)\n",
                                kf_simd_name((kf_simd)p), sh, pr, (unsigned long long)n);
                    }
                }
                free(in);
                free(ref);
                free(got);
                free(scratch);
            }
            kf_qnet_free(net);
            release(own, nl);
        }
    }
}

static void test_refuses_bad_descriptions(void)
{
    const uint32_t sizes[2] = {4, 2};
    kf_qnet_desc d;
    kf_qlayer_desc layers[1];
    owned_layer own[1];
    float inv[4];
    int32_t zero[4], in[4] = {0, 1, 2, 300}, out[2];
    kf_qnet *net = NULL;
    kf_diag diag;
    char scratch[4096];
    random_desc(&d, layers, own, 8, 8, sizes, 1, inv, zero);
    CHECK_OK(kf_qnet_create(&d, &net, &diag));
    CHECK(net != NULL && kf_qnet_run_raw(net, KF_SIMD_AUTO, in, 1, out, scratch, sizeof scratch) == KF_E_SHAPE);
    CHECK(net != NULL && kf_qnet_run_raw(net, KF_SIMD_AUTO, in, 1, out, scratch, 8) == KF_E_SHAPE);
    kf_qnet_free(net);
    own[0].w[0] = 200; /* outside int8 */
    CHECK(kf_qnet_create(&d, &net, &diag) == KF_E_ARG && net == NULL && strstr(diag.message, "weight") != NULL);
    own[0].w[0] = 1;
    own[0].bias[0] = INT32_MAX - 10; /* the bound fails */
    CHECK(kf_qnet_create(&d, &net, &diag) == KF_E_ARG && strstr(diag.message, "overflow") != NULL);
    own[0].bias[0] = 0;
    own[0].shift[1] = 63;
    CHECK(kf_qnet_create(&d, &net, &diag) == KF_E_ARG);
    own[0].shift[1] = 30;
    d.weight_bits = 16; /* Q8 takes 8-bit weights only */
    CHECK(kf_qnet_create(&d, &net, &diag) == KF_E_ARG);
    release(own, 1);
}

static void test_simd_names_and_active(void)
{
    kf_simd active;
    int p;
    CHECK(strcmp(kf_simd_name(KF_SIMD_SCALAR), "scalar") == 0 && kf_simd_name(KF_SIMD_COUNT_) == NULL);
    CHECK(kf_simd_supported(KF_SIMD_SCALAR) && kf_simd_built(KF_SIMD_SCALAR));
    for (p = 0; p < KF_SIMD_COUNT_; p++)
        CHECK(!kf_simd_supported((kf_simd)p) || kf_simd_built((kf_simd)p));
    if (getenv("KIMI_FANN_SIMD") == NULL) {
        CHECK_OK(kf_simd_active(&active));
        CHECK(kf_simd_supported(active));
    }
}

/* A Q8 layer's interpolated table, which kf_qnet_create expands into one byte per requantized
 * value (257 knots 16 apart), and a direct table of version 1 (seg_shift 0), on every path,
 * against kfann.h's formulas written out here: requantized values below, across and beyond
 * the table. */
static void test_q8_tables_follow_their_definition(void)
{
    enum { N_IN = 3, N_OUT = 7, SAMPLES = 300, KNOTS = 257 };
    int16_t w[N_OUT * N_IN];
    int32_t bias[N_OUT], mult[N_OUT], knots[KNOTS], zero[N_IN] = {0, 0, 0};
    uint8_t shift[N_OUT];
    float inv[N_IN] = {1, 1, 1};
    int32_t in[SAMPLES * N_IN], got[SAMPLES * N_OUT];
    uint32_t i, j, s, seg;
    for (i = 0; i < N_OUT * N_IN; i++)
        w[i] = (int16_t)between(-127, 127);
    for (j = 0; j < N_OUT; j++) {
        bias[j] = between(-3000, 3000);
        mult[j] = between(1 << 30, INT32_MAX);
        shift[j] = (uint8_t)between(32, 34); /* |t| up to a few thousand: across and beyond the table */
    }
    for (i = 0; i < KNOTS; i++) /* a rising curve in output steps x 256, with noise */
        knots[i] = (int32_t)((int64_t)255 * 256 * i / (KNOTS - 1)) + (i % 2 ? 100 : -100) * (i > 0 && i < KNOTS - 1);
    for (i = 0; i < SAMPLES * N_IN; i++)
        in[i] = between(0, 255);
    for (seg = 0; seg <= 4; seg += 4) {
        const uint32_t num = seg ? KNOTS : 4097;
        int32_t *table = malloc(sizeof(int32_t) * num);
        kf_qlayer_desc layer = {N_IN, N_OUT, w, bias, mult, shift, -2048, seg, num, table, 3, 250};
        kf_qnet_desc d = {8, 8, 1, N_IN, inv, zero, 0.01f, 0, &layer, 0};
        kf_qnet *net = NULL;
        kf_diag diag;
        void *scratch;
        uint64_t bytes;
        int p;
        for (i = 0; i < num; i++) /* a direct table: outputs x 256 (rounded by the core) */
            table[i] = seg ? knots[i] : (int32_t)(i / 16) * 256 + 100;
        CHECK_OK(kf_qnet_create(&d, &net, &diag));
        bytes = kf_qnet_scratch_bytes(net, SAMPLES);
        scratch = malloc(bytes);
        for (p = KF_SIMD_SCALAR; p < KF_SIMD_COUNT_; p++) {
            if (!kf_simd_supported((kf_simd)p))
                continue;
            CHECK_OK(kf_qnet_run_raw(net, (kf_simd)p, in, SAMPLES, got, scratch, bytes));
            for (s = 0; s < SAMPLES; s++)
                for (j = 0; j < N_OUT; j++) {
                    int64_t acc = bias[j], rel, want;
                    for (i = 0; i < N_IN; i++)
                        acc += (int64_t)w[j * N_IN + i] * in[s * N_IN + i];
                    rel = ((acc * mult[j] + ((int64_t)1 << (shift[j] - 1))) >> shift[j]) + 2048;
                    rel = rel < 0 ? 0 : (rel > 4096 ? 4096 : rel);
                    if (seg) {
                        const int64_t k = rel / 16, f = rel % 16;
                        want = (knots[k] * (16 - f) + (f ? knots[k + 1] * f : 0) + 2048) >> 12;
                    } else {
                        want = (table[rel] + 128) >> 8;
                    }
                    want = want < 3 ? 3 : (want > 250 ? 250 : want);
                    if (got[s * N_OUT + j] != want) {
                        kf_test_failures++;
                        fprintf(stderr, "path %s, seg_shift %u: sample %u output %u is %d, want %lld\n",
                                kf_simd_name((kf_simd)p), seg, s, j, got[s * N_OUT + j], (long long)want);
                        s = SAMPLES;
                        break;
                    }
                }
        }
        free(scratch);
        kf_qnet_free(net);
        free(table);
    }
}

const kf_test_case kf_qnet_tests[] = {
    {"q8_tables_follow_their_definition", test_q8_tables_follow_their_definition},
    {"paths_agree", test_paths_agree},
    {"refuses_bad_descriptions", test_refuses_bad_descriptions},
    {"simd_names_and_active", test_simd_names_and_active},
    {NULL, NULL},
};
