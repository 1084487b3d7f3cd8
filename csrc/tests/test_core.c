/* Networks, activations, running and training. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#include "../src/objects.h" /* white-box checks of the layouts and caches */

static void test_status_strings(void)
{
    int code;
    for (code = 0; code > -KF_STATUS_COUNT_; code--)
        CHECK(strcmp(kf_status_str((kf_status)code), "unknown status") != 0);
    CHECK(strcmp(kf_status_str((kf_status)-KF_STATUS_COUNT_), "unknown status") == 0);
    CHECK(strcmp(kf_status_str(KF_STATUS_COUNT_), "unknown status") == 0);
}

static void test_activation_names_and_values(void)
{
    int a;
    kf_activation back;
    for (a = 0; a < KF_ACTIVATION_COUNT_; a++) {
        CHECK(kf_activation_name((kf_activation)a) != NULL);
        CHECK_OK(kf_activation_from_name(kf_activation_name((kf_activation)a), &back));
        CHECK(back == (kf_activation)a);
    }
    CHECK(kf_activation_name(KF_ACTIVATION_COUNT_) == NULL);
    CHECK(kf_activation_from_name("tanh", &back) == KF_E_ARG);
    CHECK(kf_activation_apply(KF_SIGMOID, 0.0f) == 0.5f);
    CHECK(kf_activation_apply(KF_SIGMOID_SYMMETRIC, 0.0f) == 0.0f);
    CHECK(fabsf(kf_activation_apply(KF_SIGMOID_SYMMETRIC, 1.0f) - (float)tanh(1.0)) < 1e-6f);
    CHECK(kf_activation_apply(KF_THRESHOLD, -0.1f) == 0.0f && kf_activation_apply(KF_THRESHOLD, 0.0f) == 1.0f);
    CHECK(kf_activation_apply(KF_LINEAR_PIECE_SYMMETRIC, -3.0f) == -1.0f);
    CHECK(kf_activation_apply(KF_ELLIOT_SYMMETRIC, 1.0f) == 0.5f);
    CHECK(kf_activation_apply(KF_RELU, -2.0f) == 0.0f && kf_activation_apply(KF_RELU, 2.0f) == 2.0f);
    CHECK(kf_activation_apply(KF_LEAKY_RELU, -2.0f) == -0.02f);
    /* The stepwise sigmoid passes through its breakpoints and is flat beyond them. */
    CHECK(kf_activation_apply(KF_SIGMOID_STEPWISE, 0.0f) == 0.5f);
    CHECK(kf_activation_apply(KF_SIGMOID_STEPWISE, -10.0f) == 0.0f);
    CHECK(kf_activation_apply(KF_SIGMOID_SYMMETRIC_STEPWISE, 10.0f) == 1.0f);
    CHECK(kf_activation_is_symmetric(KF_SIGMOID_SYMMETRIC) && !kf_activation_is_symmetric(KF_SIGMOID));
}

static void test_standard_layout(void)
{
    const uint32_t sizes[3] = {2, 3, 1};
    kf_net *net = NULL;
    CHECK_OK(kf_net_create(sizes, 3, KF_NET_LAYER, 1.0f, 7, &net));
    if (net == NULL)
        return;
    CHECK(net->total_neurons == 3 + 4 + 2);
    CHECK(net->total_connections == 3 * 3 + 1 * 4);
    CHECK(net->num_input == 2 && net->num_output == 1);
    CHECK(kf_net_layer_size(net, 1) == 3);
    /* The first hidden neuron reads the input neurons and the input bias, in order. */
    CHECK(net->con_src[0] == 0 && net->con_src[1] == 1 && net->con_src[2] == 2 && net->contiguous[3]);
    CHECK(net->weights[0] >= -0.1f && net->weights[0] <= 0.1f);
    kf_net_free(net);
}

static void test_shortcut_layout(void)
{
    const uint32_t sizes[3] = {2, 3, 1};
    kf_net *net = NULL;
    CHECK_OK(kf_net_create(sizes, 3, KF_NET_SHORTCUT, 1.0f, 7, &net));
    if (net == NULL)
        return;
    CHECK(net->total_neurons == 3 + 3 + 1);
    CHECK(net->total_connections == 3 * 3 + 1 * 6);
    CHECK(net->num_output == 1);
    kf_net_free(net);
    CHECK(kf_net_create(sizes, 3, KF_NET_SHORTCUT, 0.5f, 7, &net) == KF_E_UNSUPPORTED);
}

