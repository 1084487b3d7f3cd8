/* The forward pass. Every neuron's sum is accumulated in fann_run's order: the n % 4 leading
 * terms last-to-first, then groups of four added left to right before joining the running
 * sum. Speed comes from computing independent sums side by side (eight neurons of one sample in
 * the SIMD path's dot8 kernels, from kf_net's interleaved weights8 when they are current, four in
 * the scalar dot4, or one neuron of KF_BLOCK samples),
 * never from reordering one sum, so every path gives libfann's bit-exact results. */
#include "internal.h"

#include "../simd/kernels.h"

#include <string.h>

#define KF_BLOCK 8 /* samples per block in batch runs */

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

/* steepness * sum, bounded to +-150 / steepness as FANN does. */
static float steep_sum(float steepness, float sum)
{
    sum = steepness * sum;
    if (steepness != 0.0f) {
        const float max_sum = 150.0f / steepness;
        if (sum > max_sum)
            sum = max_sum;
        else if (sum < -max_sum)
            sum = -max_sum;
    }
    return sum;
}

/* Neurons j .. j+m-1 can be summed together: same consecutive sources, adjacent weight rows. */
static int alike(const kf_net *net, uint32_t j, uint32_t layer_end, uint32_t m)
{
    const uint32_t k0 = net->con_start[j], n = net->con_start[j + 1] - k0;
    uint32_t q;
    if (j + m > layer_end || n == 0 || !net->contiguous[j])
        return 0;
    for (q = 1; q < m; q++) {
        const uint32_t kq = net->con_start[j + q];
        if (!net->contiguous[j + q] || net->con_start[j + q + 1] - kq != n || kq != k0 + q * n
            || net->con_src[kq] != net->con_src[k0])
            return 0;
    }
    return 1;
}

/* How many neurons from j (a neuron with sources, in a layer ending at end) one step of the
 * forward pass sums together: 8, 4 or 1. kf_net_pack interleaves the blocks of eight. */
static uint32_t block_at(const kf_net *net, uint32_t j, uint32_t end)
{
    return alike(net, j, end, 8) ? 8 : (alike(net, j, end, 4) ? 4 : 1);
}

void kf_net_pack(kf_net *net)
{
    uint32_t l, j, i, q;
    if (net == NULL)
        return;
    for (l = 1; l < net->num_layers; l++) {
        const uint32_t end = net->layer_start[l + 1];
        for (j = net->layer_start[l]; j < end;) {
            const uint32_t k0 = net->con_start[j], n = net->con_start[j + 1] - k0;
            const uint32_t m = n == 0 ? 1 : block_at(net, j, end);
            if (m == 8)
                for (i = 0; i < n; i++)
                    for (q = 0; q < 8; q++)
                        net->weights8[k0 + (size_t)i * 8 + q] = net->weights[k0 + (size_t)q * n + i];
            j += m;
        }
    }
    net->weights8_current = 1;
}

void kf_forward(const kf_net *net, const float *input, float *values, float *sums)
{
    const uint32_t L = net->num_layers;
    const kf_kernels *kern = kf_kernels_for((kf_simd)net->simd);
    const kf_dot8_fann_fn dot8 = kern ? kern->dot8_fann : kf_dot8_fann_scalar;
    const kf_dot8_fann_fn dot8_packed = kern ? kern->dot8_packed_fann : kf_dot8_packed_fann_scalar;
    uint32_t l, j, q;
    memcpy(values, input, (size_t)net->num_input * sizeof(float));
    values[net->num_input] = 1.0f; /* the input layer's bias */
    if (sums)
        memset(sums, 0, (size_t)net->layer_start[1] * sizeof(float));
    for (l = 1; l < L; l++) {
        const uint32_t end = net->layer_start[l + 1];
        for (j = net->layer_start[l]; j < end;) {
            const uint32_t k0 = net->con_start[j], n = net->con_start[j + 1] - k0;
            float raw[8];
            uint32_t count;
            if (n == 0) { /* a bias neuron */
                values[j] = 1.0f;
                if (sums)
                    sums[j] = 0.0f;
                j++;
                continue;
            }
            count = block_at(net, j, end);
            if (count == 8 && net->weights8_current)
                dot8_packed(net->weights8 + k0, values + net->con_src[k0], n, raw);
            else if (count == 8)
                dot8(net->weights + k0, values + net->con_src[k0], n, raw);
            else if (count == 4)
                kf_dot4_fann_scalar(net->weights + k0, values + net->con_src[k0], n, raw);
            else if (net->contiguous[j])
                raw[0] = kf_dot_fann_scalar(net->weights + k0, values + net->con_src[k0], n);
            else
                raw[0] = dot_fann_gather(net->weights + k0, values, net->con_src + k0, n);
            for (q = 0; q < count; q++, j++) {
                const float sum = steep_sum(net->steepness[j], raw[q]);
                if (sums)
                    sums[j] = sum;
                values[j] = kf_activation_apply((kf_activation)net->activation[j], sum);
            }
        }
    }
}

