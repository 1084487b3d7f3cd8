/* glibc's exp, modelled so that vector kernels give libm's bits.
 *
 * FANN's sigmoid, symmetric sigmoid and gaussian call the C library's exp (double) on a float
 * argument; libfann's results, which ours must equal, are rounded from it. glibc (2.28 and
 * later, sysdeps/ieee754/dbl-64/e_exp.c) evaluates exp(x) for 2^-54 <= |x| < 512 as a fixed
 * sequence of double operations: k = round(x * N / ln 2), r = x - k ln2 / N in two parts,
 * 2^(k/N) from a 128-entry table (exp_table.c) and a degree-5 polynomial in r. Its x86-64 build
 * has two variants, chosen by the CPU when libm loads: one compiled with fused multiply-adds
 * where the compiler contracts a * b + c, one without. Both are written out below; which one the
 * running libm is (or neither, on another C library) is found by asking it (kf_exp_kind_of_libm),
 * and values outside the range above are always handed to libm itself. */
#ifndef KF_EXP_GLIBC_H
#define KF_EXP_GLIBC_H

#include <stdint.h>

#define KF_EXP_N 128
#define KF_EXP_INV_LN2_N 0x1.71547652b82fep+7   /* N / ln 2 */
#define KF_EXP_NEG_LN2_HI_N -0x1.62e42fefa0000p-8 /* -ln 2 / N, high part (trailing zeros) */
#define KF_EXP_NEG_LN2_LO_N -0x1.cf79abc9e3b3ap-47
#define KF_EXP_SHIFT 0x1.8p52                      /* adding it rounds to an integer */
#define KF_EXP_C2 0x1.ffffffffffdbdp-2              /* exp(r) - 1 ~ r + C2 r^2 + ... + C5 r^5 */
#define KF_EXP_C3 0x1.555555555543cp-3
#define KF_EXP_C4 0x1.55555cf172b91p-5
#define KF_EXP_C5 0x1.1111167a4d017p-7
/* Bounds of the modelled range, |x| in [KF_EXP_MIN_ABS, KF_EXP_MAX_ABS). */
#define KF_EXP_MIN_ABS 0x1p-54
#define KF_EXP_MAX_ABS 512.0
/* Where the exp-based activations saturate (fann_avx512.c): clamping their arguments to
 * [-KF_EXP_ACT_CLAMP, KF_EXP_ACT_CLAMP] changes no result (any |x| above 104 would do). */
#define KF_EXP_ACT_CLAMP 256.0

extern const uint64_t kf_exp_table[2 * KF_EXP_N];

/* A faster exp for the AVX-512 activations (exp_near in fann_avx512.c), within
 * KF_EXP_NEAR_ERROR of glibc's result (relative) for |x| <= KF_EXP_ACT_CLAMP, not to the bit:
 * they keep its activations only where their float rounding cannot differ from libfann's. (On
 * AVX2 the same method, its table loaded by a gather or from stored indices, measured slower
 * than glibc's exp there, 1.5 against 1.1 ns a value on Zen 4.) x = (16 k +
 * j) ln 2 / 16 + r with |r| <= ln 2 / 32; exp(x) = 2^k 2^(j/16) exp(r), 2^(j/16) from a table of
 * sixteen and exp(r) from its Taylor polynomial of degree 5. Error bound: the polynomial's
 * remainder, below 1.022 r^6 / 720 < 2^-42.6 of exp(r); ln 2 / 16 in one double, whose error
 * (2^-59.2) times |16 k + j| <= 5910 moves r by less than 2^-46.7; the table's rounding, the
 * polynomial's and the product's roundings and glibc's own error, below 2^-51 together. The
 * exhaustive check of every float through the AVX-512 activations found no difference. */
#define KF_EXP_NEAR_ERROR 0x1p-42
#define KF_EXP_NEAR_16_LN2 0x1.71547652b82fep+4  /* 16 / ln 2 */
#define KF_EXP_NEAR_LN2_16 0x1.62e42fefa39efp-5  /* ln 2 / 16 */
extern const double kf_exp_near_table[16];      /* 2^(j/16), j = 0 .. 15 */
/* 1 / n!, n = 5 .. 2 (the terms of degree 1 and 0 are 1) */
#define KF_EXP_NEAR_C5 (1.0 / 120)
#define KF_EXP_NEAR_C4 (1.0 / 24)
#define KF_EXP_NEAR_C3 (1.0 / 6)
#define KF_EXP_NEAR_C2 0.5

/* Which exp the C library has. */
typedef enum kf_exp_kind {
    KF_EXP_LIBM = 0,    /* neither model: every value goes to libm's exp */
    KF_EXP_FUSED = 1,   /* glibc built with fused multiply-adds (its FMA/AVX2 variant) */
    KF_EXP_UNFUSED = 2, /* glibc built without them */
} kf_exp_kind;

/* exp(x) as glibc computes it, for 2^-54 <= |x| < 512 (kind FUSED or UNFUSED); libm's exp for
 * anything else. The scalar reference of the vector kernels. */
double kf_exp_model(double x, kf_exp_kind kind);

/* The model that libm's exp matches on a set of probes (arguments where the two variants give
 * different results and arguments spread over the range), or KF_EXP_LIBM. */
kf_exp_kind kf_exp_kind_of_libm(void);

#endif
