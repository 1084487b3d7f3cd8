/* Cascade-correlation training: FANN 2.2's Cascade2 (fann_cascadetrain_on_data), written from
 * its description and its arithmetic, with libfann's bits.
 *
 * One round per hidden neuron:
 * - train the outputs: epochs that run the network, compute the output errors (error function,
 *   derivative) and sum the slopes of the output connections only, then step those connections
 *   with the network's algorithm; stop at the desired error, at max_out_epochs, or when the
 *   error has not moved by output_change_fraction for output_stagnation_epochs (after
 *   min_out_epochs);
 * - train the candidates: every (activation, steepness, group) is a neuron reading every neuron
 *   but the outputs, with one weight to each output. Per pair, its value a and the outputs'
 *   remaining errors e (desired - output, halved for symmetric outputs) give diff = a w_o - e_o;
 *   its score (starting from the output error's sum of squares) loses diff^2, its output slopes
 *   lose 2 diff a, and its input slopes lose f'(sum) (sum_o diff w_o) times each source's value.
 *   The same algorithm steps every candidate weight; the candidate with the highest score is
 *   the best; stop above candidate_limit (score over error), at max_cand_epochs, or on
 *   stagnation as above;
 * - install the best candidate in a new layer before the output layer: its input weights as
 *   they are, its output weights times weight_multiplier -- output o takes the candidate's
 *   weight num_output - 1 - o, in the order libfann's installation walks the output neurons.
 * After the last round the outputs are trained once more with desired error 0.
 *
 * The quirks that make the bits are libfann's: a candidate's sum is bounded to +-150/steepness
 * before the steepness multiplies it (a network neuron's after), its derivative sees that
 * bounded sum, the remaining errors skip the error function, scores are float sums in pair
 * order. Network passes go through the float panel kernels (fann_run's order in every lane),
 * the candidates' sums through the same panel sums kernel over all candidates at once, and every
 * slope through the slopes kernel (a negated error adds what libfann subtracts), so each value
 * keeps its own order of operations and every SIMD path gives the same network. */
#include "internal.h"

#include "../simd/kernels.h"
#include "../simd/trig.h"

#include <stdlib.h>
#include <string.h>

/* The sizes of one round: neurons, sources of a candidate (every neuron but the outputs),
 * outputs, candidates. */
typedef struct cascade_dims {
    uint64_t neurons, sources, outputs, candidates;
} cascade_dims;

/* One round's arrays (arena.h). Candidate c's input weights are row c of cand_in (sources
 * values), its output weights row c of cand_out; the output connections' state is laid out
 * like the network's output rows. Panel arrays hold KF_PANEL samples per row; the arrays by
 * sample (suffix _t) hold one row of every candidate per sample or output, so that the
 * per-pair work runs across candidates side by side. */
typedef struct cascade_work {
    float *out_slopes, *out_steps, *out_prev_slopes;    /* [outputs * sources] */
    float *cand_in, *in_slopes, *in_steps, *in_prev_slopes;     /* [candidates * sources] */
    float *in_slopes_t;                                 /* [sources * candidates]: in_slopes by source */
    float *cand_out, *co_slopes, *co_steps, *co_prev_slopes;    /* [candidates * outputs] */
    float *out_t, *out_slopes_t;                        /* [outputs * candidates]: cand_out, co_slopes by output */
    float *scores, *cand_steepness;                     /* [candidates] */
    uint8_t *cand_activation;                           /* [candidates] */
    float *values, *sums;                               /* [neurons * KF_PANEL] */
    float *by_sample;                                   /* [KF_PANEL * sources]: sources' values by sample */
    float *errors;                                      /* [outputs * KF_PANEL] */
    float *cand_sums, *cand_errors, *cand_values;       /* [candidates * KF_PANEL] */
    float *values_t, *errors_t;                         /* [KF_PANEL * candidates] */
    float *steeped;                                     /* [KF_PANEL] */
} cascade_work;

static void work_layout(kf_arena *a, void *obj, const void *ctx)
{
    const cascade_dims *d = ctx;
    cascade_work *w = kf_arena_take(a, 1, sizeof *w);
    (void)obj;
    KF_CARVE(a, w, out_slopes, d->outputs * d->sources);
    KF_CARVE(a, w, out_steps, d->outputs * d->sources);
    KF_CARVE(a, w, out_prev_slopes, d->outputs * d->sources);
    KF_CARVE(a, w, cand_in, d->candidates * d->sources);
    KF_CARVE(a, w, in_slopes, d->candidates * d->sources);
    KF_CARVE(a, w, in_steps, d->candidates * d->sources);
    KF_CARVE(a, w, in_prev_slopes, d->candidates * d->sources);
    KF_CARVE(a, w, in_slopes_t, d->sources * d->candidates);
    KF_CARVE(a, w, cand_out, d->candidates * d->outputs);
    KF_CARVE(a, w, co_slopes, d->candidates * d->outputs);
    KF_CARVE(a, w, co_steps, d->candidates * d->outputs);
    KF_CARVE(a, w, co_prev_slopes, d->candidates * d->outputs);
    KF_CARVE(a, w, out_t, d->outputs * d->candidates);
    KF_CARVE(a, w, out_slopes_t, d->outputs * d->candidates);
    KF_CARVE(a, w, scores, d->candidates);
    KF_CARVE(a, w, cand_steepness, d->candidates);
    KF_CARVE(a, w, cand_activation, d->candidates);
    KF_CARVE(a, w, values, d->neurons * KF_PANEL);
    KF_CARVE(a, w, sums, d->neurons * KF_PANEL);
    KF_CARVE(a, w, by_sample, KF_PANEL * d->sources);
    KF_CARVE(a, w, errors, d->outputs * KF_PANEL);
    KF_CARVE(a, w, cand_sums, d->candidates * KF_PANEL);
    KF_CARVE(a, w, cand_errors, d->candidates * KF_PANEL);
    KF_CARVE(a, w, cand_values, d->candidates * KF_PANEL);
    KF_CARVE(a, w, values_t, KF_PANEL * d->candidates);
    KF_CARVE(a, w, errors_t, KF_PANEL * d->candidates);
    KF_CARVE(a, w, steeped, KF_PANEL);
}

