/* A minimal test harness: each test is a function; CHECK records failures and goes on. */
#ifndef KF_TEST_H
#define KF_TEST_H

#include <stdio.h>
#include <string.h>

#include "kfann.h"

extern int kf_test_failures;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            kf_test_failures++;                                                      \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

#define CHECK_OK(expr) CHECK((expr) == KF_OK)

/* A float router's description: softmax scoring, no bias, scaling 1. */
static inline kf_router_desc kf_test_float_router(const float *gates, uint32_t n_experts, uint32_t dim, uint32_t top_k)
{
    kf_router_desc d;
    memset(&d, 0, sizeof d);
    d.n_experts = n_experts;
    d.dim = dim;
    d.top_k = top_k;
    d.scoring = KF_SCORING_SOFTMAX;
    d.gate_bits = 32;
    d.gates = gates;
    d.scaling = 1.0f;
    return d;
}

/* The k largest of value[0 .. n) by a stable selection, larger first and ties to the lower
 * index: the reference the kernels' and the router's choices are held against. */
static inline void kf_test_top_k(const double *value, uint32_t n, uint32_t k, uint32_t *chosen)
{
    uint32_t i, e, j;
    for (i = 0; i < k; i++) {
        uint32_t best = n;
        for (e = 0; e < n; e++) {
            int taken = 0;
            for (j = 0; j < i; j++)
                taken |= chosen[j] == e;
            if (!taken && (best == n || value[e] > value[best]))
                best = e;
        }
        chosen[i] = best;
    }
}

typedef void (*kf_test_fn)(void);

typedef struct kf_test_case {
    const char *name;
    kf_test_fn fn;
} kf_test_case;

/* Runs the cases of the NULL-terminated list of suites (test_runner.c); returns main's status. */
int kf_test_main(const kf_test_case *const *suites, int argc, char **argv);

/* Defined by each test file: a NULL-terminated list. */
extern const kf_test_case kf_core_tests[];
extern const kf_test_case kf_io_tests[];
extern const kf_test_case kf_qnet_tests[];
extern const kf_test_case kf_cascade_tests[];
extern const kf_test_case kf_kernel_tests[];
extern const kf_test_case kf_router_tests[];

#endif
