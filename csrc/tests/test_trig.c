/* The vector sines and cosines (csrc/simd/trig.h) give libm's floats, through the scalar
 * reference, on every path this CPU runs: every activation (sin_symmetric, cos_symmetric, sin,
 * cos), with and without the derivative (three steepnesses), in place and not.
 *
 * Usage: kfann_trig_tests [STRIDE]. Float bit patterns with |x| < 10^4 are visited with the
 * stride (1: every one; the default 65537 suits a sanitizer build; CI's release run takes 97);
 * zeros, the vector range's edges, values beyond it, infinities and NaN are always checked. */
#include "../simd/trig.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BATCH = 4096 };

static long failures;

static int same(float a, float b)
{
    return memcmp(&a, &b, sizeof a) == 0 || (a != a && b != b);
}

static void check(kf_fann_trig_fn f, kf_activation a, int derive, float steepness, const float *x, uint32_t n)
{
    static float got[BATCH], want[BATCH];
    uint32_t i;
    for (i = 0; i < n; i++)
        got[i] = want[i] = derive ? 0.625f - (float)i / (float)BATCH : 0.0f;
    f(a, derive, steepness, x, got, n);
    kf_fann_trig_scalar(a, derive, steepness, x, want, n);
    if (!derive) { /* in place too */
        static float in_place[BATCH];
        memcpy(in_place, x, n * sizeof(float));
        f(a, 0, steepness, in_place, in_place, n);
        for (i = 0; i < n; i++)
            if (!same(in_place[i], want[i]))
                failures++;
    }
    for (i = 0; i < n; i++)
        if (!same(got[i], want[i])) {
            if (failures < 10)
                fprintf(stderr, "activation %d derive %d steepness %g x %a: %a, libm %a\n", (int)a, derive,
                        (double)steepness, (double)x[i], (double)got[i], (double)want[i]);
            failures++;
        }
}

int main(int argc, char **argv)
{
    const uint64_t stride = argc > 1 ? strtoull(argv[1], NULL, 10) : 65537;
    const kf_activation acts[4] = {KF_SIN_SYMMETRIC, KF_COS_SYMMETRIC, KF_SIN, KF_COS};
    const float steepnesses[3] = {1.0f, 0.37f, 1.7f};
    static const float edges[] = {0.0f, -0.0f, 8191.999f, 8192.0f, -8192.0f, 1e30f, INFINITY, -INFINITY, NAN,
                                  1e-40f, 3.14159274f, 1.57079637f, -150.0f, 150.00002f, 1e-8f, -2.5e-30f};
    static float x[BATCH];
    uint32_t path, a, d, k, n;
    uint64_t u, values = 0;
    if (stride == 0) {
        fprintf(stderr, "usage: kfann_trig_tests [STRIDE], stride >= 1\n");
        return 2;
    }
    for (path = KF_SIMD_SCALAR + 1; path < KF_SIMD_COUNT_; path++) {
        const kf_fann_trig_fn f = kf_fann_trig_for((kf_simd)path);
        if (!kf_simd_supported((kf_simd)path) || f == kf_fann_trig_scalar)
            continue;
        for (a = 0; a < 4; a++)
            for (d = 0; d < 2; d++)
                for (k = 0; k < (d ? 3u : 1u); k++) {
                    memcpy(x, edges, sizeof edges);
                    n = sizeof edges / sizeof edges[0];
                    for (u = 0; u < 0x100000000ull; u += stride) {
                        const uint32_t bits = (uint32_t)u;
                        float v;
                        memcpy(&v, &bits, sizeof v);
                        if (!(fabsf(v) < 1e4f))
                            continue;
                        x[n++] = v;
                        if (n == BATCH) {
                            check(f, acts[a], (int)d, steepnesses[k], x, n);
                            values += n;
                            n = 0;
                        }
                    }
                    check(f, acts[a], (int)d, steepnesses[k], x, n);
                    values += n;
                }
    }
    printf("%llu values, %ld mismatches\n", (unsigned long long)values, failures);
    return failures ? 1 : 0;
}
