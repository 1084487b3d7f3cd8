/* Cascade training and FANN's random draws. libfann itself is the oracle of the Python tests
 * (tests/test_cascade.py); here: glibc's rand() against kf_random, growth, determinism, checks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

static void test_random_matches_glibc_rand(void)
{
#ifdef __GLIBC__
    const uint32_t seeds[] = {0, 1, 2, 42, 12345, 2147483647u, 2147483648u, 4294967295u};
    size_t i;
    int k;
    for (i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        kf_random r;
        int same = 1;
        kf_random_glibc(&r, seeds[i]);
        srand(seeds[i]);
        for (k = 0; k < 5000; k++)
            same &= kf_random_next(&r) == (uint32_t)rand();
        CHECK(same);
    }
#endif
}

static void test_random_streams(void)
{
    kf_random a, b;
    uint32_t k, v, max = 0;
    float u;
    kf_random_pcg(&a, 7);
    b = a; /* a copy continues the same stream */
    for (k = 0; k < 1000; k++) {
        v = kf_random_next(&a);
        CHECK(v == kf_random_next(&b));
        if (v > max)
            max = v;
    }
    CHECK(max <= KF_RAND_MAX && max > KF_RAND_MAX / 2);
    kf_random_glibc(&a, 3);
    for (k = 0; k < 1000; k++) {
        u = kf_random_uniform(&a, -0.5f, 2.0f);
        CHECK(u >= -0.5f && u <= 2.0f);
    }
}

/* Two noisy interleaved half-moons: a shortcut network without hidden neurons cannot fit them. */
static kf_data *moons(uint32_t n)
{
    kf_data *d = NULL;
    uint32_t i;
    if (kf_data_alloc(n, 2, 1, &d) != KF_OK)
        return NULL;
    for (i = 0; i < n; i++) {
        const float t = 3.14159265f * (float)(i / 2) / (float)(n / 2);
        const int upper = (int)(i % 2);
        d->input[2 * i] = upper ? cosf(t) : 1.0f - cosf(t);
        d->input[2 * i + 1] = upper ? sinf(t) : 0.5f - sinf(t);
        d->output[i] = upper ? 1.0f : -1.0f;
    }
    return d;
}

static kf_net *shortcut_net(void)
{
    const uint32_t sizes[2] = {2, 1};
    kf_net *net = NULL;
    if (kf_net_create(sizes, 2, KF_NET_SHORTCUT, 1.0f, 5, &net) != KF_OK)
        return NULL;
    kf_net_set_activation(net, 1, -1, KF_SIGMOID_SYMMETRIC);
    return net;
}

typedef struct reports {
    uint32_t count, neurons[16];
    float mse[16];
} reports;

static int record(const kf_cascade_report *r, void *ctx)
{
    reports *rep = ctx;
    if (rep->count < 16) {
        rep->neurons[rep->count] = r->neurons;
        rep->mse[rep->count] = r->mse;
    }
    rep->count++;
    return 0;
}

static kf_status grow(const kf_net *net, const kf_data *d, uint32_t max_neurons, uint32_t seed, reports *rep,
                      kf_net **out, kf_cascade_report *final)
{
    kf_random random;
    kf_cascade_options opt;
    kf_diag diag;
    memset(&opt, 0, sizeof opt);
    kf_random_glibc(&random, seed);
    opt.max_neurons = max_neurons;
    opt.desired_error = 0.001f;
    opt.random = &random;
    opt.callback = rep ? record : NULL;
    opt.ctx = rep;
    return kf_cascade_train(net, d, &opt, out, final, &diag);
}

