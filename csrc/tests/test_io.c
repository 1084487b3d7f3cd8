/* FANN .net and .data text: round trips, and every malformed prefix rejected cleanly. */
#include <stdlib.h>
#include <string.h>

#include "test.h"

#include "../src/objects.h" /* white-box checks of the layouts and caches */

static kf_net *sample_net(kf_net_type type, float rate)
{
    const uint32_t sizes[4] = {3, 5, 4, 2};
    kf_net *net = NULL;
    if (kf_net_create(sizes, 4, type, rate, 42, &net) != KF_OK)
        return NULL;
    kf_net_set_activation(net, 1, -1, KF_SIGMOID_SYMMETRIC);
    kf_net_set_activation(net, 2, 1, KF_ELLIOT);
    kf_net_set_steepness(net, 3, -1, 0.75f);
    kf_net_set_param(net, KF_PARAM_LEARNING_RATE, 0.25);
    return net;
}

static void check_round_trip(kf_net *net)
{
    char *text = NULL, *again = NULL;
    size_t len = 0, len2 = 0;
    kf_net *back = NULL;
    kf_diag diag;
    if (net == NULL) {
        CHECK(net != NULL);
        return;
    }
    CHECK_OK(kf_net_format_fann(net, &text, &len));
    CHECK(text != NULL && strncmp(text, "FANN_FLO_2.1\n", 13) == 0 && strlen(text) == len);
    CHECK_OK(kf_net_parse_fann(text, len, &back, &diag));
    if (back != NULL) {
        CHECK(back->total_connections == net->total_connections);
        CHECK(memcmp(back->weights, net->weights, net->total_connections * sizeof(float)) == 0);
        CHECK(memcmp(back->activation, net->activation, net->total_neurons) == 0);
        CHECK(back->params.learning_rate == 0.25f);
        CHECK_OK(kf_net_format_fann(back, &again, &len2));
        CHECK(again != NULL && len2 == len && memcmp(text, again, len) == 0);
    }
    kf_free(again);
    kf_free(text);
    kf_net_free(back);
    kf_net_free(net);
}

static void test_net_round_trip(void)
{
    check_round_trip(sample_net(KF_NET_LAYER, 1.0f));
    check_round_trip(sample_net(KF_NET_LAYER, 0.5f));
    check_round_trip(sample_net(KF_NET_SHORTCUT, 1.0f));
}

static void test_net_scaling_round_trip(void)
{
    kf_net *net = sample_net(KF_NET_LAYER, 1.0f);
    kf_net *back = NULL;
    char *text = NULL;
    size_t len = 0;
    if (net == NULL)
        return;
    kf_net_clear_scaling(net);
    net->scale_mean_in[1] = 2.5f;
    CHECK_OK(kf_net_format_fann(net, &text, &len));
    CHECK(text != NULL && strstr(text, "scale_included=1\nscale_mean_in=0.000000 2.500000 0.000000 \n") != NULL);
    CHECK_OK(kf_net_parse_fann(text, len, &back, NULL));
    CHECK(back != NULL && back->has_scaling && back->scale_mean_in[1] == 2.5f);
    kf_free(text);
    kf_net_free(back);
    kf_net_free(net);
}

/* Every proper prefix of a valid file is malformed and must be rejected without a crash. */
static void test_net_truncated_everywhere(void)
{
    kf_net *net = sample_net(KF_NET_LAYER, 0.7f), *back = NULL;
    char *text = NULL;
    size_t len = 0, cut;
    kf_diag diag;
    if (net == NULL || kf_net_format_fann(net, &text, &len) != KF_OK)
        return;
    for (cut = 0; cut + 1 < len; cut++) {
        char *copy = malloc(cut + 1);
        kf_status st;
        if (copy == NULL)
            break;
        memcpy(copy, text, cut);
        st = kf_net_parse_fann(copy, cut, &back, &diag);
        /* The only valid prefixes drop the final newline and the space before it. */
        CHECK(st == KF_E_FORMAT || cut >= len - 2);
        CHECK(back == NULL || cut >= len - 2);
        if (st == KF_E_FORMAT)
            CHECK(diag.message[0] != '\0' && diag.line >= 1);
        kf_net_free(back);
        back = NULL;
        free(copy);
    }
    kf_free(text);
    kf_net_free(net);
}

