/* Network memory layout, creation (standard, sparse, shortcut), copies and validation. */
#include "internal.h"

#include "../simd/exp_glibc.h"

#include <stdlib.h>
#include <string.h>

/* The sizes a network's block is laid out from. */
typedef struct net_counts {
    uint64_t num_layers, neurons, connections, num_input, num_output;
} net_counts;

/* The network's single block: the struct, then every array. */
static void net_layout(kf_arena *a, void *obj, const void *ctx)
{
    const net_counts *c = ctx;
    kf_net *net = kf_arena_take(a, 1, sizeof *net);
    (void)obj;
    KF_CARVE(a, net, layer_start, c->num_layers + 1);
    KF_CARVE(a, net, con_start, c->neurons + 1);
    KF_CARVE(a, net, con_src, c->connections);
    KF_CARVE(a, net, weights, c->connections);
    KF_CARVE(a, net, weights_packed, c->connections);
    KF_CARVE(a, net, dense_run, c->neurons);
    KF_CARVE(a, net, activation, c->neurons);
    KF_CARVE(a, net, steepness, c->neurons);
    KF_CARVE(a, net, contiguous, c->neurons);
    /* the eight scaling arrays, consecutive in .net file order (kf_net_get_scaling_values) */
    KF_CARVE(a, net, scale_mean_in, 4 * (c->num_input + c->num_output));
    if (net) {
        float *scale = net->scale_mean_in;
        const uint64_t in = c->num_input, out = c->num_output;
        net->scale_deviation_in = scale + in;
        net->scale_new_min_in = scale + 2 * in;
        net->scale_factor_in = scale + 3 * in;
        net->scale_mean_out = scale + 4 * in;
        net->scale_deviation_out = scale + 4 * in + out;
        net->scale_new_min_out = scale + 4 * in + 2 * out;
        net->scale_factor_out = scale + 4 * in + 3 * out;
    }
}

kf_status kf_net_alloc(uint32_t num_layers, uint32_t total_neurons, uint32_t total_connections,
                       uint32_t num_input, uint32_t num_output, kf_net **out)
{
    const net_counts counts = {num_layers, total_neurons, total_connections, num_input, num_output};
    kf_net *net;
    kf_status st;
    *out = NULL;
    if (num_layers < 2 || num_layers > KF_MAX_LAYERS || total_neurons > KF_MAX_NEURONS
        || total_connections > KF_MAX_CONNECTIONS || num_input > total_neurons || num_output > total_neurons)
        return KF_E_LIMIT;
    st = kf_arena_new(net_layout, &counts, (void **)&net);
    if (st != KF_OK)
        return st;
    net->num_layers = num_layers;
    net->total_neurons = total_neurons;
    net->total_connections = total_connections;
    net->num_input = num_input;
    net->num_output = num_output;
    net->connection_rate = 1.0f;
    {
        kf_simd path;
        (void)kf_simd_active(&path); /* an unusable KIMI_FANN_SIMD leaves the scalar path */
        net->simd = (uint32_t)path;
        net->exp_kind = (uint32_t)kf_exp_kind_of_libm();
    }
    kf_params_default(&net->params);
    *out = net;
    return KF_OK;
}

void kf_net_free(kf_net *net)
{
    kf_block_free(net);
}

kf_status kf_net_copy(const kf_net *net, kf_net **out)
{
    kf_net *copy;
    kf_status st;
    uint32_t N, C;
    if (net == NULL || out == NULL)
        return KF_E_ARG;
    N = net->total_neurons;
    C = net->total_connections;
    st = kf_net_alloc(net->num_layers, N, C, net->num_input, net->num_output, &copy);
    if (st != KF_OK)
        return st;
    copy->network_type = net->network_type;
    copy->connection_rate = net->connection_rate;
    copy->has_scaling = net->has_scaling;
    copy->params = net->params;
    memcpy(copy->layer_start, net->layer_start, (net->num_layers + 1u) * sizeof(uint32_t));
    memcpy(copy->con_start, net->con_start, ((uint64_t)N + 1) * sizeof(uint32_t));
    memcpy(copy->con_src, net->con_src, (uint64_t)C * sizeof(uint32_t));
    memcpy(copy->weights, net->weights, (uint64_t)C * sizeof(float));
    memcpy(copy->weights_packed, net->weights_packed, (uint64_t)C * sizeof(float));
    memcpy(copy->dense_run, net->dense_run, (uint64_t)N * sizeof(uint32_t));
    copy->packed_current = net->packed_current;
    memcpy(copy->activation, net->activation, N);
    memcpy(copy->steepness, net->steepness, (uint64_t)N * sizeof(float));
    memcpy(copy->contiguous, net->contiguous, N);
    memcpy(copy->scale_mean_in, net->scale_mean_in, 4 * ((uint64_t)net->num_input + net->num_output) * sizeof(float));
    *out = copy;
    return KF_OK;
}