static void test_sparse_layout(void)
{
    const uint32_t sizes[3] = {10, 20, 5};
    kf_net *net = NULL;
    uint32_t j, k, m;
    CHECK_OK(kf_net_create(sizes, 3, KF_NET_LAYER, 0.3f, 11, &net));
    if (net == NULL)
        return;
    /* FANN's count per layer: max(max(in, out), round(rate * in * out)) + out. */
    CHECK(net->total_connections == (60 + 20) + (30 + 5));
    for (j = net->layer_start[1]; j < net->total_neurons; j++) {
        uint32_t k0 = net->con_start[j], k1 = net->con_start[j + 1];
        uint32_t l = j < net->layer_start[2] ? 1 : 2;
        if (k0 == k1)
            continue;
        CHECK(net->con_src[k1 - 1] == net->layer_start[l] - 1); /* bias last */
        for (k = k0; k + 1 < k1; k++) {
            CHECK(net->con_src[k] >= net->layer_start[l - 1] && net->con_src[k] < net->layer_start[l] - 1);
            for (m = k + 1; m < k1; m++)
                CHECK(net->con_src[k] != net->con_src[m]);
        }
    }
    /* Every input neuron feeds at least one hidden neuron. */
    for (m = 0; m < 10; m++) {
        int used = 0;
        for (k = net->con_start[net->layer_start[1]]; k < net->con_start[net->layer_start[2]]; k++)
            used |= net->con_src[k] == m;
        CHECK(used);
    }
    kf_net_free(net);
}

static void test_create_rejects_bad_arguments(void)
{
    const uint32_t sizes[3] = {2, 0, 1};
    const uint32_t huge[3] = {1u << 20, 1u << 20, 1};
    kf_net *net = NULL;
    CHECK(kf_net_create(sizes, 3, KF_NET_LAYER, 1.0f, 0, &net) == KF_E_ARG && net == NULL);
    CHECK(kf_net_create(sizes, 1, KF_NET_LAYER, 1.0f, 0, &net) == KF_E_ARG);
    CHECK(kf_net_create(huge, 3, KF_NET_LAYER, 1.0f, 0, &net) == KF_E_LIMIT && net == NULL);
    CHECK(kf_net_create(sizes, 3, KF_NET_LAYER, NAN, 0, &net) == KF_E_ARG);
}

static void test_params(void)
{
    const uint32_t sizes[2] = {1, 1};
    kf_net *net = NULL;
    double v = 0;
    int p;
    CHECK_OK(kf_net_create(sizes, 2, KF_NET_LAYER, 1.0f, 0, &net));
    if (net == NULL)
        return;
    for (p = 0; p < KF_PARAM_COUNT_; p++) {
        CHECK(kf_param_name((kf_param)p) != NULL);
        CHECK_OK(kf_net_get_param(net, (kf_param)p, &v));
        CHECK_OK(kf_net_set_param(net, (kf_param)p, v));
    }
    CHECK(kf_net_get_param(net, KF_PARAM_LEARNING_RATE, &v) == KF_OK && fabs(v - 0.7) < 1e-6);
    CHECK(kf_net_set_param(net, KF_PARAM_LEARNING_RATE, NAN) == KF_E_NUMERIC);
    CHECK(kf_net_set_param(net, KF_PARAM_TRAINING_ALGORITHM, 5) == KF_E_ARG);
    CHECK(kf_net_set_param(net, KF_PARAM_TRAINING_ALGORITHM, 1.5) == KF_E_ARG);
    CHECK(kf_net_set_param(net, KF_PARAM_COUNT_, 0) == KF_E_ARG);
    kf_net_free(net);
}

static kf_data *xor_data(void)
{
    kf_data *d = NULL;
    const float in[8] = {-1, -1, -1, 1, 1, -1, 1, 1}, out[4] = {-1, 1, 1, -1};
    if (kf_data_alloc(4, 2, 1, &d) != KF_OK)
        return NULL;
    memcpy(d->input, in, sizeof in);
    memcpy(d->output, out, sizeof out);
    return d;
}

