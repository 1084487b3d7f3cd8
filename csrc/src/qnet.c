/* Native fixed-point networks (Q8, Q16): validation of a quantizer's description, weight packing
 * for the SIMD kernels, and the forward pass (matrix product, requantization, table). */
#include "internal.h"

#include "../simd/kernels.h"

#include <stdlib.h>
#include <string.h>

/* Samples run through a layer at a time: a multiple of 32 (AMX's 2 x 2 tiles) and of 6 (the
 * AVX-512 tile). A panel's activations and sums stay in the second-level cache. */
#ifndef KF_QPANEL
#define KF_QPANEL 96
#endif

typedef struct qlayer {
    uint32_t n_in, n_out, n_in_pad, n_out_pad;
    void *weights; /* packed (kernels.h): int8 for Q8, int16 for Q16 */
    int32_t *bias, *multiplier;
    uint8_t *shift;
    int32_t *knots;  /* the table's knots; with seg_shift 0, the final outputs themselves (a direct table) */
    uint8_t *bytes;  /* Q8: the outputs of the direct table the layer runs (bytes_entries) */
    kf_qtable table; /* the table's parameters for the kernels (table.knots is knots) */
    kf_qrequant requant; /* bias, multiplier, shift for the kernels */
} qlayer;

struct kf_qnet {
    uint32_t activation_bits, weight_bits, num_layers, num_input, num_output;
    uint32_t shortcut; /* every layer reads the inputs and all earlier outputs (kf_qnet_desc) */
    uint32_t max_pad;  /* widest padded row of activations or accumulators; with shortcut, the row
                          of every value (inputs, then each layer's outputs at its n_in) */
    uint32_t acc_pad;  /* widest padded row of accumulators */
    int32_t act_lo, act_hi;
    kf_simd path;       /* the active path when the network was created */
    uint32_t supported; /* kf_simd_mask() then */
    float *input_inv_scale, *input_lo, *input_hi; /* input_lo/hi: the quantizer's clamp bounds */
    int32_t *input_zero;
    kf_qinput input; /* the input quantization for the kernels */
    float output_scale;
    int32_t output_zero;
    qlayer *layers;
};

static uint32_t round_up(uint32_t n, uint32_t m)
{
    return (n + m - 1) / m * m;
}

/* Entries of the direct table of bytes a Q8 layer runs: its own direct table (seg_shift 0), or
 * its interpolated table evaluated at every requantized value it covers, when there are at most
 * KF_QEXPAND_MAX of those; 0 for Q16 layers and larger interpolated tables (run as they are). */
static uint64_t bytes_entries(const kf_qnet_desc *d, const kf_qlayer_desc *s)
{
    const uint64_t span = (uint64_t)(s->num_knots - 1) << s->seg_shift;
    if (d->activation_bits != 8)
        return 0;
    if (s->seg_shift == 0)
        return s->num_knots;
    return span <= KF_QEXPAND_MAX ? span + 1 : 0;
}

/* The network's single block (arena.h): the struct, the layers, the input quantization, then
 * each layer's packed weights, per-row parameters and table. */
static void qnet_layout(kf_arena *a, void *obj, const void *ctx)
{
    const kf_qnet_desc *d = ctx;
    const uint64_t elem = d->activation_bits == 8 ? 1 : 2;
    kf_qnet *net = kf_arena_take(a, 1, sizeof *net);
    uint32_t l;
    (void)obj;
    KF_CARVE(a, net, layers, d->num_layers);
    KF_CARVE(a, net, input_inv_scale, d->num_input);
    KF_CARVE(a, net, input_lo, d->num_input);
    KF_CARVE(a, net, input_hi, d->num_input);
    KF_CARVE(a, net, input_zero, d->num_input);
    for (l = 0; l < d->num_layers; l++) {
        const kf_qlayer_desc *s = &d->layers[l];
        const uint64_t in_pad = round_up(s->n_in, KF_COLS8), out_pad = round_up(s->n_out, KF_ROWS);
        qlayer *q = net ? &net->layers[l] : NULL;
        void *packed = kf_arena_take(a, in_pad * out_pad, elem); /* int8 (Q8) or int16 (Q16) */
        if (q)
            q->weights = packed;
        KF_CARVE(a, q, bias, out_pad);
        KF_CARVE(a, q, multiplier, out_pad);
        KF_CARVE(a, q, knots, s->num_knots + KF_QKNOTS_PAD);
        KF_CARVE(a, q, shift, out_pad);
        if (bytes_entries(d, s) > 0)
            KF_CARVE(a, q, bytes, bytes_entries(d, s) + KF_QBYTES_PAD);
        if (q)
            q->table.knots = q->knots;
    }
}

