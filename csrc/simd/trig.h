/* FANN's sine and cosine activations and derivatives over many values, libm's bits.
 *
 * One function per instruction set, chosen by kf_fann_trig_for: the scalar one calls libm (the
 * reference); the vector ones compute sin and cos in double lanes -- Cody-Waite reduction by
 * pi/2 (pi/2 = P1 + P2, P1 with 31 significant bits so that k * P1 and x - k * P1 are exact for
 * |x| < 2^13), Taylor polynomials to x^17 (sine) and x^18 (cosine) on |r| <= pi/4 (truncation
 * below 2^-62) -- with an absolute error below 2^-51 for |result| <= 1, then FANN's formula in
 * double as libm's callers compute it, and keep a lane's float only when every double within
 * KF_TRIG_MARGIN * (1 + |steepness|) of it rounds to that float. libm's own result lies in that
 * interval (its error is below one double ulp), so it rounds to the same float; the other lanes
 * (a result near a float rounding boundary or near 0, |x| >= 2^13, NaN, infinity) go to libm. */
#ifndef KF_TRIG_H
#define KF_TRIG_H

#include "kfann.h"

#include <stdint.h>

/* The half width of the interval around a vector lane's result that must round to one float. */
#define KF_TRIG_MARGIN 0x1p-47
/* Arguments at or beyond this magnitude go to libm. */
#define KF_TRIG_MAX_ARG 8192.0

/* activation is KF_SIN_SYMMETRIC, KF_COS_SYMMETRIC, KF_SIN or KF_COS.
 * derive 0: out[s] = kf_activation_apply(activation, x[s]) (x the steepened sum);
 * derive 1: out[s] *= kf_activation_derived(activation, steepness, -, x[s]) (x the sum that
 * FANN's derivative receives), as kf_fann_derive_fn multiplies err. Any count; out may be x. */
typedef void (*kf_fann_trig_fn)(kf_activation activation, int derive, float steepness, const float *x, float *out,
                                uint32_t count);

/* 1 for the four activations above. */
int kf_is_trig(kf_activation activation);
/* The function of a path (the scalar one where the path has none or is not built). */
kf_fann_trig_fn kf_fann_trig_for(kf_simd path);

void kf_fann_trig_scalar(kf_activation activation, int derive, float steepness, const float *x, float *out,
                         uint32_t count);
void kf_fann_trig_avx2(kf_activation activation, int derive, float steepness, const float *x, float *out,
                       uint32_t count);
void kf_fann_trig_avx512(kf_activation activation, int derive, float steepness, const float *x, float *out,
                         uint32_t count);

#endif
