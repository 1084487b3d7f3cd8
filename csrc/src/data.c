/* Training data sets: FANN's .data text, shuffling and min-max scaling. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A data set's block (arena.h): the struct, the inputs, the outputs. */
static void data_layout(kf_arena *a, void *obj, const void *ctx)
{
    const uint64_t *v = ctx; /* pairs x inputs, pairs x outputs */
    kf_data *d = kf_arena_take(a, 1, sizeof *d);
    (void)obj;
    KF_CARVE(a, d, input, v[0]);
    KF_CARVE(a, d, output, v[1]);
}

/* Training data is released with kf_free (free), so its block is calloc's own. */
static void *plain_block(uint64_t bytes)
{
    return calloc(1, (size_t)bytes);
}

kf_status kf_data_alloc(uint32_t num_data, uint32_t num_input, uint32_t num_output, kf_data **out)
{
    const uint64_t values[2] = {(uint64_t)num_data * num_input, (uint64_t)num_data * num_output};
    kf_data *d;
    kf_status st;
    if (out == NULL)
        return KF_E_ARG;
    *out = NULL;
    if (values[0] + values[1] > KF_MAX_DATA_VALUES)
        return KF_E_LIMIT;
    st = kf_arena_new_with(data_layout, values, (void **)&d, plain_block, free);
    if (st != KF_OK)
        return st;
    d->num_data = num_data;
    d->num_input = num_input;
    d->num_output = num_output;
    *out = d;
    return KF_OK;
}

/* The line layout of a .data file's values, followed in constant memory: libfann writes each
 * pair's inputs on one line and its outputs on the next, and so do most tools. A file whose lines
 * (four or more) consistently alternate a and b values, with line breaks that do not fall between the header's
 * inputs and outputs (a header of "1257 37 37" on lines of 64 and 10 values), is refused: its
 * values would parse, shifted into the wrong pairs. Any other layout (one pair a line, values
 * wrapped anyhow) reads as FANN reads it. */
typedef struct line_layout {
    uint32_t line;       /* line of the value seen last (0 before any) */
    uint32_t count;      /* values on that line so far */
    uint32_t lines;      /* data lines completed */
    uint32_t a, b;       /* values on the first and second data lines */
    int consistent;      /* every completed line so far has a, b, a, b, ... values */
    uint32_t bad_line;   /* first line whose count differs from the header's field there */
    uint32_t bad_count;
    uint32_t expect;     /* values the header puts on the current line if each field is a line */
    uint32_t header_line;
} line_layout;

static void layout_init(line_layout *l, uint32_t header_line)
{
    memset(l, 0, sizeof *l);
    l->consistent = 1;
    l->header_line = header_line;
}

static void layout_close(line_layout *l)
{
    if (l->line == 0)
        return;
    if (l->lines == 0)
        l->a = l->count;
    else if (l->lines == 1)
        l->b = l->count;
    else if (l->count != ((l->lines % 2) ? l->b : l->a))
        l->consistent = 0;
    if (l->bad_line == 0 && l->count != l->expect) {
        l->bad_line = l->line;
        l->bad_count = l->count;
    }
    l->lines++;
}

/* One value read on `line`; `field` is the size of the field (inputs or outputs) it starts, 0
 * inside a field. */
static void layout_value(line_layout *l, uint32_t line, uint32_t field)
{
    if (line != l->line) {
        layout_close(l);
        l->line = line;
        l->count = 0;
        l->expect = field;
        if (line == l->header_line)
            l->consistent = 0; /* values on the header's line: no line layout to speak of */
    }
    l->count++;
}

static int layout_contradicts(line_layout *l, uint32_t n_in, uint32_t n_out)
{
    const uint64_t pair = (uint64_t)n_in + n_out;
    layout_close(l);
    l->line = 0;
    if (!l->consistent || l->lines < 4 || l->bad_line == 0)
        return 0; /* fewer than four lines say too little about a layout */
    /* the lines' breaks fall on the header's field boundaries: one pair a line, or several */
    if ((l->a % pair == 0 || l->a % pair == n_in) && ((uint64_t)l->a + l->b) % pair == 0)
        return 0;
    return 1;
}