static void test_cascade_grows_and_learns(void)
{
    kf_net *net = shortcut_net(), *grown = NULL, *again = NULL;
    kf_data *d = moons(200);
    kf_cascade_report final;
    reports rep;
    float w1[512], w2[512];
    uint32_t k;
    memset(&rep, 0, sizeof rep);
    if (net == NULL || d == NULL)
        return;
    kf_net_set_param(net, KF_PARAM_CASCADE_MAX_OUT_EPOCHS, 60);
    kf_net_set_param(net, KF_PARAM_CASCADE_MAX_CAND_EPOCHS, 60);
    CHECK_OK(grow(net, d, 4, 1, &rep, &grown, &final));
    if (grown == NULL)
        return;
    CHECK(kf_net_total_neurons(net) == 4); /* the original is left as it was */
    CHECK(kf_net_num_layers(grown) == 2 + final.neurons && final.neurons >= 1 && final.neurons <= 4);
    CHECK(kf_net_total_neurons(grown) == 4 + final.neurons);
    CHECK(rep.count == final.neurons + (final.neurons < 4 ? 1u : 0u) || rep.count == final.neurons + 1);
    CHECK(rep.neurons[0] == 0 && rep.mse[rep.count - 1] < rep.mse[0]);
    CHECK(final.mse <= rep.mse[0] && final.epochs > 0);
    /* deterministic: the same seed gives the same network */
    CHECK_OK(grow(net, d, 4, 1, NULL, &again, NULL));
    if (again != NULL && kf_net_total_connections(again) == kf_net_total_connections(grown)
        && kf_net_total_connections(grown) <= 512) {
        CHECK_OK(kf_net_get_weights(grown, w1, kf_net_total_connections(grown)));
        CHECK_OK(kf_net_get_weights(again, w2, kf_net_total_connections(again)));
        for (k = 0; k < kf_net_total_connections(grown); k++)
            CHECK(memcmp(&w1[k], &w2[k], sizeof(float)) == 0);
    } else {
        CHECK(0);
    }
    kf_net_free(again);
    kf_net_free(grown);
    kf_net_free(net);
    kf_free(d);
}

static int stop_at_once(const kf_cascade_report *r, void *ctx)
{
    (void)r;
    (void)ctx;
    return 1;
}

static void test_cascade_callback_stops(void)
{
    kf_net *net = shortcut_net(), *grown = NULL;
    kf_data *d = moons(64);
    kf_random random;
    kf_cascade_options opt;
    kf_cascade_report final;
    if (net == NULL || d == NULL)
        return;
    memset(&opt, 0, sizeof opt);
    kf_random_pcg(&random, 3);
    opt.max_neurons = 5;
    opt.random = &random;
    opt.callback = stop_at_once;
    CHECK_OK(kf_cascade_train(net, d, &opt, &grown, &final, NULL));
    CHECK(grown != NULL && final.neurons == 0 && kf_net_num_layers(grown) == 2);
    kf_net_free(grown);
    kf_net_free(net);
    kf_free(d);
}