static kf_status fail(kf_diag *diag, const char *what, uint32_t layer)
{
    kf_diag_set(diag, 0, "layer %u: %s", layer, what);
    return KF_E_ARG;
}

/* Check one layer's description; amax is the largest |activation| that can enter it. */
static kf_status check_layer(const kf_qnet_desc *d, uint32_t l, kf_diag *diag)
{
    const kf_qlayer_desc *s = &d->layers[l];
    const int32_t wmax = d->weight_bits == 8 ? 127 : 32767, wmin = d->weight_bits == 8 ? -128 : -32767;
    const int64_t amax = d->activation_bits == 8 ? 255 : 32768;
    const int32_t lo = d->activation_bits == 8 ? 0 : -32768, hi = d->activation_bits == 8 ? 255 : 32767;
    uint32_t j, i;
    if (s->n_in == 0 || s->n_out == 0 || s->n_in > KF_MAX_NEURONS || s->n_out > KF_MAX_NEURONS)
        return fail(diag, "sizes must be between 1 and KF_MAX_NEURONS", l);
    if ((uint64_t)s->n_in * s->n_out > KF_MAX_CONNECTIONS)
        return fail(diag, "more weights than KF_MAX_CONNECTIONS", l);
    if (l > 0 && !d->shortcut && s->n_in != d->layers[l - 1].n_out)
        return fail(diag, "n_in differs from the previous layer's n_out", l);
    if (l > 0 && d->shortcut && (uint64_t)s->n_in != (uint64_t)d->layers[l - 1].n_in + d->layers[l - 1].n_out)
        return fail(diag, "n_in differs from the inputs and earlier layers' outputs (shortcut)", l);
    if (s->weights == NULL || s->bias == NULL || s->multiplier == NULL || s->shift == NULL || s->knots == NULL)
        return fail(diag, "an array is missing", l);
    if (s->num_knots < 2 || s->num_knots > KF_QTABLE_MAX_KNOTS || s->seg_shift > 24)
        return fail(diag, "the activation table needs 2 to 65537 knots and a spacing of at most 2^24", l);
    if (s->out_lo > s->out_hi || s->out_lo < lo || s->out_hi > hi)
        return fail(diag, "the output clamp leaves the activation range", l);
    for (i = 0; i < s->num_knots; i++)
        if (s->knots[i] < -(1 << 25) || s->knots[i] > (1 << 25))
            return fail(diag, "a table knot is out of range", l);
    for (j = 0; j < s->n_out; j++) {
        int64_t bound = s->bias[j] < 0 ? -(int64_t)s->bias[j] : s->bias[j];
        if (s->shift[j] < 1 || s->shift[j] > 62 || s->multiplier[j] < 0)
            return fail(diag, "a requantization shift is outside 1..62 or a multiplier is negative", l);
        for (i = 0; i < s->n_in; i++) {
            const int32_t w = s->weights[(uint64_t)j * s->n_in + i];
            if (w < wmin || w > wmax)
                return fail(diag, "a weight is outside the weight range", l);
            bound += (w < 0 ? -(int64_t)w : w) * amax;
        }
        /* The proof that no input can overflow the int32 accumulator of this row. */
        if (bound > INT32_MAX) {
            kf_diag_set(diag, 0, "layer %u, row %u: |bias| + sum |w| * %lld = %lld can overflow int32", l, j,
                        (long long)amax, (long long)bound);
            return KF_E_ARG;
        }
    }
    return KF_OK;
}

