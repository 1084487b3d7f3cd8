/* FANN fixed point (FANN_FIX_2.0): conversion from float as fann_save_to_fixed does it, the
 * file text, and a forward pass with libfixedfann 2.2's integer arithmetic.
 *
 * libfixedfann computes in C `int` and relies on two's complement wrap-around and arithmetic
 * right shifts; the helpers below spell those out so that the results are the same on every
 * compiler and platform (and where libfixedfann would trap, a defined value is produced). */
#include "fann_text.h"

#include <stdlib.h>
#include <string.h>

static int32_t wrap32(int64_t v)
{
    uint32_t u = (uint32_t)((uint64_t)v & 0xffffffffu);
    return u <= (uint32_t)INT32_MAX ? (int32_t)u : (int32_t)(u - 2147483648u) + INT32_MIN;
}

/* x >> shift on a negative int, as gcc and every two's complement machine do it. */
static int32_t shift_right(int32_t x, uint32_t shift)
{
    return x >= 0 ? x >> shift : -1 - ((-1 - x) >> shift);
}

/* fann_mult: the 32-bit product, wrapped, shifted right by the decimal point. */
static int32_t fixed_mult(int32_t a, int32_t b, uint32_t decimal_point)
{
    return shift_right(wrap32((int64_t)a * b), decimal_point);
}

/* A C cast from double to int as x86-64 performs it: truncation, and INT_MIN for anything out
 * of range or NaN (where C leaves the behaviour undefined). */
static int32_t to_int(double v)
{
    if (!(v > -2147483649.0 && v < 2147483648.0))
        return INT32_MIN;
    return (int32_t)v;
}

/* Integer division truncating toward zero; INT_MIN / -1 wraps instead of trapping. */
static int32_t divide(int32_t a, int32_t b)
{
    if (b == 0)
        return 0; /* never reached: callers guarantee a non-empty interval */
    return wrap32((int64_t)a / b);
}

/* fann_update_stepwise: the stepwise sigmoids' levels and breakpoints for a multiplier. */
static void update_stepwise(kf_fixnet *net)
{
    const int64_t m = net->multiplier;
    const double md = (double)m;
    int32_t *r = net->sigmoid_results, *rs = net->sigmoid_symmetric_results;
    int i;
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
    r[0] = (int32_t)MAX((int64_t)to_int(md / 200.0 + 0.5), 1);
    r[1] = (int32_t)MAX((int64_t)to_int(md / 20.0 + 0.5), 1);
    r[2] = (int32_t)MAX((int64_t)to_int(md / 4.0 + 0.5), 1);
    r[3] = (int32_t)MIN(m - to_int(md / 4.0 + 0.5), m - 1);
    r[4] = (int32_t)MIN(m - to_int(md / 20.0 + 0.5), m - 1);
    r[5] = (int32_t)MIN(m - to_int(md / 200.0 + 0.5), m - 1);
    rs[0] = (int32_t)MAX((int64_t)to_int((md / 100.0) - md - 0.5), 1 - m);
    rs[1] = (int32_t)MAX((int64_t)to_int((md / 10.0) - md - 0.5), 1 - m);
    rs[2] = (int32_t)MAX((int64_t)to_int((md / 2.0) - md - 0.5), 1 - m);
    rs[3] = (int32_t)MIN(m - to_int(md / 2.0 + 0.5), m - 1);
    rs[4] = (int32_t)MIN(m - to_int(md / 10.0 + 0.5), m - 1);
    rs[5] = (int32_t)MIN(m - to_int(md / 100.0 + 1.0), m - 1);
#undef MAX
#undef MIN
    for (i = 0; i < 6; i++) {
        /* Same mix of float and double as libfann: the ratios in float, log and the rest in double. */
        const float mf = (float)m;
        net->sigmoid_values[i] = to_int(((log(mf / (float)r[i] - 1) * mf) / -2.0) * mf);
        net->sigmoid_symmetric_values[i] = to_int(((log((mf - (float)rs[i]) / ((float)rs[i] + mf)) * mf) / -2.0) * mf);
    }
}

/* The sizes a fixed-point network's block is laid out from. */
typedef struct fixnet_counts {
    uint64_t num_layers, neurons, connections;
} fixnet_counts;