static void test_cascade_refuses(void)
{
    const uint32_t layered[3] = {2, 3, 1}, wide[2] = {3, 1};
    kf_net *net = shortcut_net(), *grown = NULL, *other = NULL;
    kf_data *d = moons(16), *empty = NULL, *mismatch = NULL;
    kf_random random;
    kf_cascade_options opt;
    kf_diag diag;
    const uint32_t relu[1] = {KF_RELU};
    const float one[1] = {1.0f};
    if (net == NULL || d == NULL || kf_data_alloc(0, 2, 1, &empty) != KF_OK || kf_data_alloc(4, 3, 1, &mismatch) != KF_OK)
        return;
    memset(&opt, 0, sizeof opt);
    kf_random_pcg(&random, 3);
    opt.max_neurons = 2;
    opt.random = &random;
    CHECK(kf_cascade_train(net, empty, &opt, &grown, NULL, &diag) == KF_E_SHAPE);
    CHECK(grown == NULL && diag.message[0] != '\0');
    CHECK(kf_cascade_train(net, mismatch, &opt, &grown, NULL, &diag) == KF_E_SHAPE);
    opt.max_neurons = 0;
    CHECK(kf_cascade_train(net, d, &opt, &grown, NULL, &diag) == KF_E_ARG);
    opt.max_neurons = KF_MAX_LAYERS;
    CHECK(kf_cascade_train(net, d, &opt, &grown, NULL, &diag) == KF_E_LIMIT);
    opt.max_neurons = 2;
    opt.desired_error = NAN;
    CHECK(kf_cascade_train(net, d, &opt, &grown, NULL, &diag) == KF_E_NUMERIC);
    opt.desired_error = -1.0f;
    CHECK(kf_cascade_train(net, d, &opt, &grown, NULL, &diag) == KF_E_ARG);
    opt.desired_error = 0.0f;
    opt.random = NULL;
    CHECK(kf_cascade_train(net, d, &opt, &grown, NULL, &diag) == KF_E_ARG);
    opt.random = &random;
    CHECK_OK(kf_net_set_param(net, KF_PARAM_TRAINING_ALGORITHM, KF_TRAIN_BATCH));
    CHECK(kf_cascade_train(net, d, &opt, &grown, NULL, &diag) == KF_E_UNSUPPORTED);
    CHECK_OK(kf_net_set_param(net, KF_PARAM_TRAINING_ALGORITHM, KF_TRAIN_QUICKPROP));
    CHECK_OK(kf_net_set_cascade(net, relu, 1, one, 1));
    CHECK(kf_cascade_train(net, d, &opt, &grown, NULL, &diag) == KF_E_ARG);
    CHECK(strstr(diag.message, "relu") != NULL);
    CHECK_OK(kf_net_set_param(net, KF_PARAM_CASCADE_NUM_CANDIDATE_GROUPS, 0));
    CHECK(kf_cascade_train(net, d, &opt, &grown, NULL, &diag) == KF_E_ARG);
    kf_net_set_activation(net, 1, -1, KF_THRESHOLD);
    CHECK(kf_cascade_train(net, d, &opt, &grown, NULL, &diag) == KF_E_UNSUPPORTED);
    CHECK_OK(kf_net_create(layered, 3, KF_NET_LAYER, 1.0f, 1, &other));
    CHECK(kf_cascade_train(other, d, &opt, &grown, NULL, &diag) == KF_E_UNSUPPORTED);
    kf_net_free(other);
    CHECK_OK(kf_net_create(wide, 2, KF_NET_SHORTCUT, 1.0f, 1, &other));
    mismatch->input[3] = INFINITY;
    CHECK(kf_cascade_train(other, mismatch, &opt, &grown, NULL, &diag) == KF_E_NUMERIC);
    CHECK(grown == NULL);
    kf_net_free(other);
    kf_net_free(net);
    kf_free(d);
    kf_free(empty);
    kf_free(mismatch);
}

/* A shortcut Q8/Q16 network (a grown network's integer form): each layer reads the inputs and
 * every earlier layer's outputs. Checked against a direct reference of the integer pipeline
 * (direct tables), on every path, for sizes around the padding boundaries. */
static int32_t q_reference(const int32_t *a, uint32_t n_in, const int16_t *w, int32_t bias, int32_t mult, uint8_t shift,
                           int32_t t0, const int32_t *knots, uint32_t num_knots, int32_t lo, int32_t hi)
{
    int64_t acc = bias, t;
    int32_t v;
    uint32_t i;
    for (i = 0; i < n_in; i++)
        acc += (int64_t)w[i] * a[i];
    t = kf_requantize((int32_t)acc, mult, shift) - t0;
    t = t < 0 ? 0 : (t > (int64_t)num_knots - 1 ? (int64_t)num_knots - 1 : t);
    v = (knots[t] + (1 << (KF_QTABLE_FRAC_BITS - 1))) >> KF_QTABLE_FRAC_BITS;
    return v < lo ? lo : (v > hi ? hi : v);
}