size_t kf_packed_index(uint32_t j, uint32_t i, uint32_t n_in, uint32_t activation_bits)
{
    const uint32_t cols = activation_bits == 8 ? KF_COLS8 : KF_COLS16;
    const uint32_t groups = (n_in + KF_COLS8 - 1) / KF_COLS8 * KF_COLS8 / cols;
    return (((size_t)(j / KF_ROWS) * groups + i / cols) * KF_ROWS + j % KF_ROWS) * cols + i % cols;
}

void kf_pack_weights(const int16_t *weights, uint32_t n_out, uint32_t n_in, void *packed, uint32_t activation_bits)
{
    const uint32_t n_in_pad = (n_in + KF_COLS8 - 1) / KF_COLS8 * KF_COLS8, n_out_pad = (n_out + KF_ROWS - 1) / KF_ROWS * KF_ROWS;
    uint32_t j, i;
    memset(packed, 0, (size_t)n_in_pad * n_out_pad * (activation_bits == 8 ? 1 : 2));
    for (j = 0; j < n_out; j++)
        for (i = 0; i < n_in; i++) {
            const size_t at = kf_packed_index(j, i, n_in, activation_bits);
            const int16_t w = weights[(size_t)j * n_in + i];
            if (activation_bits == 8)
                ((int8_t *)packed)[at] = (int8_t)w;
            else
                ((int16_t *)packed)[at] = w;
        }
}

