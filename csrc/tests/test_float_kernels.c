/* The float kernels on every path: the glibc exp model (exp_glibc.c) equals the C library's exp
 * on float arguments, every path's panel activation (kernels.h) gives kf_activation_apply's
 * bits, which call libm as libfann does, and the other panel kernels (sums, backpropagation,
 * slopes, derivatives, transposes) give the scalar reference's bits.
 *
 * Usage: kfann_float_kernel_tests [MODEL_STRIDE [ACTIVATION_STRIDE [exp]]]. Float bit patterns are visited with
 * these strides (1: every one of the 2^32; the default, 9973 for both, suits a sanitizer build;
 * CI's release run takes 1 and 41, every float argument of exp and about 10^8 sums for each
 * activation on each path); the edge cases below are always checked. With "exp" only the
 * exp-based activations are checked: `1 1 exp` runs every float sum through each of them on
 * every path (about a minute per activation and path), the check of the AVX-512 near exp. The model check is skipped where libm is not glibc's (kf_exp_kind_of_libm says so),
 * as the kernels then call libm themselves. */
#include "../simd/exp_glibc.h"
#include "../simd/kernels.h"
#include "../src/internal.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static int same(float a, float b)
{
    return memcmp(&a, &b, sizeof a) == 0 || (a != a && b != b); /* any NaN equals any NaN */
}

/* Values a run of checks must meet whatever the stride: zeros, the exp model's range bounds
 * and the activations' clamp (KF_EXP_ACT_CLAMP, as arguments of exp(-2x) and exp(-x * x)),
 * FANN's sum bound, the float extremes, NaN, inf. */
static const float edges[] = {0.0f,      -0.0f,        0x1p-56f,     -0x1p-56f,  0x1p-55f,   -0x1p-55f,
                              0x1p-54f,  -0x1p-54f,    0x1.fffffep-55f, 256.0f,  -256.0f,    0x1.fffffep+7f,
                              -0x1.fffffep+7f, 22.627417f, -22.627417f, 150.0f, -150.0f,   300.0f,
                              -300.0f,   FLT_MIN,      -FLT_MIN,     0x1p-149f,  -0x1p-149f, FLT_MAX,
                              -FLT_MAX,  INFINITY,     -INFINITY,    NAN,        -NAN,       1.0f,
                              -1.0f,     0.5f,         -0.5f,        709.0f,     -745.0f,    87.0f,
                              -87.0f,    44.0f,        -44.0f,       2.6466527f, -2.6466525f, 0.54930615f,
                              -0.54930615f, 128.0f,    -128.0f,    0x1.000002p+7f, -0x1.000002p+7f,
                              0x1.fffffep+6f, -0x1.fffffep+6f, 16.0f, -16.0f, 0x1.000002p+4f, -0x1.000002p+4f,
                              52.0f,     -52.0f};

static long failures;
static uint64_t panels; /* runs checked so far: picks the length of each partial run */

static void check_model(uint64_t stride, kf_exp_kind kind)
{
    uint64_t u, count = 0;
    size_t e;
    for (u = 0; u < 0x100000000ull; u += stride) {
        const float x = from_bits((uint32_t)u);
        const double want = exp((double)x), got = kf_exp_model((double)x, kind);
        count++;
        if (memcmp(&want, &got, sizeof want) != 0 && !(want != want && got != got)) {
            if (failures++ < 10)
                fprintf(stderr, "exp(%a): libm %a, model %a\n", (double)x, want, got);
        }
    }
    for (e = 0; e < sizeof edges / sizeof edges[0]; e++) {
        volatile double edge = edges[e]; /* libm at run time, not folded by the compiler */
        const double want = exp(edge), got = kf_exp_model(edge, kind);
        if (memcmp(&want, &got, sizeof want) != 0 && !(want != want && got != got) && failures++ < 10)
            fprintf(stderr, "exp(%a): libm %a, model %a\n", (double)edges[e], want, got);
    }
    printf("exp model (%s): %" PRIu64 " float arguments\n", kind == KF_EXP_FUSED ? "fused" : "unfused", count);
}

/* The near exp's table (exp_glibc.h): each 2^(j/16) within 2^-52 of libm's exp2, whose error
 * is below an ulp; the error bound of KF_EXP_NEAR_ERROR counts the table's at 2^-53. */
static void check_near_table(void)
{
    int j;
    for (j = 0; j < 16; j++) {
        const double want = exp2(j / 16.0);
        if (fabs(kf_exp_near_table[j] - want) > 0x1p-52 * want && failures++ < 10)
            fprintf(stderr, "near exp table: 2^(%d/16) is %a, libm's exp2 %a\n", j, kf_exp_near_table[j], want);
    }
}