static void expect_net_error(const char *text, const char *fragment)
{
    kf_net *net = NULL;
    kf_diag diag;
    kf_status st = kf_net_parse_fann(text, strlen(text), &net, &diag);
    CHECK(st == KF_E_FORMAT && net == NULL);
    if (st == KF_E_FORMAT && strstr(diag.message, fragment) == NULL) {
        kf_test_failures++;
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", diag.message, fragment);
    }
    kf_net_free(net);
}

/* A valid two-layer file with one substitution applied. */
static char *edited_net(const char *from, const char *to)
{
    kf_net *net = sample_net(KF_NET_LAYER, 1.0f);
    char *text = NULL, *hit, *out;
    size_t len = 0;
    if (net == NULL || kf_net_format_fann(net, &text, &len) != KF_OK) {
        kf_net_free(net);
        return NULL;
    }
    kf_net_free(net);
    hit = strstr(text, from);
    if (hit == NULL) {
        kf_free(text);
        return NULL;
    }
    out = malloc(len + strlen(to) + 1);
    if (out != NULL) {
        memcpy(out, text, (size_t)(hit - text));
        strcpy(out + (hit - text), to);
        strcat(out, hit + strlen(from));
    }
    kf_free(text);
    return out;
}

static void check_edit(const char *from, const char *to, const char *fragment)
{
    char *text = edited_net(from, to);
    CHECK(text != NULL);
    if (text != NULL)
        expect_net_error(text, fragment);
    free(text);
}

static void test_net_malformed(void)
{
    expect_net_error("", "FANN_FLO");
    expect_net_error("FANN_FIX_2.0\ndecimal_point=13\n", "fixed-point");
    expect_net_error("FANN_FLO_2.1\nnum_layers=9999\n", "num_layers=9999");
    check_edit("layer_sizes=4 6 5 3", "layer_sizes=4 6 5 4000000000", "layer");
    check_edit("layer_sizes=4 6 5 3", "layer_sizes=4 6 5 300000", "more than the rest");
    check_edit("network_type=0", "network_type=7", "network_type=7");
    check_edit("training_algorithm=2", "training_algorithm=9", "out of range");
    check_edit("(0, 0, 0.00000000000000000000e+00) ", "(0, 33, 0.00000000000000000000e+00) ", "activation");
    check_edit("connections (connected_to_neuron, weight)=(0,", "connections (connected_to_neuron, weight)=(999,",
               "reads neuron 999");
    check_edit("connections (connected_to_neuron, weight)=(0,", "connections (connected_to_neuron, weight)=(5,",
               "earlier layer");
    check_edit("connections (connected_to_neuron, weight)=(0, ", "connections (connected_to_neuron, weight)=(0, nan",
               "weight");
}

static void test_data_round_trip_and_errors(void)
{
    const char text[] = "3 2 1\n1 0.5\n-1\n0.25 2\n1e-3\n-0 7\n0.1\n";
    kf_data *d = NULL, *back = NULL;
    kf_diag diag;
    char *out = NULL;
    size_t len = 0, cut;
    CHECK_OK(kf_data_parse(text, sizeof text - 1, &d, &diag));
    if (d == NULL)
        return;
    CHECK(d->num_data == 3 && d->input[1] == 0.5f && d->output[1] == 1e-3f && d->output[2] == 0.1f);
    CHECK_OK(kf_data_format(d, &out, &len));
    CHECK_OK(kf_data_parse(out, len, &back, NULL));
    if (back != NULL)
        CHECK(memcmp(back->input, d->input, 6 * sizeof(float)) == 0
              && memcmp(back->output, d->output, 3 * sizeof(float)) == 0);
    for (cut = 0; cut < sizeof text - 2; cut++) {
        kf_data *bad = NULL;
        /* Prefixes that end inside the last number still parse (as a shorter number). */
        kf_status st = kf_data_parse(text, cut, &bad, &diag);
        CHECK(st == KF_E_FORMAT || cut >= sizeof text - 4);
        kf_free(bad);
    }
    {
        kf_data *bad = NULL;
        CHECK(kf_data_parse("1000000000 1000 1000\n1 2\n", 25, &bad, &diag) == KF_E_FORMAT && bad == NULL);
        CHECK(kf_data_parse("1 1 1\n1 2 3\n", 12, &bad, &diag) == KF_E_FORMAT && diag.line == 2);
        CHECK(kf_data_parse("1 1 1\n1\nx\n", 10, &bad, &diag) == KF_E_FORMAT && diag.line == 3);
        CHECK(kf_data_parse("1 0 1\n\n1\n", 9, &bad, &diag) == KF_E_FORMAT);
    }
    kf_free(out);
    kf_free(back);
    kf_free(d);
}