uint32_t kf_net_num_layers(const kf_net *net)
{
    return net ? net->num_layers : 0;
}

uint32_t kf_net_num_input(const kf_net *net)
{
    return net ? net->num_input : 0;
}

uint32_t kf_net_num_output(const kf_net *net)
{
    return net ? net->num_output : 0;
}

uint32_t kf_net_total_neurons(const kf_net *net)
{
    return net ? net->total_neurons : 0;
}

uint32_t kf_net_total_connections(const kf_net *net)
{
    return net ? net->total_connections : 0;
}

kf_net_type kf_net_network_type(const kf_net *net)
{
    return net && net->network_type == KF_NET_SHORTCUT ? KF_NET_SHORTCUT : KF_NET_LAYER;
}

float kf_net_connection_rate(const kf_net *net)
{
    return net ? net->connection_rate : 0.0f;
}

kf_status kf_structure_copy(const kf_structure *st, const void *steepness, uint32_t *layer_start, uint32_t *con_start,
                            uint32_t *con_src, uint8_t *activation, void *steepness_out)
{
    if (layer_start)
        memcpy(layer_start, st->layer_start, ((size_t)st->num_layers + 1) * sizeof(uint32_t));
    if (con_start)
        memcpy(con_start, st->con_start, ((size_t)st->total_neurons + 1) * sizeof(uint32_t));
    if (con_src && st->total_connections)
        memcpy(con_src, st->con_src, (size_t)st->total_connections * sizeof(uint32_t));
    if (activation)
        memcpy(activation, st->activation, st->total_neurons);
    if (steepness_out)
        memcpy(steepness_out, steepness, (size_t)st->total_neurons * 4);
    return KF_OK;
}

kf_status kf_weights_copy(const kf_structure *st, const void *weights, void *out, uint64_t count)
{
    if (out == NULL && count > 0)
        return KF_E_ARG;
    if (count != st->total_connections)
        return KF_E_SHAPE;
    if (count)
        memcpy(out, weights, (size_t)count * 4);
    return KF_OK;
}

kf_status kf_net_get_structure(const kf_net *net, uint32_t *layer_start, uint32_t *con_start, uint32_t *con_src,
                               uint8_t *activation, float *steepness)
{
    if (net == NULL)
        return KF_E_ARG;
    {
        const kf_structure st = KF_STRUCTURE_OF(net);
        return kf_structure_copy(&st, net->steepness, layer_start, con_start, con_src, activation, steepness);
    }
}

kf_status kf_net_get_weights(const kf_net *net, float *weights, uint64_t count)
{
    if (net == NULL)
        return KF_E_ARG;
    {
        const kf_structure st = KF_STRUCTURE_OF(net);
        return kf_weights_copy(&st, net->weights, weights, count);
    }
}

uint32_t kf_net_layer_size(const kf_net *net, uint32_t layer)
{
    uint32_t n;
    if (net == NULL || layer >= net->num_layers)
        return 0;
    n = net->layer_start[layer + 1] - net->layer_start[layer];
    /* Every layer of a layered network ends with a bias neuron; a shortcut network's input
     * layer only. */
    if (net->network_type == KF_NET_LAYER || layer == 0)
        n--;
    return n;
}