/* The state of one cascade run. */
typedef struct cascade {
    kf_net *net;           /* the network as it grows (owned) */
    const kf_data *data;
    const kf_kernels *kern;
    kf_fann_trig_fn trig;  /* the path's sine and cosine activations (trig.h) */
    cascade_work *work;    /* for net's current size (owned) */
    kf_random *random;
    float mse_sum;         /* FANN's MSE_value: the last output epoch's float sum of squared errors */
    uint32_t num_mse;      /* FANN's num_MSE */
    uint32_t bit_fail;
    uint32_t sarprop_epoch; /* output epochs trained with SARPROP (libfann's ann->sarprop_epoch) */
    uint32_t best;          /* the best candidate of the last candidate epoch */
} cascade;

/* ---- weight updates over one array of connections (libfann's fann_update_weights_*) ---- */

typedef struct step_arrays {
    float *weights, *slopes, *steps, *prev_slopes;
    uint32_t count;
} step_arrays;

/* iRPROP- (fann_update_weights_irpropm). */
static void step_rprop(const kf_params *p, step_arrays s)
{
    uint32_t k;
    for (k = 0; k < s.count; k++) {
        const float prev_step = s.steps[k] > 0.0001f ? s.steps[k] : 0.0001f;
        float slope = s.slopes[k];
        float next_step;
        if (s.prev_slopes[k] * slope >= 0.0) {
            next_step = prev_step * p->rprop_increase_factor;
            if (next_step > p->rprop_delta_max)
                next_step = p->rprop_delta_max;
        } else {
            next_step = prev_step * p->rprop_decrease_factor;
            if (next_step < p->rprop_delta_min)
                next_step = p->rprop_delta_min;
            slope = 0;
        }
        if (slope < 0) {
            s.weights[k] -= next_step;
            if (s.weights[k] < -1500)
                s.weights[k] = -1500;
        } else {
            s.weights[k] += next_step;
            if (s.weights[k] > 1500)
                s.weights[k] = 1500;
        }
        s.steps[k] = next_step;
        s.prev_slopes[k] = slope;
        s.slopes[k] = 0.0f;
    }
}

/* Quickprop (fann_update_weights_quickprop), epsilon = learning_rate / pairs. */
static void step_quickprop(const kf_params *p, uint32_t num_data, step_arrays s)
{
    const float epsilon = p->learning_rate / num_data;
    const float decay = p->quickprop_decay, mu = p->quickprop_mu;
    const float shrink_factor = (float)(mu / (1.0 + mu));
    uint32_t k;
    for (k = 0; k < s.count; k++) {
        float w = s.weights[k];
        const float prev_step = s.steps[k];
        const float slope = s.slopes[k] + decay * w;
        const float prev_slope = s.prev_slopes[k];
        float next_step = 0.0f;
        if (prev_step > 0.001) {
            if (slope > 0.0)
                next_step += epsilon * slope;
            if (slope > (shrink_factor * prev_slope))
                next_step += mu * prev_step;
            else
                next_step += prev_step * slope / (prev_slope - slope);
        } else if (prev_step < -0.001) {
            if (slope < 0.0)
                next_step += epsilon * slope;
            if (slope < (shrink_factor * prev_slope))
                next_step += mu * prev_step;
            else
                next_step += prev_step * slope / (prev_slope - slope);
        } else {
            next_step += epsilon * slope;
        }
        s.steps[k] = next_step;
        w += next_step;
        s.weights[k] = w > 1500 ? 1500.0f : (w < -1500 ? -1500.0f : w);
        s.prev_slopes[k] = slope;
        s.slopes[k] = 0.0f;
    }
}

/* SARPROP (fann_update_weights_sarprop) at the given epoch and MSE, its noise drawn from the
 * cascade's random stream (libfann's rand()) in connection order. libfann sets its next step
 * once, before the loop: a connection whose slope sign product is 0 keeps the step of the
 * connection before it, across the arrays of one update (*carry, 0 at its start). */
