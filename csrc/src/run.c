/* The forward pass. Every neuron's sum is accumulated in fann_run's order: the n % 4 leading
 * terms last-to-first, then groups of four added left to right before joining the running
 * sum. Speed comes from computing independent sums side by side (blocks of eight or sixteen
 * neurons of one sample in the path's kernels, from kf_net's packed weights when they are
 * current; in batches, KF_PANEL samples of a dense block of neurons in the path's panel kernel),
 * never from reordering one sum, so every path gives libfann's bit-exact results. */
#include "internal.h"

#include "../simd/kernels.h"

#include <string.h>

/* One neuron's sum through an index list (sparse neurons). */
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

/* How many neurons from j (a neuron with sources, in a layer ending at end) one step of the
 * forward pass sums together: the path's packed block (rows: 8, or 16 on AVX-512), 8, 4 or 1
 * neurons of a dense run. kf_net_pack interleaves the packed blocks. */
static uint32_t block_at(const kf_net *net, uint32_t j, uint32_t end, uint32_t rows)
{
    uint32_t m;
    if (!net->contiguous[j] || net->con_start[j + 1] == net->con_start[j])
        return 1;
    m = net->packed_current ? net->dense_run[j] : kf_dense_run(net, j, end);
    return m >= rows ? rows : m >= 8 ? 8 : m >= 4 ? 4 : 1;
}

const kf_kernels *kf_net_kernels(const kf_net *net)
{
    const kf_kernels *kern = kf_kernels_for((kf_simd)net->simd);
    return kern ? kern : &kf_kernels_scalar;
}

void kf_net_pack(kf_net *net)
{
    uint32_t l, j, i, q, rows;
    if (net == NULL)
        return;
    rows = kf_net_kernels(net)->packed_rows;
    for (l = 1; l < net->num_layers; l++) {
        const uint32_t end = net->layer_start[l + 1];
        uint32_t run = 0; /* neurons left in the dense run the last step was part of */
        for (j = net->layer_start[l]; j < end;) {
            const uint32_t k0 = net->con_start[j], n = net->con_start[j + 1] - k0;
            uint32_t m = 1;
            if (n == 0 || !net->contiguous[j]) {
                net->dense_run[j] = 1;
                run = 0;
            } else {
                /* the run from a later neuron of a run is the rest of it: one scan per run */
                if (run == 0)
                    run = kf_dense_run(net, j, end);
                net->dense_run[j] = run;
                m = run >= rows ? rows : run >= 8 ? 8 : run >= 4 ? 4 : 1; /* as block_at */
                run -= m;
            }
            if (m == rows)
                for (i = 0; i < n; i++)
                    for (q = 0; q < rows; q++)
                        net->weights_packed[k0 + (size_t)i * rows + q] = net->weights[k0 + (size_t)q * n + i];
            j += m;
        }
    }
    net->packed_current = 1;
}

/* Activation of neurons j .. end-1 (raw sums in values, bias neurons skipped), runs of neurons
 * that share activation and steepness (usually the whole layer) through the path's kernel. */
static void activate_layer(const kf_net *net, const kf_kernels *kern, uint32_t j, uint32_t end, float *values,
                           float *sums)
{
    while (j < end) {
        uint32_t m;
        if (net->con_start[j + 1] == net->con_start[j]) { /* a bias neuron */
            values[j] = 1.0f;
            if (sums)
                sums[j] = 0.0f;
            j++;
            continue;
        }
        m = kf_activation_run(net, j, end);
        kern->fann_activate((kf_activation)net->activation[j], net->steepness[j], (kf_exp_kind)net->exp_kind,
                            values + j, sums ? sums + j : NULL, values + j, m);
        j += m;
    }
}

