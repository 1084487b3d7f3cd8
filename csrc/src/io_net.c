/* FANN's float network text: FANN_FLO_2.1 written as libfann 2.2 writes it; 2.0 and 2.1 read. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Header fields in file order, between "train_stop_function" and "bit_fail_limit". */
typedef struct header_field {
    const char *key;
    kf_param param;
    int is_uint;
} header_field;

static const header_field middle_fields[] = {
    {"cascade_output_change_fraction", KF_PARAM_CASCADE_OUTPUT_CHANGE_FRACTION, 0},
    {"quickprop_decay", KF_PARAM_QUICKPROP_DECAY, 0},
    {"quickprop_mu", KF_PARAM_QUICKPROP_MU, 0},
    {"rprop_increase_factor", KF_PARAM_RPROP_INCREASE_FACTOR, 0},
    {"rprop_decrease_factor", KF_PARAM_RPROP_DECREASE_FACTOR, 0},
    {"rprop_delta_min", KF_PARAM_RPROP_DELTA_MIN, 0},
    {"rprop_delta_max", KF_PARAM_RPROP_DELTA_MAX, 0},
    {"rprop_delta_zero", KF_PARAM_RPROP_DELTA_ZERO, 0},
    {"cascade_output_stagnation_epochs", KF_PARAM_CASCADE_OUTPUT_STAGNATION_EPOCHS, 1},
    {"cascade_candidate_change_fraction", KF_PARAM_CASCADE_CANDIDATE_CHANGE_FRACTION, 0},
    {"cascade_candidate_stagnation_epochs", KF_PARAM_CASCADE_CANDIDATE_STAGNATION_EPOCHS, 1},
    {"cascade_max_out_epochs", KF_PARAM_CASCADE_MAX_OUT_EPOCHS, 1},
    {"cascade_min_out_epochs", KF_PARAM_CASCADE_MIN_OUT_EPOCHS, 1},
    {"cascade_max_cand_epochs", KF_PARAM_CASCADE_MAX_CAND_EPOCHS, 1},
    {"cascade_min_cand_epochs", KF_PARAM_CASCADE_MIN_CAND_EPOCHS, 1},
    {"cascade_num_candidate_groups", KF_PARAM_CASCADE_NUM_CANDIDATE_GROUPS, 1},
};