static void step_sarprop(const kf_params *p, uint32_t epoch, float mse, kf_random *random, float *carry,
                         step_arrays s)
{
    const float increase = p->rprop_increase_factor, decrease = p->rprop_decrease_factor;
    const float delta_min = 0.000001f, delta_max = p->rprop_delta_max;
    const float T = p->sarprop_temperature;
    const float rmse = (float)sqrt(mse);
    const float decay = (float)exp(0.69314718055994530942 * (-T * (float)epoch + p->sarprop_weight_decay_shift));
    float next_step = *carry;
    uint32_t k;
    for (k = 0; k < s.count; k++) {
        const float prev_step = s.steps[k] > 0.000001f ? s.steps[k] : 0.000001f;
        float slope = -s.slopes[k] - s.weights[k] * decay;
        const float same_sign = s.prev_slopes[k] * slope;
        if (same_sign > 0.0) {
            next_step = prev_step * increase;
            if (next_step > delta_max)
                next_step = delta_max;
            if (slope < 0.0)
                s.weights[k] += next_step;
            else
                s.weights[k] -= next_step;
        } else if (same_sign < 0.0) {
            if (prev_step < p->sarprop_step_error_threshold_factor * mse) {
                /* (float)rand() / RAND_MAX: RAND_MAX becomes 2^31 in float */
                const float u = (float)kf_random_next(random) / 2147483648.0f;
                const float noise =
                    (float)exp(0.69314718055994530942 * (-T * (float)epoch + p->sarprop_step_error_shift));
                next_step = prev_step * decrease + u * rmse * noise;
            } else {
                next_step = prev_step * decrease;
                if (next_step < delta_min)
                    next_step = delta_min;
            }
            slope = 0.0f;
        } else {
            if (slope < 0.0)
                s.weights[k] += prev_step;
            else
                s.weights[k] -= prev_step;
        }
        s.steps[k] = next_step;
        s.prev_slopes[k] = slope;
        s.slopes[k] = 0.0f;
    }
    *carry = next_step;
}

/* One step of the network's algorithm over arrays of connections; carry links the arrays of one
 * update (see step_sarprop). */
static void step(cascade *c, step_arrays s, float *carry)
{
    const kf_params *p = &c->net->params;
    switch (p->training_algorithm) {
    case KF_TRAIN_RPROP: step_rprop(p, s); break;
    case KF_TRAIN_QUICKPROP: step_quickprop(p, c->data->num_data, s); break;
    case KF_TRAIN_SARPROP:
        step_sarprop(p, c->sarprop_epoch, c->mse_sum / (float)c->num_mse, c->random, carry, s);
        break;
    default: break; /* refused before training */
    }
}

/* fann_desired_error_reached: the stop function's value at or below desired. */
static int reached(const cascade *c, float desired)
{
    if (c->net->params.train_stop_function == KF_STOPFUNC_BIT)
        return desired >= 4294967295.0f || c->bit_fail <= (uint32_t)desired;
    return c->mse_sum / (float)c->num_mse <= desired;
}

/* ---- the network's passes over a panel ---- */

/* The first nb samples of a panel through the network (values and, when sums is not NULL, the
 * steepened sums) and, for the output phase (sums not NULL), the sources' values by sample for
 * the slopes kernel: the inputs as they are, the bias, the hidden neurons transposed. */
static void run_panel(cascade *c, uint32_t first, uint32_t nb, uint32_t count, float *sums)
{
    const kf_net *net = c->net;
    cascade_work *w = c->work;
    const uint32_t n_in = net->num_input, M = net->layer_start[net->num_layers - 1];
    const float *input = c->data->input + (uint64_t)first * n_in;
    uint32_t s;
    kf_forward_panel(net, input, nb, count, w->values, sums);
    if (sums == NULL)
        return;
    for (s = 0; s < nb; s++) {
        memcpy(w->by_sample + (size_t)s * M, input + (size_t)s * n_in, n_in * sizeof(float));
        w->by_sample[(size_t)s * M + n_in] = 1.0f;
    }
    if (M > n_in + 1)
        c->kern->transpose(w->values + (size_t)(n_in + 1) * KF_PANEL, KF_PANEL, M - (n_in + 1), nb,
                           w->by_sample + n_in + 1, M);
}