kf_status kf_structure_full(uint32_t num_layers, kf_net_type type, const uint32_t *layer_start, uint32_t *con_start,
                            uint32_t *con_src)
{
    const int shortcut = type == KF_NET_SHORTCUT;
    uint64_t total = 0;
    uint32_t l, j, k;
    if (layer_start == NULL || con_start == NULL || num_layers < 2 || num_layers > KF_MAX_LAYERS
        || (type != KF_NET_LAYER && type != KF_NET_SHORTCUT) || layer_start[0] != 0)
        return KF_E_ARG;
    for (l = 0; l < num_layers; l++) {
        /* a layered network's layers, and every input layer, end with a bias neuron */
        const uint32_t min = (l == 0 || !shortcut) ? 2u : 1u;
        if (layer_start[l + 1] < layer_start[l] || layer_start[l + 1] - layer_start[l] < min)
            return KF_E_ARG;
    }
    if (layer_start[num_layers] > KF_MAX_NEURONS)
        return KF_E_LIMIT;
    for (l = 1; l < num_layers; l++) {
        const uint64_t real = layer_start[l + 1] - layer_start[l] - (shortcut ? 0u : 1u);
        total += real * (shortcut ? layer_start[l] : layer_start[l] - layer_start[l - 1]);
        if (total > KF_MAX_CONNECTIONS)
            return KF_E_LIMIT;
    }
    k = 0;
    for (l = 0; l < num_layers; l++) {
        const uint32_t first = layer_start[l], real_end = layer_start[l + 1] - (shortcut && l > 0 ? 0u : 1u);
        const uint32_t src0 = shortcut ? 0u : (l > 0 ? layer_start[l - 1] : 0u);
        for (j = first; j < layer_start[l + 1]; j++) {
            const uint32_t count = (l > 0 && j < real_end) ? first - src0 : 0u;
            uint32_t m;
            con_start[j] = k;
            for (m = 0; m < count && con_src; m++)
                con_src[k + m] = src0 + m;
            k += count;
        }
    }
    con_start[layer_start[num_layers]] = k;
    return KF_OK;
}

kf_status kf_structure_check(const kf_structure *st, uint8_t *contiguous, kf_diag *diag)
{
    uint32_t l, j, k;
    const uint32_t L = st->num_layers, N = st->total_neurons;
    if (st->network_type > KF_NET_SHORTCUT) {
        kf_diag_set(diag, 0, "network_type %u is neither 0 (layer) nor 1 (shortcut)", st->network_type);
        return KF_E_FORMAT;
    }
    if (st->layer_start[0] != 0 || st->layer_start[L] != N) {
        kf_diag_set(diag, 0, "layer sizes add up to %u neurons, expected %u", st->layer_start[L], N);
        return KF_E_FORMAT;
    }
    for (l = 0; l < L; l++) {
        uint32_t size = st->layer_start[l + 1] - st->layer_start[l];
        uint32_t min = (l == 0 || st->network_type == KF_NET_LAYER) ? 2u : 1u;
        if (st->layer_start[l + 1] < st->layer_start[l] || size < min) {
            kf_diag_set(diag, 0, "layer %u has %u neurons (bias included); at least %u are needed", l, size, min);
            return KF_E_FORMAT;
        }
    }
    if (st->con_start[0] != 0 || st->con_start[N] != st->total_connections) {
        kf_diag_set(diag, 0, "the neurons' connections run from %u to %u, expected 0 to %u", st->con_start[0],
                    st->con_start[N], st->total_connections);
        return KF_E_FORMAT;
    }
    for (l = 0; l < L; l++) {
        for (j = st->layer_start[l]; j < st->layer_start[l + 1]; j++) {
            uint32_t k0 = st->con_start[j], k1 = st->con_start[j + 1];
            if (k1 < k0) {
                kf_diag_set(diag, 0, "neuron %u has a negative connection count", j);
                return KF_E_FORMAT;
            }
            if (st->activation[j] >= KF_ACTIVATION_COUNT_) {
                kf_diag_set(diag, 0, "neuron %u: activation function %u is not one of 0..%u", j,
                            st->activation[j], KF_ACTIVATION_COUNT_ - 1);
                return KF_E_FORMAT;
            }
            if (l == 0 && k1 != k0) {
                kf_diag_set(diag, 0, "input neuron %u has %u incoming connections, expected 0", j, k1 - k0);
                return KF_E_FORMAT;
            }
            contiguous[j] = 1;
            for (k = k0; k < k1; k++) {
                /* Feed-forward: a neuron reads only neurons of earlier layers. */
                if (st->con_src[k] >= st->layer_start[l]) {
                    kf_diag_set(diag, 0, "connection %u of neuron %u (layer %u) reads neuron %u, which is "
                                "not in an earlier layer", k - k0, j, l, st->con_src[k]);
                    return KF_E_FORMAT;
                }
                if (st->con_src[k] != st->con_src[k0] + (k - k0))
                    contiguous[j] = 0;
            }
        }
    }
    return KF_OK;
}

