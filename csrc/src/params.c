/* Training parameters: FANN 2.2's defaults and access by name with validation. */
#include "internal.h"

#include <stddef.h>
#include <string.h>

void kf_params_default(kf_params *p)
{
    static const uint32_t cascade_functions[10] = {
        KF_SIGMOID, KF_SIGMOID_SYMMETRIC, KF_GAUSSIAN, KF_GAUSSIAN_SYMMETRIC, KF_ELLIOT,
        KF_ELLIOT_SYMMETRIC, KF_SIN_SYMMETRIC, KF_COS_SYMMETRIC, KF_SIN, KF_COS};
    static const float cascade_steepnesses[4] = {0.25f, 0.5f, 0.75f, 1.0f};
    memset(p, 0, sizeof *p);
    p->learning_rate = 0.7f;
    p->learning_momentum = 0.0f;
    p->training_algorithm = KF_TRAIN_RPROP;
    p->train_error_function = KF_ERRORFUNC_TANH;
    p->train_stop_function = KF_STOPFUNC_MSE;
    p->bit_fail_limit = 0.35f;
    p->quickprop_decay = -0.0001f;
    p->quickprop_mu = 1.75f;
    p->rprop_increase_factor = 1.2f;
    p->rprop_decrease_factor = 0.5f;
    p->rprop_delta_min = 0.0f;
    p->rprop_delta_max = 50.0f;
    p->rprop_delta_zero = 0.1f;
    p->sarprop_weight_decay_shift = -6.644f;
    p->sarprop_step_error_threshold_factor = 0.1f;
    p->sarprop_step_error_shift = 1.385f;
    p->sarprop_temperature = 0.015f;
    p->cascade_output_change_fraction = 0.01f;
    p->cascade_output_stagnation_epochs = 12;
    p->cascade_candidate_change_fraction = 0.01f;
    p->cascade_candidate_stagnation_epochs = 12;
    p->cascade_max_out_epochs = 150;
    p->cascade_min_out_epochs = 50;
    p->cascade_max_cand_epochs = 150;
    p->cascade_min_cand_epochs = 50;
    p->cascade_num_candidate_groups = 2;
    p->cascade_candidate_limit = 1000.0f;
    p->cascade_weight_multiplier = 0.4f;
    p->cascade_activation_functions_count = 10;
    memcpy(p->cascade_activation_functions, cascade_functions, sizeof cascade_functions);
    p->cascade_activation_steepnesses_count = 4;
    memcpy(p->cascade_activation_steepnesses, cascade_steepnesses, sizeof cascade_steepnesses);
}

/* One row per kf_param: name, field offset, and whether the field is an integer (then its
 * exclusive upper bound; 0 means any uint32) or a float. */
typedef struct param_info {
    const char *name;
    size_t offset;
    int is_uint;
    uint32_t bound;
} param_info;

#define F(field) {#field, offsetof(kf_params, field), 0, 0}
#define U(field, bound) {#field, offsetof(kf_params, field), 1, bound}

static const param_info params[KF_PARAM_COUNT_] = {
    F(learning_rate),
    F(learning_momentum),
    U(training_algorithm, KF_TRAIN_COUNT_),
    U(train_error_function, 2),
    U(train_stop_function, 2),
    F(bit_fail_limit),
    F(quickprop_decay),
    F(quickprop_mu),
    F(rprop_increase_factor),
    F(rprop_decrease_factor),
    F(rprop_delta_min),
    F(rprop_delta_max),
    F(rprop_delta_zero),
    F(sarprop_weight_decay_shift),
    F(sarprop_step_error_threshold_factor),
    F(sarprop_step_error_shift),
    F(sarprop_temperature),
    F(cascade_output_change_fraction),
    U(cascade_output_stagnation_epochs, 0),
    F(cascade_candidate_change_fraction),
    U(cascade_candidate_stagnation_epochs, 0),
    U(cascade_max_out_epochs, 0),
    U(cascade_min_out_epochs, 0),
    U(cascade_max_cand_epochs, 0),
    U(cascade_min_cand_epochs, 0),
    U(cascade_num_candidate_groups, 0),
    F(cascade_candidate_limit),
    F(cascade_weight_multiplier),
};

#undef F
#undef U

const char *kf_param_name(kf_param p)
{
    if ((unsigned)p >= KF_PARAM_COUNT_)
        return NULL;
    return params[p].name;
}