/* fann_train_outputs_epoch: the epoch's MSE (before the step), the output connections stepped. */
static float output_epoch(cascade *c)
{
    kf_net *net = c->net;
    cascade_work *w = c->work;
    const kf_data *data = c->data;
    const uint32_t O = net->num_output, M = net->layer_start[net->num_layers - 1];
    const float limit = net->params.bit_fail_limit;
    uint32_t i, s, o;
    c->mse_sum = 0.0f;
    c->num_mse = 0;
    c->bit_fail = 0;
    for (i = 0; i < data->num_data; i += KF_PANEL) {
        const uint32_t nb = data->num_data - i < KF_PANEL ? data->num_data - i : KF_PANEL;
        const uint32_t count = (nb + KF_PANEL_STEP - 1) / KF_PANEL_STEP * KF_PANEL_STEP;
        const float *desired = data->output + (uint64_t)i * O;
        run_panel(c, i, nb, count, w->sums);
        for (s = 0; s < nb; s++) /* fann_compute_MSE, pairs in order */
            for (o = 0; o < O; o++) {
                const kf_activation a = (kf_activation)net->activation[M + o];
                float diff = desired[(size_t)s * O + o] - w->values[(size_t)(M + o) * KF_PANEL + s];
                if (kf_activation_is_symmetric(a))
                    diff /= 2.0f;
                c->mse_sum += (float)(diff * diff);
                if (fabsf(diff) >= limit)
                    c->bit_fail++;
                c->num_mse++;
                w->errors[(size_t)o * KF_PANEL + s] = diff;
            }
        for (o = 0; o < O; o++) {
            float *e = w->errors + (size_t)o * KF_PANEL;
            if (net->params.train_error_function == KF_ERRORFUNC_TANH)
                c->kern->fann_error_tanh(e, nb);
            c->kern->fann_derive((kf_activation)net->activation[M + o], net->steepness[M + o],
                                 w->values + (size_t)(M + o) * KF_PANEL, w->sums + (size_t)(M + o) * KF_PANEL, e, nb);
        }
        c->kern->fann_slopes(w->errors, w->by_sample, M, M, O, nb, w->out_slopes);
    }
    {
        const float mse = c->mse_sum / (float)c->num_mse;
        step_arrays s_out = {net->weights + net->con_start[M], w->out_slopes, w->out_steps, w->out_prev_slopes,
                             O * M};
        float carry = 0.0f;
        step(c, s_out, &carry);
        if (net->params.training_algorithm == KF_TRAIN_SARPROP)
            c->sarprop_epoch++;
        net->packed_current = 0;
        return mse;
    }
}

/* fann_train_outputs: epochs until the desired error, stagnation or max_out_epochs; returns the
 * epochs trained as libfann counts them. */
static uint32_t train_outputs(cascade *c, float desired)
{
    const kf_params *p = &c->net->params;
    const uint32_t max_epochs = p->cascade_max_out_epochs, min_epochs = p->cascade_min_out_epochs;
    const uint64_t n = (uint64_t)c->net->num_output * c->net->layer_start[c->net->num_layers - 1];
    cascade_work *w = c->work;
    float target = 0.0f, backslide = -1.0e20f, initial;
    uint32_t stagnation = max_epochs, i;
    uint64_t k;
    /* fann_clear_train_arrays */
    for (k = 0; k < n; k++) {
        w->out_slopes[k] = 0.0f;
        w->out_prev_slopes[k] = 0.0f;
        w->out_steps[k] = p->training_algorithm == KF_TRAIN_RPROP ? p->rprop_delta_zero : 0.0f;
    }
    initial = output_epoch(c);
    if (reached(c, desired))
        return 1;
    for (i = 1; i < max_epochs; i++) {
        const float error = output_epoch(c);
        float improvement;
        if (reached(c, desired))
            return i + 1;
        improvement = initial - error;
        if ((target >= 0 && (improvement > target || improvement < backslide))
            || (target < 0 && (improvement < target || improvement > backslide))) {
            target = improvement * (1.0f + p->cascade_output_change_fraction);
            backslide = improvement * (1.0f - p->cascade_output_change_fraction);
            stagnation = i + p->cascade_output_stagnation_epochs;
        }
        if (i >= stagnation && i >= min_epochs)
            return i + 1;
    }
    return max_epochs;
}

/* ---- candidates ---- */

/* fann_initialize_candidates: activations and steepnesses (functions outermost, groups
 * innermost), weights drawn in candidate order -- each input weight in [0, scale] but the
 * bias's in [-scale, scale], then the output weights in [0, scale] -- and fresh steps. */
static void initialize_candidates(cascade *c, uint64_t candidates)
{
    const kf_net *net = c->net;
    const kf_params *p = &net->params;
    cascade_work *w = c->work;
    const uint32_t M = net->layer_start[net->num_layers - 1], O = net->num_output, bias = net->num_input;
    const uint32_t hidden = net->total_neurons - net->num_input - net->num_output; /* the bias counts, as in libfann */
    const float step0 = p->training_algorithm == KF_TRAIN_RPROP ? p->rprop_delta_zero : 0.0f;
    float scale = (float)(2.0 * pow(0.7f * (float)hidden, 1.0f / (float)net->num_input));
    uint64_t q = 0, k;
    uint32_t f, s, g;
    if (scale > 8)
        scale = 8;
    else if (scale < 0.5)
        scale = 0.5;
    for (f = 0; f < p->cascade_activation_functions_count; f++)
        for (s = 0; s < p->cascade_activation_steepnesses_count; s++)
            for (g = 0; g < p->cascade_num_candidate_groups; g++, q++) {
                float *in = w->cand_in + q * M, *out = w->cand_out + q * O;
                w->cand_activation[q] = (uint8_t)p->cascade_activation_functions[f];
                w->cand_steepness[q] = p->cascade_activation_steepnesses[s];
                for (k = 0; k < M; k++)
                    in[k] = k == bias ? kf_random_uniform(c->random, -scale, scale)
                                      : kf_random_uniform(c->random, 0.0f, scale);
                for (k = 0; k < O; k++)
                    out[k] = kf_random_uniform(c->random, 0.0f, scale);
            }
    for (k = 0; k < candidates * M; k++) {
        w->in_slopes_t[k] = 0.0f;
        w->in_slopes[k] = 0.0f;
        w->in_prev_slopes[k] = 0.0f;
        w->in_steps[k] = step0;
    }
    for (k = 0; k < candidates * O; k++) {
        w->co_slopes[k] = 0.0f;
        w->co_prev_slopes[k] = 0.0f;
        w->co_steps[k] = step0;
    }
}