/* Train xor with one algorithm; returns the final MSE. */
static float train_xor(kf_train_algorithm algorithm, int epochs)
{
    const uint32_t sizes[3] = {2, 4, 1};
    kf_net *net = NULL;
    kf_trainer *t = NULL;
    kf_data *d = xor_data();
    kf_epoch_stats stats = {1.0f, 0};
    int e;
    if (d == NULL || kf_net_create(sizes, 3, KF_NET_LAYER, 1.0f, 3, &net) != KF_OK)
        return 1.0f;
    kf_net_set_activation(net, 1, -1, KF_SIGMOID_SYMMETRIC);
    kf_net_set_activation(net, 2, -1, KF_SIGMOID_SYMMETRIC);
    kf_net_set_param(net, KF_PARAM_TRAINING_ALGORITHM, algorithm);
    kf_net_randomize_weights(net, -1.0f, 1.0f, 5);
    CHECK_OK(kf_trainer_create(net, 1, &t));
    for (e = 0; e < epochs && t != NULL; e++)
        CHECK_OK(kf_train_epoch(net, t, d, &stats));
    kf_trainer_free(t);
    kf_net_free(net);
    kf_free(d);
    return stats.mse;
}

static void test_training_learns_xor(void)
{
    CHECK(train_xor(KF_TRAIN_RPROP, 300) < 1e-3f);
    CHECK(train_xor(KF_TRAIN_INCREMENTAL, 1000) < 1e-2f);
    CHECK(train_xor(KF_TRAIN_QUICKPROP, 1000) < 5e-2f);
    CHECK(train_xor(KF_TRAIN_SARPROP, 1000) < 5e-2f);
}

/* A trainer's history copied into a second trainer (over a copy of the network) continues
 * training exactly as the first: every algorithm, weights and MSE bit for bit. */
static void test_trainer_state_round_trip(void)
{
    const uint32_t sizes[3] = {2, 4, 1};
    const kf_train_algorithm algorithms[4] = {KF_TRAIN_RPROP, KF_TRAIN_QUICKPROP, KF_TRAIN_SARPROP,
                                              KF_TRAIN_INCREMENTAL};
    kf_data *d = xor_data();
    int a, e;
    for (a = 0; a < 4 && d != NULL; a++) {
        kf_net *net = NULL, *twin = NULL;
        kf_trainer *t = NULL, *t2 = NULL;
        kf_trainer_state state;
        kf_epoch_stats s1, s2;
        float steps[17], slopes[17], deltas[17], w1[17], w2[17];
        uint32_t C;
        CHECK_OK(kf_net_create(sizes, 3, KF_NET_LAYER, 1.0f, 3, &net));
        if (net == NULL)
            break;
        C = kf_net_total_connections(net);
        CHECK(C == 17); /* (2 + 1) * 4 + (4 + 1) * 1 */
        if (C != 17) {
            kf_net_free(net);
            break;
        }
        kf_net_set_activation(net, 1, -1, KF_SIGMOID_SYMMETRIC);
        kf_net_set_param(net, KF_PARAM_TRAINING_ALGORITHM, algorithms[a]);
        kf_net_set_param(net, KF_PARAM_LEARNING_MOMENTUM, 0.5);
        CHECK_OK(kf_trainer_create(net, 7, &t));
        for (e = 0; e < 20; e++)
            CHECK_OK(kf_train_epoch(net, t, d, &s1));
        CHECK_OK(kf_net_copy(net, &twin));
        CHECK_OK(kf_trainer_create(twin, 99, &t2));
        state.total_connections = C + 1;
        state.prev_steps = steps;
        state.prev_slopes = slopes;
        state.prev_deltas = deltas;
        CHECK(kf_trainer_get_state(t, &state) == KF_E_SHAPE);
        state.total_connections = C;
        CHECK_OK(kf_trainer_get_state(t, &state));
        CHECK(state.seed == 7 && state.cleared == (algorithms[a] != KF_TRAIN_INCREMENTAL));
        CHECK(state.num_mse == 4 && state.mse_sum / 4 == s1.mse); /* the last epoch's sums: 4 pairs, 1 output */
        state.mse_sum = -1.0f;
        CHECK(kf_trainer_set_state(t2, &state) == KF_E_ARG);
        state.mse_sum = NAN;
        CHECK(kf_trainer_set_state(t2, &state) == KF_E_NUMERIC);
        CHECK_OK(kf_trainer_get_state(t, &state));
        state.rng_inc ^= 1u;
        CHECK(kf_trainer_set_state(t2, &state) == KF_E_ARG);
        state.rng_inc ^= 1u;
        steps[0] = NAN;
        CHECK(kf_trainer_set_state(t2, &state) == KF_E_NUMERIC);
        CHECK_OK(kf_trainer_get_state(t, &state));
        CHECK_OK(kf_trainer_set_state(t2, &state));
        {
            kf_trainer_state back = state;
            float steps2[17], slopes2[17], deltas2[17];
            back.prev_steps = steps2;
            back.prev_slopes = slopes2;
            back.prev_deltas = deltas2;
            CHECK_OK(kf_trainer_get_state(t2, &back));
            CHECK(back.mse_sum == state.mse_sum && back.num_mse == state.num_mse && back.bit_fail == state.bit_fail);
            CHECK(back.rng_state == state.rng_state && back.sarprop_epoch == state.sarprop_epoch);
            CHECK(memcmp(steps2, steps, sizeof steps) == 0 && memcmp(deltas2, deltas, sizeof deltas) == 0);
        }
        for (e = 0; e < 20; e++) {
            CHECK_OK(kf_train_epoch(net, t, d, &s1));
            CHECK_OK(kf_train_epoch(twin, t2, d, &s2));
            CHECK(memcmp(&s1.mse, &s2.mse, sizeof(float)) == 0);
        }
        CHECK_OK(kf_net_get_weights(net, w1, C));
        CHECK_OK(kf_net_get_weights(twin, w2, C));
        CHECK(memcmp(w1, w2, sizeof w1) == 0);
        kf_trainer_free(t);
        kf_trainer_free(t2);
        kf_net_free(net);
        kf_net_free(twin);
    }
    kf_free(d);
}