kf_status kf_data_parse(const char *text, size_t len, kf_data **out, kf_diag *diag)
{
    kf_scan s;
    line_layout lay;
    uint32_t n, n_in, n_out, i, k;
    uint64_t values;
    kf_data *d;
    kf_status st;
    kf_diag_clear(diag);
    if (out == NULL || (text == NULL && len > 0))
        return KF_E_ARG;
    *out = NULL;
    kf_scan_init(&s, text, len, diag);
    if (!kf_scan_u32(&s, &n, "the number of pairs") || !kf_scan_u32(&s, &n_in, "the number of inputs")
        || !kf_scan_u32(&s, &n_out, "the number of outputs"))
        return KF_E_FORMAT;
    if (n_in == 0 || n_out == 0) {
        kf_scan_fail(&s, "the header declares %u inputs and %u outputs; both must be at least 1", n_in, n_out);
        return KF_E_FORMAT;
    }
    values = (uint64_t)n * ((uint64_t)n_in + n_out);
    /* Each value takes at least two bytes (a digit and a separator): refuse to allocate for a
     * header that the rest of the text cannot fill. */
    if (values > KF_MAX_DATA_VALUES || values > (uint64_t)(s.end - s.p) / 2 + 1) {
        kf_scan_fail(&s, "the header declares %u pairs of %u inputs and %u outputs (%llu values), more than "
                     "the remaining %llu bytes can hold", n, n_in, n_out, (unsigned long long)values,
                     (unsigned long long)(s.end - s.p));
        return KF_E_FORMAT;
    }
    st = kf_data_alloc(n, n_in, n_out, &d);
    if (st != KF_OK)
        return st;
    layout_init(&lay, s.line);
    for (i = 0; i < n; i++) {
        for (k = 0; k < n_in; k++) {
            if (!kf_scan_float(&s, &d->input[(uint64_t)i * n_in + k], "an input value"))
                goto fail;
            layout_value(&lay, s.line, k == 0 ? n_in : 0u);
        }
        for (k = 0; k < n_out; k++) {
            if (!kf_scan_float(&s, &d->output[(uint64_t)i * n_out + k], "an output value"))
                goto fail;
            layout_value(&lay, s.line, k == 0 ? n_out : 0u);
        }
    }
    kf_scan_space(&s);
    if (s.p != s.end) {
        kf_scan_fail(&s, "unexpected text after the last of the %u pairs the header declares", n);
        goto fail;
    }
    if (layout_contradicts(&lay, n_in, n_out)) {
        const uint64_t width = (uint64_t)lay.a + lay.b;
        s.line = lay.bad_line;
        if (width && values % width == 0)
            kf_scan_fail(&s, "the header declares pairs of %u inputs and %u outputs, but the lines alternate %u and %u "
                         "values (this line has %u): a header of \"%llu %u %u\" would match them", n_in, n_out,
                         lay.a, lay.b, lay.bad_count, (unsigned long long)(values / width), lay.a, lay.b);
        else
            kf_scan_fail(&s, "the header declares pairs of %u inputs and %u outputs, but the lines alternate %u and %u "
                         "values (this line has %u)", n_in, n_out, lay.a, lay.b, lay.bad_count);
        goto fail;
    }
    *out = d;
    return KF_OK;
fail:
    kf_free(d);
    return KF_E_FORMAT;
}

/* The shortest decimal that reads back as the same float; integers without a fraction. */
static void print_value(kf_text *t, float v)
{
    char buf[48];
    int precision;
    if (v == floorf(v) && fabsf(v) < 2147483648.0f) {
        kf_text_printf(t, "%s%ld ", (v == 0.0f && signbit(v)) ? "-" : "", (long)v);
        return;
    }
    for (precision = 6; precision < 9; precision++) {
        snprintf(buf, sizeof buf, "%.*g", precision, (double)v);
        if (strtof(buf, NULL) == v)
            break;
    }
    if (precision == 9)
        snprintf(buf, sizeof buf, "%.9g", (double)v);
    kf_text_printf(t, "%s ", buf);
}

kf_status kf_data_format(const kf_data *data, char **text, size_t *len)
{
    kf_text t = {0};
    uint32_t i, k;
    if (data == NULL || text == NULL)
        return KF_E_ARG;
    kf_text_printf(&t, "%u %u %u\n", data->num_data, data->num_input, data->num_output);
    for (i = 0; i < data->num_data; i++) {
        for (k = 0; k < data->num_input; k++)
            print_value(&t, data->input[(uint64_t)i * data->num_input + k]);
        kf_text_printf(&t, "\n");
        for (k = 0; k < data->num_output; k++)
            print_value(&t, data->output[(uint64_t)i * data->num_output + k]);
        kf_text_printf(&t, "\n");
    }
    return kf_text_finish(&t, text, len);
}

static void swap_rows(float *rows, uint32_t cols, uint32_t a, uint32_t b)
{
    uint32_t c;
    for (c = 0; c < cols; c++) {
        float tmp = rows[(uint64_t)a * cols + c];
        rows[(uint64_t)a * cols + c] = rows[(uint64_t)b * cols + c];
        rows[(uint64_t)b * cols + c] = tmp;
    }
}

void kf_data_shuffle(kf_data *data, uint64_t seed)
{
    kf_rng rng;
    uint32_t i;
    if (data == NULL || data->num_data < 2)
        return;
    kf_rng_seed(&rng, seed);
    for (i = data->num_data - 1; i > 0; i--) {
        uint32_t j = kf_rng_below(&rng, i + 1);
        swap_rows(data->input, data->num_input, i, j);
        swap_rows(data->output, data->num_output, i, j);
    }
}

/* fann_scale_data: one min-max range over the whole block, clamped to [lo, hi]. */
static kf_status scale_block(float *v, uint64_t n, float lo, float hi)
{
    float old_min, old_max, factor;
    uint64_t i;
    if (n == 0)
        return KF_OK;
    old_min = old_max = v[0];
    for (i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            return KF_E_NUMERIC;
        if (v[i] < old_min)
            old_min = v[i];
        else if (v[i] > old_max)
            old_max = v[i];
    }
    if (!(old_max > old_min))
        return KF_E_NUMERIC; /* every value equal: no range to map */
    factor = (hi - lo) / (old_max - old_min);
    for (i = 0; i < n; i++) {
        float t = (v[i] - old_min) * factor + lo;
        v[i] = t < lo ? lo : (t > hi ? hi : t);
    }
    return KF_OK;
}

kf_status kf_data_scale(kf_data *data, int which, float lo, float hi)
{
    kf_status st = KF_OK;
    if (data == NULL || which < 0 || which > 2)
        return KF_E_ARG;
    if (!isfinite(lo) || !isfinite(hi))
        return KF_E_NUMERIC;
    if (!(hi > lo))
        return KF_E_ARG;
    if (which == 0 || which == 2)
        st = scale_block(data->input, (uint64_t)data->num_data * data->num_input, lo, hi);
    if (st == KF_OK && (which == 1 || which == 2))
        st = scale_block(data->output, (uint64_t)data->num_data * data->num_output, lo, hi);
    return st;
}