static void test_shortcut_qnet(void)
{
    enum { L = 4, MAXW = 64, KNOTS = 512, NS = 23 };
    static const uint32_t shapes[][L + 1] = {{3, 1, 1, 1, 2}, {5, 4, 3, 1, 1}, {16, 1, 2, 1, 3}, {1, 1, 1, 1, 1}};
    uint32_t sh, bits;
    for (sh = 0; sh < 4; sh++)
        for (bits = 8; bits <= 16; bits += 8) {
            const int32_t lo = bits == 8 ? 0 : -32768, hi = bits == 8 ? 255 : 32767;
            static int16_t w[L][MAXW * 8];
            static int32_t bias[L][8], mult[L][8], knots[L][KNOTS], zero[16], in[NS * 16], out[NS * 4], ref[NS * 4];
            static uint8_t shift[L][8];
            float inv[16];
            kf_qlayer_desc layers[L];
            kf_qnet_desc d;
            kf_qnet *net = NULL;
            kf_diag diag;
            uint32_t l, j, i, n_in = shapes[sh][0], s, p;
            memset(&d, 0, sizeof d);
            for (l = 0; l < L; l++) {
                const uint32_t n_out = shapes[sh][l + 1];
                for (i = 0; i < n_in * n_out; i++)
                    w[l][i] = (int16_t)(rand() % 255 - 127);
                for (j = 0; j < n_out; j++) {
                    bias[l][j] = rand() % 20001 - 10000;
                    mult[l][j] = (1 << 30) + rand() % (1 << 28);
                    shift[l][j] = (uint8_t)(bits == 8 ? 38 : 46);
                }
                for (i = 0; i < KNOTS; i++)
                    knots[l][i] = (lo + (int32_t)((int64_t)(hi - lo) * i / (KNOTS - 1))) * 256;
                layers[l].n_in = n_in;
                layers[l].n_out = n_out;
                layers[l].weights = w[l];
                layers[l].bias = bias[l];
                layers[l].multiplier = mult[l];
                layers[l].shift = shift[l];
                layers[l].t0 = -KNOTS / 2;
                layers[l].seg_shift = 0;
                layers[l].num_knots = KNOTS;
                layers[l].knots = knots[l];
                layers[l].out_lo = lo;
                layers[l].out_hi = hi;
                n_in += n_out;
            }
            for (i = 0; i < shapes[sh][0]; i++) {
                inv[i] = 1.0f;
                zero[i] = 0;
            }
            d.activation_bits = bits;
            d.weight_bits = 8;
            d.num_layers = L;
            d.num_input = shapes[sh][0];
            d.input_inv_scale = inv;
            d.input_zero = zero;
            d.output_scale = 1.0f;
            d.layers = layers;
            d.shortcut = 1;
            CHECK_OK(kf_qnet_create(&d, &net, &diag));
            if (net == NULL)
                continue;
            for (i = 0; i < NS * shapes[sh][0]; i++)
                in[i] = lo + rand() % (hi - lo + 1);
            for (s = 0; s < NS; s++) { /* the reference: every value in one row */
                int32_t row[64];
                uint32_t at = shapes[sh][0];
                memcpy(row, in + s * shapes[sh][0], at * sizeof(int32_t));
                for (l = 0; l < L; l++) {
                    for (j = 0; j < layers[l].n_out; j++)
                        row[at + j] = q_reference(row, layers[l].n_in, w[l] + j * layers[l].n_in, bias[l][j],
                                                  mult[l][j], shift[l][j], layers[l].t0, knots[l], KNOTS, lo, hi);
                    at += layers[l].n_out;
                }
                memcpy(ref + s * shapes[sh][L], row + at - shapes[sh][L], shapes[sh][L] * sizeof(int32_t));
            }
            for (p = KF_SIMD_SCALAR; p < KF_SIMD_COUNT_; p++) {
                char scratch[1 << 15];
                if (!kf_simd_supported((kf_simd)p))
                    continue;
                CHECK(kf_qnet_scratch_bytes(net, NS) <= sizeof scratch);
                CHECK_OK(kf_qnet_run_raw(net, (kf_simd)p, in, NS, out, scratch, sizeof scratch));
                CHECK(memcmp(out, ref, NS * shapes[sh][L] * sizeof(int32_t)) == 0);
            }
            kf_qnet_free(net);
            layers[2].n_in--; /* not the inputs and every earlier output */
            CHECK(kf_qnet_create(&d, &net, &diag) == KF_E_ARG && strstr(diag.message, "shortcut") != NULL);
            d.shortcut = 2;
            CHECK(kf_qnet_create(&d, &net, &diag) == KF_E_ARG);
        }
}

const kf_test_case kf_cascade_tests[] = {
    {"shortcut_qnet", test_shortcut_qnet},
    {"random_matches_glibc_rand", test_random_matches_glibc_rand},
    {"random_streams", test_random_streams},
    {"cascade_grows_and_learns", test_cascade_grows_and_learns},
    {"cascade_callback_stops", test_cascade_callback_stops},
    {"cascade_refuses", test_cascade_refuses},
    {NULL, NULL},
};
