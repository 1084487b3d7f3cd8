/* The router's choices on every path against a reference that scores every expert, for routers
 * large enough to screen their experts through an int8 copy of the float gates. The gates and
 * inputs are dyadic (k / 2^10 with |k| <= 127, j / 2^4 with |j| <= 15), and so are the biases
 * (about -2, so that a threshold that forgot them would be far off): every float score and
 * selection value is exact, so the reference's double values are the engine's own. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#define N_EXPERTS 160
#define DIM 72
#define TOP_K 4
#define SAMPLES 512

typedef struct rng {
    uint64_t state;
} rng;

static int32_t between(rng *g, int32_t lo, int32_t hi)
{
    g->state ^= g->state << 13;
    g->state ^= g->state >> 7;
    g->state ^= g->state << 17;
    return lo + (int32_t)((g->state >> 11) % (uint64_t)(hi - lo + 1));
}

/* kind 0: spread rows with equal pairs (ties); 1: inputs exact in int8, so the gates' int8
 * error alone counts; 2: near-equal rows (the screen leaves too many and all are scored);
 * 3: gates exact in int8 (steps of one), so the inputs' int8 error alone counts. */
static void make_case(rng *g, int kind, float *gates, float *x)
{
    uint32_t e, i;
    int32_t base[DIM];
    for (i = 0; i < DIM; i++)
        base[i] = between(g, -100, 100);
    for (e = 0; e < N_EXPERTS; e++)
        for (i = 0; i < DIM; i++) {
            const int32_t span = kind == 1 ? 63 : 127;
            int32_t k = kind == 2 ? base[i] + between(g, -3, 3) : between(g, -span, span);
            if (kind == 0 && e >= 100 && e < 110)
                k = (int32_t)(gates[(size_t)(e - 100) * DIM + i] * 1024.0f);
            if ((kind == 1 || kind == 3) && i == 0)
                k = span; /* steps of 63 / 127 (most gates off by up to half a step), or of one */
            gates[(size_t)e * DIM + i] = (float)k / 1024.0f;
        }
    for (i = 0; i < SAMPLES * DIM; i++)
        x[i] = (float)(kind == 1 ? 15 * (between(g, 0, 1) * 2 - 1) : between(g, -15, 15)) / 16.0f;
}

static void test_screened_choices_are_those_of_every_score(void)
{
    rng g = {0x9e3779b97f4a7c15ull}, b = {0x2545f4914f6cdd1dull}; /* cases, biases */
    float *gates = malloc(sizeof(float) * N_EXPERTS * DIM), *x = malloc(sizeof(float) * SAMPLES * DIM);
    float bias[N_EXPERTS], weights[SAMPLES * TOP_K];
    uint32_t experts[SAMPLES * TOP_K], want[TOP_K];
    double value[N_EXPERTS];
    int kind, biased, path;
    for (kind = 0; kind < 4; kind++)
        for (biased = 0; biased < 2; biased++) {
            kf_router_desc d = kf_test_float_router(gates, N_EXPERTS, DIM, TOP_K);
            kf_router *r = NULL;
            uint64_t bytes;
            void *scratch;
            uint32_t s, e, i;
            make_case(&g, kind, gates, x);
            for (e = 0; e < N_EXPERTS; e++)
                bias[e] = (float)between(&b, -140, -116) / 64.0f; /* about -2; s + b exact in float */
            d.bias = biased ? bias : NULL;
            CHECK_OK(kf_router_create(&d, &r, NULL));
            bytes = kf_router_scratch_bytes(r, SAMPLES);
            scratch = malloc((size_t)bytes);
            for (path = KF_SIMD_SCALAR; path < KF_SIMD_COUNT_; path++) {
                int wrong = 0;
                if (!kf_simd_supported((kf_simd)path))
                    continue;
                CHECK_OK(kf_router_route(r, (kf_simd)path, x, SAMPLES, experts, weights, NULL, scratch, bytes));
                for (s = 0; s < SAMPLES; s++) {
                    for (e = 0; e < N_EXPERTS; e++) {
                        double score = 0;
                        for (i = 0; i < DIM; i++)
                            score += (double)x[s * DIM + i] * gates[(size_t)e * DIM + i];
                        value[e] = score + (biased ? bias[e] : 0.0);
                    }
                    kf_test_top_k(value, N_EXPERTS, TOP_K, want);
                    wrong += memcmp(want, experts + s * TOP_K, sizeof want) != 0;
                }
                CHECK(wrong == 0);
                if (wrong)
                    fprintf(stderr, "  kind %d, bias %d, path %s: %d of %d samples\n", kind, biased,
                            kf_simd_name((kf_simd)path), wrong, SAMPLES);
            }
            free(scratch);
            kf_router_free(r);
        }
    free(gates);
    free(x);
}

/* Inputs whose scores leave float's range: the screen's bounds do too, every expert is scored
 * and the overflow refused, as without a screen. */