kf_status kf_params_get(const kf_params *ps, kf_param p, double *value)
{
    const unsigned char *base;
    if (ps == NULL || value == NULL || (unsigned)p >= KF_PARAM_COUNT_)
        return KF_E_ARG;
    base = (const unsigned char *)ps + params[p].offset;
    if (params[p].is_uint) {
        uint32_t v;
        memcpy(&v, base, sizeof v);
        *value = v;
    } else {
        float v;
        memcpy(&v, base, sizeof v);
        *value = v;
    }
    return KF_OK;
}

kf_status kf_params_set(kf_params *ps, kf_param p, double value)
{
    unsigned char *base;
    if (ps == NULL || (unsigned)p >= KF_PARAM_COUNT_)
        return KF_E_ARG;
    if (!isfinite(value))
        return KF_E_NUMERIC;
    base = (unsigned char *)ps + params[p].offset;
    if (params[p].is_uint) {
        uint32_t v;
        if (value < 0 || value > UINT32_MAX || value != (double)(uint32_t)value)
            return KF_E_ARG;
        v = (uint32_t)value;
        if (params[p].bound != 0 && v >= params[p].bound)
            return KF_E_ARG;
        memcpy(base, &v, sizeof v);
    } else {
        float v = (float)value;
        if (!isfinite(v))
            return KF_E_NUMERIC;
        memcpy(base, &v, sizeof v);
    }
    return KF_OK;
}

kf_status kf_net_get_param(const kf_net *net, kf_param p, double *value)
{
    return net ? kf_params_get(&net->params, p, value) : KF_E_ARG;
}

kf_status kf_net_set_param(kf_net *net, kf_param p, double value)
{
    return net ? kf_params_set(&net->params, p, value) : KF_E_ARG;
}

kf_status kf_params_check(const kf_params *p)
{
    uint32_t i;
    if (p->cascade_activation_functions_count > KF_MAX_CASCADE_LIST
        || p->cascade_activation_steepnesses_count > KF_MAX_CASCADE_LIST)
        return KF_E_LIMIT;
    if (p->training_algorithm >= KF_TRAIN_COUNT_ || p->train_error_function > KF_ERRORFUNC_TANH
        || p->train_stop_function > KF_STOPFUNC_BIT)
        return KF_E_ARG;
    for (i = 0; i < p->cascade_activation_functions_count; i++)
        if (p->cascade_activation_functions[i] >= KF_ACTIVATION_COUNT_)
            return KF_E_ARG;
    for (i = 0; i < p->cascade_activation_steepnesses_count; i++)
        if (!isfinite(p->cascade_activation_steepnesses[i]))
            return KF_E_NUMERIC;
    return KF_OK;
}

kf_status kf_net_get_cascade(const kf_net *net, uint32_t *functions, uint32_t *num_functions, float *steepnesses,
                             uint32_t *num_steepnesses)
{
    const kf_params *p;
    if (net == NULL || functions == NULL || num_functions == NULL || steepnesses == NULL || num_steepnesses == NULL)
        return KF_E_ARG;
    p = &net->params;
    *num_functions = p->cascade_activation_functions_count;
    *num_steepnesses = p->cascade_activation_steepnesses_count;
    memcpy(functions, p->cascade_activation_functions, sizeof(uint32_t) * *num_functions);
    memcpy(steepnesses, p->cascade_activation_steepnesses, sizeof(float) * *num_steepnesses);
    return KF_OK;
}

kf_status kf_net_set_cascade(kf_net *net, const uint32_t *functions, uint32_t num_functions,
                             const float *steepnesses, uint32_t num_steepnesses)
{
    kf_params p;
    kf_status st;
    if (net == NULL || (functions == NULL && num_functions > 0) || (steepnesses == NULL && num_steepnesses > 0))
        return KF_E_ARG;
    if (num_functions > KF_MAX_CASCADE_LIST || num_steepnesses > KF_MAX_CASCADE_LIST)
        return KF_E_LIMIT;
    p = net->params;
    p.cascade_activation_functions_count = num_functions;
    p.cascade_activation_steepnesses_count = num_steepnesses;
    if (num_functions)
        memcpy(p.cascade_activation_functions, functions, sizeof(uint32_t) * num_functions);
    if (num_steepnesses)
        memcpy(p.cascade_activation_steepnesses, steepnesses, sizeof(float) * num_steepnesses);
    st = kf_params_check(&p);
    if (st != KF_OK)
        return st;
    net->params = p;
    return KF_OK;
}