/* A block of KF_BLOCK samples side by side: values[neuron * KF_BLOCK + s]. Each lane
 * accumulates in FANN's order; the lanes are independent, so the compiler may vectorise the
 * s loops without changing a single rounding. */
static void forward_block(const kf_net *net, const float *input, uint32_t nb, float *values)
{
    const uint32_t L = net->num_layers, n_in = net->num_input;
    uint32_t l, j, s, i;
    memset(values, 0, (size_t)(n_in + 1) * KF_BLOCK * sizeof(float));
    for (s = 0; s < nb; s++)
        for (i = 0; i < n_in; i++)
            values[(size_t)i * KF_BLOCK + s] = input[(size_t)s * n_in + i];
    for (s = 0; s < KF_BLOCK; s++)
        values[(size_t)n_in * KF_BLOCK + s] = 1.0f;
    for (l = 1; l < L; l++) {
        for (j = net->layer_start[l]; j < net->layer_start[l + 1]; j++) {
            const uint32_t k0 = net->con_start[j], n = net->con_start[j + 1] - k0;
            const float *w = net->weights + k0;
            const uint32_t *src = net->con_src + k0;
            const uint32_t r = n & 3u;
            float acc[KF_BLOCK] = {0};
            float *out = values + (size_t)j * KF_BLOCK;
            if (n == 0) {
                for (s = 0; s < KF_BLOCK; s++)
                    out[s] = 1.0f;
                continue;
            }
            if (net->contiguous[j]) {
                const float *v = values + (size_t)src[0] * KF_BLOCK;
                if (r == 3)
                    for (s = 0; s < KF_BLOCK; s++)
                        acc[s] += w[2] * v[2 * KF_BLOCK + s];
                if (r >= 2)
                    for (s = 0; s < KF_BLOCK; s++)
                        acc[s] += w[1] * v[KF_BLOCK + s];
                if (r >= 1)
                    for (s = 0; s < KF_BLOCK; s++)
                        acc[s] += w[0] * v[s];
                for (i = r; i < n; i += 4) {
                    const float *v0 = v + (size_t)i * KF_BLOCK;
                    for (s = 0; s < KF_BLOCK; s++)
                        acc[s] += w[i] * v0[s] + w[i + 1] * v0[KF_BLOCK + s] + w[i + 2] * v0[2 * KF_BLOCK + s]
                                + w[i + 3] * v0[3 * KF_BLOCK + s];
                }
            } else {
                if (r == 3)
                    for (s = 0; s < KF_BLOCK; s++)
                        acc[s] += w[2] * values[(size_t)src[2] * KF_BLOCK + s];
                if (r >= 2)
                    for (s = 0; s < KF_BLOCK; s++)
                        acc[s] += w[1] * values[(size_t)src[1] * KF_BLOCK + s];
                if (r >= 1)
                    for (s = 0; s < KF_BLOCK; s++)
                        acc[s] += w[0] * values[(size_t)src[0] * KF_BLOCK + s];
                for (i = r; i < n; i += 4) {
                    const float *a = values + (size_t)src[i] * KF_BLOCK, *b = values + (size_t)src[i + 1] * KF_BLOCK;
                    const float *c = values + (size_t)src[i + 2] * KF_BLOCK, *d = values + (size_t)src[i + 3] * KF_BLOCK;
                    for (s = 0; s < KF_BLOCK; s++)
                        acc[s] += w[i] * a[s] + w[i + 1] * b[s] + w[i + 2] * c[s] + w[i + 3] * d[s];
                }
            }
            for (s = 0; s < KF_BLOCK; s++)
                out[s] = kf_activation_apply((kf_activation)net->activation[j], steep_sum(net->steepness[j], acc[s]));
        }
    }
}

uint64_t kf_net_scratch_floats(const kf_net *net)
{
    return net ? (uint64_t)net->total_neurons * KF_BLOCK : 0;
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
    if (!kf_all_finite(in, n * n_in))
        return KF_E_NUMERIC;
    if (n == 1) {
        kf_forward(net, in, scratch, NULL);
        memcpy(out, scratch + net->layer_start[net->num_layers - 1], (size_t)n_out * sizeof(float));
        return KF_OK;
    }
    for (s = 0; s < n; s += KF_BLOCK) {
        const uint32_t nb = (uint32_t)(n - s < KF_BLOCK ? n - s : KF_BLOCK);
        const float *outputs = scratch + (size_t)net->layer_start[net->num_layers - 1] * KF_BLOCK;
        uint32_t b, o;
        forward_block(net, in + s * n_in, nb, scratch);
        for (b = 0; b < nb; b++)
            for (o = 0; o < n_out; o++)
                out[(s + b) * n_out + o] = outputs[(size_t)o * KF_BLOCK + b];
    }
    return KF_OK;
}