static void test_run_checks_inputs(void)
{
    const uint32_t sizes[2] = {2, 1};
    kf_net *net = NULL;
    float scratch[5 * 64 + 17], in[2] = {0.5f, NAN}, out[1], again[1];
    CHECK_OK(kf_net_create(sizes, 2, KF_NET_LAYER, 1.0f, 0, &net));
    if (net == NULL)
        return;
    /* five neurons, a panel of 64 samples each, and 64 bytes to start it on a cache line */
    CHECK(kf_net_scratch_floats(net) == 5 * 64 + 16);
    CHECK(kf_net_run(net, in, 1, out, scratch, 5 * 64 + 16) == KF_E_NUMERIC);
    CHECK(kf_net_run(net, in, 1, out, scratch, 5 * 64 + 15) == KF_E_SHAPE);
    in[1] = 0.25f;
    CHECK(kf_net_run(net, in, 1, out, scratch, 4) == KF_E_SHAPE);
    CHECK_OK(kf_net_run(net, in, 1, out, scratch, 5 * 64 + 16));
    CHECK_OK(kf_net_run(net, in, 1, again, scratch + 1, 5 * 64 + 16)); /* a scratch at any float boundary */
    CHECK(again[0] == out[0]);
    CHECK_OK(kf_net_run(net, in, 0, out, scratch, 5 * 64 + 16));
    kf_net_free(net);
}

static void test_training_rejects_threshold_and_mismatch(void)
{
    const uint32_t sizes[2] = {2, 1};
    kf_net *net = NULL, *other = NULL;
    kf_trainer *t = NULL;
    kf_data *d = xor_data();
    kf_epoch_stats stats;
    const uint32_t other_sizes[2] = {2, 2};
    CHECK_OK(kf_net_create(sizes, 2, KF_NET_LAYER, 1.0f, 0, &net));
    CHECK_OK(kf_net_create(other_sizes, 2, KF_NET_LAYER, 1.0f, 0, &other));
    if (net == NULL || other == NULL || d == NULL)
        return;
    CHECK_OK(kf_trainer_create(net, 0, &t));
    CHECK(kf_train_epoch(other, t, d, &stats) == KF_E_SHAPE);
    kf_net_set_activation(net, 1, -1, KF_THRESHOLD);
    CHECK(kf_train_epoch(net, t, d, &stats) == KF_E_UNSUPPORTED);
    kf_trainer_free(t);
    kf_net_free(net);
    kf_net_free(other);
    kf_free(d);
}