static void fixnet_layout(kf_arena *a, void *obj, const void *ctx)
{
    const fixnet_counts *c = ctx;
    kf_fixnet *net = kf_arena_take(a, 1, sizeof *net);
    (void)obj;
    KF_CARVE(a, net, layer_start, c->num_layers + 1);
    KF_CARVE(a, net, con_start, c->neurons + 1);
    KF_CARVE(a, net, con_src, c->connections);
    KF_CARVE(a, net, weights, c->connections);
    KF_CARVE(a, net, steepness, c->neurons);
    KF_CARVE(a, net, activation, c->neurons);
    KF_CARVE(a, net, contiguous, c->neurons);
}

static kf_status fixnet_alloc(uint32_t num_layers, uint32_t neurons, uint32_t connections, kf_fixnet **out)
{
    const fixnet_counts counts = {num_layers, neurons, connections};
    kf_fixnet *net;
    kf_status st;
    *out = NULL;
    if (num_layers < 2 || num_layers > KF_MAX_LAYERS || neurons > KF_MAX_NEURONS || connections > KF_MAX_CONNECTIONS)
        return KF_E_LIMIT;
    st = kf_arena_new(fixnet_layout, &counts, (void **)&net);
    if (st != KF_OK)
        return st;
    net->num_layers = num_layers;
    net->total_neurons = neurons;
    net->total_connections = connections;
    kf_params_default(&net->params);
    *out = net;
    return KF_OK;
}

void kf_fixnet_free(kf_fixnet *net)
{
    kf_block_free(net);
}

static kf_status fixnet_finish(kf_fixnet *net, uint32_t decimal_point, kf_diag *diag)
{
    const kf_structure st = KF_STRUCTURE_OF(net);
    const uint32_t last = net->num_layers - 1;
    const uint32_t bias = (net->network_type == KF_NET_LAYER) ? 1u : 0u;
    kf_status status = kf_structure_check(&st, net->contiguous, diag);
    if (status != KF_OK)
        return status;
    net->decimal_point = decimal_point;
    net->multiplier = (int32_t)1 << decimal_point;
    net->num_input = net->layer_start[1] - net->layer_start[0] - 1;
    net->num_output = net->layer_start[last + 1] - net->layer_start[last] - bias;
    update_stepwise(net);
    return KF_OK;
}

kf_status kf_fixnet_parse_fann(const char *text, size_t len, kf_fixnet **out, kf_diag *diag)
{
    kf_fann_text f;
    kf_fixnet *net = NULL;
    kf_status st;
    uint32_t l, j, k;
    kf_diag_clear(diag);
    if (out == NULL || (text == NULL && len > 0))
        return KF_E_ARG;
    *out = NULL;
    st = kf_fann_text_parse(text, len, 1, &f, diag);
    if (st != KF_OK)
        return st;
    st = fixnet_alloc(f.num_layers, f.total_neurons, f.total_connections, &net);
    if (st != KF_OK)
        goto done;
    net->network_type = f.network_type;
    net->connection_rate = f.connection_rate;
    net->params = f.params;
    net->bit_fail_limit = f.fixed_bit_fail_limit;
    net->cascade_candidate_limit = f.fixed_cascade_candidate_limit;
    net->cascade_weight_multiplier = f.fixed_cascade_weight_multiplier;
    memcpy(net->cascade_activation_steepnesses, f.fixed_cascade_steepnesses, sizeof f.fixed_cascade_steepnesses);
    net->layer_start[0] = 0;
    for (l = 0; l < f.num_layers; l++)
        net->layer_start[l + 1] = net->layer_start[l] + f.layer_sizes[l];
    for (j = 0, k = 0; j < f.total_neurons; j++) {
        net->con_start[j] = k;
        k += f.counts[j];
        net->activation[j] = f.activation[j];
        net->steepness[j] = (int32_t)f.steepness[j];
    }
    net->con_start[f.total_neurons] = k;
    for (k = 0; k < f.total_connections; k++) {
        net->con_src[k] = f.src[k];
        net->weights[k] = (int32_t)f.weight[k];
    }
    st = fixnet_finish(net, f.decimal_point, diag);
    if (st != KF_OK && diag)
        diag->line = 0;
done:
    kf_fann_text_release(&f);
    if (st != KF_OK) {
        kf_fixnet_free(net);
        return st;
    }
    *out = net;
    return KF_OK;
}