/* Every path's vector exp against the scalar model, on the same arguments as check_model. */
static void check_vector_exp(uint64_t stride, kf_exp_kind kind)
{
    int p;
    for (p = KF_SIMD_SCALAR + 1; p < KF_SIMD_COUNT_; p++) {
        const kf_kernels *k = kf_kernels_for((kf_simd)p);
        double x[256], y[256];
        uint64_t u = 0, count = 0;
        uint32_t i, n;
        if (k == NULL || !kf_simd_supported((kf_simd)p))
            continue;
        while (u < 0x100000000ull) {
            for (n = 0; n < 256 && u < 0x100000000ull; n++, u += stride)
                x[n] = (double)from_bits((uint32_t)u);
            for (i = 0; i < sizeof edges / sizeof edges[0] && n < 256; i++)
                x[n++] = (double)edges[i];
            k->exp_model(x, y, n, kind);
            for (i = 0; i < n; i++) {
                const double want = kf_exp_model(x[i], kind);
                if (memcmp(&want, &y[i], sizeof want) != 0 && !(want != want && y[i] != y[i]) && failures++ < 10)
                    fprintf(stderr, "%s exp(%a): model %a, kernel %a\n", kf_simd_name((kf_simd)p), x[i], want, y[i]);
            }
            count += n;
        }
        printf("%s exp: %" PRIu64 " arguments\n", kf_simd_name((kf_simd)p), count);
    }
}

/* Values per run of the activation checks: more than two blocks of the registers that the
 * AVX2 exp activations reduce before loading their table entries (KF_KNOTS_AHEAD) and that the
 * AVX-512 ones compute before they redo the unsure ones (KF_NEAR_BLOCK), and a partial block. */
#define RUN (2 * (KF_KNOTS_AHEAD > KF_NEAR_BLOCK ? KF_KNOTS_AHEAD : KF_NEAR_BLOCK) * 16 + 48)

/* One run of RUN raw sums through path p and through the scalar reference. */
static void check_panel(const kf_kernels *k, const char *name, kf_activation a, float steepness, kf_exp_kind kind,
                        const float *raw)
{
    float want_sum[RUN], want[RUN], got_sum[RUN], got[RUN], in_place[RUN];
    int s;
    kf_fann_activate_scalar(a, steepness, kind, raw, want_sum, want, RUN);
    k->fann_activate(a, steepness, kind, raw, got_sum, got, RUN);
    memcpy(in_place, raw, sizeof in_place);
    k->fann_activate(a, steepness, kind, in_place, NULL, in_place, RUN);
    /* a count that is not a multiple of the vector width: the first values, nothing beyond */
    {
        const uint32_t count = 1 + (uint32_t)(panels++ * 37 % RUN);
        float part[RUN], part_sum[RUN], untouched;
        memset(&untouched, 0x7f, sizeof untouched);
        memset(part, 0x7f, sizeof part);
        memset(part_sum, 0x7f, sizeof part_sum);
        k->fann_activate(a, steepness, kind, raw, part_sum, part, count);
        for (s = 0; s < RUN; s++) {
            const int ok = s < (int)count ? same(part[s], want[s]) && same(part_sum[s], want_sum[s])
                                          : memcmp(&part[s], &untouched, sizeof untouched) == 0
                                                && memcmp(&part_sum[s], &untouched, sizeof untouched) == 0;
            if (!ok) {
                if (failures++ < 10)
                    fprintf(stderr, "%s %s: %u values, wrong at %d\n", name, kf_activation_name(a), count, s);
                break;
            }
        }
    }
    for (s = 0; s < RUN; s++)
        if (!same(want[s], got[s]) || !same(want_sum[s], got_sum[s]) || !same(want[s], in_place[s])) {
            if (failures++ < 10)
                fprintf(stderr, "%s %s steepness %a sum %a: want %a (sum %a), got %a (sum %a), in place %a\n",
                        name, kf_activation_name(a), (double)steepness, (double)raw[s], (double)want[s],
                        (double)want_sum[s], (double)got[s], (double)got_sum[s], (double)in_place[s]);
        }
}

static int exp_based(int a)
{
    return a == KF_SIGMOID || a == KF_SIGMOID_SYMMETRIC || a == KF_GAUSSIAN || a == KF_GAUSSIAN_SYMMETRIC;
}