/* fann_train's MSE: each step's error adds to the trainer's, until an epoch or a reset. */
static void test_sample_error_accumulates(void)
{
    const uint32_t sizes[2] = {1, 1};
    const float zeros[2] = {0.0f, 0.0f}, x[1] = {1.0f}, want_1[1] = {1.0f}, want_half[1] = {0.5f};
    kf_net *net = NULL;
    kf_trainer *t = NULL;
    kf_epoch_stats stats = {-1.0f, 99}, epoch;
    kf_data *d = NULL;
    CHECK_OK(kf_net_create(sizes, 2, KF_NET_LAYER, 1.0f, 0, &net));
    if (net == NULL)
        return;
    CHECK_OK(kf_net_set_activation(net, 1, -1, KF_LINEAR));
    CHECK_OK(kf_net_set_param(net, KF_PARAM_LEARNING_RATE, 0.0)); /* the output stays 0 */
    CHECK_OK(kf_net_set_weights(net, zeros, 2));
    CHECK_OK(kf_trainer_create(net, 0, &t));
    CHECK_OK(kf_trainer_get_mse(t, &stats));
    CHECK(stats.mse == 0.0f && stats.bit_fail == 0);
    CHECK_OK(kf_train_sample(net, t, x, want_1));
    CHECK_OK(kf_train_sample(net, t, x, want_half));
    CHECK_OK(kf_trainer_get_mse(t, &stats));
    CHECK(stats.mse == 0.625f && stats.bit_fail == 2); /* (1 + 0.25) / 2; both differ by >= 0.35 */
    kf_trainer_reset_mse(t);
    CHECK_OK(kf_trainer_get_mse(t, &stats));
    CHECK(stats.mse == 0.0f && stats.bit_fail == 0);
    CHECK_OK(kf_data_alloc(1, 1, 1, &d));
    if (d != NULL) {
        d->input[0] = 1.0f;
        d->output[0] = 0.5f;
        CHECK_OK(kf_train_sample(net, t, x, want_1)); /* an epoch starts afresh */
        CHECK_OK(kf_train_epoch(net, t, d, &epoch));
        CHECK_OK(kf_trainer_get_mse(t, &stats));
        CHECK(epoch.mse == 0.25f && stats.mse == epoch.mse && stats.bit_fail == epoch.bit_fail);
    }
    CHECK(kf_trainer_get_mse(NULL, &stats) == KF_E_ARG && kf_trainer_get_mse(t, NULL) == KF_E_ARG);
    kf_trainer_reset_mse(NULL);
    kf_free(d);
    kf_trainer_free(t);
    kf_net_free(net);
}

static void test_copy_is_deep(void)
{
    const uint32_t sizes[3] = {3, 4, 2};
    kf_net *net = NULL, *copy = NULL;
    CHECK_OK(kf_net_create(sizes, 3, KF_NET_LAYER, 0.6f, 9, &net));
    if (net == NULL)
        return;
    CHECK_OK(kf_net_copy(net, &copy));
    if (copy == NULL)
        return;
    CHECK(copy->total_connections == net->total_connections);
    CHECK(memcmp(copy->weights, net->weights, net->total_connections * sizeof(float)) == 0);
    CHECK(memcmp(copy->con_src, net->con_src, net->total_connections * sizeof(uint32_t)) == 0);
    copy->weights[0] += 1.0f;
    CHECK(copy->weights[0] != net->weights[0]);
    kf_net_free(copy);
    kf_net_free(net);
}

/* One sample's run reads the packed (interleaved) weights while they are current. A direct write to
 * weights reaches single runs after kf_net_pack (or with packed_current cleared). */
static void test_direct_weight_writes_and_pack(void)
{
    const uint32_t sizes[3] = {5, 16, 8};
    kf_net *net = NULL;
    float x[10], one[8], two[16], before[8], saved;
    uint64_t scratch_floats;
    float *scratch;
    int i;
    CHECK_OK(kf_net_create(sizes, 3, KF_NET_LAYER, 1.0f, 4, &net));
    if (net == NULL)
        return;
    scratch_floats = kf_net_scratch_floats(net);
    scratch = malloc(scratch_floats * sizeof(float));
    if (scratch == NULL) {
        CHECK(scratch != NULL);
        kf_net_free(net);
        return;
    }
    for (i = 0; i < 10; i++)
        x[i] = (float)(i % 5) * 0.3f - 0.6f;
    CHECK(net->packed_current == 1);
    CHECK_OK(kf_net_run(net, x, 1, before, scratch, scratch_floats));
    saved = net->weights[net->con_start[net->layer_start[1]]]; /* the first hidden block's */
    net->weights[net->con_start[net->layer_start[1]]] += 2.0f;
    kf_net_pack(net);
    CHECK_OK(kf_net_run(net, x, 1, one, scratch, scratch_floats));
    CHECK_OK(kf_net_run(net, x, 2, two, scratch, scratch_floats));
    CHECK(memcmp(one, two, sizeof one) == 0 && memcmp(one, before, sizeof one) != 0);
    net->weights[net->con_start[net->layer_start[1]]] = saved;
    net->packed_current = 0;
    CHECK_OK(kf_net_run(net, x, 1, one, scratch, scratch_floats));
    CHECK(memcmp(one, before, sizeof one) == 0);
    free(scratch);
    kf_net_free(net);
}