kf_status kf_fixnet_format_fann(const kf_fixnet *net, char **text, size_t *len)
{
    kf_text t = {0};
    kf_fann_text f;
    uint32_t i;
    if (net == NULL || text == NULL)
        return KF_E_ARG;
    memset(&f, 0, sizeof f);
    f.fixed = 1;
    f.decimal_point = net->decimal_point;
    f.num_layers = net->num_layers;
    f.network_type = net->network_type;
    f.connection_rate = net->connection_rate;
    f.params = net->params;
    f.fixed_bit_fail_limit = net->bit_fail_limit;
    f.fixed_cascade_candidate_limit = net->cascade_candidate_limit;
    f.fixed_cascade_weight_multiplier = net->cascade_weight_multiplier;
    memcpy(f.fixed_cascade_steepnesses, net->cascade_activation_steepnesses, sizeof f.fixed_cascade_steepnesses);
    for (i = 0; i < net->num_layers; i++)
        f.layer_sizes[i] = net->layer_start[i + 1] - net->layer_start[i];
    kf_fann_text_write_header(&t, &f);
    kf_text_printf(&t, "neurons (num_inputs, activation_function, activation_steepness)=");
    for (i = 0; i < net->total_neurons; i++) /* steepness with %u, as fann_save_to_fixed prints it */
        kf_text_printf(&t, "(%u, %u, %u) ", net->con_start[i + 1] - net->con_start[i], net->activation[i],
                       (uint32_t)net->steepness[i]);
    kf_text_printf(&t, "\nconnections (connected_to_neuron, weight)=");
    for (i = 0; i < net->total_connections; i++)
        kf_text_printf(&t, "(%u, %d) ", net->con_src[i], (int)net->weights[i]);
    kf_text_printf(&t, "\n");
    return kf_text_finish(&t, text, len);
}

/* (int)floor(x * multiplier + 0.5) with libfann's float product. */
static int32_t to_fixed(float x, uint32_t multiplier)
{
    return to_int(floor((double)(x * (float)multiplier) + 0.5));
}

kf_status kf_net_to_fixnet(const kf_net *src, kf_fixnet **out)
{
    float max_possible = 0.0f;
    uint32_t bits, decimal_point, multiplier, j, k, i;
    kf_fixnet *net;
    kf_status st;
    if (src == NULL || out == NULL)
        return KF_E_ARG;
    /* fann_save_to_fixed: the largest sum of |w| over one neuron sets the decimal point, so
     * that a product of two fixed-point values still fits in an int. */
    for (j = src->layer_start[1]; j < src->total_neurons; j++) {
        float current = 0.0f;
        for (k = src->con_start[j]; k < src->con_start[j + 1]; k++)
            current += src->weights[k] > 0 ? src->weights[k] : -src->weights[k];
        if (current > max_possible)
            max_possible = current;
    }
    for (bits = 0; max_possible >= 1; bits++)
        max_possible = (float)(max_possible / 2.0);
    decimal_point = bits <= 30 ? (30 - bits) / 2 : 0;
    multiplier = 1u << decimal_point;
    st = fixnet_alloc(src->num_layers, src->total_neurons, src->total_connections, &net);
    if (st != KF_OK)
        return st;
    net->network_type = src->network_type;
    net->connection_rate = src->connection_rate;
    net->params = src->params;
    net->bit_fail_limit = to_fixed(src->params.bit_fail_limit, multiplier);
    net->cascade_candidate_limit = to_fixed(src->params.cascade_candidate_limit, multiplier);
    net->cascade_weight_multiplier = to_fixed(src->params.cascade_weight_multiplier, multiplier);
    for (i = 0; i < KF_MAX_CASCADE_LIST; i++)
        net->cascade_activation_steepnesses[i] = to_fixed(src->params.cascade_activation_steepnesses[i], multiplier);
    memcpy(net->layer_start, src->layer_start, ((size_t)src->num_layers + 1) * sizeof(uint32_t));
    memcpy(net->con_start, src->con_start, ((size_t)src->total_neurons + 1) * sizeof(uint32_t));
    memcpy(net->con_src, src->con_src, (size_t)src->total_connections * sizeof(uint32_t));
    memcpy(net->activation, src->activation, src->total_neurons);
    for (j = 0; j < src->total_neurons; j++)
        net->steepness[j] = to_fixed(src->steepness[j], multiplier);
    for (k = 0; k < src->total_connections; k++)
        net->weights[k] = to_fixed(src->weights[k], multiplier);
    st = fixnet_finish(net, decimal_point, NULL);
    if (st != KF_OK) {
        kf_fixnet_free(net);
        return st;
    }
    *out = net;
    return KF_OK;
}

