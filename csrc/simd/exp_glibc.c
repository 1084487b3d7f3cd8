/* The scalar model of glibc's exp (exp_glibc.h) and the check of which one libm is. */
#include "exp_glibc.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

static double from_bits(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static uint64_t to_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

double kf_exp_model(double x, kf_exp_kind kind)
{
    const double ax = fabs(x);
    double kd, r, r2, tail, scale, tmp;
    uint64_t ki;
    if (kind == KF_EXP_LIBM || !(ax >= KF_EXP_MIN_ABS && ax < KF_EXP_MAX_ABS))
        return exp(x);
    /* x = k ln2/N + r with |r| <= ln2/2N; 2^(k/N) = scale * (1 + tail) */
    if (kind == KF_EXP_FUSED) {
        kd = fma(x, KF_EXP_INV_LN2_N, KF_EXP_SHIFT);
        ki = to_bits(kd);
        kd -= KF_EXP_SHIFT;
        r = fma(kd, KF_EXP_NEG_LN2_LO_N, fma(kd, KF_EXP_NEG_LN2_HI_N, x));
    } else {
        kd = x * KF_EXP_INV_LN2_N + KF_EXP_SHIFT;
        ki = to_bits(kd);
        kd -= KF_EXP_SHIFT;
        r = x + kd * KF_EXP_NEG_LN2_HI_N + kd * KF_EXP_NEG_LN2_LO_N;
    }
    tail = from_bits(kf_exp_table[2 * (ki % KF_EXP_N)]);
    scale = from_bits(kf_exp_table[2 * (ki % KF_EXP_N) + 1] + (ki << (52 - 7)));
    r2 = r * r;
    /* exp(x) = scale + scale * (tail + exp(r) - 1), the polynomial in two halves */
    if (kind == KF_EXP_FUSED) {
        tmp = fma(fma(r, KF_EXP_C3, KF_EXP_C2), r2, tail + r);
        tmp = fma(r2 * r2, fma(r, KF_EXP_C5, KF_EXP_C4), tmp);
        return fma(scale, tmp, scale);
    }
    tmp = tail + r + r2 * (KF_EXP_C2 + r * KF_EXP_C3) + r2 * r2 * (KF_EXP_C4 + r * KF_EXP_C5);
    return scale + scale * tmp;
}

const double kf_exp_near_table[16] = {
    0x1.0000000000000p+0, 0x1.0b5586cf9890fp+0, 0x1.172b83c7d517bp+0, 0x1.2387a6e756238p+0,
    0x1.306fe0a31b715p+0, 0x1.3dea64c123422p+0, 0x1.4bfdad5362a27p+0, 0x1.5ab07dd485429p+0,
    0x1.6a09e667f3bcdp+0, 0x1.7a11473eb0187p+0, 0x1.8ace5422aa0dbp+0, 0x1.9c49182a3f090p+0,
    0x1.ae89f995ad3adp+0, 0x1.c199bdd85529cp+0, 0x1.d5818dcfba487p+0, 0x1.ea4afa2a490dap+0,
};

/* Arguments where the two variants differ (about one float in a thousand does), found by
 * comparing the models over the float range; each variant matches libm on none of them when libm
 * is the other one. */
static const float separating[] = {0x1.64e2f4p-10f, -0x1.8f876ap-7f, -0x1.a9fbe8p-5f, -0x1.00f7b8p-2f,
                                   0x1.789ffcp+0f,  0x1.db85fp+2f,   0x1.4c8df6p+5f,  0x1.ac9e6p+7f};

/* libm's exp at run time: through a volatile, so that no compiler folds the call on constant
 * probes with the exp of the machine that builds (a cross-compiler would answer with its host's
 * libm, and a wheel is built on one machine and run on others). */
static double libm_exp(double x)
{
    volatile double arg = x;
    return exp(arg);
}

static int same_as_libm(float x, kf_exp_kind kind)
{
    return to_bits(libm_exp((double)x)) == to_bits(kf_exp_model((double)x, kind));
}

kf_exp_kind kf_exp_kind_of_libm(void)
{
    int kind;
    for (kind = KF_EXP_FUSED; kind <= KF_EXP_UNFUSED; kind++) {
        /* the separating arguments, then 64 from a fixed linear congruential sequence over
         * (-512, 512) and small magnitudes, to turn down a C library that is not glibc */
        uint32_t state = 0x9e3779b9u;
        size_t p;
        int ok = 1;
        for (p = 0; ok && p < sizeof separating / sizeof separating[0]; p++)
            ok = same_as_libm(separating[p], (kf_exp_kind)kind);
        for (p = 0; ok && p < 64; p++) {
            float x;
            state = state * 1664525u + 1013904223u;
            x = (float)((double)(state >> 8) * 0x1p-24 * 1024.0 - 512.0);
            ok = same_as_libm(p & 1 ? ldexpf(x, -(int)(state % 40u) - 9) : x, (kf_exp_kind)kind);
        }
        if (ok)
            return (kf_exp_kind)kind;
    }
    return KF_EXP_LIBM;
}