kf_status kf_qnet_create(const kf_qnet_desc *d, kf_qnet **out, kf_diag *diag)
{
    uint32_t l, i;
    kf_qnet *net;
    kf_status st;
    kf_diag_clear(diag);
    if (out == NULL || d == NULL)
        return KF_E_ARG;
    *out = NULL;
    if ((d->activation_bits != 8 && d->activation_bits != 16) || (d->weight_bits != 8 && d->weight_bits != 16)
        || (d->activation_bits == 8 && d->weight_bits == 16)) {
        kf_diag_set(diag, 0, "precision must be Q8 (8-bit weights) or Q16 (8- or 16-bit weights)");
        return KF_E_ARG;
    }
    if (d->num_layers < 1 || d->num_layers >= KF_MAX_LAYERS || d->layers == NULL || d->input_inv_scale == NULL
        || d->input_zero == NULL || d->layers[0].n_in != d->num_input || d->shortcut > 1) {
        kf_diag_set(diag, 0, "need 1 to %u layers, input parameters, and layer 0 reading num_input values",
                    KF_MAX_LAYERS - 1);
        return KF_E_ARG;
    }
    for (i = 0; i < d->num_input; i++) {
        if (!isfinite(d->input_inv_scale[i]) || d->input_zero[i] < -KF_MAX_INPUT_ZERO
            || d->input_zero[i] > KF_MAX_INPUT_ZERO) {
            kf_diag_set(diag, 0, "input %u: scale not finite or |zero point| above %d", i, KF_MAX_INPUT_ZERO);
            return KF_E_ARG;
        }
    }
    if (!isfinite(d->output_scale)) {
        kf_diag_set(diag, 0, "the output scale is not finite");
        return KF_E_ARG;
    }
    for (l = 0; l < d->num_layers; l++)
        if ((st = check_layer(d, l, diag)) != KF_OK)
            return st;
    st = kf_arena_new(qnet_layout, d, (void **)&net);
    if (st != KF_OK)
        return st;
    net->activation_bits = d->activation_bits;
    net->weight_bits = d->weight_bits;
    net->num_layers = d->num_layers;
    net->num_input = d->num_input;
    net->num_output = d->layers[d->num_layers - 1].n_out;
    net->shortcut = d->shortcut;
    net->act_lo = d->activation_bits == 8 ? 0 : -32768;
    net->act_hi = d->activation_bits == 8 ? 255 : 32767;
    net->output_scale = d->output_scale;
    net->output_zero = d->output_zero;
    memcpy(net->input_inv_scale, d->input_inv_scale, sizeof(float) * d->num_input);
    memcpy(net->input_zero, d->input_zero, sizeof(int32_t) * d->num_input);
    for (i = 0; i < d->num_input; i++) {
        net->input_lo[i] = (float)(net->act_lo - d->input_zero[i]);
        net->input_hi[i] = (float)(net->act_hi - d->input_zero[i]);
    }
    net->input.inv = net->input_inv_scale;
    net->input.lo_f = net->input_lo;
    net->input.hi_f = net->input_hi;
    net->input.zero = net->input_zero;
    net->input.n = net->num_input;
    (void)kf_simd_active(&net->path); /* an unusable KIMI_FANN_SIMD leaves the scalar path */
    net->supported = kf_simd_mask();
    for (l = 0; l < d->num_layers; l++) {
        const kf_qlayer_desc *s = &d->layers[l];
        qlayer *q = &net->layers[l];
        q->n_in = s->n_in;
        q->n_out = s->n_out;
        q->n_in_pad = round_up(s->n_in, KF_COLS8);
        q->n_out_pad = round_up(s->n_out, KF_ROWS);
        if (q->n_in_pad > net->max_pad)
            net->max_pad = q->n_in_pad;
        if (q->n_out_pad > net->max_pad)
            net->max_pad = q->n_out_pad;
        if (net->shortcut && round_up(s->n_in + s->n_out, KF_ROWS) > net->max_pad)
            net->max_pad = round_up(s->n_in + s->n_out, KF_ROWS); /* the outputs go after the layer's inputs */
        if (q->n_out_pad > net->acc_pad)
            net->acc_pad = q->n_out_pad;
        kf_pack_weights(s->weights, s->n_out, s->n_in, q->weights, d->activation_bits);
        memcpy(q->bias, s->bias, 4 * (size_t)s->n_out);
        memcpy(q->multiplier, s->multiplier, 4 * (size_t)s->n_out);
        memcpy(q->shift, s->shift, s->n_out);
        for (i = s->n_out; i < q->n_out_pad; i++)
            q->shift[i] = 1;
        q->requant.bias = q->bias;
        q->requant.mult = q->multiplier;
        q->requant.shift = q->shift;
        q->requant.n = q->n_out;
        q->table.t0 = s->t0;
        q->table.seg_shift = s->seg_shift;
        q->table.last = s->num_knots - 1;
        q->table.out_lo = s->out_lo;
        q->table.out_hi = s->out_hi;
        for (i = 0; i < s->num_knots; i++) {
            /* Knots one step apart leave nothing to interpolate: store the rounded, clamped
             * outputs (what the interpolation would compute) and look them up directly. */
            const int32_t v = s->seg_shift ? s->knots[i] : (s->knots[i] + (1 << (KF_QTABLE_FRAC_BITS - 1))) >> KF_QTABLE_FRAC_BITS;
            q->knots[i] = s->seg_shift ? v : (v < s->out_lo ? s->out_lo : (v > s->out_hi ? s->out_hi : v));
        }
        q->knots[s->num_knots] = q->knots[s->num_knots - 1];
        if (q->bytes != NULL) {
            /* Q8: one byte per requantized value, the interpolation done here once (exactly
             * kf_epilogue_table_fn's outputs), then looked up as a direct table */
            const uint32_t entries = (uint32_t)bytes_entries(d, s);
            for (i = 0; i < entries; i++)
                q->bytes[i] = (uint8_t)(s->seg_shift ? kf_qtable_value(&q->table, i) : q->knots[i]);
            q->table.seg_shift = 0;
            q->table.last = entries - 1;
            q->table.bytes = q->bytes;
        }
    }
    *out = net;
    return KF_OK;
}

void kf_qnet_free(kf_qnet *net)
{
    kf_block_free(net);
}

uint32_t kf_qnet_num_input(const kf_qnet *net)
{
    return net ? net->num_input : 0;
}

uint32_t kf_qnet_num_output(const kf_qnet *net)
{
    return net ? net->num_output : 0;
}

/* Samples per panel for a run of n. */
static uint64_t panel_rows(uint64_t n)
{
    return n < KF_QPANEL ? (n > 0 ? n : 1) : KF_QPANEL;
}

uint64_t kf_qnet_scratch_bytes(const kf_qnet *net, uint64_t n)
{
    if (net == NULL)
        return 0;
    /* two activation buffers (rows of max_pad) and one of accumulators (rows of acc_pad), one
     * row per sample of a panel, each 64-byte aligned */
    return panel_rows(n) * ((uint64_t)net->max_pad * 2 * (net->activation_bits / 8) + (uint64_t)net->acc_pad * 4)
         + 3 * 64;
}