uint32_t kf_fixnet_num_layers(const kf_fixnet *net)
{
    return net ? net->num_layers : 0;
}

uint32_t kf_fixnet_num_input(const kf_fixnet *net)
{
    return net ? net->num_input : 0;
}

uint32_t kf_fixnet_num_output(const kf_fixnet *net)
{
    return net ? net->num_output : 0;
}

uint32_t kf_fixnet_total_neurons(const kf_fixnet *net)
{
    return net ? net->total_neurons : 0;
}

uint32_t kf_fixnet_total_connections(const kf_fixnet *net)
{
    return net ? net->total_connections : 0;
}

kf_net_type kf_fixnet_network_type(const kf_fixnet *net)
{
    return net && net->network_type == KF_NET_SHORTCUT ? KF_NET_SHORTCUT : KF_NET_LAYER;
}

uint32_t kf_fixnet_decimal_point(const kf_fixnet *net)
{
    return net ? net->decimal_point : 0;
}

int32_t kf_fixnet_multiplier(const kf_fixnet *net)
{
    return net ? net->multiplier : 0;
}

kf_status kf_fixnet_get_structure(const kf_fixnet *net, uint32_t *layer_start, uint32_t *con_start,
                                  uint32_t *con_src, uint8_t *activation, int32_t *steepness)
{
    if (net == NULL)
        return KF_E_ARG;
    {
        const kf_structure st = KF_STRUCTURE_OF(net);
        return kf_structure_copy(&st, net->steepness, layer_start, con_start, con_src, activation, steepness);
    }
}

kf_status kf_fixnet_get_weights(const kf_fixnet *net, int32_t *weights, uint64_t count)
{
    if (net == NULL)
        return KF_E_ARG;
    {
        const kf_structure st = KF_STRUCTURE_OF(net);
        return kf_weights_copy(&st, net->weights, weights, count);
    }
}

uint64_t kf_fixnet_scratch_ints(const kf_fixnet *net)
{
    return net ? net->total_neurons : 0;
}

/* The activations libfixedfann's fann_run computes; it reports an error for the others. */
int kf_fixnet_activation_supported(kf_activation a)
{
    switch (a) {
    case KF_LINEAR:
    case KF_THRESHOLD:
    case KF_THRESHOLD_SYMMETRIC:
    case KF_SIGMOID:
    case KF_SIGMOID_STEPWISE:
    case KF_SIGMOID_SYMMETRIC:
    case KF_SIGMOID_SYMMETRIC_STEPWISE:
    case KF_LINEAR_PIECE:
    case KF_LINEAR_PIECE_SYMMETRIC:
        return 1;
    default:
        return 0;
    }
}

static int is_stepwise(kf_activation a)
{
    return a == KF_SIGMOID || a == KF_SIGMOID_STEPWISE || a == KF_SIGMOID_SYMMETRIC || a == KF_SIGMOID_SYMMETRIC_STEPWISE;
}

/* fann_linear_func in 32-bit int arithmetic: r1 + (r2 - r1) * (x - v1) / (v2 - v1). */
static int32_t linear_between(int32_t v1, int32_t r1, int32_t v2, int32_t r2, int32_t x)
{
    return wrap32((int64_t)divide(wrap32((int64_t)wrap32((int64_t)r2 - r1) * wrap32((int64_t)x - v1)),
                                  wrap32((int64_t)v2 - v1)) + r1);
}

/* fann_stepwise with breakpoints v (already divided by the steepness) and levels r. */
static int32_t stepwise(const int32_t v[6], const int32_t r[6], int32_t lo, int32_t hi, int32_t x)
{
    if (x < v[4]) {
        if (x < v[2]) {
            if (x < v[1])
                return x < v[0] ? lo : linear_between(v[0], r[0], v[1], r[1], x);
            return linear_between(v[1], r[1], v[2], r[2], x);
        }
        return x < v[3] ? linear_between(v[2], r[2], v[3], r[3], x) : linear_between(v[3], r[3], v[4], r[4], x);
    }
    return x < v[5] ? linear_between(v[4], r[4], v[5], r[5], x) : hi;
}