static void check_activations(uint64_t stride, kf_exp_kind kind, int only_exp)
{
    static const float steepness[] = {1.0f, 0.5f, 0.0f, -0.75f, 1e-30f, 3.5f, 1e30f, INFINITY, -INFINITY};
    int p, a;
    size_t t, e;
    for (p = KF_SIMD_SCALAR + 1; p < KF_SIMD_COUNT_; p++) {
        const kf_kernels *k = kf_kernels_for((kf_simd)p);
        uint64_t count = 0;
        if (k == NULL || !kf_simd_supported((kf_simd)p))
            continue;
        for (a = 0; a < KF_ACTIVATION_COUNT_; a++) {
            float raw[RUN];
            uint64_t u = 0;
            int s;
            if (only_exp && !exp_based(a))
                continue;
            /* every float (with the stride) at steepness 1, where the sum reaches the activation
             * as it is; the edges at every steepness (clamping, negative and zero steepness) */
            while (u < 0x100000000ull) {
                for (s = 0; s < RUN; s++, u += stride)
                    raw[s] = from_bits((uint32_t)u);
                check_panel(k, kf_simd_name((kf_simd)p), (kf_activation)a, 1.0f, kind, raw);
                count += RUN;
            }
            for (t = 0; t < sizeof steepness / sizeof steepness[0]; t++) {
                for (s = 0, e = 0; s < RUN; s++, e = (e + 1) % (sizeof edges / sizeof edges[0]))
                    raw[s] = edges[e];
                check_panel(k, kf_simd_name((kf_simd)p), (kf_activation)a, steepness[t], kind, raw);
            }
        }
        printf("%s activations: %" PRIu64 " sums each way\n", kf_simd_name((kf_simd)p), count);
    }
}

/* The tanh error function (an approximated log, checked for its float rounding) against
 * kf_error_tanh (libm's log) on every float with the stride, runs of every length. */
static void check_error_tanh(uint64_t stride)
{
    int p;
    for (p = KF_SIMD_SCALAR + 1; p < KF_SIMD_COUNT_; p++) {
        const kf_kernels *k = kf_kernels_for((kf_simd)p);
        float want[KF_PANEL], got[KF_PANEL];
        uint64_t u = 0, count = 0;
        uint32_t n = 0, i;
        size_t e = 0;
        if (k == NULL || !kf_simd_supported((kf_simd)p))
            continue;
        while (u < 0x100000000ull) {
            const uint32_t len = 1 + (n++ % KF_PANEL);
            for (i = 0; i < len; i++, u += stride)
                got[i] = i % 7 == 3 ? edges[e++ % (sizeof edges / sizeof edges[0])] : from_bits((uint32_t)u);
            for (i = 0; i < len; i++)
                want[i] = kf_error_tanh(got[i]);
            k->fann_error_tanh(got, len);
            for (i = 0; i < len; i++)
                if (!same(want[i], got[i]) && failures++ < 10)
                    fprintf(stderr, "%s tanh error: want %a, got %a\n", kf_simd_name((kf_simd)p), (double)want[i],
                            (double)got[i]);
            count += len;
        }
        printf("%s tanh error: %" PRIu64 " errors\n", kf_simd_name((kf_simd)p), count);
    }
}

static uint64_t rng = 0x2545f4914f6cdd1dull;

static float random_float(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((double)(rng >> 11) * 0x1p-53 * 4.0 - 2.0);
}

static int same_array(const float *a, const float *b, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!same(a[i], b[i]))
            return 0;
    return 1;
}

/* The panel kernels of the forward and training passes (sums, backpropagation, slopes,
 * derivatives, transposes) on every path against the scalar ones, over random shapes that leave
 * partial registers and tiles everywhere. */
