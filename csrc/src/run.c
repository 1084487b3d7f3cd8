/* The forward pass, with FANN's order of float operations so that results match libfann's. */
#include "internal.h"

#include <string.h>

/* Sum of w[i] * v[i], accumulated as fann_run does: the n % 4 leading terms last-to-first,
 * then groups of four added left to right before joining the running sum. */
static float dot_fann(const float *w, const float *v, uint32_t n)
{
    float sum = 0.0f;
    uint32_t i = n & 3u;
    if (i == 3)
        sum += w[2] * v[2];
    if (i >= 2)
        sum += w[1] * v[1];
    if (i >= 1)
        sum += w[0] * v[0];
    for (; i != n; i += 4)
        sum += w[i] * v[i] + w[i + 1] * v[i + 1] + w[i + 2] * v[i + 2] + w[i + 3] * v[i + 3];
    return sum;
}

/* The same through an index list (sparse neurons). */
static float dot_fann_gather(const float *w, const float *values, const uint32_t *src, uint32_t n)
{
    float sum = 0.0f;
    uint32_t i = n & 3u;
    if (i == 3)
        sum += w[2] * values[src[2]];
    if (i >= 2)
        sum += w[1] * values[src[1]];
    if (i >= 1)
        sum += w[0] * values[src[0]];
    for (; i != n; i += 4)
        sum += w[i] * values[src[i]] + w[i + 1] * values[src[i + 1]] + w[i + 2] * values[src[i + 2]]
             + w[i + 3] * values[src[i + 3]];
    return sum;
}

void kf_forward(const kf_net *net, const float *input, float *values, float *sums)
{
    const uint32_t L = net->num_layers;
    uint32_t l, j;
    memcpy(values, input, (size_t)net->num_input * sizeof(float));
    values[net->num_input] = 1.0f; /* the input layer's bias */
    if (sums)
        memset(sums, 0, (size_t)net->layer_start[1] * sizeof(float));
    for (l = 1; l < L; l++) {
        for (j = net->layer_start[l]; j < net->layer_start[l + 1]; j++) {
            const uint32_t k0 = net->con_start[j], n = net->con_start[j + 1] - k0;
            const float steepness = net->steepness[j];
            float sum;
            if (n == 0) { /* a bias neuron */
                values[j] = 1.0f;
                if (sums)
                    sums[j] = 0.0f;
                continue;
            }
            if (net->contiguous[j])
                sum = dot_fann(net->weights + k0, values + net->con_src[k0], n);
            else
                sum = dot_fann_gather(net->weights + k0, values, net->con_src + k0, n);
            sum = steepness * sum;
            /* FANN bounds steepness * sum to +-150 / steepness. */
            if (steepness != 0.0f) {
                float max_sum = 150.0f / steepness;
                if (sum > max_sum)
                    sum = max_sum;
                else if (sum < -max_sum)
                    sum = -max_sum;
            }
            if (sums)
                sums[j] = sum;
            values[j] = kf_activation_apply((kf_activation)net->activation[j], sum);
        }
    }
}

uint64_t kf_net_scratch_floats(const kf_net *net)
{
    return net ? net->total_neurons : 0;
}

kf_status kf_net_run(const kf_net *net, const float *in, uint64_t n, float *out, float *scratch,
                     uint64_t scratch_floats)
{
    uint64_t s, i;
    const uint32_t n_in = net ? net->num_input : 0, n_out = net ? net->num_output : 0;
    if (net == NULL || (n > 0 && (in == NULL || out == NULL || scratch == NULL)))
        return KF_E_ARG;
    if (scratch_floats < net->total_neurons)
        return KF_E_SHAPE;
    for (i = 0; i < n * n_in; i++)
        if (!isfinite(in[i]))
            return KF_E_NUMERIC;
    for (s = 0; s < n; s++) {
        const float *outputs = scratch + net->layer_start[net->num_layers - 1];
        kf_forward(net, in + s * n_in, scratch, NULL);
        memcpy(out + s * n_out, outputs, (size_t)n_out * sizeof(float));
    }
    return KF_OK;
}