static int32_t fixed_activation(const kf_fixnet *net, kf_activation a, int32_t steepness, int32_t sum)
{
    const int32_t m = net->multiplier;
    int32_t v[6];
    int i;
    switch (a) {
    case KF_SIGMOID:
    case KF_SIGMOID_STEPWISE:
        for (i = 0; i < 6; i++)
            v[i] = divide(net->sigmoid_values[i], steepness);
        return stepwise(v, net->sigmoid_results, 0, m, sum);
    case KF_SIGMOID_SYMMETRIC:
    case KF_SIGMOID_SYMMETRIC_STEPWISE:
        for (i = 0; i < 6; i++)
            v[i] = divide(net->sigmoid_symmetric_values[i], steepness);
        return stepwise(v, net->sigmoid_symmetric_results, -m, m, sum);
    case KF_THRESHOLD: return sum < 0 ? 0 : m;
    case KF_THRESHOLD_SYMMETRIC: return sum < 0 ? -m : m;
    case KF_LINEAR_PIECE: return sum < 0 ? 0 : (sum > m ? m : sum);
    case KF_LINEAR_PIECE_SYMMETRIC: return sum < -m ? -m : (sum > m ? m : sum);
    default: return sum; /* KF_LINEAR: the sum itself, steepness ignored as in libfixedfann */
    }
}

kf_status kf_fixnet_check(const kf_fixnet *net, kf_diag *diag)
{
    uint32_t j;
    kf_diag_clear(diag);
    if (net == NULL)
        return KF_E_ARG;
    /* Refuse what libfixedfann cannot compute: an activation it has no fixed-point form of, or
     * a stepwise sigmoid with steepness 0 (libfixedfann divides by it). */
    for (j = net->layer_start[1]; j < net->total_neurons; j++) {
        const kf_activation a = (kf_activation)net->activation[j];
        if (net->con_start[j + 1] == net->con_start[j])
            continue;
        if (!kf_fixnet_activation_supported(a)) {
            kf_diag_set(diag, 0, "neuron %u uses %s, which libfixedfann cannot run in fixed point", j,
                        kf_activation_name(a));
            return KF_E_UNSUPPORTED;
        }
        if (is_stepwise(a) && net->steepness[j] == 0) {
            kf_diag_set(diag, 0, "neuron %u: a stepwise sigmoid with steepness 0 (libfixedfann would divide by zero)",
                        j);
            return KF_E_UNSUPPORTED;
        }
    }
    return KF_OK;
}

kf_status kf_fixnet_run(const kf_fixnet *net, const int32_t *in, uint64_t n, int32_t *out, int32_t *scratch,
                        uint64_t scratch_ints)
{
    uint64_t s;
    uint32_t l, j, k;
    if (net == NULL || (n > 0 && (in == NULL || out == NULL || scratch == NULL)))
        return KF_E_ARG;
    if (scratch_ints < net->total_neurons)
        return KF_E_SHAPE;
    if (kf_fixnet_check(net, NULL) != KF_OK)
        return KF_E_UNSUPPORTED;
    for (s = 0; s < n; s++) {
        int32_t *values = scratch;
        memcpy(values, in + s * net->num_input, (size_t)net->num_input * sizeof(int32_t));
        values[net->num_input] = net->multiplier;
        for (l = 1; l < net->num_layers; l++) {
            for (j = net->layer_start[l]; j < net->layer_start[l + 1]; j++) {
                const uint32_t k0 = net->con_start[j], k1 = net->con_start[j + 1];
                uint32_t sum = 0; /* wraps like libfixedfann's int */
                if (k0 == k1) {
                    values[j] = net->multiplier;
                    continue;
                }
                for (k = k0; k < k1; k++)
                    sum += (uint32_t)fixed_mult(net->weights[k], values[net->con_src[k]], net->decimal_point);
                values[j] = fixed_activation(net, (kf_activation)net->activation[j], net->steepness[j], wrap32(sum));
            }
        }
        memcpy(out + s * net->num_output, values + net->layer_start[net->num_layers - 1],
               (size_t)net->num_output * sizeof(int32_t));
    }
    return KF_OK;
}