void kf_forward(const kf_net *net, const float *input, float *values, float *sums)
{
    const uint32_t L = net->num_layers;
    const kf_kernels *kern = kf_net_kernels(net);
    const uint32_t rows = kern->packed_rows;
    uint32_t l, j, q;
    memcpy(values, input, (size_t)net->num_input * sizeof(float));
    values[net->num_input] = 1.0f; /* the input layer's bias */
    if (sums)
        memset(sums, 0, (size_t)net->layer_start[1] * sizeof(float));
    for (l = 1; l < L; l++) {
        const uint32_t start = net->layer_start[l], end = net->layer_start[l + 1];
        /* the layer's raw sums first (no neuron reads its own layer), then its activations */
        for (j = start; j < end;) {
            const uint32_t k0 = net->con_start[j], n = net->con_start[j + 1] - k0;
            uint32_t count = n == 0 ? 1 : block_at(net, j, end, rows);
            float *raw = values + j;
            if (n == 0)
                ; /* a bias neuron: set with the activations */
            else if (count == rows && net->packed_current) {
                /* every whole packed block of the dense run at once */
                const uint32_t blocks = net->dense_run[j] / rows;
                kern->dot_packed_fann(net->weights_packed + k0, values + net->con_src[k0], n, blocks, raw);
                count = blocks * rows;
            }
            else if (count == 16)
                for (q = 0; q < 16; q += 8)
                    kern->dot8_fann(net->weights + k0 + (size_t)q * n, values + net->con_src[k0], n, raw + q);
            else if (count == 8)
                kern->dot8_fann(net->weights + k0, values + net->con_src[k0], n, raw);
            else if (count == 4)
                kf_dot4_fann_scalar(net->weights + k0, values + net->con_src[k0], n, raw);
            else if (net->contiguous[j])
                raw[0] = kf_dot_fann_scalar(net->weights + k0, values + net->con_src[k0], n);
            else
                raw[0] = dot_fann_gather(net->weights + k0, values, net->con_src + k0, n);
            j += count;
        }
        activate_layer(net, kern, start, end, values, sums);
    }
}

/* One neuron's sums over a panel through its index list (sparse neurons), fann_run's order in
 * every lane. */
static void sums_gather(const float *w, const uint32_t *src, uint32_t n, const float *values, uint32_t count,
                        float *out)
{
    const uint32_t r = n & 3u;
    uint32_t s, i;
    for (s = 0; s < count; s++) {
        float sum = 0.0f;
        for (i = r; i-- > 0;)
            sum += w[i] * values[(size_t)src[i] * KF_PANEL + s];
        for (i = r; i < n; i += 4)
            sum += w[i] * values[(size_t)src[i] * KF_PANEL + s] + w[i + 1] * values[(size_t)src[i + 1] * KF_PANEL + s]
                 + w[i + 2] * values[(size_t)src[i + 2] * KF_PANEL + s]
                 + w[i + 3] * values[(size_t)src[i + 3] * KF_PANEL + s];
        out[s] = sum;
    }
}

uint32_t kf_dense_run(const kf_net *net, uint32_t j, uint32_t end)
{
    const uint32_t k0 = net->con_start[j], n = net->con_start[j + 1] - k0;
    uint32_t m = 1;
    while (j + m < end && net->contiguous[j + m] && net->con_start[j + m] == k0 + m * n
           && net->con_start[j + m + 1] - net->con_start[j + m] == n && net->con_src[k0 + m * n] == net->con_src[k0])
        m++;
    return m;
}

uint32_t kf_activation_run(const kf_net *net, uint32_t j, uint32_t end)
{
    uint32_t m = 1;
    while (j + m < end && net->activation[j + m] == net->activation[j] && net->steepness[j + m] == net->steepness[j]
           && net->con_start[j + m + 1] != net->con_start[j + m])
        m++;
    return m;
}

