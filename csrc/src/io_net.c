/* Float networks as FANN .net text: FANN_FLO_2.1 written as libfann 2.2 writes it, 2.0 and 2.1
 * read. The text itself is handled by fann_text.c. */
#include "fann_text.h"

#include <string.h>

/* The header fields of net (no neuron or connection arrays). */
static void header_of(const kf_net *net, kf_fann_text *f)
{
    uint32_t l;
    memset(f, 0, sizeof *f);
    f->num_layers = net->num_layers;
    f->network_type = net->network_type;
    f->connection_rate = net->connection_rate;
    f->params = net->params;
    for (l = 0; l < net->num_layers; l++)
        f->layer_sizes[l] = net->layer_start[l + 1] - net->layer_start[l];
    f->num_input = net->num_input;
    f->num_output = net->num_output;
    f->total_neurons = net->total_neurons;
    f->total_connections = net->total_connections;
    f->has_scaling = (int)net->has_scaling;
    f->scale = net->scale_mean_in; /* the eight arrays are consecutive, in file order */
}

kf_status kf_net_format_fann(const kf_net *net, char **text, size_t *len)
{
    kf_text t = {0};
    kf_fann_text f;
    uint32_t i;
    if (net == NULL || text == NULL)
        return KF_E_ARG;
    header_of(net, &f);
    kf_fann_text_write_header(&t, &f);
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

kf_status kf_net_parse_fann(const char *text, size_t len, kf_net **out, kf_diag *diag)
{
    kf_fann_text f;
    kf_net *net = NULL;
    kf_status st;
    uint32_t l, j, k;
    kf_diag_clear(diag);
    if (out == NULL || (text == NULL && len > 0))
        return KF_E_ARG;
    *out = NULL;
    st = kf_fann_text_parse(text, len, 0, &f, diag);
    if (st != KF_OK)
        return st;
    st = kf_net_alloc(f.num_layers, f.total_neurons, f.total_connections, f.num_input, f.num_output, &net);
    if (st != KF_OK)
        goto done;
    net->network_type = f.network_type;
    net->connection_rate = f.connection_rate;
    net->params = f.params;
    net->has_scaling = (uint32_t)f.has_scaling;
    if (f.has_scaling)
        memcpy(net->scale_mean_in, f.scale, 4 * ((size_t)f.num_input + f.num_output) * sizeof(float));
    net->layer_start[0] = 0;
    for (l = 0; l < f.num_layers; l++)
        net->layer_start[l + 1] = net->layer_start[l] + f.layer_sizes[l];
    for (j = 0, k = 0; j < f.total_neurons; j++) {
        net->con_start[j] = k;
        k += f.counts[j];
        net->activation[j] = f.activation[j];
        net->steepness[j] = (float)f.steepness[j];
    }
    net->con_start[f.total_neurons] = k;
    for (k = 0; k < f.total_connections; k++) {
        net->con_src[k] = f.src[k];
        net->weights[k] = (float)f.weight[k];
    }
    st = kf_net_finish(net, diag);
    if (st != KF_OK && diag)
        diag->line = 0; /* a structural problem, not one line's */
done:
    kf_fann_text_release(&f);
    if (st != KF_OK) {
        kf_net_free(net);
        return st;
    }
    *out = net;
    return KF_OK;
}