/* The candidates' values over a panel: each sum bounded to +-150/steepness before the
 * steepness multiplies it (libfann's candidate pass, unlike a network neuron), kept in
 * cand_sums for the derivative, then f(steepness * sum) through the path's kernel with
 * steepness 1 (which bounds to +-150: the few products rounded past it go to the scalar
 * function). */
static void candidate_values(cascade *c, uint32_t candidates, uint32_t nb)
{
    cascade_work *w = c->work;
    const kf_exp_kind exp_kind = (kf_exp_kind)c->net->exp_kind;
    uint32_t q, s;
    for (q = 0; q < candidates; q++) {
        const kf_activation a = (kf_activation)w->cand_activation[q];
        const float steepness = w->cand_steepness[q];
        float *sum = w->cand_sums + (size_t)q * KF_PANEL, *value = w->cand_values + (size_t)q * KF_PANEL;
        int wide = 0;
        if (steepness != 0.0f) {
            const float max_sum = 150.0f / steepness;
            for (s = 0; s < nb; s++)
                sum[s] = sum[s] > max_sum ? max_sum : (sum[s] < -max_sum ? -max_sum : sum[s]);
        }
        for (s = 0; s < nb; s++) {
            w->steeped[s] = steepness * sum[s];
            wide |= fabsf(w->steeped[s]) > 150.0f;
        }
        if (kf_is_trig(a)) { /* libm's sines and cosines in vector lanes, any argument */
            c->trig(a, 0, steepness, w->steeped, value, nb);
            continue;
        }
        c->kern->fann_activate(a, 1.0f, exp_kind, w->steeped, NULL, value, nb);
        if (wide)
            for (s = 0; s < nb; s++)
                if (fabsf(w->steeped[s]) > 150.0f)
                    value[s] = kf_activation_apply(a, w->steeped[s]);
    }
}

/* libfann's per-pair work of every candidate, pairs in order, outputs in order, candidates side
 * by side (each candidate's sums keep their order): with value v and the outputs' remaining
 * errors e, diff = v w_o - e_o; the output slope loses 2 diff v, the score diff^2, and the error
 * sum (from 0) gains diff w_o. */
static void candidate_pairs(uint32_t candidates, uint32_t outputs, uint32_t nb, const float *restrict values_t,
                            const float *restrict errors, const float *restrict out_t, float *restrict out_slopes_t,
                            float *restrict scores, float *restrict errors_t)
{
    uint32_t s, o, q;
    for (s = 0; s < nb; s++) {
        const float *v = values_t + (size_t)s * candidates;
        float *error = errors_t + (size_t)s * candidates;
        for (q = 0; q < candidates; q++)
            error[q] = 0.0f;
        for (o = 0; o < outputs; o++) {
            const float e = errors[(size_t)o * KF_PANEL + s];
            const float *wo = out_t + (size_t)o * candidates;
            float *slope = out_slopes_t + (size_t)o * candidates;
            for (q = 0; q < candidates; q++) {
                const float diff = (v[q] * wo[q]) - e;
                slope[q] -= 2.0f * diff * v[q];
                error[q] += diff * wo[q];
                scores[q] -= (diff * diff);
            }
        }
    }
}

/* fann_train_candidates_epoch: scores and slopes of every candidate over the data, then one
 * step of every candidate weight; returns the best score (the first of the highest). */