kf_status kf_net_finish(kf_net *net, kf_diag *diag)
{
    const kf_structure st = KF_STRUCTURE_OF(net);
    uint32_t j, k;
    kf_status status;
    if (!isfinite(net->connection_rate) || net->connection_rate < 0) {
        kf_diag_set(diag, 0, "connection_rate must be a finite number >= 0");
        return KF_E_FORMAT;
    }
    status = kf_structure_check(&st, net->contiguous, diag);
    if (status != KF_OK)
        return status;
    if (net->num_input != kf_net_layer_size(net, 0) || net->num_output != kf_net_layer_size(net, net->num_layers - 1)) {
        kf_diag_set(diag, 0, "input/output sizes disagree with the layer sizes");
        return KF_E_FORMAT;
    }
    for (j = 0; j < net->total_neurons; j++)
        if (!isfinite(net->steepness[j])) {
            kf_diag_set(diag, 0, "neuron %u: steepness is not finite", j);
            return KF_E_FORMAT;
        }
    for (k = 0; k < net->total_connections; k++)
        if (!isfinite(net->weights[k])) {
            kf_diag_set(diag, 0, "connection %u: weight is not finite", k);
            return KF_E_FORMAT;
        }
    kf_net_pack(net);
    return KF_OK;
}

kf_status kf_net_assemble(uint32_t num_layers, kf_net_type type, float connection_rate, const uint32_t *layer_start,
                          const uint32_t *con_start, const uint32_t *con_src, const float *weights,
                          const uint8_t *activation, const float *steepness, const kf_params *params,
                          const float *scaling, kf_net **out, kf_diag *diag)
{
    uint32_t N, C, last, num_input, num_output, i;
    uint32_t *full_start = NULL;
    kf_net *net;
    kf_status st;
    kf_diag_clear(diag);
    if (out == NULL || layer_start == NULL || activation == NULL || steepness == NULL || params == NULL
        || (con_start == NULL) != (con_src == NULL))
        return KF_E_ARG;
    *out = NULL;
    if (num_layers < 2 || num_layers > KF_MAX_LAYERS || (unsigned)type > KF_NET_SHORTCUT) {
        kf_diag_set(diag, 0, "need 2 to %u layers of type 0 or 1", KF_MAX_LAYERS);
        return KF_E_FORMAT;
    }
    for (i = 0; i < num_layers; i++)
        if (layer_start[i + 1] <= layer_start[i]) {
            kf_diag_set(diag, 0, "layer %u is empty or the layer starts decrease", i);
            return KF_E_FORMAT;
        }
    N = layer_start[num_layers];
    if (layer_start[0] != 0 || N > KF_MAX_NEURONS || layer_start[1] < 2) {
        kf_diag_set(diag, 0, "layer starts must begin at 0, the input layer hold a bias, and at most %u neurons",
                    KF_MAX_NEURONS);
        return KF_E_FORMAT;
    }
    if (con_start == NULL) { /* fully connected: the connections follow from the layer sizes */
        full_start = malloc(((size_t)N + 1) * sizeof(uint32_t));
        if (full_start == NULL)
            return KF_E_NOMEM;
        st = kf_structure_full(num_layers, type, layer_start, full_start, NULL);
        if (st != KF_OK) {
            free(full_start);
            kf_diag_set(diag, 0, "the layer sizes do not describe a fully connected network within the limits");
            return st == KF_E_LIMIT ? KF_E_LIMIT : KF_E_FORMAT;
        }
        con_start = full_start;
    }
    C = con_start[N];
    if (C > KF_MAX_CONNECTIONS || (C > 0 && ((con_src == NULL && full_start == NULL) || weights == NULL))) {
        free(full_start);
        kf_diag_set(diag, 0, "too many or missing connections");
        return KF_E_FORMAT;
    }
    last = layer_start[num_layers] - layer_start[num_layers - 1];
    num_input = layer_start[1] - 1;
    num_output = type == KF_NET_LAYER ? last - 1 : last;
    if (num_output == 0) {
        free(full_start);
        kf_diag_set(diag, 0, "the output layer has no neurons");
        return KF_E_FORMAT;
    }
    st = kf_net_alloc(num_layers, N, C, num_input, num_output, &net);
    free(full_start);
    if (st != KF_OK)
        return st;
    net->network_type = type;
    net->connection_rate = connection_rate;
    net->params = *params;
    memcpy(net->layer_start, layer_start, ((size_t)num_layers + 1) * sizeof(uint32_t));
    if (con_src == NULL)
        (void)kf_structure_full(num_layers, type, layer_start, net->con_start, net->con_src); /* checked above */
    else
        memcpy(net->con_start, con_start, ((size_t)N + 1) * sizeof(uint32_t));
    if (C) {
        if (con_src)
            memcpy(net->con_src, con_src, (size_t)C * sizeof(uint32_t));
        memcpy(net->weights, weights, (size_t)C * sizeof(float));
    }
    memcpy(net->activation, activation, N);
    memcpy(net->steepness, steepness, (size_t)N * sizeof(float));
    if (scaling) {
        memcpy(net->scale_mean_in, scaling, 4 * ((size_t)num_input + num_output) * sizeof(float));
        net->has_scaling = 1;
    }
    if (kf_params_check(params) != KF_OK) {
        kf_diag_set(diag, 0, "training parameters out of range");
        kf_net_free(net);
        return KF_E_FORMAT;
    }
    for (i = 0; i < 4 * (num_input + num_output) && scaling; i++)
        if (!isfinite(scaling[i])) {
            kf_diag_set(diag, 0, "a scaling parameter is not finite");
            kf_net_free(net);
            return KF_E_FORMAT;
        }
    st = kf_net_finish(net, diag);
    if (st != KF_OK) {
        kf_net_free(net);
        return st;
    }
    *out = net;
    return KF_OK;
}

