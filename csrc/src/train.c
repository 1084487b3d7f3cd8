/* Training with FANN 2.2's algorithms: backpropagation of the output error, then incremental,
 * batch, iRPROP-, Quickprop or SARPROP updates. Float operations follow libfann's order. */
#include "internal.h"

#include "../simd/kernels.h"

#include <stdlib.h>
#include <string.h>

struct kf_trainer {
    uint32_t total_neurons, total_connections;
    int cleared;            /* FANN's clear_train_arrays has run (first RPROP/Quickprop/SARPROP epoch) */
    uint32_t sarprop_epoch; /* epochs trained with SARPROP so far */
    uint64_t seed;
    kf_rng rng;
    float mse_sum; /* sum of squared (halved for symmetric outputs) errors: a float, as FANN's MSE_value */
    uint32_t num_mse;
    uint32_t bit_fail;
    float *values, *sums, *errors;                        /* [total_neurons] */
    float *slopes, *prev_steps, *prev_slopes, *prev_deltas; /* [total_connections] */
    /* A panel of KF_PANEL samples for the batch algorithms: values, sums and errors by neuron
     * ([total_neurons * KF_PANEL], row j at j * KF_PANEL), and the values by sample
     * ([KF_PANEL * total_neurons], row s at s * total_neurons). */
    float *panel_values, *panel_sums, *panel_errors, *panel_by_sample;
};

/* The trainer's block (arena.h): the struct, three arrays per neuron, four per connection, and a
 * panel's four. */
static void trainer_layout(kf_arena *a, void *obj, const void *ctx)
{
    const kf_net *net = ctx;
    kf_trainer *t = kf_arena_take(a, 1, sizeof *t);
    (void)obj;
    KF_CARVE(a, t, values, net->total_neurons);
    KF_CARVE(a, t, sums, net->total_neurons);
    KF_CARVE(a, t, errors, net->total_neurons);
    KF_CARVE(a, t, slopes, net->total_connections);
    KF_CARVE(a, t, prev_steps, net->total_connections);
    KF_CARVE(a, t, prev_slopes, net->total_connections);
    KF_CARVE(a, t, prev_deltas, net->total_connections);
    KF_CARVE(a, t, panel_values, (uint64_t)net->total_neurons * KF_PANEL);
    KF_CARVE(a, t, panel_sums, (uint64_t)net->total_neurons * KF_PANEL);
    KF_CARVE(a, t, panel_errors, (uint64_t)net->total_neurons * KF_PANEL);
    KF_CARVE(a, t, panel_by_sample, (uint64_t)net->total_neurons * KF_PANEL);
}

kf_status kf_trainer_create(const kf_net *net, uint64_t seed, kf_trainer **out)
{
    kf_trainer *t;
    kf_status st;
    if (net == NULL || out == NULL)
        return KF_E_ARG;
    *out = NULL;
    st = kf_arena_new(trainer_layout, net, (void **)&t);
    if (st != KF_OK)
        return st;
    t->total_neurons = net->total_neurons;
    t->total_connections = net->total_connections;
    t->seed = seed;
    kf_trainer_reset(t);
    *out = t;
    return KF_OK;
}

void kf_trainer_reset(kf_trainer *t)
{
    const size_t N = t ? t->total_neurons : 0, C = t ? t->total_connections : 0;
    if (t == NULL)
        return;
    memset(t->values, 0, N * sizeof(float));
    memset(t->sums, 0, N * sizeof(float));
    memset(t->errors, 0, N * sizeof(float));
    memset(t->slopes, 0, C * sizeof(float));
    memset(t->prev_steps, 0, C * sizeof(float));
    memset(t->prev_slopes, 0, C * sizeof(float));
    memset(t->prev_deltas, 0, C * sizeof(float));
    t->cleared = 0;
    t->sarprop_epoch = 0;
    t->mse_sum = 0;
    t->num_mse = 0;
    t->bit_fail = 0;
    kf_rng_seed(&t->rng, t->seed);
}

