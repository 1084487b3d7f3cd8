/* FANN 2.2's weight updates for the epoch algorithms (fann_update_weights_irpropm, _quickprop,
 * _sarprop), over one array of connections at a time: one epoch's training (train.c) and
 * cascade training's output and candidate phases (cascade.c) share them. */
#include "internal.h"

/* iRPROP- (fann_update_weights_irpropm). */
void kf_update_rprop(const kf_params *p, kf_update_arrays s)
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
void kf_update_quickprop(const kf_params *p, uint32_t num_data, kf_update_arrays s)
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

/* SARPROP (fann_update_weights_sarprop) at the given epoch and MSE, its noise drawn from
 * uniform(source) in connection order (libfann: rand() / RAND_MAX). libfann sets its next step
 * once, before the loop: a connection whose slope sign product is 0 keeps the step of the
 * connection before it, across the arrays of one update (*carry, 0 at its start). */
void kf_update_sarprop(const kf_params *p, uint32_t epoch, float mse, kf_uniform_fn uniform, void *source,
                       float *carry, kf_update_arrays s)
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
                const float u = uniform(source);
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