/* Non-bias connection slots of each neuron of a sparse layer, as fann_create_sparse_array
 * splits them, so that a given rate yields FANN's connection count. */
static uint32_t sparse_layer_connections(uint32_t n_in, uint32_t n_out, float rate)
{
    uint64_t min_c = n_in > n_out ? n_in : n_out;
    uint64_t max_c = (uint64_t)n_in * n_out;
    uint64_t want = (uint64_t)(0.5 + (double)(rate * (float)max_c));
    uint64_t c = (min_c > want ? min_c : want) + n_out;
    if (c > max_c + n_out)
        c = max_c + n_out;
    return (uint32_t)c;
}

/* Choose the sources of each neuron of sparse layer l: every previous neuron feeds at least one
 * neuron, no neuron reads the same source twice, sources sorted with the bias last. */
static kf_status connect_sparse_layer(kf_net *net, uint32_t l, kf_rng *rng)
{
    const uint32_t prev0 = net->layer_start[l - 1];
    const uint32_t n_in = net->layer_start[l] - prev0 - 1; /* previous layer, bias excluded */
    const uint32_t first = net->layer_start[l];
    const uint32_t n_out = net->layer_start[l + 1] - first - 1;
    uint32_t *need = malloc(sizeof(uint32_t) * (2 * (uint64_t)n_out + (uint64_t)n_in + 1));
    uint32_t *open, *pool;
    unsigned char *used;
    uint32_t j, i, n_open = 0;
    if (need == NULL)
        return KF_E_NOMEM;
    open = need + n_out;
    pool = open + n_out;
    used = calloc((size_t)n_in + 1, 1);
    if (used == NULL) {
        free(need);
        return KF_E_NOMEM;
    }
    /* need[j]: non-bias slots still free in neuron j; con_src is filled from each slot start. */
    for (j = 0; j < n_out; j++) {
        uint32_t slots = net->con_start[first + j + 1] - net->con_start[first + j];
        if (slots < 1 || slots - 1 > n_in) {
            free(used);
            free(need);
            return KF_E_ARG;
        }
        need[j] = slots - 1;
        if (need[j] > 0)
            open[n_open++] = j;
    }
    /* Every previous neuron feeds a random neuron that still has room. */
    for (i = 0; i < n_in && n_open > 0; i++) {
        uint32_t pick = kf_rng_below(rng, n_open), jj = open[pick];
        uint32_t at = net->con_start[first + jj] + (net->con_start[first + jj + 1] - net->con_start[first + jj] - 1 - need[jj]);
        net->con_src[at] = prev0 + i;
        if (--need[jj] == 0)
            open[pick] = open[--n_open];
    }
    /* Fill the remaining slots with distinct random sources. */
    for (j = 0; j < n_out; j++) {
        uint32_t k0 = net->con_start[first + j], k1 = net->con_start[first + j + 1];
        uint32_t filled = (k1 - k0 - 1) - need[j], n_pool = 0, k;
        memset(used, 0, n_in);
        for (k = k0; k < k0 + filled; k++)
            used[net->con_src[k] - prev0] = 1;
        for (i = 0; i < n_in; i++)
            if (!used[i])
                pool[n_pool++] = i;
        for (k = k0 + filled; k < k1 - 1; k++) {
            uint32_t pick = kf_rng_below(rng, n_pool);
            net->con_src[k] = prev0 + pool[pick];
            pool[pick] = pool[--n_pool];
        }
        /* Sorted sources read memory in order; the bias comes last as in a dense layer. */
        for (k = k0 + 1; k < k1 - 1; k++) {
            uint32_t v = net->con_src[k], m = k;
            while (m > k0 && net->con_src[m - 1] > v) {
                net->con_src[m] = net->con_src[m - 1];
                m--;
            }
            net->con_src[m] = v;
        }
        net->con_src[k1 - 1] = prev0 + n_in;
    }
    free(used);
    free(need);
    return KF_OK;
}