void kf_trainer_free(kf_trainer *t)
{
    kf_block_free(t);
}

kf_status kf_trainer_get_mse(const kf_trainer *t, kf_epoch_stats *stats)
{
    if (t == NULL || stats == NULL)
        return KF_E_ARG;
    stats->mse = t->num_mse ? t->mse_sum / (float)t->num_mse : 0.0f; /* fann_get_MSE */
    stats->bit_fail = t->bit_fail;
    return KF_OK;
}

void kf_trainer_reset_mse(kf_trainer *t)
{
    if (t == NULL)
        return;
    t->mse_sum = 0;
    t->num_mse = 0;
    t->bit_fail = 0;
}

/* FANN's fann_update_MSE: accumulate one output's error, halved for symmetric activations. */
static float update_mse(float *mse_sum, uint32_t *bit_fail, kf_activation a, float diff, float bit_fail_limit)
{
    if (kf_activation_is_symmetric(a))
        diff /= 2.0f;
    *mse_sum += (float)(diff * diff);
    if (fabsf(diff) >= bit_fail_limit)
        (*bit_fail)++;
    return diff;
}

/* One output's error before the error function and its derivative (fann_compute_MSE): desired
 * - value, halved for symmetric outputs, accumulated into the MSE. */
static float output_diff(const kf_net *net, kf_trainer *t, uint32_t j, float desired, float value)
{
    t->num_mse++;
    return update_mse(&t->mse_sum, &t->bit_fail, (kf_activation)net->activation[j], desired - value,
                      net->params.bit_fail_limit);
}

/* Output-layer errors (fann_compute_MSE): errors[j] = f'(j) * error_function(desired - value). */
static void compute_output_error(const kf_net *net, kf_trainer *t, const float *desired)
{
    const uint32_t first = net->layer_start[net->num_layers - 1];
    uint32_t o;
    memset(t->errors, 0, (size_t)net->total_neurons * sizeof(float));
    for (o = 0; o < net->num_output; o++) {
        const uint32_t j = first + o;
        float diff = output_diff(net, t, j, desired[o], t->values[j]);
        if (net->params.train_error_function == KF_ERRORFUNC_TANH)
            diff = kf_error_tanh(diff);
        t->errors[j] = kf_activation_derived((kf_activation)net->activation[j], net->steepness[j], t->values[j],
                                             t->sums[j])
                     * diff;
    }
}

/* fann_backpropagate_MSE: from the last layer down to the first hidden one, push each neuron's
 * error to its sources, then scale the previous layer's errors by their derivatives. */
static void backpropagate(const kf_net *net, kf_trainer *t)
{
    uint32_t l, j, k;
    for (l = net->num_layers - 1; l >= 2; l--) {
        for (j = net->layer_start[l]; j < net->layer_start[l + 1]; j++) {
            const float e = t->errors[j];
            const uint32_t k0 = net->con_start[j], n = net->con_start[j + 1] - k0;
            /* Each source appears once per neuron, so the order within a neuron is free. */
            if (n > 0 && net->contiguous[j]) {
                float *restrict err = t->errors + net->con_src[k0];
                const float *restrict w = net->weights + k0;
                for (k = 0; k < n; k++)
                    err[k] += e * w[k];
            } else {
                for (k = k0; k < k0 + n; k++)
                    t->errors[net->con_src[k]] += e * net->weights[k];
            }
        }
        for (j = net->layer_start[l - 1]; j < net->layer_start[l]; j++)
            t->errors[j] *= kf_activation_derived((kf_activation)net->activation[j], net->steepness[j],
                                                  t->values[j], t->sums[j]);
    }
}

/* The errors of neurons j .. end-1 of a panel times their activations' derivatives (bias neurons
 * skipped: their errors go nowhere); with a whole panel the rows are one block, so that a run of
 * neurons sharing activation and steepness is one call. */
