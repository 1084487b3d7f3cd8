/* The text of FANN .net files, float (FANN_FLO_2.0/2.1) and fixed point (FANN_FIX_2.0): header
 * fields in libfann 2.2's order and formats, then one entry per neuron and per connection. */
#include "fann_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct header_field {
    const char *key;
    kf_param param;
    int is_uint;
} header_field;

/* Header fields in file order, from learning_rate to cascade_num_candidate_groups; the three
 * after them are written with %.20e in float files and as integers in fixed ones. */
static const header_field head_fields[] = {
    {"learning_rate", KF_PARAM_LEARNING_RATE, 0},
    {"connection_rate", KF_PARAM_COUNT_, 0},
    {"network_type", KF_PARAM_COUNT_, 1},
    {"learning_momentum", KF_PARAM_LEARNING_MOMENTUM, 0},
    {"training_algorithm", KF_PARAM_TRAINING_ALGORITHM, 1},
    {"train_error_function", KF_PARAM_TRAIN_ERROR_FUNCTION, 1},
    {"train_stop_function", KF_PARAM_TRAIN_STOP_FUNCTION, 1},
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

static const char neurons_key[] = "neurons (num_inputs, activation_function, activation_steepness)=";
static const char connections_key[] = "connections (connected_to_neuron, weight)=";

static int32_t *fixed_exact_field(kf_fann_text *f, size_t i)
{
    int32_t *const fields[3] = {&f->fixed_bit_fail_limit, &f->fixed_cascade_candidate_limit,
                                &f->fixed_cascade_weight_multiplier};
    return fields[i];
}

/* ---- writing ---- */

void kf_fann_text_write_header(kf_text *t, const kf_fann_text *f)
{
    const kf_params *p = &f->params;
    uint32_t i;
    kf_text_printf(t, f->fixed ? "FANN_FIX_2.0\n" : "FANN_FLO_2.1\n");
    if (f->fixed)
        kf_text_printf(t, "decimal_point=%u\n", f->decimal_point);
    kf_text_printf(t, "num_layers=%u\n", f->num_layers);
    for (i = 0; i < COUNT(head_fields); i++) {
        const header_field *h = &head_fields[i];
        double v = 0;
        if (i == 1)
            v = f->connection_rate;
        else if (i == 2)
            v = f->network_type;
        else
            kf_params_get(p, h->param, &v);
        if (h->is_uint)
            kf_text_printf(t, "%s=%u\n", h->key, (uint32_t)v);
        else
            kf_text_printf(t, "%s=%f\n", h->key, v);
    }
    for (i = 0; i < COUNT(exact_fields); i++) {
        if (f->fixed) {
            /* libfann prints these ints with %u. */
            kf_text_printf(t, "%s=%u\n", exact_fields[i].key, (uint32_t)*fixed_exact_field((kf_fann_text *)f, i));
        } else {
            double v = 0;
            kf_params_get(p, exact_fields[i].param, &v);
            kf_text_printf(t, "%s=%.20e\n", exact_fields[i].key, v);
        }
    }
    kf_text_printf(t, "cascade_activation_functions_count=%u\n", p->cascade_activation_functions_count);
    kf_text_printf(t, "cascade_activation_functions=");
    for (i = 0; i < p->cascade_activation_functions_count; i++)
        kf_text_printf(t, "%u ", p->cascade_activation_functions[i]);
    kf_text_printf(t, "\ncascade_activation_steepnesses_count=%u\n", p->cascade_activation_steepnesses_count);
    kf_text_printf(t, "cascade_activation_steepnesses=");
    for (i = 0; i < p->cascade_activation_steepnesses_count; i++) {
        if (f->fixed)
            kf_text_printf(t, "%u ", (uint32_t)f->fixed_cascade_steepnesses[i]);
        else
            kf_text_printf(t, "%.20e ", (double)p->cascade_activation_steepnesses[i]);
    }
    kf_text_printf(t, "\nlayer_sizes=");
    for (i = 0; i < f->num_layers; i++)
        kf_text_printf(t, "%u ", f->layer_sizes[i]);
    kf_text_printf(t, "\n");
    if (f->fixed)
        return;
    if (!f->has_scaling) {
        kf_text_printf(t, "scale_included=0\n");
        return;
    }
    kf_text_printf(t, "scale_included=1\n");
    {
        const float *a = f->scale;
        int s;
        for (s = 0; s < 8; s++) {
            const uint32_t n = s < 4 ? f->num_input : f->num_output;
            kf_text_printf(t, "%s=", scale_keys[s]);
            for (i = 0; i < n; i++)
                kf_text_printf(t, "%f ", (double)*a++);
            kf_text_printf(t, "\n");
        }
    }
}

/* ---- reading ---- */

/* A float, or an int32 in fixed files, as a double (exact either way). */
static int scan_value(kf_scan *s, int fixed, double *value, const char *what)
{
    if (fixed) {
        int32_t i;
        if (!kf_scan_i32(s, &i, what))
            return 0;
        *value = i;
    } else {
        float x;
        if (!kf_scan_float(s, &x, what))
            return 0;
        *value = x;
    }
    return 1;
}

static int scan_header(kf_scan *s, kf_fann_text *f)
{
    kf_params *p = &f->params;
    uint32_t i;
    kf_params_default(p);
    if (f->fixed) {
        if (!kf_scan_key_u32(s, "decimal_point", &f->decimal_point))
            return 0;
        if (f->decimal_point > 30)
            return kf_scan_fail(s, "decimal_point=%u; expected 0 to 30", f->decimal_point);
    }
    if (!kf_scan_key_u32(s, "num_layers", &f->num_layers))
        return 0;
    if (f->num_layers < 2 || f->num_layers > KF_MAX_LAYERS)
        return kf_scan_fail(s, "num_layers=%u; expected 2 to %u", f->num_layers, KF_MAX_LAYERS);
    for (i = 0; i < COUNT(head_fields); i++) {
        const header_field *h = &head_fields[i];
        double v;
        if (h->is_uint) {
            uint32_t u;
            if (!kf_scan_key_u32(s, h->key, &u))
                return 0;
            v = u;
        } else {
            float x;
            if (!kf_scan_key_float(s, h->key, &x))
                return 0;
            v = x;
        }
        if (i == 1) {
            f->connection_rate = (float)v;
        } else if (i == 2) {
            if (v > KF_NET_SHORTCUT)
                return kf_scan_fail(s, "network_type=%g; expected 0 (layer) or 1 (shortcut)", v);
            f->network_type = (uint32_t)v;
        } else if (kf_params_set(p, h->param, v) != KF_OK) {
            return kf_scan_fail(s, "%s=%g is out of range", h->key, v);
        }
    }
    for (i = 0; i < COUNT(exact_fields); i++) {
        if (f->fixed) {
            if (!kf_scan_literal(s, exact_fields[i].key) || !kf_scan_literal(s, "=")
                || !kf_scan_i32(s, fixed_exact_field(f, i), exact_fields[i].key))
                return 0;
        } else {
            float x;
            if (!kf_scan_key_float(s, exact_fields[i].key, &x))
                return 0;
            kf_params_set(p, exact_fields[i].param, x);
        }
    }
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
    for (i = 0; i < p->cascade_activation_steepnesses_count; i++) {
        if (f->fixed ? !kf_scan_i32(s, &f->fixed_cascade_steepnesses[i], "a cascade steepness")
                     : !kf_scan_float(s, &p->cascade_activation_steepnesses[i], "a cascade steepness"))
            return 0;
    }
    if (!kf_scan_literal(s, "layer_sizes="))
        return 0;
    for (i = 0; i < f->num_layers; i++)
        if (!kf_scan_u32(s, &f->layer_sizes[i], "a layer size"))
            return 0;
    return 1;
}

/* The optional scale block of FANN_FLO_2.1 (absent in 2.0 files and in fixed ones). */
static kf_status scan_scaling(kf_scan *s, kf_fann_text *f)
{
    static const char key[] = "scale_included=";
    const uint64_t n = 4 * ((uint64_t)f->num_input + f->num_output);
    uint32_t included;
    int i;
    uint32_t k;
    float *a;
    kf_scan_space(s);
    if ((size_t)(s->end - s->p) < sizeof key - 1 || memcmp(s->p, key, sizeof key - 1) != 0)
        return KF_OK;
    if (!kf_scan_key_u32(s, "scale_included", &included))
        return KF_E_FORMAT;
    if (included > 1) {
        kf_scan_fail(s, "scale_included=%u; expected 0 or 1", included);
        return KF_E_FORMAT;
    }
    if (!included)
        return KF_OK;
    if (n > (uint64_t)(s->end - s->p) / 2 + 1) {
        kf_scan_fail(s, "the scale block needs %llu values, more than the rest of the file holds",
                     (unsigned long long)n);
        return KF_E_FORMAT;
    }
    a = f->scale_owned = malloc((size_t)n * sizeof(float));
    if (a == NULL)
        return KF_E_NOMEM;
    for (i = 0; i < 8; i++) {
        char literal[40];
        const uint32_t count = i < 4 ? f->num_input : f->num_output;
        snprintf(literal, sizeof literal, "%s=", scale_keys[i]);
        if (!kf_scan_literal(s, literal))
            return KF_E_FORMAT;
        for (k = 0; k < count; k++)
            if (!kf_scan_float(s, a++, scale_keys[i]))
                return KF_E_FORMAT;
    }
    f->scale = f->scale_owned;
    f->has_scaling = 1;
    return KF_OK;
}

static kf_status scan_body(kf_scan *s, kf_fann_text *f)
{
    uint64_t connections = 0;
    uint32_t j, k;
    if (!kf_scan_literal(s, neurons_key))
        return KF_E_FORMAT;
    /* Every neuron entry takes at least 9 bytes, "(0, 0, 0)": refuse sizes the text cannot hold. */
    if (f->total_neurons > (uint64_t)(s->end - s->p) / 9 + 1) {
        kf_scan_fail(s, "layer_sizes declare %u neurons, more than the rest of the file can describe",
                     f->total_neurons);
        return KF_E_FORMAT;
    }
    f->counts = malloc(sizeof(uint32_t) * (size_t)f->total_neurons);
    f->activation = malloc((size_t)f->total_neurons);
    f->steepness = malloc(sizeof(double) * (size_t)f->total_neurons);
    if (f->counts == NULL || f->activation == NULL || f->steepness == NULL)
        return KF_E_NOMEM;
    for (j = 0; j < f->total_neurons; j++) {
        uint32_t a;
        if (!kf_scan_literal(s, "(") || !kf_scan_u32(s, &f->counts[j], "a neuron's connection count")
            || !kf_scan_literal(s, ",") || !kf_scan_u32(s, &a, "an activation function") || !kf_scan_literal(s, ",")
            || !scan_value(s, f->fixed, &f->steepness[j], "a steepness") || !kf_scan_literal(s, ")"))
            return KF_E_FORMAT;
        if (a >= KF_ACTIVATION_COUNT_) {
            kf_scan_fail(s, "neuron %u: activation function %u is not one of 0..%u", j, a, KF_ACTIVATION_COUNT_ - 1);
            return KF_E_FORMAT;
        }
        f->activation[j] = (uint8_t)a;
        connections += f->counts[j];
        if (connections > KF_MAX_CONNECTIONS) {
            kf_scan_fail(s, "more than %u connections in all", KF_MAX_CONNECTIONS);
            return KF_E_FORMAT;
        }
    }
    f->total_connections = (uint32_t)connections;
    if (!kf_scan_literal(s, connections_key))
        return KF_E_FORMAT;
    /* Every connection entry takes at least 6 bytes: "(0, 0)". */
    if (connections > (uint64_t)(s->end - s->p) / 6 + 1) {
        kf_scan_fail(s, "the neurons declare %llu connections, more than the rest of the file can describe",
                     (unsigned long long)connections);
        return KF_E_FORMAT;
    }
    f->src = malloc(sizeof(uint32_t) * (size_t)(connections + 1));
    f->weight = malloc(sizeof(double) * (size_t)(connections + 1));
    if (f->src == NULL || f->weight == NULL)
        return KF_E_NOMEM;
    for (k = 0; k < connections; k++) {
        if (!kf_scan_literal(s, "(") || !kf_scan_u32(s, &f->src[k], "a source neuron") || !kf_scan_literal(s, ",")
            || !scan_value(s, f->fixed, &f->weight[k], "a weight") || !kf_scan_literal(s, ")"))
            return KF_E_FORMAT;
        if (f->src[k] >= f->total_neurons) {
            kf_scan_fail(s, "connection %u reads neuron %u, but the network has %u neurons", k, f->src[k],
                         f->total_neurons);
            return KF_E_FORMAT;
        }
    }
    return KF_OK;
}

kf_status kf_fann_text_parse(const char *text, size_t len, int fixed, kf_fann_text *f, kf_diag *diag)
{
    const char *version = fixed ? "FANN_FIX_2.0" : "FANN_FLO_2.1";
    uint64_t neurons = 0;
    uint32_t l;
    kf_scan s;
    kf_status st;
    memset(f, 0, sizeof *f);
    f->fixed = fixed;
    kf_scan_init(&s, text, len, diag);
    kf_scan_space(&s);
    if ((size_t)(s.end - s.p) >= 12 && memcmp(s.p, fixed ? "FANN_FLO_" : "FANN_FIX_", 9) == 0) {
        kf_scan_fail(&s, fixed ? "this is a float network (%.12s), not a fixed-point one"
                               : "this is a fixed-point network (%.12s), not a float one", s.p);
        return KF_E_FORMAT;
    }
    if (!((size_t)(s.end - s.p) >= 12
          && (memcmp(s.p, version, 12) == 0 || (!fixed && memcmp(s.p, "FANN_FLO_2.0", 12) == 0)))) {
        kf_scan_fail(&s, fixed ? "not a FANN fixed-point network: expected FANN_FIX_2.0 on the first line"
                               : "not a FANN float network: expected FANN_FLO_2.1 or FANN_FLO_2.0 on the first line");
        return KF_E_FORMAT;
    }
    s.p += 12;
    if (!scan_header(&s, f))
        return KF_E_FORMAT;
    for (l = 0; l < f->num_layers; l++) {
        neurons += f->layer_sizes[l];
        if (f->layer_sizes[l] == 0 || neurons > KF_MAX_NEURONS) {
            kf_scan_fail(&s, "layer_sizes: layer %u has %u neurons (total so far %llu; at most %u in all)", l,
                         f->layer_sizes[l], (unsigned long long)neurons, KF_MAX_NEURONS);
            return KF_E_FORMAT;
        }
    }
    if (f->layer_sizes[0] < 2 || (f->network_type == KF_NET_LAYER && f->layer_sizes[f->num_layers - 1] < 2)) {
        kf_scan_fail(&s, "layer_sizes count the bias neuron: the input layer needs at least 2 neurons");
        return KF_E_FORMAT;
    }
    f->total_neurons = (uint32_t)neurons;
    f->num_input = f->layer_sizes[0] - 1;
    f->num_output = f->layer_sizes[f->num_layers - 1] - (f->network_type == KF_NET_LAYER ? 1u : 0u);
    if (!fixed && (st = scan_scaling(&s, f)) != KF_OK)
        goto fail;
    if ((st = scan_body(&s, f)) != KF_OK)
        goto fail;
    if (diag)
        diag->line = s.line;
    return KF_OK;
fail:
    kf_fann_text_release(f);
    return st;
}

void kf_fann_text_release(kf_fann_text *f)
{
    free(f->scale_owned);
    free(f->counts);
    free(f->activation);
    free(f->steepness);
    free(f->src);
    free(f->weight);
    f->scale_owned = NULL;
    f->scale = NULL;
    f->counts = NULL;
    f->activation = NULL;
    f->steepness = NULL;
    f->src = NULL;
    f->weight = NULL;
}