/* Fields written with %.20e (FANNPRINTF) rather than %f. */
static const header_field exact_fields[] = {
    {"bit_fail_limit", KF_PARAM_BIT_FAIL_LIMIT, 0},
    {"cascade_candidate_limit", KF_PARAM_CASCADE_CANDIDATE_LIMIT, 0},
    {"cascade_weight_multiplier", KF_PARAM_CASCADE_WEIGHT_MULTIPLIER, 0},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const scale_keys[8] = {
    "scale_mean_in", "scale_deviation_in", "scale_new_min_in", "scale_factor_in",
    "scale_mean_out", "scale_deviation_out", "scale_new_min_out", "scale_factor_out",
};

static float *scale_array(const kf_net *net, int i)
{
    float *const arrays[8] = {net->scale_mean_in, net->scale_deviation_in, net->scale_new_min_in,
                              net->scale_factor_in, net->scale_mean_out, net->scale_deviation_out,
                              net->scale_new_min_out, net->scale_factor_out};
    return arrays[i];
}

static double param_value(const kf_net *net, kf_param p)
{
    double v = 0;
    kf_params_get(&net->params, p, &v);
    return v;
}

kf_status kf_net_format_fann(const kf_net *net, char **text, size_t *len)
{
    kf_text t = {0};
    const kf_params *p;
    uint32_t i, l;
    if (net == NULL || text == NULL)
        return KF_E_ARG;
    p = &net->params;
    kf_text_printf(&t, "FANN_FLO_2.1\n");
    kf_text_printf(&t, "num_layers=%u\n", net->num_layers);
    kf_text_printf(&t, "learning_rate=%f\n", (double)p->learning_rate);
    kf_text_printf(&t, "connection_rate=%f\n", (double)net->connection_rate);
    kf_text_printf(&t, "network_type=%u\n", net->network_type);
    kf_text_printf(&t, "learning_momentum=%f\n", (double)p->learning_momentum);
    kf_text_printf(&t, "training_algorithm=%u\n", p->training_algorithm);
    kf_text_printf(&t, "train_error_function=%u\n", p->train_error_function);
    kf_text_printf(&t, "train_stop_function=%u\n", p->train_stop_function);
    for (i = 0; i < COUNT(middle_fields); i++) {
        double v = param_value(net, middle_fields[i].param);
        if (middle_fields[i].is_uint)
            kf_text_printf(&t, "%s=%u\n", middle_fields[i].key, (uint32_t)v);
        else
            kf_text_printf(&t, "%s=%f\n", middle_fields[i].key, v);
    }
    for (i = 0; i < COUNT(exact_fields); i++)
        kf_text_printf(&t, "%s=%.20e\n", exact_fields[i].key, param_value(net, exact_fields[i].param));
    kf_text_printf(&t, "cascade_activation_functions_count=%u\n", p->cascade_activation_functions_count);
    kf_text_printf(&t, "cascade_activation_functions=");
    for (i = 0; i < p->cascade_activation_functions_count; i++)
        kf_text_printf(&t, "%u ", p->cascade_activation_functions[i]);
    kf_text_printf(&t, "\ncascade_activation_steepnesses_count=%u\n", p->cascade_activation_steepnesses_count);
    kf_text_printf(&t, "cascade_activation_steepnesses=");
    for (i = 0; i < p->cascade_activation_steepnesses_count; i++)
        kf_text_printf(&t, "%.20e ", (double)p->cascade_activation_steepnesses[i]);
    kf_text_printf(&t, "\nlayer_sizes=");
    for (l = 0; l < net->num_layers; l++)
        kf_text_printf(&t, "%u ", net->layer_start[l + 1] - net->layer_start[l]);
    kf_text_printf(&t, "\n");
    if (net->has_scaling) {
        int s;
        kf_text_printf(&t, "scale_included=1\n");
        for (s = 0; s < 8; s++) {
            const float *a = scale_array(net, s);
            const uint32_t n = s < 4 ? net->num_input : net->num_output;
            kf_text_printf(&t, "%s=", scale_keys[s]);
            for (i = 0; i < n; i++)
                kf_text_printf(&t, "%f ", (double)a[i]);
            kf_text_printf(&t, "\n");
        }
    } else {
        kf_text_printf(&t, "scale_included=0\n");
    }
    kf_text_printf(&t, "neurons (num_inputs, activation_function, activation_steepness)=");
    for (i = 0; i < net->total_neurons; i++)
        kf_text_printf(&t, "(%u, %u, %.20e) ", net->con_start[i + 1] - net->con_start[i], net->activation[i],
                       (double)net->steepness[i]);
    kf_text_printf(&t, "\nconnections (connected_to_neuron, weight)=");
    for (i = 0; i < net->total_connections; i++)
        kf_text_printf(&t, "(%u, %.20e) ", net->con_src[i], (double)net->weights[i]);
    kf_text_printf(&t, "\n");
    return kf_text_finish(&t, text, len);
}

/* Header values read before the network can be allocated. */
typedef struct net_header {
    uint32_t num_layers, network_type, layer_sizes[KF_MAX_LAYERS];
    float connection_rate;
    kf_params params;
} net_header;

static int scan_param(kf_scan *s, kf_params *params, const header_field *f)
{
    double v;
    if (f->is_uint) {
        uint32_t u;
        if (!kf_scan_key_u32(s, f->key, &u))
            return 0;
        v = u;
    } else {
        float x;
        if (!kf_scan_key_float(s, f->key, &x))
            return 0;
        v = x;
    }
    if (kf_params_set(params, f->param, v) != KF_OK)
        return kf_scan_fail(s, "%s=%g is out of range", f->key, v);
    return 1;
}

static int scan_header(kf_scan *s, net_header *h)
{
    static const header_field head_fields[] = {
        {"learning_rate", KF_PARAM_LEARNING_RATE, 0},
    };
    static const header_field train_fields[] = {
        {"training_algorithm", KF_PARAM_TRAINING_ALGORITHM, 1},
        {"train_error_function", KF_PARAM_TRAIN_ERROR_FUNCTION, 1},
        {"train_stop_function", KF_PARAM_TRAIN_STOP_FUNCTION, 1},
    };
    static const header_field momentum = {"learning_momentum", KF_PARAM_LEARNING_MOMENTUM, 0};
    kf_params *p = &h->params;
    uint32_t i;
    kf_params_default(p);
    if (!kf_scan_key_u32(s, "num_layers", &h->num_layers))
        return 0;
    if (h->num_layers < 2 || h->num_layers > KF_MAX_LAYERS)
        return kf_scan_fail(s, "num_layers=%u; expected 2 to %u", h->num_layers, KF_MAX_LAYERS);
    if (!scan_param(s, p, &head_fields[0]) || !kf_scan_key_float(s, "connection_rate", &h->connection_rate)
        || !kf_scan_key_u32(s, "network_type", &h->network_type))
        return 0;
    if (h->network_type > KF_NET_SHORTCUT)
        return kf_scan_fail(s, "network_type=%u; expected 0 (layer) or 1 (shortcut)", h->network_type);
    if (!scan_param(s, p, &momentum))
        return 0;
    for (i = 0; i < COUNT(train_fields); i++)
        if (!scan_param(s, p, &train_fields[i]))
            return 0;
    for (i = 0; i < COUNT(middle_fields); i++)
        if (!scan_param(s, p, &middle_fields[i]))
            return 0;
    for (i = 0; i < COUNT(exact_fields); i++)
        if (!scan_param(s, p, &exact_fields[i]))
            return 0;
    if (!kf_scan_key_u32(s, "cascade_activation_functions_count", &p->cascade_activation_functions_count))
        return 0;
    if (p->cascade_activation_functions_count > KF_MAX_CASCADE_LIST)
        return kf_scan_fail(s, "cascade_activation_functions_count=%u exceeds %u",
                            p->cascade_activation_functions_count, KF_MAX_CASCADE_LIST);
    if (!kf_scan_literal(s, "cascade_activation_functions="))
        return 0;
    for (i = 0; i < p->cascade_activation_functions_count; i++) {
        if (!kf_scan_u32(s, &p->cascade_activation_functions[i], "a cascade activation function"))
            return 0;
        if (p->cascade_activation_functions[i] >= KF_ACTIVATION_COUNT_)
            return kf_scan_fail(s, "cascade activation function %u is not one of 0..%u",
                                p->cascade_activation_functions[i], KF_ACTIVATION_COUNT_ - 1);
    }
    if (!kf_scan_key_u32(s, "cascade_activation_steepnesses_count", &p->cascade_activation_steepnesses_count))
        return 0;
    if (p->cascade_activation_steepnesses_count > KF_MAX_CASCADE_LIST)
        return kf_scan_fail(s, "cascade_activation_steepnesses_count=%u exceeds %u",
                            p->cascade_activation_steepnesses_count, KF_MAX_CASCADE_LIST);
    if (!kf_scan_literal(s, "cascade_activation_steepnesses="))
        return 0;
    for (i = 0; i < p->cascade_activation_steepnesses_count; i++)
        if (!kf_scan_float(s, &p->cascade_activation_steepnesses[i], "a cascade steepness"))
            return 0;
    if (!kf_scan_literal(s, "layer_sizes="))
        return 0;
    for (i = 0; i < h->num_layers; i++)
        if (!kf_scan_u32(s, &h->layer_sizes[i], "a layer size"))
            return 0;
    return 1;
}

/* Optional scale block of FANN_FLO_2.1 (absent in 2.0 files). */
static int scan_scaling(kf_scan *s, kf_net *net)
{
    static const char key[] = "scale_included=";
    uint32_t included;
    int i;
    uint32_t k;
    kf_scan_space(s);
    if ((size_t)(s->end - s->p) < sizeof key - 1 || memcmp(s->p, key, sizeof key - 1) != 0)
        return 1;
    if (!kf_scan_key_u32(s, "scale_included", &included))
        return 0;
    if (included > 1)
        return kf_scan_fail(s, "scale_included=%u; expected 0 or 1", included);
    if (!included)
        return 1;
    for (i = 0; i < 8; i++) {
        char literal[40];
        float *a = scale_array(net, i);
        const uint32_t n = i < 4 ? net->num_input : net->num_output;
        snprintf(literal, sizeof literal, "%s=", scale_keys[i]);
        if (!kf_scan_literal(s, literal))
            return 0;
        for (k = 0; k < n; k++)
            if (!kf_scan_float(s, &a[k], scale_keys[i]))
                return 0;
    }
    net->has_scaling = 1;
    return 1;
}

kf_status kf_net_parse_fann(const char *text, size_t len, kf_net **out, kf_diag *diag)
{
    static const char neurons_key[] = "neurons (num_inputs, activation_function, activation_steepness)=";
    static const char connections_key[] = "connections (connected_to_neuron, weight)=";
    net_header h;
    kf_scan s;
    kf_net *net = NULL;
    kf_status st;
    uint64_t neurons = 0, connections = 0;
    uint32_t l, j, k, num_input, num_output;
    const char *neurons_at;
    uint32_t neurons_line;
    if (out == NULL || (text == NULL && len > 0))
        return KF_E_ARG;
    *out = NULL;
    kf_scan_init(&s, text, len, diag);
    kf_scan_space(&s);
    if ((size_t)(s.end - s.p) >= 12 && memcmp(s.p, "FANN_FIX_", 9) == 0) {
        kf_scan_fail(&s, "this is a fixed-point network (%.12s), not a float one", s.p);
        return KF_E_FORMAT;
    }
    if (!((size_t)(s.end - s.p) >= 12
          && (memcmp(s.p, "FANN_FLO_2.1", 12) == 0 || memcmp(s.p, "FANN_FLO_2.0", 12) == 0))) {
        kf_scan_fail(&s, "not a FANN float network: expected FANN_FLO_2.1 or FANN_FLO_2.0 on the first line");
        return KF_E_FORMAT;
    }
    s.p += 12;
    if (!scan_header(&s, &h))
        return KF_E_FORMAT;
    for (l = 0; l < h.num_layers; l++) {
        neurons += h.layer_sizes[l];
        if (h.layer_sizes[l] == 0 || neurons > KF_MAX_NEURONS) {
            kf_scan_fail(&s, "layer_sizes: layer %u has %u neurons (total so far %llu; at most %u in all)", l,
                         h.layer_sizes[l], (unsigned long long)neurons, KF_MAX_NEURONS);
            return KF_E_FORMAT;
        }
    }
    if (h.layer_sizes[0] < 2 || (h.network_type == KF_NET_LAYER && h.layer_sizes[h.num_layers - 1] < 2)) {
        kf_scan_fail(&s, "layer_sizes count the bias neuron: the input layer needs at least 2 neurons");
        return KF_E_FORMAT;
    }
    num_input = h.layer_sizes[0] - 1;
    num_output = h.layer_sizes[h.num_layers - 1] - (h.network_type == KF_NET_LAYER ? 1u : 0u);
    /* Scale parameters come before the neurons but need the sizes only; park them in a
     * provisional network without connections, then move them over. */
    st = kf_net_alloc(h.num_layers, (uint32_t)neurons, 0, num_input, num_output, &net);
    if (st != KF_OK)
        return st;
    if (!scan_scaling(&s, net))
        goto format_error;
    if (!kf_scan_literal(&s, neurons_key))
        goto format_error;
    /* Every neuron entry takes at least 9 bytes: "(0, 0, 0)". */
    if (neurons > (uint64_t)(s.end - s.p) / 9 + 1) {
        kf_scan_fail(&s, "layer_sizes declare %llu neurons, more than the rest of the file can describe",
                     (unsigned long long)neurons);
        goto format_error;
    }
    neurons_at = s.p;
    neurons_line = s.line;
    /* First pass: check the entries and count the connections. */
    for (j = 0; j < neurons; j++) {
        uint32_t count, a;
        float steep;
        if (!kf_scan_literal(&s, "(") || !kf_scan_u32(&s, &count, "a neuron's connection count")
            || !kf_scan_literal(&s, ",") || !kf_scan_u32(&s, &a, "an activation function")
            || !kf_scan_literal(&s, ",") || !kf_scan_float(&s, &steep, "a steepness") || !kf_scan_literal(&s, ")"))
            goto format_error;
        if (a >= KF_ACTIVATION_COUNT_) {
            kf_scan_fail(&s, "neuron %u: activation function %u is not one of 0..%u", j, a,
                         KF_ACTIVATION_COUNT_ - 1);
            goto format_error;
        }
        connections += count;
        if (connections > KF_MAX_CONNECTIONS) {
            kf_scan_fail(&s, "more than %u connections in all", KF_MAX_CONNECTIONS);
            goto format_error;
        }
    }
    if (!kf_scan_literal(&s, connections_key))
        goto format_error;
    /* Every connection entry takes at least 6 bytes: "(0, 0)". */
    if (connections > (uint64_t)(s.end - s.p) / 6 + 1) {
        kf_scan_fail(&s, "the neurons declare %llu connections, more than the rest of the file can describe",
                     (unsigned long long)connections);
        goto format_error;
    }
    {
        kf_net *full;
        st = kf_net_alloc(h.num_layers, (uint32_t)neurons, (uint32_t)connections, num_input, num_output, &full);
        if (st != KF_OK) {
            kf_net_free(net);
            return st;
        }
        full->has_scaling = net->has_scaling;
        memcpy(full->scale_mean_in, net->scale_mean_in, 4 * ((uint64_t)num_input + num_output) * sizeof(float));
        kf_net_free(net);
        net = full;
    }
    net->network_type = h.network_type;
    net->connection_rate = h.connection_rate;
    net->params = h.params;
    net->layer_start[0] = 0;
    for (l = 0; l < h.num_layers; l++)
        net->layer_start[l + 1] = net->layer_start[l] + h.layer_sizes[l];
    /* Second pass over the (already checked) neuron entries, now that there is room. */
    {
        kf_scan again = s;
        again.p = neurons_at;
        again.line = neurons_line;
        k = 0;
        for (j = 0; j < neurons; j++) {
            uint32_t count, a;
            kf_scan_literal(&again, "(");
            kf_scan_u32(&again, &count, "");
            kf_scan_literal(&again, ",");
            kf_scan_u32(&again, &a, "");
            kf_scan_literal(&again, ",");
            kf_scan_float(&again, &net->steepness[j], "");
            kf_scan_literal(&again, ")");
            net->activation[j] = (uint8_t)a;
            net->con_start[j] = k;
            k += count;
        }
        net->con_start[neurons] = k;
    }
    for (k = 0; k < connections; k++) {
        if (!kf_scan_literal(&s, "(") || !kf_scan_u32(&s, &net->con_src[k], "a source neuron")
            || !kf_scan_literal(&s, ",") || !kf_scan_float(&s, &net->weights[k], "a weight")
            || !kf_scan_literal(&s, ")"))
            goto format_error;
        if (net->con_src[k] >= neurons) {
            kf_scan_fail(&s, "connection %u reads neuron %u, but the network has %llu neurons", k,
                         net->con_src[k], (unsigned long long)neurons);
            goto format_error;
        }
    }
    st = kf_net_finish(net, diag);
    if (st != KF_OK) {
        if (diag)
            diag->line = s.line;
        kf_net_free(net);
        return st;
    }
    *out = net;
    return KF_OK;
format_error:
    kf_net_free(net);
    return KF_E_FORMAT;
}