static void derive_rows(const kf_net *net, const kf_kernels *kern, uint32_t j, uint32_t end, uint32_t nb,
                        const float *values, const float *sums, float *errors)
{
    while (j < end) {
        uint32_t r = 1;
        if (net->con_start[j + 1] > net->con_start[j]) {
            const size_t at = (size_t)j * KF_PANEL;
            r = nb == KF_PANEL ? kf_activation_run(net, j, end) : 1;
            kern->fann_derive((kf_activation)net->activation[j], net->steepness[j], values + at, sums + at, errors + at,
                              r * nb);
        }
        j += r;
    }
}

/* The output errors' squares into the MSE, a float sum in FANN's order (by sample, then output;
 * by_sample holds them so), and with the tanh error function the errors' rows transformed: the
 * sum is a chain of dependent additions, so the rows' logs run between its links, a block of
 * samples at a time, and the two overlap. */
static float output_errors(const kf_kernels *kern, int tanh_errors, float *rows, const float *by_sample,
                           uint32_t n_out, uint32_t nb, float mse)
{
    enum { BLOCK = 32 };
    uint32_t c, o, i;
    for (c = 0; c < nb; c += BLOCK) {
        const uint32_t w = nb - c < BLOCK ? nb - c : BLOCK;
        const float *d = by_sample + (size_t)c * n_out;
        for (o = 0; o < n_out; o++) {
            if (tanh_errors)
                kern->fann_error_tanh(rows + (size_t)o * KF_PANEL + c, w);
            for (i = o * w; i < (o + 1) * w; i++)
                mse += d[i] * d[i];
        }
    }
    return mse;
}

/* The batch algorithms' slopes of one panel of nb samples (count rounded up to KF_PANEL_STEP):
 * forward pass, output errors, backpropagation and slope sums as fann_train_epoch_batch runs
 * them sample by sample, here for the panel's samples side by side -- every error's sum over the
 * neurons in their order, every slope's over the samples in theirs, so libfann's bits. Returns 0,
 * before any slope or error sum changes, when a pair holds NaN or infinity (found as the
 * transposes read the pairs). */