static void test_screened_router_refuses_scores_beyond_float(void)
{
    float *gates = malloc(sizeof(float) * N_EXPERTS * DIM), x[DIM], weights[TOP_K];
    uint32_t experts[TOP_K], i;
    kf_router_desc d;
    kf_router *r = NULL;
    uint64_t bytes;
    void *scratch;
    int path;
    for (i = 0; i < N_EXPERTS * DIM; i++)
        gates[i] = 2.0f;
    for (i = 0; i < DIM; i++)
        x[i] = 3e37f;
    d = kf_test_float_router(gates, N_EXPERTS, DIM, TOP_K);
    CHECK_OK(kf_router_create(&d, &r, NULL));
    bytes = kf_router_scratch_bytes(r, 1);
    scratch = malloc((size_t)bytes);
    for (path = KF_SIMD_SCALAR; path < KF_SIMD_COUNT_; path++)
        if (kf_simd_supported((kf_simd)path))
            CHECK(kf_router_route(r, (kf_simd)path, x, 1, experts, weights, NULL, scratch, bytes) == KF_E_NUMERIC);
    free(scratch);
    kf_router_free(r);
    free(gates);
}

/* A NaN or an infinity anywhere in a batch is refused on every path, by float routers with and
 * without a screen and by int8 gates, also where the gates are 0 in its column (0 * inf is NaN)
 * or of both signs there, and in the last sample of a later block of samples. */
static void test_router_refuses_non_finite_inputs(void)
{
    enum { SMALL = 8, ROWS = 70, COL = 5 };
    static const uint32_t sizes[] = {SMALL, N_EXPERTS};
    const float bad[] = {NAN, INFINITY, -INFINITY};
    float *gates = malloc(sizeof(float) * N_EXPERTS * DIM), *x = malloc(sizeof(float) * ROWS * DIM);
    int16_t *gates_q = malloc(sizeof(int16_t) * SMALL * DIM);
    float scale[SMALL], weights[ROWS * TOP_K];
    uint32_t experts[ROWS * TOP_K], e, i, b, kind;
    rng g = {12345};
    int path;
    for (e = 0; e < N_EXPERTS; e++)
        for (i = 0; i < DIM; i++) { /* column COL: 0 for even experts, of both signs for odd ones */
            const int32_t k = i != COL ? between(&g, -127, 127) : e % 2 == 0 ? 0 : e % 4 == 1 ? 100 : -100;
            gates[e * DIM + i] = (float)k / 1024;
        }
    for (e = 0; e < SMALL; e++) {
        scale[e] = 1.0f / 1024;
        for (i = 0; i < DIM; i++)
            gates_q[e * DIM + i] = (int16_t)(gates[e * DIM + i] * 1024);
    }
    for (i = 0; i < ROWS * DIM; i++)
        x[i] = (float)between(&g, -15, 15) / 16;
    for (kind = 0; kind < 3; kind++) { /* float, float screened, int8 gates */
        kf_router_desc d = kf_test_float_router(gates, sizes[kind == 1], DIM, TOP_K);
        kf_router *r = NULL;
        uint64_t bytes;
        void *scratch;
        if (kind == 2) {
            d.gate_bits = 8;
            d.gates = NULL;
            d.gates_q = gates_q;
            d.gate_scale = scale;
        }
        CHECK_OK(kf_router_create(&d, &r, NULL));
        bytes = kf_router_scratch_bytes(r, ROWS);
        scratch = malloc((size_t)bytes);
        for (path = KF_SIMD_SCALAR; path < KF_SIMD_COUNT_; path++) {
            if (!kf_simd_supported((kf_simd)path))
                continue;
            CHECK_OK(kf_router_route(r, (kf_simd)path, x, ROWS, experts, weights, NULL, scratch, bytes));
            for (b = 0; b < sizeof bad / sizeof bad[0]; b++) {
                const float kept = x[(ROWS - 1) * DIM + COL];
                x[(ROWS - 1) * DIM + COL] = bad[b];
                if (kf_router_route(r, (kf_simd)path, x, ROWS, experts, weights, NULL, scratch, bytes) != KF_E_NUMERIC) {
                    kf_test_failures++;
                    fprintf(stderr, "router kind %u on path %s took input %g\n", kind, kf_simd_name((kf_simd)path),
                            (double)bad[b]);
                }
                x[(ROWS - 1) * DIM + COL] = kept;
            }
        }
        free(scratch);
        kf_router_free(r);
    }
    free(gates_q);
    free(x);
    free(gates);
}

const kf_test_case kf_router_tests[] = {
    {"router_refuses_non_finite_inputs", test_router_refuses_non_finite_inputs},
    {"screened_choices_are_those_of_every_score", test_screened_choices_are_those_of_every_score},
    {"screened_router_refuses_scores_beyond_float", test_screened_router_refuses_scores_beyond_float},
    {NULL, NULL},
};