/* A header that contradicts the file's consistent line layout is refused, naming the first line
 * that disagrees; layouts that agree (a field a line, a pair a line, two pairs a line, values on
 * the header's line, lines wrapped anyhow) parse as FANN parses them. */
static kf_status parse_text(const char *text, kf_data **d, kf_diag *diag)
{
    return kf_data_parse(text, strlen(text), d, diag);
}

static void test_data_header_against_line_layout(void)
{
    static const char *accepted[] = {
        "2 2 1\n1 2\n3\n4 5\n6\n",    /* inputs on a line, outputs on the next */
        "2 2 1\n1 2 3\n4 5 6\n",        /* a pair a line */
        "2 2 1\n1 2 3 4 5 6\n",          /* all on one line */
        "2 2 1 1 2 3 4 5 6\n",            /* on the header's line */
        "2 2 1\n1\n2 3\n4 5 6\n",      /* wrapped, not consistently */
        "4 1 1\n1 2 3 4\n5 6 7 8\n",    /* two pairs a line */
    };
    kf_data *d = NULL;
    kf_diag diag;
    size_t i;
    for (i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
        CHECK_OK(parse_text(accepted[i], &d, &diag));
        kf_free(d);
        d = NULL;
    }
    /* lines of 3 and 1 values under a header of pairs of 2 and 2 */
    CHECK(parse_text("2 2 2\n1 2 3\n4\n5 6 7\n8\n", &d, &diag) == KF_E_FORMAT && d == NULL);
    CHECK(diag.line == 2 && strstr(diag.message, "lines alternate 3 and 1 values (this line has 3)") != NULL
          && strstr(diag.message, "a header of \"2 3 1\" would match them") != NULL);
    /* the case in small: lines of 2 and 3 values under a header of pairs of 3 and 2 */
    CHECK(parse_text("2 3 2\n1 2\n3 4 5\n6 7\n8 9 10\n", &d, &diag) == KF_E_FORMAT);
    CHECK(diag.line == 2 && strstr(diag.message, "pairs of 3 inputs and 2 outputs") != NULL
          && strstr(diag.message, "\"2 2 3\"") != NULL);
    /* widths that do not divide the values: no header suggested */
    CHECK(parse_text("6 1 2\n1 2\n3 4\n5 6\n7 8\n9 10\n11 12\n13 14\n15 16\n17 18\n", &d, &diag) == KF_E_FORMAT);
    CHECK(strstr(diag.message, "would match") == NULL && strstr(diag.message, "alternate 2 and 2") != NULL);
    /* fewer than four lines say too little about a layout */
    CHECK_OK(parse_text("1 2 2\n1\n2 3 4\n", &d, &diag));
    kf_free(d);
}

static void test_data_shuffle_and_scale(void)
{
    kf_data *d = NULL;
    uint32_t i;
    float sum = 0;
    CHECK_OK(kf_data_alloc(50, 1, 1, &d));
    if (d == NULL)
        return;
    for (i = 0; i < 50; i++) {
        d->input[i] = (float)i;
        d->output[i] = (float)(2 * i);
    }
    kf_data_shuffle(d, 123);
    for (i = 0; i < 50; i++) {
        CHECK(d->output[i] == 2 * d->input[i]);
        sum += d->input[i];
    }
    CHECK(sum == 1225.0f);
    CHECK(d->input[0] != 0.0f || d->input[1] != 1.0f);
    CHECK_OK(kf_data_scale(d, 2, -1.0f, 1.0f));
    for (i = 0; i < 50; i++)
        CHECK(d->input[i] >= -1.0f && d->input[i] <= 1.0f);
    for (i = 0; i < 50; i++)
        d->input[i] = 3.0f;
    CHECK(kf_data_scale(d, 0, 0.0f, 1.0f) == KF_E_NUMERIC);
    kf_free(d);
}