kf_status kf_net_create(const uint32_t *layer_sizes, uint32_t num_layers, kf_net_type type,
                        float connection_rate, uint64_t seed, kf_net **out)
{
    uint64_t neurons = 0, connections = 0;
    uint32_t l, j, k, num_output;
    kf_net *net;
    kf_status st;
    kf_rng rng;
    int sparse;
    if (out == NULL || layer_sizes == NULL)
        return KF_E_ARG;
    *out = NULL;
    if (num_layers < 2 || num_layers > KF_MAX_LAYERS || (type != KF_NET_LAYER && type != KF_NET_SHORTCUT))
        return KF_E_ARG;
    if (!(connection_rate > 0.0f) || !isfinite(connection_rate))
        return KF_E_ARG;
    if (connection_rate > 1.0f)
        connection_rate = 1.0f;
    if (type == KF_NET_SHORTCUT && connection_rate < 1.0f)
        return KF_E_UNSUPPORTED;
    sparse = connection_rate < 1.0f;
    for (l = 0; l < num_layers; l++) {
        if (layer_sizes[l] == 0)
            return KF_E_ARG;
        if (layer_sizes[l] > KF_MAX_NEURONS)
            return KF_E_LIMIT;
    }
    /* Count neurons and connections in 64 bits before allocating anything. */
    for (l = 0; l < num_layers; l++) {
        uint64_t bias = (type == KF_NET_LAYER || l == 0) ? 1 : 0;
        if (l > 0) {
            if (type == KF_NET_SHORTCUT)
                connections += (uint64_t)layer_sizes[l] * neurons;
            else if (sparse)
                connections += sparse_layer_connections(layer_sizes[l - 1], layer_sizes[l], connection_rate);
            else
                connections += (uint64_t)layer_sizes[l] * (layer_sizes[l - 1] + 1u);
        }
        neurons += layer_sizes[l] + bias;
        if (neurons > KF_MAX_NEURONS || connections > KF_MAX_CONNECTIONS)
            return KF_E_LIMIT;
    }
    num_output = layer_sizes[num_layers - 1];
    st = kf_net_alloc(num_layers, (uint32_t)neurons, (uint32_t)connections, layer_sizes[0], num_output, &net);
    if (st != KF_OK)
        return st;
    net->network_type = type;
    net->connection_rate = connection_rate;
    kf_rng_seed(&rng, seed);
    net->layer_start[0] = 0;
    for (l = 0; l < num_layers; l++) {
        uint32_t bias = (type == KF_NET_LAYER || l == 0) ? 1u : 0u;
        net->layer_start[l + 1] = net->layer_start[l] + layer_sizes[l] + bias;
    }
    if (!sparse) { /* every neuron reads its whole previous layer (or every earlier neuron) */
        st = kf_structure_full(num_layers, type, net->layer_start, net->con_start, net->con_src);
        if (st != KF_OK) {
            kf_net_free(net);
            return st;
        }
    }
    /* FANN's default activation; a sparse network's connection ranges. */
    k = 0;
    for (l = 0; l < num_layers; l++) {
        uint32_t first = net->layer_start[l], last = net->layer_start[l + 1];
        uint32_t n_real = layer_sizes[l];
        uint64_t layer_total = 0, given = 0;
        if (l > 0 && sparse)
            layer_total = sparse_layer_connections(layer_sizes[l - 1], n_real, connection_rate);
        for (j = first; j < last; j++) {
            uint32_t count = 0;
            if (l > 0 && j - first < n_real) {
                net->activation[j] = KF_SIGMOID_STEPWISE;
                net->steepness[j] = 0.5f;
                if (sparse) {
                    /* FANN's split: an even share, one more where the running total lags. */
                    uint64_t i = j - first;
                    count = (uint32_t)(layer_total / n_real);
                    given += count;
                    if (given < (layer_total * (i + 1)) / n_real) {
                        count++;
                        given++;
                    }
                }
            }
            if (sparse)
                net->con_start[j] = k;
            k += count;
        }
    }
    if (sparse)
        net->con_start[neurons] = k;
    for (l = 1; l < num_layers && sparse; l++) {
        st = connect_sparse_layer(net, l, &rng);
        if (st != KF_OK) {
            kf_net_free(net);
            return st;
        }
    }
    for (k = 0; k < net->total_connections; k++)
        net->weights[k] = kf_rng_uniform(&rng, -0.1f, 0.1f);
    st = kf_net_finish(net, NULL);
    if (st != KF_OK) {
        kf_net_free(net);
        return st;
    }
    *out = net;
    return KF_OK;
}