/* One layer over a block: the matrix product, then requantization and table per output. */
static void layer_forward(const kf_qnet *net, const kf_kernels *kern, const qlayer *q, const void *a_in,
                          void *a_out, int32_t *acc, size_t nb)
{
    const size_t stride = net->max_pad, elem = net->activation_bits / 8;
    /* the columns to zero after the outputs: up to the next multiple of four from the row's start
     * (a shortcut network's outputs start at the layer's n_in) */
    const uint32_t base = net->shortcut ? q->n_in : 0, end = round_up(base + q->n_out, KF_COLS8) - base;
    size_t s;
    if (net->activation_bits == 8)
        kern->q8_matmul(a_in, stride, nb, q->weights, q->n_out, q->n_in_pad, acc, net->acc_pad);
    else
        kern->q16_matmul(a_in, stride, nb, q->weights, q->n_out, q->n_in_pad, acc, net->acc_pad);
    if (q->table.seg_shift == 0)
        kern->epilogue_direct(acc, net->acc_pad, nb, &q->requant, &q->table, a_out, stride, net->activation_bits);
    else
        kern->epilogue_table(acc, net->acc_pad, nb, &q->requant, &q->table, a_out, stride, net->activation_bits);
    /* The next layer reads up to a multiple of four columns: the padding must hold zeros. */
    if (end > q->n_out)
        for (s = 0; s < nb; s++)
            memset((unsigned char *)a_out + (s * stride + q->n_out) * elem, 0, (end - q->n_out) * elem);
}

/* Run a block whose quantized inputs are already in a (the padding zeroed); returns the buffer
 * holding the outputs (rows max_pad apart). A shortcut network keeps every value in a: each
 * layer reads the row up to its n_in and writes its outputs there, after them. */
static void *block_forward(const kf_qnet *net, const kf_kernels *kern, void *a, void *b, int32_t *acc, size_t nb)
{
    const size_t elem = net->activation_bits / 8;
    uint32_t l;
    if (net->shortcut) {
        for (l = 0; l < net->num_layers; l++)
            layer_forward(net, kern, &net->layers[l], a, (unsigned char *)a + net->layers[l].n_in * elem, acc, nb);
        return (unsigned char *)a + net->layers[net->num_layers - 1].n_in * elem;
    }
    for (l = 0; l < net->num_layers; l++) {
        void *swap;
        layer_forward(net, kern, &net->layers[l], a, b, acc, nb);
        swap = a;
        a = b;
        b = swap;
    }
    return a;
}

static kf_status prepare(const kf_qnet *net, kf_simd path, uint64_t n, const void *in, const void *out,
                         void *scratch, uint64_t scratch_bytes, const kf_kernels **kern)
{
    if (net == NULL || (n > 0 && (in == NULL || out == NULL || scratch == NULL)))
        return KF_E_ARG;
    if (scratch_bytes < kf_qnet_scratch_bytes(net, n))
        return KF_E_SHAPE;
    *kern = kf_kernels_run(path, net->path, net->supported);
    return *kern != NULL ? KF_OK : KF_E_UNSUPPORTED;
}

/* Split scratch into the two activation buffers and the accumulators (as
 * kf_qnet_scratch_bytes sizes them). Every column a kernel reads is written first: values,
 * then zeros up to the next multiple of four. */