static void test_scaling_round_trip(void)
{
    const uint32_t sizes[2] = {2, 1};
    kf_net *net = NULL;
    kf_data *d = xor_data();
    float x[2] = {3.0f, -2.0f}, y[2];
    CHECK_OK(kf_net_create(sizes, 2, KF_NET_LAYER, 1.0f, 0, &net));
    if (net == NULL || d == NULL)
        return;
    CHECK(kf_net_scale(net, KF_SCALE_INPUT, x, 1) == KF_E_UNSUPPORTED);
    CHECK_OK(kf_net_set_scaling(net, d, 2, -0.5f, 0.5f, 0.0f, 1.0f));
    memcpy(y, x, sizeof x);
    CHECK_OK(kf_net_scale(net, KF_SCALE_INPUT, y, 1));
    /* mean 0 and deviation 1 per column: (x + 1) * 0.5 - 0.5 */
    CHECK(fabsf(y[0] - 1.5f) < 1e-6f && fabsf(y[1] + 1.0f) < 1e-6f);
    CHECK_OK(kf_net_scale(net, KF_DESCALE_INPUT, y, 1));
    CHECK(fabsf(y[0] - x[0]) < 1e-5f && fabsf(y[1] - x[1]) < 1e-5f);
    kf_net_free(net);
    kf_free(d);
}

/* Every status code and every limit is in the table of constants, by its header name. */
static void test_constants_table(void)
{
    uint32_t count = 0, i;
    const kf_constant *table = kf_constants(&count);
    int64_t found_status = 0, found_layers = 0, found_simd = 0;
    CHECK(table != NULL && count > 10);
    for (i = 0; i < count; i++) {
        CHECK(table[i].name != NULL && strncmp(table[i].name, "KF_", 3) == 0);
        if (strncmp(table[i].name, "KF_E_", 5) == 0 || strcmp(table[i].name, "KF_OK") == 0)
            found_status++;
        if (strcmp(table[i].name, "KF_MAX_LAYERS") == 0)
            found_layers = table[i].value;
        if (strcmp(table[i].name, "KF_SIMD_COUNT_") == 0)
            found_simd = table[i].value;
    }
    CHECK(found_status == KF_STATUS_COUNT_);
    CHECK(found_layers == KF_MAX_LAYERS && found_simd == KF_SIMD_COUNT_);
}