/* Neuron range [*first, *last) addressed by (layer, neuron); neuron < 0 means the whole layer. */
static kf_status neuron_range(const kf_net *net, uint32_t layer, int32_t neuron, uint32_t *first, uint32_t *last)
{
    uint32_t size;
    if (net == NULL || layer == 0 || layer >= net->num_layers)
        return KF_E_ARG;
    *first = net->layer_start[layer];
    size = net->layer_start[layer + 1] - *first;
    if (neuron < 0) {
        *last = *first + size;
        return KF_OK;
    }
    if ((uint32_t)neuron >= size)
        return KF_E_ARG;
    *first += (uint32_t)neuron;
    *last = *first + 1;
    return KF_OK;
}

kf_status kf_net_set_activation(kf_net *net, uint32_t layer, int32_t neuron, kf_activation a)
{
    uint32_t first, last, j;
    kf_status st = neuron_range(net, layer, neuron, &first, &last);
    if (st != KF_OK)
        return st;
    if ((unsigned)a >= KF_ACTIVATION_COUNT_)
        return KF_E_ARG;
    for (j = first; j < last; j++)
        net->activation[j] = (uint8_t)a;
    return KF_OK;
}

kf_status kf_net_set_steepness(kf_net *net, uint32_t layer, int32_t neuron, float steepness)
{
    uint32_t first, last, j;
    kf_status st = neuron_range(net, layer, neuron, &first, &last);
    if (st != KF_OK)
        return st;
    if (!isfinite(steepness))
        return KF_E_NUMERIC;
    for (j = first; j < last; j++)
        net->steepness[j] = steepness;
    return KF_OK;
}