int kf_forward_panel(const kf_net *net, const float *input, uint32_t nb, uint32_t count, float *values, float *sums)
{
    const kf_kernels *kern = kf_net_kernels(net);
    const uint32_t L = net->num_layers, n_in = net->num_input;
    uint32_t l, j, s, i, q;
    if (!kern->transpose(input, n_in, nb, n_in, values, KF_PANEL))
        return 0; /* the inputs are checked as they are read, not in a pass of their own */
    for (i = 0; i < n_in; i++)
        for (s = nb; s < count; s++)
            values[(size_t)i * KF_PANEL + s] = 0.0f;
    for (s = 0; s < count; s++)
        values[(size_t)n_in * KF_PANEL + s] = 1.0f;
    for (l = 1; l < L; l++) {
        const uint32_t end = net->layer_start[l + 1];
        for (j = net->layer_start[l]; j < end;) {
            const uint32_t k0 = net->con_start[j], n = net->con_start[j + 1] - k0;
            float *out = values + (size_t)j * KF_PANEL;
            uint32_t m = 1;
            if (n == 0) { /* a bias neuron */
                for (s = 0; s < count; s++)
                    out[s] = 1.0f;
                j++;
                continue;
            }
            if (net->contiguous[j]) {
                m = kf_dense_run(net, j, end);
                kern->fann_sums(net->weights + k0, n, m, values + (size_t)net->con_src[k0] * KF_PANEL, count, out);
            } else {
                sums_gather(net->weights + k0, net->con_src + k0, n, values, count, out);
            }
            /* a whole panel's rows are one block: a run of neurons sharing activation and
             * steepness (usually all m) in one call, not one a row, keeps the kernel's pipeline
             * full (A at batch 4096 5% faster on Zen 4) */
            for (q = 0; q < m;) {
                const uint32_t r = count == KF_PANEL ? kf_activation_run(net, j + q, j + m) : 1;
                kern->fann_activate((kf_activation)net->activation[j + q], net->steepness[j + q],
                                    (kf_exp_kind)net->exp_kind, values + (size_t)(j + q) * KF_PANEL,
                                    sums ? sums + (size_t)(j + q) * KF_PANEL : NULL, values + (size_t)(j + q) * KF_PANEL,
                                    r * count);
                q += r;
            }
            j += m;
        }
    }
    return 1;
}

/* The panel plus the slack that lets it start on a cache line (kf_net_run): malloc's blocks are
 * 16-byte aligned, and vector loads straddling two lines made AVX2 float b4096 on Zen 4 up to
 * 10% slower. */
uint64_t kf_net_scratch_floats(const kf_net *net)
{
    return net ? (uint64_t)net->total_neurons * KF_PANEL + KF_ALIGN / sizeof(float) : 0;
}

kf_status kf_net_run(const kf_net *net, const float *in, uint64_t n, float *out, float *scratch,
                     uint64_t scratch_floats)
{
    uint64_t s;
    const uint32_t n_in = net ? net->num_input : 0, n_out = net ? net->num_output : 0;
    if (net == NULL || (n > 0 && (in == NULL || out == NULL || scratch == NULL)))
        return KF_E_ARG;
    if (scratch_floats < kf_net_scratch_floats(net))
        return KF_E_SHAPE;
    if (scratch != NULL)
        scratch = (float *)kf_arena_over(scratch).base;
    {
        const kf_kernels *kern = kf_net_kernels(net);
        const uint32_t last = net->layer_start[net->num_layers - 1];
        s = 0;
        while (s < n) {
            /* A panel of whole vectors, and the last part of a vector in the panel too when it
             * fills half of it; fewer samples run one by one (the padded lanes would cost more). */
            const uint32_t nb = (uint32_t)(n - s < KF_PANEL ? n - s : KF_PANEL);
            const uint32_t rest = nb % KF_PANEL_STEP, lanes = nb - rest;
            const uint32_t count = rest >= KF_PANEL_STEP / 2 ? lanes + KF_PANEL_STEP : lanes;
            const uint32_t panel = count < nb ? count : nb;
            uint32_t b;
            if (panel > 0) {
                if (!kf_forward_panel(net, in + s * n_in, panel, count, scratch, NULL))
                    return KF_E_NUMERIC;
                kern->transpose(scratch + (size_t)last * KF_PANEL, KF_PANEL, n_out, panel, out + s * n_out, n_out);
            }
            for (b = panel; b < nb; b++) {
                if (!kf_all_finite(in + (s + b) * n_in, n_in))
                    return KF_E_NUMERIC;
                kf_forward(net, in + (s + b) * n_in, scratch, NULL);
                memcpy(out + (s + b) * n_out, scratch + last, (size_t)n_out * sizeof(float));
            }
            s += nb;
        }
    }
    return KF_OK;
}
