/* Input/output scaling parameters (fann_set_scaling_params, fann_scale_input and friends). */
#include "internal.h"

/* Mean and population deviation of each column, accumulated in float as FANN does. */
static void column_stats(const float *rows, uint32_t n, uint32_t cols, float *mean, float *deviation)
{
    uint32_t c, s;
    for (c = 0; c < cols; c++) {
        mean[c] = 0.0f;
        for (s = 0; s < n; s++)
            mean[c] += rows[(uint64_t)s * cols + c];
        mean[c] /= (float)n;
        deviation[c] = 0.0f;
        for (s = 0; s < n; s++) {
            const float d = rows[(uint64_t)s * cols + c] - mean[c];
            deviation[c] += d * d;
        }
        deviation[c] = (float)sqrt(deviation[c] / (float)n);
    }
}

static void set_side(float *mean, float *deviation, float *new_min, float *factor, const float *rows,
                     uint32_t n, uint32_t cols, float lo, float hi)
{
    uint32_t c;
    if (n == 0) {
        for (c = 0; c < cols; c++) {
            mean[c] = 0.0f;
            deviation[c] = 1.0f;
            new_min[c] = -1.0f;
            factor[c] = 1.0f;
        }
        return;
    }
    column_stats(rows, n, cols, mean, deviation);
    for (c = 0; c < cols; c++) {
        factor[c] = (hi - lo) / (1.0f - (-1.0f));
        new_min[c] = lo;
    }
}

kf_status kf_net_set_scaling(kf_net *net, const kf_data *data, int which, float new_min_in,
                             float new_max_in, float new_min_out, float new_max_out)
{
    uint64_t i;
    if (net == NULL || data == NULL || which < 0 || which > 2)
        return KF_E_ARG;
    if (data->num_input != net->num_input || data->num_output != net->num_output)
        return KF_E_SHAPE;
    if (!isfinite(new_min_in) || !isfinite(new_max_in) || !isfinite(new_min_out) || !isfinite(new_max_out))
        return KF_E_NUMERIC;
    if (!(new_max_in > new_min_in) || !(new_max_out > new_min_out))
        return KF_E_ARG;
    for (i = 0; i < (uint64_t)data->num_data * data->num_input; i++)
        if (!isfinite(data->input[i]))
            return KF_E_NUMERIC;
    for (i = 0; i < (uint64_t)data->num_data * data->num_output; i++)
        if (!isfinite(data->output[i]))
            return KF_E_NUMERIC;
    if (!net->has_scaling)
        kf_net_clear_scaling(net);
    if (which == 0 || which == 2)
        set_side(net->scale_mean_in, net->scale_deviation_in, net->scale_new_min_in, net->scale_factor_in,
                 data->input, data->num_data, net->num_input, new_min_in, new_max_in);
    if (which == 1 || which == 2)
        set_side(net->scale_mean_out, net->scale_deviation_out, net->scale_new_min_out, net->scale_factor_out,
                 data->output, data->num_data, net->num_output, new_min_out, new_max_out);
    return KF_OK;
}

void kf_net_clear_scaling(kf_net *net)
{
    uint32_t i;
    if (net == NULL)
        return;
    for (i = 0; i < net->num_input; i++) {
        net->scale_mean_in[i] = 0.0f;
        net->scale_deviation_in[i] = 1.0f;
        net->scale_new_min_in[i] = -1.0f;
        net->scale_factor_in[i] = 1.0f;
    }
    for (i = 0; i < net->num_output; i++) {
        net->scale_mean_out[i] = 0.0f;
        net->scale_deviation_out[i] = 1.0f;
        net->scale_new_min_out[i] = -1.0f;
        net->scale_factor_out[i] = 1.0f;
    }
    net->has_scaling = 1;
}

kf_status kf_net_scale(const kf_net *net, kf_scale_op op, float *values, uint64_t n)
{
    const int input = op == KF_SCALE_INPUT || op == KF_DESCALE_INPUT;
    const int forward = op == KF_SCALE_INPUT || op == KF_SCALE_OUTPUT;
    const float *mean, *deviation, *new_min, *factor;
    uint32_t cols, c;
    uint64_t s;
    if (net == NULL || (values == NULL && n > 0) || (unsigned)op > KF_DESCALE_OUTPUT)
        return KF_E_ARG;
    if (!net->has_scaling)
        return KF_E_UNSUPPORTED;
    cols = input ? net->num_input : net->num_output;
    mean = input ? net->scale_mean_in : net->scale_mean_out;
    deviation = input ? net->scale_deviation_in : net->scale_deviation_out;
    new_min = input ? net->scale_new_min_in : net->scale_new_min_out;
    factor = input ? net->scale_factor_in : net->scale_factor_out;
    for (s = 0; s < n; s++) {
        float *row = values + s * cols;
        for (c = 0; c < cols; c++) {
            /* A constant column (deviation 0) passes unchanged, as in later FANN releases. */
            if (deviation[c] == 0.0f || factor[c] == 0.0f)
                continue;
            if (forward)
                row[c] = ((row[c] - mean[c]) / deviation[c] - (-1.0f)) * factor[c] + new_min[c];
            else
                row[c] = ((row[c] - new_min[c]) / factor[c] + (-1.0f)) * deviation[c] + mean[c];
        }
    }
    return KF_OK;
}

int kf_net_has_scaling(const kf_net *net)
{
    return net != NULL && net->has_scaling != 0;
}

kf_status kf_net_get_scaling_values(const kf_net *net, float *values, uint64_t count)
{
    if (net == NULL || (values == NULL && count > 0))
        return KF_E_ARG;
    if (count != 4 * ((uint64_t)net->num_input + net->num_output))
        return KF_E_SHAPE;
    memcpy(values, net->scale_mean_in, (size_t)count * sizeof(float)); /* the eight arrays are consecutive */
    return KF_OK;
}

kf_status kf_net_set_scaling_values(kf_net *net, const float *values, uint64_t count)
{
    if (net == NULL || (values == NULL && count > 0))
        return KF_E_ARG;
    if (count != 4 * ((uint64_t)net->num_input + net->num_output))
        return KF_E_SHAPE;
    if (!kf_all_finite(values, count))
        return KF_E_NUMERIC;
    memcpy(net->scale_mean_in, values, (size_t)count * sizeof(float));
    net->has_scaling = 1;
    return KF_OK;
}