kf_status kf_net_get_activation(const kf_net *net, uint32_t layer, uint32_t neuron, kf_activation *a,
                                float *steepness)
{
    uint32_t first, last;
    kf_status st;
    if (neuron > INT32_MAX)
        return KF_E_ARG;
    st = neuron_range(net, layer, (int32_t)neuron, &first, &last);
    if (st != KF_OK)
        return st;
    if (a)
        *a = (kf_activation)net->activation[first];
    if (steepness)
        *steepness = net->steepness[first];
    return KF_OK;
}

kf_status kf_net_randomize_weights(kf_net *net, float lo, float hi, uint64_t seed)
{
    kf_rng rng;
    uint32_t k;
    if (net == NULL)
        return KF_E_ARG;
    if (!isfinite(lo) || !isfinite(hi) || !isfinite(hi - lo))
        return KF_E_NUMERIC;
    if (lo > hi)
        return KF_E_ARG;
    kf_rng_seed(&rng, seed);
    for (k = 0; k < net->total_connections; k++)
        net->weights[k] = kf_rng_uniform(&rng, lo, hi);
    kf_net_pack(net);
    return KF_OK;
}

kf_status kf_net_init_weights(kf_net *net, const kf_data *data, uint64_t seed)
{
    float smallest, largest, scale_factor;
    uint64_t i, n;
    uint32_t l, j, k, hidden = 0, input_bias;
    kf_rng rng;
    if (net == NULL || data == NULL)
        return KF_E_ARG;
    if (data->num_input != net->num_input || data->num_data == 0)
        return KF_E_SHAPE;
    n = (uint64_t)data->num_data * data->num_input;
    smallest = largest = data->input[0];
    for (i = 0; i < n; i++) {
        float v = data->input[i];
        if (!isfinite(v))
            return KF_E_NUMERIC;
        if (v < smallest)
            smallest = v;
        if (v > largest)
            largest = v;
    }
    if (!(largest > smallest))
        return KF_E_NUMERIC; /* all inputs equal: no range to scale by */
    for (l = 1; l + 1 < net->num_layers; l++)
        hidden += kf_net_layer_size(net, l);
    /* Nguyen-Widrow's factor, computed as FANN 2.2 does. */
    scale_factor = (float)(pow((double)(0.7f * (double)hidden), (double)(1.0f / (double)net->num_input))
                           / (double)(largest - smallest));
    if (!isfinite(scale_factor))
        return KF_E_NUMERIC;
    kf_rng_seed(&rng, seed);
    input_bias = net->layer_start[1] - 1;
    for (l = 1; l < net->num_layers; l++) {
        uint32_t bias = net->network_type == KF_NET_LAYER ? net->layer_start[l] - 1 : input_bias;
        for (j = net->layer_start[l]; j < net->layer_start[l + 1]; j++)
            for (k = net->con_start[j]; k < net->con_start[j + 1]; k++)
                net->weights[k] = net->con_src[k] == bias ? kf_rng_uniform(&rng, -scale_factor, scale_factor)
                                                          : kf_rng_uniform(&rng, 0.0f, scale_factor);
    }
    kf_net_pack(net);
    return KF_OK;
}

kf_status kf_net_set_weights(kf_net *net, const float *weights, uint64_t count)
{
    uint64_t k;
    if (net == NULL || (weights == NULL && count > 0))
        return KF_E_ARG;
    if (count != net->total_connections)
        return KF_E_SHAPE;
    for (k = 0; k < count; k++)
        if (!isfinite(weights[k]))
            return KF_E_NUMERIC;
    memcpy(net->weights, weights, count * sizeof(float));
    kf_net_pack(net);
    return KF_OK;
}