/* The accessors give what the network was made of, and its structure rebuilds it. */
static void test_accessors_and_assemble_round_trip(void)
{
    const uint32_t sizes[3] = {3, 5, 2};
    kf_net *net = NULL, *back = NULL;
    uint32_t layer_start[4], con_start[16], con_src[64];
    uint8_t activation[16];
    float steepness[16], weights[64], weights_back[64];
    kf_params params;
    kf_diag diag;
    uint32_t C;
    CHECK_OK(kf_net_create(sizes, 3, KF_NET_LAYER, 1.0f, 3, &net));
    if (net == NULL)
        return;
    C = kf_net_total_connections(net);
    CHECK(kf_net_num_layers(net) == 3 && kf_net_num_input(net) == 3 && kf_net_num_output(net) == 2);
    CHECK(kf_net_total_neurons(net) == 4 + 6 + 3 && C == 4 * 5 + 6 * 2 && C <= 64);
    CHECK(kf_net_network_type(net) == KF_NET_LAYER && kf_net_connection_rate(net) == 1.0f);
    CHECK(kf_net_num_input(NULL) == 0 && kf_net_layer_size(NULL, 0) == 0);
    CHECK_OK(kf_net_get_structure(net, layer_start, con_start, con_src, activation, steepness));
    CHECK_OK(kf_net_get_weights(net, weights, C));
    CHECK(kf_net_get_weights(net, weights, C - 1) == KF_E_SHAPE);
    kf_params_default(&params);
    CHECK_OK(kf_net_assemble(3, KF_NET_LAYER, 1.0f, layer_start, con_start, con_src, weights, activation, steepness,
                             &params, NULL, &back, &diag));
    if (back != NULL) {
        CHECK_OK(kf_net_get_weights(back, weights_back, C));
        CHECK(memcmp(weights, weights_back, C * sizeof(float)) == 0);
        kf_net_free(back);
        back = NULL;
    }
    /* Without connections, assemble implies the fully connected ones. */
    CHECK_OK(kf_net_assemble(3, KF_NET_LAYER, 1.0f, layer_start, NULL, NULL, weights, activation, steepness, &params,
                             NULL, &back, &diag));
    if (back != NULL) {
        uint32_t src_back[64];
        CHECK_OK(kf_net_get_structure(back, NULL, NULL, src_back, NULL, NULL));
        CHECK(memcmp(src_back, con_src, C * sizeof(uint32_t)) == 0);
        kf_net_free(back);
    }
    CHECK(kf_net_assemble(3, KF_NET_LAYER, 1.0f, layer_start, con_start, NULL, weights, activation, steepness, &params,
                          NULL, &back, &diag) == KF_E_ARG);
    kf_net_free(net);
}

/* kf_structure_full gives kf_net_create's dense connections, and checks its layer starts. */
static void test_structure_full(void)
{
    const uint32_t sizes[3] = {2, 3, 1};
    const uint32_t bad[3] = {0, 3, 3};
    uint32_t layer_start[4], con_start[16], con_src[32], full_start[16], full_src[32];
    kf_net *net = NULL;
    int type;
    for (type = KF_NET_LAYER; type <= KF_NET_SHORTCUT; type++) {
        uint32_t N, L;
        CHECK_OK(kf_net_create(sizes, 3, (kf_net_type)type, 1.0f, 1, &net));
        if (net == NULL)
            return;
        N = kf_net_total_neurons(net);
        L = kf_net_num_layers(net);
        CHECK_OK(kf_net_get_structure(net, layer_start, con_start, con_src, NULL, NULL));
        CHECK_OK(kf_structure_full(L, (kf_net_type)type, layer_start, full_start, NULL));
        CHECK(memcmp(full_start, con_start, (N + 1) * sizeof(uint32_t)) == 0);
        CHECK_OK(kf_structure_full(L, (kf_net_type)type, layer_start, full_start, full_src));
        CHECK(memcmp(full_src, con_src, con_start[N] * sizeof(uint32_t)) == 0);
        kf_net_free(net);
    }
    CHECK(kf_structure_full(2, KF_NET_LAYER, bad, full_start, NULL) == KF_E_ARG); /* an empty layer */
    CHECK(kf_structure_full(1, KF_NET_LAYER, bad, full_start, NULL) == KF_E_ARG);
}

/* Cascade lists and scaling values go through the core's checks, never straight into fields. */
static void test_cascade_and_scaling_setters_check(void)
{
    const uint32_t sizes[2] = {2, 1};
    uint32_t functions[KF_MAX_CASCADE_LIST + 1] = {KF_SIGMOID, KF_ELLIOT}, got[KF_MAX_CASCADE_LIST], nf, ns;
    float steep[KF_MAX_CASCADE_LIST + 1] = {0.5f}, got_s[KF_MAX_CASCADE_LIST], scaling[12];
    kf_net *net = NULL;
    int i;
    CHECK_OK(kf_net_create(sizes, 2, KF_NET_LAYER, 1.0f, 1, &net));
    if (net == NULL)
        return;
    CHECK_OK(kf_net_get_cascade(net, got, &nf, got_s, &ns));
    CHECK(nf == 10 && ns == 4 && got[0] == KF_SIGMOID && got_s[3] == 1.0f);
    CHECK_OK(kf_net_set_cascade(net, functions, 2, steep, 1));
    CHECK_OK(kf_net_get_cascade(net, got, &nf, got_s, &ns));
    CHECK(nf == 2 && got[1] == KF_ELLIOT && ns == 1 && got_s[0] == 0.5f);
    CHECK(kf_net_set_cascade(net, functions, KF_MAX_CASCADE_LIST + 1, steep, 1) == KF_E_LIMIT);
    functions[0] = KF_ACTIVATION_COUNT_;
    CHECK(kf_net_set_cascade(net, functions, 1, steep, 1) == KF_E_ARG);
    functions[0] = KF_SIGMOID;
    steep[0] = NAN;
    CHECK(kf_net_set_cascade(net, functions, 1, steep, 1) == KF_E_NUMERIC);
    CHECK_OK(kf_net_get_cascade(net, got, &nf, got_s, &ns));
    CHECK(nf == 2 && ns == 1); /* a refused change leaves the lists as they were */
    CHECK(!kf_net_has_scaling(net));
    for (i = 0; i < 12; i++)
        scaling[i] = (float)i;
    CHECK(kf_net_set_scaling_values(net, scaling, 11) == KF_E_SHAPE);
    scaling[5] = INFINITY;
    CHECK(kf_net_set_scaling_values(net, scaling, 12) == KF_E_NUMERIC && !kf_net_has_scaling(net));
    scaling[5] = 5.0f;
    CHECK_OK(kf_net_set_scaling_values(net, scaling, 12));
    CHECK(kf_net_has_scaling(net));
    memset(scaling, 0, sizeof scaling);
    CHECK_OK(kf_net_get_scaling_values(net, scaling, 12));
    CHECK(scaling[0] == 0.0f && scaling[11] == 11.0f);
    kf_net_free(net);
}