static float candidate_epoch(cascade *c, uint32_t candidates)
{
    const kf_net *net = c->net;
    cascade_work *w = c->work;
    const kf_data *data = c->data;
    const uint32_t O = net->num_output, M = net->layer_start[net->num_layers - 1];
    float carry = 0.0f;
    uint32_t i, q, s, o;
    for (q = 0; q < candidates; q++) {
        w->scores[q] = c->mse_sum;
        for (o = 0; o < O; o++) {
            w->out_t[(size_t)o * candidates + q] = w->cand_out[(size_t)q * O + o];
            w->out_slopes_t[(size_t)o * candidates + q] = 0.0f; /* the slopes are 0 after each step */
        }
    }
    for (i = 0; i < data->num_data; i += KF_PANEL) {
        const uint32_t nb = data->num_data - i < KF_PANEL ? data->num_data - i : KF_PANEL;
        const uint32_t count = (nb + KF_PANEL_STEP - 1) / KF_PANEL_STEP * KF_PANEL_STEP;
        const float *desired = data->output + (uint64_t)i * O;
        run_panel(c, i, nb, count, NULL);
        for (o = 0; o < O; o++) { /* the remaining errors, halved for symmetric outputs */
            const int symmetric = kf_activation_is_symmetric((kf_activation)net->activation[M + o]);
            for (s = 0; s < nb; s++) {
                float e = desired[(size_t)s * O + o] - w->values[(size_t)(M + o) * KF_PANEL + s];
                w->errors[(size_t)o * KF_PANEL + s] = symmetric ? e / 2.0f : e;
            }
        }
        c->kern->fann_sums(w->cand_in, M, candidates, w->values, count, w->cand_sums);
        candidate_values(c, candidates, nb);
        c->kern->transpose(w->cand_values, KF_PANEL, candidates, nb, w->values_t, candidates);
        candidate_pairs(candidates, O, nb, w->values_t, w->errors, w->out_t, w->out_slopes_t, w->scores,
                        w->errors_t);
        c->kern->transpose(w->errors_t, candidates, nb, candidates, w->cand_errors, KF_PANEL);
        for (q = 0; q < candidates; q++) { /* times f'(bounded sum), negated: the slopes kernel adds */
            const kf_activation a = (kf_activation)w->cand_activation[q];
            float *e = w->cand_errors + (size_t)q * KF_PANEL;
            if (kf_is_trig(a))
                c->trig(a, 1, w->cand_steepness[q], w->cand_sums + (size_t)q * KF_PANEL, e, nb);
            else
                c->kern->fann_derive(a, w->cand_steepness[q], w->cand_values + (size_t)q * KF_PANEL,
                                     w->cand_sums + (size_t)q * KF_PANEL, e, nb);
            for (s = 0; s < nb; s++)
                e[s] = -e[s];
        }
        /* The input slopes, source by source with the candidates side by side (the slopes kernel
         * with the roles swapped: each slope still sums value * error over the pairs in order):
         * in_slopes_t[i][q] += values[i][s] * -error[s][q]. */
        c->kern->transpose(w->cand_errors, KF_PANEL, candidates, nb, w->errors_t, candidates);
        c->kern->fann_slopes(w->values, w->errors_t, candidates, candidates, M, nb, w->in_slopes_t);
    }
    c->kern->transpose(w->in_slopes_t, candidates, M, candidates, w->in_slopes, M);
    memset(w->in_slopes_t, 0, (size_t)M * candidates * sizeof(float));
    for (q = 0; q < candidates; q++)
        for (o = 0; o < O; o++)
            w->co_slopes[(size_t)q * O + o] = w->out_slopes_t[(size_t)o * candidates + q];
    /* fann_update_candidate_weights: candidate by candidate, input weights then output weights
     * (the order of libfann's one array, which SARPROP's draws and steps follow) */
    for (q = 0; q < candidates; q++) {
        step_arrays in = {w->cand_in + (size_t)q * M, w->in_slopes + (size_t)q * M, w->in_steps + (size_t)q * M,
                          w->in_prev_slopes + (size_t)q * M, M};
        step_arrays out = {w->cand_out + (size_t)q * O, w->co_slopes + (size_t)q * O, w->co_steps + (size_t)q * O,
                           w->co_prev_slopes + (size_t)q * O, O};
        step(c, in, &carry);
        step(c, out, &carry);
    }
    c->best = 0;
    for (q = 1; q < candidates; q++)
        if (w->scores[q] > w->scores[c->best])
            c->best = q;
    return w->scores[c->best];
}

/* fann_train_candidates: epochs until the score passes candidate_limit times the error,
 * stagnation or max_cand_epochs; returns the epochs trained. */
static uint32_t train_candidates(cascade *c, uint32_t candidates)
{
    const kf_params *p = &c->net->params;
    const uint32_t max_epochs = p->cascade_max_cand_epochs, min_epochs = p->cascade_min_cand_epochs;
    float target = 0.0f, backslide = -1.0e20f;
    uint32_t stagnation = max_epochs, i;
    for (i = 0; i < max_epochs; i++) {
        const float best = candidate_epoch(c, candidates);
        if (best / c->mse_sum > p->cascade_candidate_limit)
            return i + 1;
        if (best > target || best < backslide) {
            target = best * (1.0f + p->cascade_candidate_change_fraction);
            backslide = best * (1.0f - p->cascade_candidate_change_fraction);
            stagnation = i + p->cascade_candidate_stagnation_epochs;
        }
        if (i >= stagnation && i >= min_epochs)
            return i + 1;
    }
    return max_epochs;
}

/* ---- growth ---- */

/* The network with the best candidate in a new layer before the output layer: a new block laid
 * out like every network's (net.c), checked and packed by kf_net_finish. */