static void test_fixed_round_trip_and_run(void)
{
    const uint32_t sizes[3] = {2, 2, 1};
    kf_net *net = NULL;
    kf_fixnet *fixed = NULL, *back = NULL;
    char *text = NULL, *again = NULL;
    size_t len = 0, len2 = 0, cut;
    int32_t in[2], out[1], scratch[16];
    float w[9] = {0.5f, -0.25f, 0.0f, 1.0f, 1.0f, 0.0f, 1.0f, 0.0f, 0.0f};
    kf_diag diag;
    CHECK_OK(kf_net_create(sizes, 3, KF_NET_LAYER, 1.0f, 1, &net));
    if (net == NULL)
        return;
    kf_net_set_activation(net, 1, -1, KF_LINEAR);
    kf_net_set_activation(net, 2, -1, KF_LINEAR);
    CHECK_OK(kf_net_set_weights(net, w, 9));
    CHECK_OK(kf_net_to_fixnet(net, &fixed));
    if (fixed == NULL)
        return;
    /* Largest |w| sum into one neuron is 2 (two bits): decimal point (30 - 2) / 2 = 14. */
    CHECK(fixed->decimal_point == 14 && fixed->multiplier == 16384);
    CHECK(fixed->weights[0] == 8192 && fixed->weights[1] == -4096);
    /* h0 = 0.5 x0 - 0.25 x1, out = h0 (linear ignores steepness in fixed point). */
    in[0] = 16384;
    in[1] = 8192;
    CHECK_OK(kf_fixnet_run(fixed, in, 1, out, scratch, 16));
    CHECK(out[0] == 8192 - 2048);
    CHECK_OK(kf_fixnet_format_fann(fixed, &text, &len));
    CHECK(text != NULL && strncmp(text, "FANN_FIX_2.0\ndecimal_point=14\n", 30) == 0);
    CHECK_OK(kf_fixnet_parse_fann(text, len, &back, &diag));
    if (back != NULL) {
        CHECK_OK(kf_fixnet_format_fann(back, &again, &len2));
        CHECK(again != NULL && len2 == len && memcmp(text, again, len) == 0);
    }
    for (cut = 0; text != NULL && cut + 2 < len; cut++) {
        kf_fixnet *bad = NULL;
        CHECK(kf_fixnet_parse_fann(text, cut, &bad, &diag) == KF_E_FORMAT && bad == NULL);
    }
    kf_free(again);
    kf_free(text);
    kf_fixnet_free(back);
    kf_fixnet_free(fixed);
    kf_net_free(net);
}

static void test_fixed_refuses_what_libfixedfann_cannot_run(void)
{
    const uint32_t sizes[2] = {1, 1};
    kf_net *net = NULL;
    kf_fixnet *fixed = NULL;
    int32_t in[1] = {0}, out[1], scratch[8];
    CHECK_OK(kf_net_create(sizes, 2, KF_NET_LAYER, 1.0f, 1, &net));
    if (net == NULL)
        return;
    kf_net_set_activation(net, 1, -1, KF_ELLIOT);
    CHECK_OK(kf_net_to_fixnet(net, &fixed));
    CHECK(fixed != NULL && kf_fixnet_run(fixed, in, 1, out, scratch, 8) == KF_E_UNSUPPORTED);
    kf_fixnet_free(fixed);
    kf_net_set_activation(net, 1, -1, KF_SIGMOID);
    kf_net_set_steepness(net, 1, -1, 0.0f);
    CHECK_OK(kf_net_to_fixnet(net, &fixed));
    CHECK(fixed != NULL && kf_fixnet_run(fixed, in, 1, out, scratch, 8) == KF_E_UNSUPPORTED);
    kf_fixnet_free(fixed);
    kf_net_free(net);
}

const kf_test_case kf_io_tests[] = {
    {"fixed_round_trip_and_run", test_fixed_round_trip_and_run},
    {"fixed_refuses_what_libfixedfann_cannot_run", test_fixed_refuses_what_libfixedfann_cannot_run},
    {"net_round_trip", test_net_round_trip},
    {"net_scaling_round_trip", test_net_scaling_round_trip},
    {"net_truncated_everywhere", test_net_truncated_everywhere},
    {"net_malformed", test_net_malformed},
    {"data_round_trip_and_errors", test_data_round_trip_and_errors},
    {"data_header_against_line_layout", test_data_header_against_line_layout},
    {"data_shuffle_and_scale", test_data_shuffle_and_scale},
    {NULL, NULL},
};