static void buffers(const kf_qnet *net, uint64_t n, void *scratch, void **a, void **b, int32_t **acc)
{
    const size_t rows = (size_t)panel_rows(n);
    const size_t act = (rows * net->max_pad * (net->activation_bits / 8) + 63) & ~(size_t)63;
    unsigned char *p = (unsigned char *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    *acc = (int32_t *)p;
    *a = p + ((rows * net->acc_pad * 4 + 63) & ~(size_t)63);
    *b = (unsigned char *)*a + act;
}

static void zero_input_padding(const kf_qnet *net, void *a, size_t s)
{
    uint32_t i;
    for (i = net->num_input; i % KF_COLS8; i++) {
        if (net->activation_bits == 8)
            ((uint8_t *)a)[s * net->max_pad + i] = 0;
        else
            ((int16_t *)a)[s * net->max_pad + i] = 0;
    }
}

static void store_input(const kf_qnet *net, void *a, size_t s, uint32_t i, int32_t v)
{
    if (net->activation_bits == 8)
        ((uint8_t *)a)[s * net->max_pad + i] = (uint8_t)v;
    else
        ((int16_t *)a)[s * net->max_pad + i] = (int16_t)v;
}

static int32_t load_output(const kf_qnet *net, const void *a, size_t s, uint32_t j)
{
    return net->activation_bits == 8 ? ((const uint8_t *)a)[s * net->max_pad + j]
                                     : ((const int16_t *)a)[s * net->max_pad + j];
}

kf_status kf_qnet_run_raw(const kf_qnet *net, kf_simd path, const int32_t *in, uint64_t n, int32_t *out,
                          void *scratch, uint64_t scratch_bytes)
{
    const kf_kernels *kern = NULL;
    kf_status st = prepare(net, path, n, in, out, scratch, scratch_bytes, &kern);
    uint64_t s0, k;
    void *a, *b;
    int32_t *acc;
    if (st != KF_OK)
        return st;
    for (k = 0; k < n * net->num_input; k++)
        if (in[k] < net->act_lo || in[k] > net->act_hi)
            return KF_E_SHAPE; /* an input outside the model's range: it does not fit the model */
    buffers(net, n, scratch, &a, &b, &acc);
    for (s0 = 0; s0 < n; s0 += KF_QPANEL) {
        const size_t nb = (size_t)(n - s0 < KF_QPANEL ? n - s0 : KF_QPANEL);
        const void *result;
        size_t s;
        uint32_t i;
        for (s = 0; s < nb; s++) {
            for (i = 0; i < net->num_input; i++)
                store_input(net, a, s, i, in[(s0 + s) * net->num_input + i]);
            zero_input_padding(net, a, s);
        }
        result = block_forward(net, kern, a, b, acc, nb);
        for (s = 0; s < nb; s++)
            for (i = 0; i < net->num_output; i++)
                out[(s0 + s) * net->num_output + i] = load_output(net, result, s, i);
    }
    return KF_OK;
}

kf_status kf_qnet_run(const kf_qnet *net, kf_simd path, const float *in, uint64_t n, float *out, void *scratch,
                      uint64_t scratch_bytes)
{
    const kf_kernels *kern = NULL;
    kf_status st = prepare(net, path, n, in, out, scratch, scratch_bytes, &kern);
    uint64_t s0;
    void *a, *b;
    int32_t *acc;
    if (st != KF_OK)
        return st;
    buffers(net, n, scratch, &a, &b, &acc);
    for (s0 = 0; s0 < n; s0 += KF_QPANEL) {
        const size_t nb = (size_t)(n - s0 < KF_QPANEL ? n - s0 : KF_QPANEL);
        const float *x = in + s0 * net->num_input;
        float *y = out + s0 * net->num_output;
        const void *result;
        size_t s;
        uint32_t i;
        /* Checked by the quantizer, a panel at a time: a refused run may leave earlier panels'
         * outputs written. */
        if (kern->quantize(x, nb, &net->input, a, net->max_pad, net->activation_bits))
            return KF_E_NUMERIC;
        for (s = 0; s < nb; s++)
            zero_input_padding(net, a, s);
        result = block_forward(net, kern, a, b, acc, nb);
        for (s = 0; s < nb; s++) {
            float *ys = y + s * net->num_output;
            if (net->activation_bits == 8) {
                const uint8_t *r = (const uint8_t *)result + s * net->max_pad;
                for (i = 0; i < net->num_output; i++)
                    ys[i] = (float)(r[i] - net->output_zero) * net->output_scale;
            } else {
                const int16_t *r = (const int16_t *)result + s * net->max_pad;
                for (i = 0; i < net->num_output; i++)
                    ys[i] = (float)(r[i] - net->output_zero) * net->output_scale;
            }
        }
    }
    return KF_OK;
}