static kf_status install(cascade *c)
{
    const kf_net *net = c->net;
    const cascade_work *w = c->work;
    const uint32_t L = net->num_layers, N = net->total_neurons, O = net->num_output;
    const uint32_t M = net->layer_start[L - 1], K = net->con_start[M]; /* the outputs' first connection */
    const float multiplier = net->params.cascade_weight_multiplier;
    const float *in = w->cand_in + (size_t)c->best * M, *out = w->cand_out + (size_t)c->best * O;
    kf_net *grown;
    uint32_t l, j, o, k;
    kf_status st = kf_net_alloc(L + 1, N + 1, net->total_connections + M + O, net->num_input, O, &grown);
    if (st != KF_OK)
        return st;
    grown->network_type = KF_NET_SHORTCUT;
    grown->connection_rate = net->connection_rate;
    grown->params = net->params;
    grown->simd = net->simd;
    grown->exp_kind = net->exp_kind;
    grown->has_scaling = net->has_scaling;
    memcpy(grown->scale_mean_in, net->scale_mean_in, 4 * ((size_t)net->num_input + O) * sizeof(float));
    for (l = 0; l < L; l++)
        grown->layer_start[l] = net->layer_start[l];
    grown->layer_start[L] = M + 1;
    grown->layer_start[L + 1] = N + 1;
    /* the neurons before the outputs as they are, then the new one */
    memcpy(grown->con_start, net->con_start, ((size_t)M + 1) * sizeof(uint32_t));
    memcpy(grown->con_src, net->con_src, (size_t)K * sizeof(uint32_t));
    memcpy(grown->weights, net->weights, (size_t)K * sizeof(float));
    memcpy(grown->activation, net->activation, M);
    memcpy(grown->steepness, net->steepness, (size_t)M * sizeof(float));
    for (k = 0; k < M; k++) {
        grown->con_src[K + k] = k;
        grown->weights[K + k] = in[k];
    }
    grown->activation[M] = w->cand_activation[c->best];
    grown->steepness[M] = w->cand_steepness[c->best];
    /* each output reads every earlier neuron, the new one last */
    for (o = 0; o < O; o++) {
        const uint32_t from = net->con_start[M + o], to = K + M + o * (M + 1);
        j = M + 1 + o;
        grown->con_start[j] = to;
        grown->activation[j] = net->activation[M + o];
        grown->steepness[j] = net->steepness[M + o];
        for (k = 0; k <= M; k++)
            grown->con_src[to + k] = k;
        memcpy(grown->weights + to, net->weights + from, (size_t)M * sizeof(float));
        grown->weights[to + M] = out[O - 1 - o] * multiplier;
    }
    grown->con_start[N + 1] = grown->total_connections;
    st = kf_net_finish(grown, NULL);
    if (st != KF_OK) {
        kf_net_free(grown);
        return st;
    }
    kf_net_free(c->net);
    c->net = grown;
    return KF_OK;
}

/* A new workspace for the network's current size. */
static kf_status new_work(cascade *c, uint64_t candidates)
{
    cascade_dims d;
    d.neurons = c->net->total_neurons;
    d.sources = c->net->layer_start[c->net->num_layers - 1];
    d.outputs = c->net->num_output;
    d.candidates = candidates;
    kf_block_free(c->work);
    c->work = NULL;
    return kf_arena_new(work_layout, &d, (void **)&c->work);
}

/* ---- checks ---- */

/* Record why a request is refused; returns st. */
#define REFUSE(st, ...) (kf_diag_set(diag, 0, __VA_ARGS__), (st))

static kf_status check(const kf_net *net, const kf_data *data, const kf_cascade_options *opt, uint64_t *candidates,
                       kf_diag *diag)
{
    const kf_params *p = &net->params;
    const uint32_t L = net->num_layers, O = net->num_output, M = net->layer_start[L - 1];
    uint64_t connections, n;
    uint32_t l, j, i;
    if (net->network_type != KF_NET_SHORTCUT)
        return REFUSE(KF_E_UNSUPPORTED, "cascade training grows shortcut networks; this one is layered");
    for (l = 1; l < L; l++) /* fully connected: every neuron reads every earlier neuron */
        for (j = net->layer_start[l]; j < net->layer_start[l + 1]; j++)
            if (net->con_start[j + 1] - net->con_start[j] != net->layer_start[l] || !net->contiguous[j]
                || net->con_src[net->con_start[j]] != 0)
                return REFUSE(KF_E_UNSUPPORTED, "cascade training needs a fully connected shortcut network; "
                              "neuron %u reads other neurons", j);
    if (p->training_algorithm != KF_TRAIN_RPROP && p->training_algorithm != KF_TRAIN_QUICKPROP
        && p->training_algorithm != KF_TRAIN_SARPROP)
        return REFUSE(KF_E_UNSUPPORTED, "cascade training steps with rprop, quickprop or sarprop, not %s",
                      p->training_algorithm == KF_TRAIN_BATCH ? "batch" : "incremental");
    for (j = M; j < net->total_neurons; j++) {
        const kf_activation a = (kf_activation)net->activation[j];
        if (a == KF_THRESHOLD || a == KF_THRESHOLD_SYMMETRIC)
            return REFUSE(KF_E_UNSUPPORTED, "output activation %s has no derivative to train with",
                          kf_activation_name(a));
    }
    if (opt->max_neurons == 0)
        return REFUSE(KF_E_ARG, "max_neurons must be at least 1");
    if (!isfinite(opt->desired_error))
        return REFUSE(KF_E_NUMERIC, "desired_error must be finite");
    if (opt->desired_error < 0)
        return REFUSE(KF_E_ARG, "desired_error must be at least 0");
    for (i = 0; i < p->cascade_activation_functions_count; i++) {
        const kf_activation a = (kf_activation)p->cascade_activation_functions[i];
        if (a == KF_THRESHOLD || a == KF_THRESHOLD_SYMMETRIC || a == KF_RELU || a == KF_LEAKY_RELU)
            return REFUSE(KF_E_ARG, "candidate activation %s is not one FANN trains (no FANN derivative)",
                          kf_activation_name(a));
    }
    *candidates = (uint64_t)p->cascade_activation_functions_count * p->cascade_activation_steepnesses_count
                * p->cascade_num_candidate_groups;
    if (*candidates == 0)
        return REFUSE(KF_E_ARG, "no candidates: %u activation functions x %u steepnesses x %u groups",
                      p->cascade_activation_functions_count, p->cascade_activation_steepnesses_count,
                      p->cascade_num_candidate_groups);
    if (p->cascade_max_cand_epochs == 0)
        return REFUSE(KF_E_ARG, "cascade_max_cand_epochs must be at least 1");
    if (data->num_input != net->num_input || data->num_output != O)
        return REFUSE(KF_E_SHAPE, "the data has %u inputs and %u outputs, the network %u and %u", data->num_input,
                      data->num_output, net->num_input, O);
    if (data->num_data == 0)
        return REFUSE(KF_E_SHAPE, "the data has no pairs");
    /* the grown network's sizes, and the candidates' weights in the last round */
    connections = net->total_connections;
    for (n = 0; n < opt->max_neurons && connections <= KF_MAX_CONNECTIONS; n++)
        connections += M + n + O;
    if ((uint64_t)L + opt->max_neurons > KF_MAX_LAYERS || (uint64_t)net->total_neurons + opt->max_neurons > KF_MAX_NEURONS
        || connections > KF_MAX_CONNECTIONS || *candidates * ((uint64_t)M + opt->max_neurons + O) > KF_MAX_CONNECTIONS)
        return REFUSE(KF_E_LIMIT, "%u more neurons would pass the limits (%u layers, %u connections)",
                      opt->max_neurons, KF_MAX_LAYERS, KF_MAX_CONNECTIONS);
    if (!kf_all_finite(data->input, (uint64_t)data->num_data * data->num_input)
        || !kf_all_finite(data->output, (uint64_t)data->num_data * O))
        return REFUSE(KF_E_NUMERIC, "the data holds values that are not finite");
    return KF_OK;
}