/* Every function that takes a kf_diag clears it on entry, success or not. */
static void test_diag_is_cleared_on_entry(void)
{
    const char *text = "FANN_FLO_2.1\n";
    kf_router_desc rd;
    kf_router *router = NULL;
    kf_moe *moe = NULL;
    kf_net *net = NULL;
    kf_diag diag;
    const float gates[2] = {1.0f, 0.5f};
    memset(&diag, 'x', sizeof diag);
    memset(&rd, 0, sizeof rd);
    rd.n_experts = 2;
    rd.dim = 1;
    rd.top_k = 1;
    rd.gate_bits = 32;
    rd.gates = gates;
    rd.scaling = 1.0f;
    CHECK_OK(kf_router_create(&rd, &router, &diag));
    CHECK(diag.line == 0 && diag.message[0] == '\0');
    memset(&diag, 'x', sizeof diag);
    CHECK(kf_moe_create(router, NULL, 0, NULL, &moe, &diag) == KF_E_SHAPE);
    CHECK(diag.message[0] != 'x' && strlen(diag.message) < sizeof diag.message);
    memset(&diag, 'x', sizeof diag);
    CHECK(kf_net_assemble(2, KF_NET_LAYER, 1.0f, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, &net, &diag)
          == KF_E_ARG);
    CHECK(diag.line == 0 && diag.message[0] == '\0'); /* the status code is the whole reason */
    memset(&diag, 'x', sizeof diag);
    CHECK(kf_net_parse_fann(text, strlen(text), &net, &diag) == KF_E_FORMAT);
    CHECK(strlen(diag.message) < sizeof diag.message && diag.message[0] != 'x');
    kf_router_free(router);
}

const kf_test_case kf_core_tests[] = {
    {"status_strings", test_status_strings},
    {"activation_names_and_values", test_activation_names_and_values},
    {"standard_layout", test_standard_layout},
    {"shortcut_layout", test_shortcut_layout},
    {"sparse_layout", test_sparse_layout},
    {"create_rejects_bad_arguments", test_create_rejects_bad_arguments},
    {"params", test_params},
    {"training_learns_xor", test_training_learns_xor},
    {"trainer_state_round_trip", test_trainer_state_round_trip},
    {"run_checks_inputs", test_run_checks_inputs},
    {"training_rejects_threshold_and_mismatch", test_training_rejects_threshold_and_mismatch},
    {"sample_error_accumulates", test_sample_error_accumulates},
    {"copy_is_deep", test_copy_is_deep},
    {"direct_weight_writes_and_pack", test_direct_weight_writes_and_pack},
    {"scaling_round_trip", test_scaling_round_trip},
    {"constants_table", test_constants_table},
    {"accessors_and_assemble_round_trip", test_accessors_and_assemble_round_trip},
    {"structure_full", test_structure_full},
    {"cascade_and_scaling_setters_check", test_cascade_and_scaling_setters_check},
    {"diag_is_cleared_on_entry", test_diag_is_cleared_on_entry},
    {NULL, NULL},
};