static int panel_slopes(const kf_net *net, kf_trainer *t, const float *input, const float *desired, uint32_t nb,
                         uint32_t count)
{
    const kf_kernels *kern = kf_net_kernels(net);
    const uint32_t N = net->total_neurons, L = net->num_layers, first = net->layer_start[L - 1];
    const uint32_t n_out = net->num_output;
    float *values = t->panel_values, *sums = t->panel_sums, *errors = t->panel_errors, *by_sample = t->panel_by_sample;
    uint32_t l, j, s, o, k, bit_fail = t->bit_fail;
    if (!kf_forward_panel(net, input, nb, count, values, sums))
        return 0;
    memset(errors, 0, (size_t)N * KF_PANEL * sizeof(float));
    /* fann_compute_MSE: desired - value, halved for symmetric outputs, an output's row at a
     * time (and by sample into by_sample, free until the slopes) */
    if (!kern->transpose(desired, n_out, nb, n_out, errors + (size_t)first * KF_PANEL, KF_PANEL))
        return 0;
    for (o = 0; o < n_out; o++) {
        float *d = errors + (size_t)(first + o) * KF_PANEL;
        const float *v = values + (size_t)(first + o) * KF_PANEL;
        const int half = kf_activation_is_symmetric((kf_activation)net->activation[first + o]);
        for (s = 0; s < nb; s++) {
            d[s] = half ? (d[s] - v[s]) / 2.0f : d[s] - v[s];
            by_sample[(size_t)s * n_out + o] = d[s];
            bit_fail += fabsf(d[s]) >= net->params.bit_fail_limit;
        }
    }
    t->mse_sum = output_errors(kern, net->params.train_error_function == KF_ERRORFUNC_TANH,
                               errors + (size_t)first * KF_PANEL, by_sample, n_out, nb, t->mse_sum);
    t->bit_fail = bit_fail;
    t->num_mse += nb * n_out;
    derive_rows(net, kern, first, first + n_out, nb, values, sums, errors);
    for (l = L - 1; l >= 2; l--) {
        const uint32_t end = net->layer_start[l + 1];
        for (j = net->layer_start[l]; j < end;) {
            const uint32_t k0 = net->con_start[j], n = net->con_start[j + 1] - k0;
            const float *e = errors + (size_t)j * KF_PANEL;
            uint32_t m = 1;
            if (n > 0 && net->contiguous[j]) {
                m = kf_dense_run(net, j, end);
                kern->fann_backprop(net->weights + k0, n, m, e, count, errors + (size_t)net->con_src[k0] * KF_PANEL);
            } else {
                for (k = k0; k < k0 + n; k++) {
                    float *err = errors + (size_t)net->con_src[k] * KF_PANEL;
                    for (s = 0; s < count; s++)
                        err[s] += e[s] * net->weights[k];
                }
            }
            j += m;
        }
        derive_rows(net, kern, net->layer_start[l - 1], net->layer_start[l], nb, values, sums, errors);
    }
    { /* the sources' values by sample: the inputs as they are, the hidden neurons transposed */
        const uint32_t n_in = net->num_input, hidden_end = net->layer_start[L - 1];
        for (s = 0; s < nb; s++) {
            memcpy(by_sample + (size_t)s * N, input + (size_t)s * n_in, n_in * sizeof(float));
            by_sample[(size_t)s * N + n_in] = 1.0f;
        }
        kern->transpose(values + (size_t)(n_in + 1) * KF_PANEL, KF_PANEL, hidden_end - (n_in + 1), nb,
                        by_sample + n_in + 1, N);
    }
    for (l = 1; l < L; l++)
        for (j = net->layer_start[l]; j < net->layer_start[l + 1];) {
            const uint32_t k0 = net->con_start[j], n = net->con_start[j + 1] - k0;
            const float *e = errors + (size_t)j * KF_PANEL;
            uint32_t m = 1;
            if (n > 0 && net->contiguous[j]) {
                m = kf_dense_run(net, j, net->layer_start[l + 1]);
                kern->fann_slopes(e, by_sample + net->con_src[k0], N, n, m, nb, t->slopes + k0);
            } else {
                for (k = k0; k < k0 + n; k++) {
                    const float *v = values + (size_t)net->con_src[k] * KF_PANEL;
                    for (s = 0; s < nb; s++)
                        t->slopes[k] += e[s] * v[s];
                }
            }
            j += m;
        }
    return 1;
}

/* fann_update_weights: incremental step with momentum. */
static void update_weights_incremental(kf_net *net, kf_trainer *t)
{
    const float learning_rate = net->params.learning_rate, momentum = net->params.learning_momentum;
    uint32_t j, k;
    for (j = net->layer_start[1]; j < net->total_neurons; j++) {
        const float e = t->errors[j] * learning_rate;
        const uint32_t k0 = net->con_start[j], n = net->con_start[j + 1] - k0;
        float *restrict w = net->weights + k0;
        float *restrict prev = t->prev_deltas + k0;
        if (n > 0 && net->contiguous[j]) {
            const float *restrict v = t->values + net->con_src[k0];
            for (k = 0; k < n; k++) {
                const float delta = e * v[k] + momentum * prev[k];
                w[k] += delta;
                prev[k] = delta;
            }
        } else {
            for (k = 0; k < n; k++) {
                const float delta = e * t->values[net->con_src[k0 + k]] + momentum * prev[k];
                w[k] += delta;
                prev[k] = delta;
            }
        }
    }
}

static void update_weights_batch(kf_net *net, kf_trainer *t, uint32_t num_data)
{
    const float epsilon = net->params.learning_rate / num_data;
    uint32_t k;
    for (k = 0; k < net->total_connections; k++) {
        net->weights[k] += t->slopes[k] * epsilon;
        t->slopes[k] = 0.0f;
    }
}