#undef REFUSE

kf_status kf_cascade_train(const kf_net *net, const kf_data *data, const kf_cascade_options *opt, kf_net **out,
                           kf_cascade_report *final, kf_diag *diag)
{
    cascade c;
    kf_cascade_report report;
    uint64_t candidates = 0;
    uint32_t i, epochs = 0;
    kf_status st;
    kf_diag_clear(diag);
    if (out == NULL)
        return KF_E_ARG;
    *out = NULL;
    if (net == NULL || data == NULL || opt == NULL || opt->random == NULL
        || (data->num_data > 0 && (data->input == NULL || data->output == NULL)))
        return KF_E_ARG;
    st = check(net, data, opt, &candidates, diag);
    if (st != KF_OK)
        return st;
    memset(&c, 0, sizeof c);
    memset(&report, 0, sizeof report);
    c.data = data;
    c.random = opt->random;
    st = kf_net_copy(net, &c.net);
    if (st != KF_OK)
        return st;
    c.kern = kf_net_kernels(c.net);
    c.trig = kf_fann_trig_for((kf_simd)c.net->simd);
    for (i = 1; i <= opt->max_neurons; i++) {
        int done;
        if ((st = new_work(&c, candidates)) != KF_OK)
            break;
        epochs += train_outputs(&c, opt->desired_error);
        done = reached(&c, opt->desired_error);
        if (opt->callback
            && (opt->neurons_between_reports == 0 || i % opt->neurons_between_reports == 0 || i == opt->max_neurons
                || i == 1 || done)) {
            const uint32_t last = c.net->layer_start[c.net->num_layers - 1] - 1;
            report.neurons = i - 1;
            report.epochs = epochs;
            report.mse = c.mse_sum / (float)c.num_mse;
            report.bit_fail = c.bit_fail;
            report.activation = i > 1 ? c.net->activation[last] : 0;
            report.steepness = i > 1 ? c.net->steepness[last] : 0.0f;
            if (opt->callback(&report, opt->ctx) != 0)
                break;
        }
        if (done)
            break;
        initialize_candidates(&c, candidates);
        epochs += train_candidates(&c, (uint32_t)candidates);
        if ((st = install(&c)) != KF_OK)
            break;
        c.kern = kf_net_kernels(c.net);
    }
    if (st == KF_OK && (st = new_work(&c, candidates)) == KF_OK)
        epochs += train_outputs(&c, 0.0f);
    kf_block_free(c.work);
    if (st != KF_OK) {
        kf_net_free(c.net);
        return st;
    }
    kf_net_pack(c.net);
    if (final) {
        const uint32_t M = c.net->layer_start[c.net->num_layers - 1];
        final->neurons = M - (net->layer_start[net->num_layers - 1]);
        final->epochs = epochs;
        final->mse = c.mse_sum / (float)c.num_mse;
        final->bit_fail = c.bit_fail;
        final->activation = final->neurons ? c.net->activation[M - 1] : 0;
        final->steepness = final->neurons ? c.net->steepness[M - 1] : 0.0f;
    }
    *out = c.net;
    return KF_OK;
}