static void check_panel_kernels(void)
{
    enum { N = 140, M = 144, S = KF_PANEL }; /* N: past two 64-source slope passes; M: past the 64 neurons of a few-sources pass */
    static float w[M * N], v[N * S], e[M * S], a[M * S], b[M * S], vt[S * N], sa[M * N], sb[M * N]; /* M > N */
    int p, trial;
    size_t i;
    for (p = KF_SIMD_SCALAR + 1; p < KF_SIMD_COUNT_; p++) {
        const kf_kernels *k = kf_kernels_for((kf_simd)p);
        const char *name = kf_simd_name((kf_simd)p);
        if (k == NULL || !kf_simd_supported((kf_simd)p))
            continue;
        for (trial = 0; trial < 300; trial++) {
            const uint32_t n = 1 + (uint32_t)trial % N, m = 1 + (uint32_t)(trial * 11) % M;
            const uint32_t count = KF_PANEL_STEP * (1 + (uint32_t)trial % (S / KF_PANEL_STEP));
            const uint32_t nb = 1 + (uint32_t)(trial * 13) % count;
            const kf_activation act = (kf_activation)(trial % KF_ACTIVATION_COUNT_);
            for (i = 0; i < sizeof w / sizeof w[0]; i++)
                w[i] = random_float();
            for (i = 0; i < sizeof v / sizeof v[0]; i++)
                v[i] = random_float();
            for (i = 0; i < sizeof e / sizeof e[0]; i++)
                e[i] = random_float();
            for (i = 0; i < sizeof vt / sizeof vt[0]; i++)
                vt[i] = random_float();
            for (i = 0; i < sizeof sa / sizeof sa[0]; i++)
                sa[i] = sb[i] = random_float();
            kf_fann_sums_scalar(w, n, m, v, count, a);
            k->fann_sums(w, n, m, v, count, b);
            for (i = 0; i < m; i++)
                if (!same_array(a + i * KF_PANEL, b + i * KF_PANEL, count)) {
                    if (failures++ < 10)
                        fprintf(stderr, "%s sums: n %u m %u count %u\n", name, n, m, count);
                    break;
                }
            memcpy(a, v, sizeof v);
            memcpy(b, v, sizeof v);
            kf_fann_backprop_scalar(w, n, m, e, count, a);
            k->fann_backprop(w, n, m, e, count, b);
            if (!same_array(a, b, sizeof a / sizeof a[0]) && failures++ < 10)
                fprintf(stderr, "%s backprop: n %u m %u count %u\n", name, n, m, count);
            kf_fann_slopes_scalar(e, vt + 3, N, n, m, nb, sa);
            k->fann_slopes(e, vt + 3, N, n, m, nb, sb);
            if (!same_array(sa, sb, sizeof sa / sizeof sa[0]) && failures++ < 10)
                fprintf(stderr, "%s slopes: n %u m %u samples %u\n", name, n, m, nb);
            memcpy(a, e, sizeof e);
            memcpy(b, e, sizeof e);
            kf_fann_derive_scalar(act, 0.75f, v, v + S, a, nb);
            k->fann_derive(act, 0.75f, v, v + S, b, nb);
            if (!same_array(a, b, sizeof e / sizeof e[0]) && failures++ < 10)
                fprintf(stderr, "%s derive %s: %u values\n", name, kf_activation_name(act), nb);
            memset(a, 0, sizeof a);
            memset(b, 0, sizeof b);
            { /* rows of at most 21 (v's rows of N, a panel's S); the finite flag: a NaN or
               * infinity inside the rows x n block, or ones just before it and just after a row
               * (read by a load past the block's columns) */
                const uint32_t rows = 1 + (m - 1) % 21;
                const int mode = trial % 4;
                const uint32_t r = (uint32_t)(trial * 5) % rows, c = (uint32_t)(trial * 3) % n;
                int want_finite = 1, flag_scalar, flag_path;
                if (mode == 1 || mode == 2) {
                    v[5 + r * N + c] = mode == 1 ? NAN : -INFINITY;
                    want_finite = 0;
                } else if (mode == 3) {
                    v[4] = NAN; /* just before the block, not copied */
                    if (n < N)
                        v[5 + r * N + n] = NAN;
                }
                flag_scalar = kf_transpose_scalar(v + 5, N, rows, n, a, S);
                flag_path = k->transpose(v + 5, N, rows, n, b, S);
                if ((flag_scalar != want_finite || flag_path != want_finite) && failures++ < 10)
                    fprintf(stderr, "%s transpose %u x %u: finite %d and %d, want %d\n", name, rows, n, flag_scalar,
                            flag_path, want_finite);
                if (!same_array(a, b, sizeof a / sizeof a[0]) && failures++ < 10)
                    fprintf(stderr, "%s transpose: %u x %u\n", name, rows, n);
            }
        }
        printf("%s panel kernels: 300 random shapes\n", name);
    }
}

int main(int argc, char **argv)
{
    const uint64_t model_stride = argc > 1 ? strtoull(argv[1], NULL, 10) : 9973;
    const uint64_t activation_stride = argc > 2 ? strtoull(argv[2], NULL, 10) : 9973;
    /* 'exp': only the exp-based activations after the model checks; 'tanh': only the tanh error
     * function (with strides 1 1, every float through either) */
    const int only_exp = argc > 3 && strcmp(argv[3], "exp") == 0;
    const int only_tanh = argc > 3 && strcmp(argv[3], "tanh") == 0;
    const kf_exp_kind kind = kf_exp_kind_of_libm();
    if (model_stride == 0 || activation_stride == 0 || (argc > 3 && !only_exp && !only_tanh) || argc > 4) {
        fprintf(stderr, "usage: kfann_float_kernel_tests [MODEL_STRIDE [ACTIVATION_STRIDE [exp|tanh]]], strides >= 1\n");
        return 2;
    }
    if (!only_tanh) {
        if (kind == KF_EXP_LIBM) {
            printf("libm is not glibc's exp: the kernels call it directly; model checks skipped\n");
        } else {
            check_model(model_stride, kind);
            check_vector_exp(model_stride, kind);
        }
        check_near_table();
        check_activations(activation_stride, kind, only_exp);
    }
    if (!only_exp)
        check_error_tanh(activation_stride);
    if (!only_exp && !only_tanh)
        check_panel_kernels();
    if (failures)
        fprintf(stderr, "%ld mismatches\n", failures);
    return failures ? 1 : 0;
}