/* The epoch algorithms' arrays: the whole network's connections in one. */
static kf_update_arrays all_connections(kf_net *net, kf_trainer *t)
{
    kf_update_arrays s;
    s.weights = net->weights;
    s.slopes = t->slopes;
    s.steps = t->prev_steps;
    s.prev_slopes = t->prev_slopes;
    s.count = net->total_connections;
    return s;
}

/* SARPROP's noise from the trainer's stream (FANN draws from rand()). */
static float trainer_uniform(void *trainer)
{
    return (float)(kf_rng_u32(&((kf_trainer *)trainer)->rng) >> 8) * (1.0f / 16777215.0f);
}

/* fann_clear_train_arrays, run once in the first RPROP, Quickprop or SARPROP epoch. FANN runs it
 * before the epoch's slopes are summed; it zeroes the slopes, which are zero between epochs
 * anyway, so here it runs after them, before the first update, and leaves the slopes alone:
 * an epoch stopped by a non-finite pair has then changed nothing. */
static void clear_train_arrays(const kf_net *net, kf_trainer *t)
{
    const size_t C = t->total_connections;
    uint32_t k;
    memset(t->prev_slopes, 0, C * sizeof(float));
    for (k = 0; k < C; k++)
        t->prev_steps[k] = net->params.training_algorithm == KF_TRAIN_RPROP ? net->params.rprop_delta_zero : 0.0f;
    t->cleared = 1;
}

/* The network, trainer and data fit together, and the data's values are finite -- those last
 * only when values_now: the batch algorithms check each panel's pairs as they read them. */
static kf_status check_training(const kf_net *net, const kf_trainer *t, const kf_data *data, int values_now)
{
    uint64_t n_in, n_out;
    uint32_t j;
    if (net == NULL || t == NULL || data == NULL)
        return KF_E_ARG;
    if (t->total_neurons != net->total_neurons || t->total_connections != net->total_connections)
        return KF_E_SHAPE;
    if (data->num_input != net->num_input || data->num_output != net->num_output || data->num_data == 0)
        return KF_E_SHAPE;
    if (net->params.training_algorithm >= KF_TRAIN_COUNT_)
        return KF_E_ARG;
    for (j = net->layer_start[1]; j < net->total_neurons; j++) {
        const kf_activation a = (kf_activation)net->activation[j];
        if (net->con_start[j + 1] > net->con_start[j] && (a == KF_THRESHOLD || a == KF_THRESHOLD_SYMMETRIC))
            return KF_E_UNSUPPORTED; /* no derivative to descend */
    }
    if (!values_now)
        return KF_OK;
    n_in = (uint64_t)data->num_data * data->num_input;
    n_out = (uint64_t)data->num_data * data->num_output;
    return kf_all_finite(data->input, n_in) && kf_all_finite(data->output, n_out) ? KF_OK : KF_E_NUMERIC;
}

/* Forward pass and output error of pair i, with the errors propagated back. */
static void forward_backward(const kf_net *net, kf_trainer *t, const float *input, const float *desired)
{
    kf_forward(net, input, t->values, t->sums);
    compute_output_error(net, t, desired);
    backpropagate(net, t);
}

kf_status kf_train_epoch(kf_net *net, kf_trainer *t, const kf_data *data, kf_epoch_stats *stats)
{
    const uint32_t algorithm = net ? net->params.training_algorithm : 0;
    const kf_status st = check_training(net, t, data, algorithm == KF_TRAIN_INCREMENTAL);
    const float mse_before = t ? t->mse_sum : 0.0f;
    const uint32_t num_mse_before = t ? t->num_mse : 0, bit_fail_before = t ? t->bit_fail : 0;
    uint32_t i;
    if (st != KF_OK)
        return st;
    t->mse_sum = 0;
    t->num_mse = 0;
    t->bit_fail = 0;
    if (algorithm == KF_TRAIN_INCREMENTAL) {
        net->packed_current = 0; /* the updates move the weights between samples */
        for (i = 0; i < data->num_data; i++) {
            forward_backward(net, t, data->input + (uint64_t)i * data->num_input,
                             data->output + (uint64_t)i * data->num_output);
            update_weights_incremental(net, t);
        }
    } else {
        for (i = 0; i < data->num_data; i += KF_PANEL) {
            const uint32_t nb = data->num_data - i < KF_PANEL ? data->num_data - i : KF_PANEL;
            if (i + nb < data->num_data) { /* the next panel's pairs come from memory while this one runs */
                const size_t next = data->num_data - (i + nb) < KF_PANEL ? data->num_data - (i + nb) : KF_PANEL;
                kf_prefetch(data->input + (uint64_t)(i + nb) * data->num_input, next * data->num_input * sizeof(float));
                kf_prefetch(data->output + (uint64_t)(i + nb) * data->num_output, next * data->num_output * sizeof(float));
            }
            if (!panel_slopes(net, t, data->input + (uint64_t)i * data->num_input,
                              data->output + (uint64_t)i * data->num_output, nb,
                              (nb + KF_PANEL_STEP - 1) / KF_PANEL_STEP * KF_PANEL_STEP)) {
                /* the network is untouched: the trainer goes back as it was (slopes zero) */
                memset(t->slopes, 0, t->total_connections * sizeof(float));
                t->mse_sum = mse_before;
                t->num_mse = num_mse_before;
                t->bit_fail = bit_fail_before;
                return KF_E_NUMERIC;
            }
        }
    }
    stats->mse = t->num_mse ? t->mse_sum / (float)t->num_mse : 0.0f; /* fann_get_MSE */
    stats->bit_fail = t->bit_fail;
    if (!t->cleared && (algorithm == KF_TRAIN_RPROP || algorithm == KF_TRAIN_QUICKPROP || algorithm == KF_TRAIN_SARPROP))
        clear_train_arrays(net, t);
    switch (algorithm) {
    case KF_TRAIN_BATCH: update_weights_batch(net, t, data->num_data); break;
    case KF_TRAIN_RPROP: kf_update_rprop(&net->params, all_connections(net, t)); break;
    case KF_TRAIN_QUICKPROP: kf_update_quickprop(&net->params, data->num_data, all_connections(net, t)); break;
    case KF_TRAIN_SARPROP: {
        float carry = 0.0f;
        kf_update_sarprop(&net->params, t->sarprop_epoch, stats->mse, trainer_uniform, t, &carry,
                          all_connections(net, t));
        t->sarprop_epoch++;
        break;
    }
    default: break;
    }
    kf_net_pack(net);
    return KF_OK;
}

kf_status kf_train_sample(kf_net *net, kf_trainer *t, const float *input, const float *desired)
{
    kf_data one;
    kf_status st;
    if (input == NULL || desired == NULL || net == NULL)
        return KF_E_ARG;
    one.num_data = 1;
    one.num_input = net->num_input;
    one.num_output = net->num_output;
    one.input = (float *)(uintptr_t)input;
    one.output = (float *)(uintptr_t)desired;
    st = check_training(net, t, &one, 1);
    if (st != KF_OK)
        return st;
    forward_backward(net, t, input, desired);
    update_weights_incremental(net, t);
    kf_net_pack(net);
    return KF_OK;
}

kf_status kf_net_test(const kf_net *net, const kf_data *data, float *scratch, uint64_t scratch_floats,
                      kf_epoch_stats *stats)
{
    float mse_sum = 0;
    uint32_t bit_fail = 0, i, o;
    uint64_t num_mse = 0;
    if (net == NULL || data == NULL || stats == NULL || scratch == NULL)
        return KF_E_ARG;
    if (scratch_floats < net->total_neurons)
        return KF_E_SHAPE;
    if (data->num_input != net->num_input || data->num_output != net->num_output)
        return KF_E_SHAPE;
    for (i = 0; i < data->num_data; i++) {
        const float *input = data->input + (uint64_t)i * data->num_input;
        const float *desired = data->output + (uint64_t)i * data->num_output;
        const uint32_t first = net->layer_start[net->num_layers - 1];
        uint32_t k;
        for (k = 0; k < data->num_input; k++)
            if (!isfinite(input[k]))
                return KF_E_NUMERIC;
        kf_forward(net, input, scratch, NULL);
        for (o = 0; o < net->num_output; o++) {
            if (!isfinite(desired[o]))
                return KF_E_NUMERIC;
            update_mse(&mse_sum, &bit_fail, (kf_activation)net->activation[first + o], desired[o] - scratch[first + o],
                       net->params.bit_fail_limit);
            num_mse++;
        }
    }
    stats->mse = num_mse ? mse_sum / (float)num_mse : 0.0f; /* fann_get_MSE */
    stats->bit_fail = bit_fail;
    return KF_OK;
}

kf_status kf_trainer_get_state(const kf_trainer *t, kf_trainer_state *state)
{
    size_t bytes;
    if (t == NULL || state == NULL)
        return KF_E_ARG;
    if (state->total_connections != t->total_connections)
        return KF_E_SHAPE;
    if (t->total_connections > 0 && (state->prev_steps == NULL || state->prev_slopes == NULL
                                     || state->prev_deltas == NULL))
        return KF_E_ARG;
    bytes = (size_t)t->total_connections * sizeof(float);
    state->cleared = (uint32_t)(t->cleared != 0);
    state->sarprop_epoch = t->sarprop_epoch;
    state->seed = t->seed;
    state->rng_state = t->rng.state;
    state->rng_inc = t->rng.inc;
    state->mse_sum = t->mse_sum;
    state->num_mse = t->num_mse;
    state->bit_fail = t->bit_fail;
    if (bytes > 0) {
        memcpy(state->prev_steps, t->prev_steps, bytes);
        memcpy(state->prev_slopes, t->prev_slopes, bytes);
        memcpy(state->prev_deltas, t->prev_deltas, bytes);
    }
    return KF_OK;
}

kf_status kf_trainer_set_state(kf_trainer *t, const kf_trainer_state *state)
{
    const uint64_t C = t ? t->total_connections : 0;
    if (t == NULL || state == NULL)
        return KF_E_ARG;
    if (state->total_connections != t->total_connections)
        return KF_E_SHAPE;
    if (C > 0 && (state->prev_steps == NULL || state->prev_slopes == NULL || state->prev_deltas == NULL))
        return KF_E_ARG;
    if (!isfinite(state->mse_sum))
        return KF_E_NUMERIC;
    if (state->cleared > 1 || (state->rng_inc & 1u) == 0 || state->mse_sum < 0)
        return KF_E_ARG;
    if (C > 0 && !(kf_all_finite(state->prev_steps, C) && kf_all_finite(state->prev_slopes, C)
                   && kf_all_finite(state->prev_deltas, C)))
        return KF_E_NUMERIC;
    t->cleared = (int)state->cleared;
    t->sarprop_epoch = state->sarprop_epoch;
    t->seed = state->seed;
    t->rng.state = state->rng_state;
    t->rng.inc = state->rng_inc;
    t->mse_sum = state->mse_sum;
    t->num_mse = state->num_mse;
    t->bit_fail = state->bit_fail;
    if (C > 0) {
        memcpy(t->prev_steps, state->prev_steps, C * sizeof(float));
        memcpy(t->prev_slopes, state->prev_slopes, C * sizeof(float));
        memcpy(t->prev_deltas, state->prev_deltas, C * sizeof(float));
    }
    memset(t->slopes, 0, C * sizeof(float)); /* zero between epochs, as every update leaves them */
    return KF_OK;
}
