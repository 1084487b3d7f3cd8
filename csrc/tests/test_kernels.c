/* The integer kernels one by one: every path this machine runs against the scalar reference, on
 * random shapes, batch sizes 1..70 and 4096, with guards around every output; and a check that
 * the comparison would catch a kernel that is wrong in one value. */
#include <stdlib.h>
#include <string.h>

#include "../simd/kernels.h"
#include "../src/internal.h"
#include "test.h"

static uint64_t state = 0x2545f4914f6cdd1dull;

static uint32_t next(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (uint32_t)(state >> 11);
}

static int32_t between(int32_t lo, int32_t hi)
{
    return (int32_t)(lo + (int64_t)(next() % (uint64_t)((int64_t)hi - lo + 1)));
}

#define GUARD 0x5a5a5a5a
#define MAX_NB 70

/* One product's operands: packed weights, activations (x_stride values a sample, the padding
 * beyond n_in_pad random: the kernels must not depend on it), accumulators with a guard
 * band (acc_stride > n_out_pad). bits 7: int8 weights, activations of at most 127 (q7_matmul).
 * The kernels are asked for n_out rows: those after it, up to n_out_pad, may stay as they were. */
typedef struct problem {
    uint32_t n_in, n_out, n_in_pad, n_out_pad, bits;
    size_t nb, x_stride, acc_stride;
    void *w, *x;
} problem;

static void make_problem(problem *p, uint32_t n_in, uint32_t n_out, size_t nb, uint32_t bits)
{
    const int32_t lo = bits == 16 ? -32768 : 0, hi = bits == 16 ? 32767 : (1 << bits) - 1;
    /* the largest weights for which no sum can overflow int32 (the quantizer's proof) */
    const int64_t fit = INT32_MAX / ((int64_t)(bits == 16 ? 32768 : hi) * n_in);
    const int32_t wmax = (int32_t)(fit < 127 || bits == 16 ? (fit < 32767 ? fit : 32767) : 127);
    const int32_t wmin = bits != 16 && wmax == 127 ? -128 : -wmax;
    const size_t elem = bits == 16 ? 2 : 1;
    int16_t *wr = malloc(sizeof(int16_t) * n_in * n_out);
    size_t i;
    p->n_in = n_in;
    p->n_out = n_out;
    p->n_in_pad = (n_in + KF_COLS8 - 1) / KF_COLS8 * KF_COLS8;
    p->n_out_pad = (n_out + KF_ROWS - 1) / KF_ROWS * KF_ROWS;
    p->bits = bits;
    p->nb = nb;
    p->x_stride = p->n_in_pad + (size_t)between(0, 9) * 4;
    p->acc_stride = p->n_out_pad + (size_t)between(1, 7);
    p->w = malloc((size_t)p->n_in_pad * p->n_out_pad * elem);
    p->x = malloc(p->x_stride * nb * elem);
    for (i = 0; i < (size_t)n_in * n_out; i++) /* the extremes often, to reach the bounds */
        wr[i] = (int16_t)(next() % 4 == 0 ? (next() % 2 ? wmax : wmin) : between(wmin, wmax));
    kf_pack_weights(wr, n_out, n_in, p->w, bits == 16 ? 16 : 8);
    for (i = 0; i < p->x_stride * nb; i++) {
        const int32_t v = next() % 4 == 0 ? (next() % 2 ? hi : lo) : between(lo, hi);
        if (bits != 16)
            ((uint8_t *)p->x)[i] = (uint8_t)v;
        else
            ((int16_t *)p->x)[i] = (int16_t)v;
    }
    free(wr);
}

static void free_problem(problem *p)
{
    free(p->w);
    free(p->x);
}

static void run(const kf_kernels *k, const problem *p, size_t nb, int32_t *acc)
{
    if (p->bits == 7 && k->q7_matmul) /* else q8_matmul's products, the reference's */
        k->q7_matmul(p->x, p->x_stride, nb, p->w, p->n_out, p->n_in_pad, acc, p->acc_stride);
    else if (p->bits != 16)
        k->q8_matmul(p->x, p->x_stride, nb, p->w, p->n_out, p->n_in_pad, acc, p->acc_stride);
    else
        k->q16_matmul(p->x, p->x_stride, nb, p->w, p->n_out, p->n_in_pad, acc, p->acc_stride);
}

/* Run path k on the first nb samples into a guarded buffer; 0 if every output asked for equals
 * ref's, every padding row holds ref's value (0) or its guard, and no other guard was touched. */
static int agrees(const kf_kernels *k, const problem *p, size_t nb, const int32_t *ref)
{
    const size_t count = p->acc_stride * (nb + 1);
    int32_t *acc = malloc(sizeof(int32_t) * count);
    size_t s, j;
    int bad = 0;
    for (j = 0; j < count; j++)
        acc[j] = GUARD;
    run(k, p, nb, acc);
    for (s = 0; s <= nb && !bad; s++)
        for (j = 0; j < p->acc_stride; j++) {
            const int32_t want = s < nb && j < p->n_out_pad ? ref[s * p->acc_stride + j] : GUARD;
            const int padding = s < nb && j >= p->n_out && j < p->n_out_pad;
            if (acc[s * p->acc_stride + j] != want && !(padding && acc[s * p->acc_stride + j] == GUARD)) {
                fprintf(stderr, "q%u matmul %ux%u nb %zu: sample %zu output %zu is %d, want %d\n", p->bits, p->n_in,
                        p->n_out, nb, s, j, acc[s * p->acc_stride + j], want);
                bad = 1;
                break;
            }
        }
    free(acc);
    return bad;
}

/* Every supported path against the scalar one, nb = p->nb and below it every step-th. */
static void compare_paths(const problem *p, size_t step)
{
    int32_t *ref = malloc(sizeof(int32_t) * p->acc_stride * p->nb);
    int path;
    size_t nb;
    run(&kf_kernels_scalar, p, p->nb, ref);
    for (path = KF_SIMD_SCALAR; path < KF_SIMD_COUNT_; path++) {
        const kf_kernels *k = kf_kernels_for((kf_simd)path);
        if (!kf_simd_supported((kf_simd)path) || k == NULL)
            continue;
        for (nb = p->nb % step ? p->nb % step : step; nb <= p->nb; nb += step)
            if (agrees(k, p, nb, ref)) {
                kf_test_failures++;
                fprintf(stderr, "  on path %s\n", kf_simd_name((kf_simd)path));
                break;
            }
    }
    free(ref);
}

static void test_matmul_paths_agree(void)
{
    static const uint32_t fixed[][2] = {{1, 1}, {4, 16}, {64, 64}, {256, 256}, {768, 256}, {3, 100}, {300, 17}};
    static const uint32_t widths[] = {7, 8, 16};
    uint32_t b, t;
    for (b = 0; b < 3; b++) {
        const uint32_t bits = widths[b];
        for (t = 0; t < 7 + 10; t++) {
            problem p;
            const uint32_t n_in = t < 7 ? fixed[t][0] : (uint32_t)between(1, t % 2 ? 40 : 300);
            const uint32_t n_out = t < 7 ? fixed[t][1] : (uint32_t)between(1, t % 2 ? 70 : 150);
            make_problem(&p, n_in, n_out, MAX_NB, bits);
            compare_paths(&p, (size_t)n_in * n_out > 3000 ? 11 : 1); /* every nb for the smaller ones */
            free_problem(&p);
        }
        for (t = 0; t < 2; t++) {
            problem p;
            make_problem(&p, t ? 68 : 256, t ? 37 : 64, 4096, bits);
            compare_paths(&p, 4096);
            free_problem(&p);
        }
    }
}

/* The requantization epilogues (direct and interpolated tables) on ROWS samples and the input
 * quantization: every path against the scalar one for n = 1 .. 70 outputs, extreme
 * parameters included, with guards between the rows and after the last one. */
static void test_epilogues_and_quantize_agree(void)
{
    /* ROWS: more than two blocks of KF_KNOTS_AHEAD samples (the epilogues that store indices ahead) */
    enum { N = 70, KNOTS = 1025, ROWS = 2 * KF_KNOTS_AHEAD + 3, ACC_STRIDE = N + 5, OUT_STRIDE = N + 3 };
    int32_t acc[ROWS * ACC_STRIDE], bias[N], mult[N], zero[N], knots[KNOTS + KF_QKNOTS_PAD], table8[KNOTS];
    uint8_t shift[N], bytes8[KNOTS + KF_QBYTES_PAD];
    float x[ROWS * N], inv[N], lo_f[N], hi_f[N];
    unsigned char want[ROWS * OUT_STRIDE * 2], got[ROWS * OUT_STRIDE * 2];
    uint32_t trial, n, bits, i;
    int path;
    for (trial = 0; trial < 40; trial++) {
        const int32_t lo = between(-40000, 300), hi = lo + between(0, 70000);
        kf_qtable t;
        for (i = 0; i < ROWS * ACC_STRIDE; i++)
            acc[i] = between(-(1 << 30), 1 << 30); /* acc + bias within int32 */
        for (i = 0; i < N; i++) {
            bias[i] = between(-(1 << 30), (1 << 30) - 1);
            mult[i] = next() % 8 == 0 ? INT32_MAX : between(0, INT32_MAX);
            /* odd trials: every shift 33 or more, as quantized networks have them (the AVX-512
             * epilogue takes the high halves of the products then), 33 and 62 among them */
            if (trial % 2)
                shift[i] = (uint8_t)(next() % 8 == 0 ? (next() % 2 ? 33 : 62) : between(33, 50));
            else
                shift[i] = (uint8_t)(next() % 8 == 0 ? (next() % 2 ? 1 : 62) : between(20, 45));
            inv[i] = (float)between(-3000, 3000) / 7.0f;
            zero[i] = between(-300, 300);
        }
        for (i = 0; i < ROWS * N; i++)
            x[i] = (float)between(-100000, 100000) / (float)between(1, 1000);
        for (i = 0; i < KNOTS + KF_QKNOTS_PAD; i++) /* the padding too: it must weigh nothing */
            knots[i] = between(-(1 << 25), 1 << 25);
        t.knots = knots;
        t.t0 = between(-(1 << 20), 1 << 20);
        t.seg_shift = (uint32_t)between(1, 24);
        t.last = KNOTS - 1;
        for (bits = 8; bits <= 16; bits += 8) {
            const int32_t qlo = bits == 8 ? 0 : -32768, qhi = bits == 8 ? 255 : 32767;
            for (i = 0; i < KNOTS; i++) /* direct tables hold outputs within the range */
                table8[i] = between(qlo, qhi);
            for (i = 0; i < KNOTS + KF_QBYTES_PAD; i++) /* the bytes of 8-bit outputs, then padding */
                bytes8[i] = (uint8_t)(i < KNOTS ? table8[i] : between(0, 255));
            t.out_lo = lo < qlo ? qlo : (lo > qhi ? qhi : lo);
            t.out_hi = hi > qhi ? qhi : (hi < t.out_lo ? t.out_lo : hi);
            for (n = 1; n <= N; n++)
                for (path = KF_SIMD_SCALAR + 1; path < KF_SIMD_COUNT_; path++) {
                    const kf_kernels *k = kf_kernels_for((kf_simd)path);
                    const kf_qrequant rq = {bias, mult, shift, n};
                    const kf_qtable direct = {table8, t.t0 / 64, 0, KNOTS - 1, 0, 0, bytes8};
                    int which;
                    if (!kf_simd_supported((kf_simd)path) || k == NULL)
                        continue;
                    for (which = 0; which < 5; which++) { /* 3, 4: the epilogues again for one sample */
                        const int kind = which % 3;
                        const size_t rows = which < 3 ? ROWS : 1;
                        memset(want, 0xa5, sizeof want);
                        memset(got, 0xa5, sizeof got);
                        if (kind == 0) {
                            kf_kernels_scalar.epilogue_direct(acc, ACC_STRIDE, rows, &rq, &direct, want, OUT_STRIDE, bits);
                            k->epilogue_direct(acc, ACC_STRIDE, rows, &rq, &direct, got, OUT_STRIDE, bits);
#if (defined(__x86_64__) || defined(_M_X64)) && !defined(__EMSCRIPTEN__)
                            if (path == KF_SIMD_AVX512) { /* the AMX table's variant, on any AVX-512 machine */
                                unsigned char gathered[sizeof got];
                                memset(gathered, 0xa5, sizeof gathered);
                                kf_epilogue_direct_gather_avx512(acc, ACC_STRIDE, rows, &rq, &direct, gathered,
                                                                 OUT_STRIDE, bits);
                                CHECK(memcmp(want, gathered, sizeof gathered) == 0);
                            }
#endif
                        } else if (kind == 1) {
                            kf_kernels_scalar.epilogue_table(acc, ACC_STRIDE, rows, &rq, &t, want, OUT_STRIDE, bits);
                            k->epilogue_table(acc, ACC_STRIDE, rows, &rq, &t, got, OUT_STRIDE, bits);
                        } else {
                            const kf_qinput qi = {inv, lo_f, hi_f, zero, n};
                            int bad_want, bad_got;
                            for (i = 0; i < n; i++) {
                                lo_f[i] = (float)(qlo - zero[i]);
                                hi_f[i] = (float)(qhi - zero[i]);
                            }
                            bad_want = kf_kernels_scalar.quantize(x, ROWS, &qi, want, OUT_STRIDE, bits);
                            bad_got = k->quantize(x, ROWS, &qi, got, OUT_STRIDE, bits);
                            CHECK(bad_want == 0 && bad_got == 0);
                        }
                        if (memcmp(want, got, sizeof want) != 0) {
                            kf_test_failures++;
                            fprintf(stderr, "%s on path %s differs (bits %u, n %u, %zu rows, trial %u)\n",
                                    kind == 0 ? "epilogue_direct" : kind == 1 ? "epilogue_table" : "quantize",
                                    kf_simd_name((kf_simd)path), bits, n, rows, trial);
                            return;
                        }
                    }
                }
        }
    }
}

/* The quantizer reports an infinity or a NaN wherever it is, on every path. */
static void test_quantize_finds_non_finite_inputs(void)
{
    enum { N = 37, ROWS = 3 };
    float x[ROWS * N], inv[N], lo_f[N], hi_f[N];
    int32_t zero[N];
    uint8_t out[ROWS * N];
    const kf_qinput q = {inv, lo_f, hi_f, zero, N};
    const uint32_t specials[3] = {0x7f800000u, 0xff800000u, 0x7fc00001u};
    uint32_t i, at, sp;
    int path;
    for (i = 0; i < N; i++) {
        inv[i] = 1.0f;
        zero[i] = 0;
        lo_f[i] = 0.0f;
        hi_f[i] = 255.0f;
    }
    for (path = KF_SIMD_SCALAR; path < KF_SIMD_COUNT_; path++) {
        const kf_kernels *k = kf_kernels_for((kf_simd)path);
        if (!kf_simd_supported((kf_simd)path) || k == NULL)
            continue;
        for (i = 0; i < ROWS * N; i++)
            x[i] = (float)i;
        CHECK(k->quantize(x, ROWS, &q, out, N, 8) == 0);
        for (at = 0; at < ROWS * N; at += 5)
            for (sp = 0; sp < 3; sp++) {
                memcpy(&x[at], &specials[sp], sizeof x[at]);
                CHECK(k->quantize(x, ROWS, &q, out, N, 8) != 0);
                x[at] = 1.0f;
            }
    }
}

/* The router's dynamic quantizer on every path against the scalar one: n = 1 .. 100 inputs, 8
 * and 16 bits, rows of wide values, of zeros, of subnormals (the step is then clamped to
 * FLT_MAX) and with an infinity or a NaN somewhere (the bit pattern returned, nothing written);
 * a guard after the outputs. */
static void test_quantize_dynamic_agrees(void)
{
    enum { N = 100, GUARD_BYTES = 40 };
    const uint32_t specials[3] = {0x7f800000u, 0xff800000u, 0x7fc00123u};
    float x[N];
    unsigned char want[2 * N + GUARD_BYTES], got[2 * N + GUARD_BYTES];
    uint32_t n, kind, bits, i;
    int path;
    for (n = 1; n <= N; n++)
        for (kind = 0; kind < 4; kind++) {
            for (i = 0; i < n; i++)
                x[i] = kind == 1 ? 0.0f
                       : kind == 2 ? (float)between(-1000, 1000) * 1e-42f
                                   : (float)between(-100000, 100000) / (float)between(1, 1000);
            if (kind == 3)
                memcpy(&x[next() % n], &specials[next() % 3], sizeof x[0]);
            for (bits = 8; bits <= 16; bits += 8) {
                const int32_t qmax = bits == 8 ? 127 : 32767, z = bits == 8 ? 128 : 0;
                const int32_t lo = bits == 8 ? 0 : -32767, hi = bits == 8 ? 255 : 32767;
                uint32_t top_want;
                memset(want, 0xa5, sizeof want);
                top_want = kf_kernels_scalar.quantize_dynamic(x, n, qmax, z, lo, hi, want, bits);
                CHECK((top_want >= 0x7f800000u) == (kind == 3));
                for (path = KF_SIMD_SCALAR + 1; path < KF_SIMD_COUNT_; path++) {
                    const kf_kernels *k = kf_kernels_for((kf_simd)path);
                    if (!kf_simd_supported((kf_simd)path) || k == NULL)
                        continue;
                    memset(got, 0xa5, sizeof got);
                    if (k->quantize_dynamic(x, n, qmax, z, lo, hi, got, bits) != top_want
                        || memcmp(want, got, sizeof want) != 0) {
                        kf_test_failures++;
                        fprintf(stderr, "quantize_dynamic on path %s differs (bits %u, n %u, kind %u)\n",
                                kf_simd_name((kf_simd)path), bits, n, kind);
                        return;
                    }
                }
            }
        }
}

/* The top k on every path against a stable selection: n = 1 .. 160 and some larger, k = 1 .. 64
 * (those of each SIMD bound's stream counts among them), rows with many ties, wide values,
 * ascending and descending runs (every value beats the k-th, or none after the first k) and all
 * equal; the entries after the k-th are left alone. */
static void test_top_k_agrees(void)
{
    enum { N = 1031, K = KF_MAX_TOP_K };
    static const uint32_t ks[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 48, 63, 64};
    static float v[N];
    static double exact[N];
    uint32_t want[K + 1], got[K + 1], n, kind, ki, i;
    int path;
    for (n = 1; n <= N; n = n < 160 ? n + 1 : n * 2 + 7)
        for (kind = 0; kind < 5; kind++) {
            for (i = 0; i < n; i++)
                v[i] = kind == 0 ? (float)between(-4, 4)
                       : kind == 1 ? (float)between(-100000, 100000) / (float)between(1, 1000)
                       : kind == 2 ? (float)i - 50.0f
                       : kind == 3 ? 50.0f - (float)i
                                   : -0.5f;
            for (i = 0; i < n; i++)
                exact[i] = v[i];
            for (ki = 0; ki < sizeof ks / sizeof ks[0] && ks[ki] <= n; ki++) {
                const uint32_t k = ks[ki];
                kf_test_top_k(exact, n, k, want);
                for (path = KF_SIMD_SCALAR; path < KF_SIMD_COUNT_; path++) {
                    const kf_kernels *kern = kf_kernels_for((kf_simd)path);
                    if (!kf_simd_supported((kf_simd)path) || kern == NULL)
                        continue;
                    memset(got, 0x5a, sizeof got); /* GUARD in every entry */
                    kern->top_k(v, n, k, got);
                    if (memcmp(want, got, sizeof(uint32_t) * k) != 0 || got[k] != GUARD) {
                        kf_test_failures++;
                        fprintf(stderr, "top_k on path %s differs (n %u, k %u, kind %u)\n",
                                kf_simd_name((kf_simd)path), n, k, kind);
                        return;
                    }
                }
            }
        }
}

/* A path that is wrong in one value: the last sample's last real output, plus one. */
static void q8_off_by_one(const uint8_t *x, size_t x_stride, size_t nb, const int8_t *w, uint32_t n_out,
                          uint32_t n_in_pad, int32_t *acc, size_t acc_stride)
{
    kf_kernels_scalar.q8_matmul(x, x_stride, nb, w, n_out, n_in_pad, acc, acc_stride);
    acc[(nb - 1) * acc_stride + n_out - 1] += 1;
}

static void test_a_wrong_kernel_is_caught(void)
{
    kf_kernels broken = kf_kernels_scalar;
    problem p;
    int32_t *ref;
    broken.q8_matmul = q8_off_by_one;
    make_problem(&p, 40, 20, 9, 8);
    ref = malloc(sizeof(int32_t) * p.acc_stride * p.nb);
    run(&kf_kernels_scalar, &p, p.nb, ref);
    CHECK(agrees(&kf_kernels_scalar, &p, p.nb, ref) == 0);
    fprintf(stderr, "(an expected mismatch follows)\n");
    CHECK(agrees(&broken, &p, p.nb, ref) == 1);
    free(ref);
    free_problem(&p);
}

/* Every path runs its peak loops (and reports the work done); others are refused. */
static void test_peak_loops(void)
{
    int path, kind;
    uint64_t macs;
    for (path = KF_SIMD_SCALAR; path < KF_SIMD_COUNT_; path++)
        for (kind = 0; kind < KF_PEAK_COUNT_; kind++) {
            const kf_status st = kf_simd_peak((kf_simd)path, (kf_peak_kind)kind, 3, &macs);
            if (kf_simd_supported((kf_simd)path))
                CHECK(st == KF_OK && macs > 0 && macs % 3 == 0);
            else
                CHECK(st == KF_E_UNSUPPORTED && macs == 0);
        }
    CHECK(kf_simd_peak(KF_SIMD_SCALAR, KF_PEAK_COUNT_, 3, &macs) == KF_E_ARG);
    CHECK(kf_simd_peak(KF_SIMD_SCALAR, KF_PEAK_INT8, 3, NULL) == KF_E_ARG);
    CHECK(kf_simd_peak(KF_SIMD_AUTO, KF_PEAK_INT8, 3, &macs) == KF_E_UNSUPPORTED);
}

#if !defined(__EMSCRIPTEN__) && !defined(__wasm__) && (defined(__x86_64__) || defined(_M_X64))
/* A CPU for kf_x86_mask: its CPUID leaves 0, 1 and 7, XCR0 (before and after the AMX request),
 * the OS's answer to that request, and what kf_x86_mask asked of it. */
typedef struct fake_cpu {
    uint32_t max_leaf, leaf1_ecx, leaf7[4];
    uint64_t xcr0, xcr0_after_amx;
    int amx_granted, xcr0_reads, amx_requests;
} fake_cpu;

static void fake_cpuid(void *ctx, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    const fake_cpu *c = ctx;
    (void)sub;
    memset(r, 0, 4 * sizeof r[0]);
    if (leaf == 0)
        r[0] = c->max_leaf;
    else if (leaf == 1)
        r[2] = c->leaf1_ecx;
    else if (leaf == 7)
        memcpy(r, c->leaf7, sizeof c->leaf7);
}

static uint64_t fake_xgetbv0(void *ctx)
{
    fake_cpu *c = ctx;
    return c->xcr0_reads++ == 0 ? c->xcr0 : c->xcr0_after_amx;
}

static int fake_amx_permitted(void *ctx)
{
    fake_cpu *c = ctx;
    c->amx_requests++;
    return c->amx_granted;
}

static uint32_t fake_mask(fake_cpu *c)
{
    const kf_x86_cpu cpu = {fake_cpuid, fake_xgetbv0, fake_amx_permitted, c};
    c->xcr0_reads = c->amx_requests = 0;
    return kf_x86_mask(&cpu);
}

/* Which x86 paths a CPU gets from what it reports: each feature and each piece of OS state
 * taken away in turn from a CPU with all of them. */
static void test_x86_paths_from_cpuid(void)
{
    const uint32_t osxsave_avx_fma = (1u << 27) | (1u << 28) | (1u << 12);
    const uint32_t avx2 = 1u << 5, f = 1u << 16, bw = 1u << 30, vl = 1u << 31, vnni = 1u << 11;
    const uint32_t amx = (1u << 24) | (1u << 25);
    const uint32_t A2 = 1u << KF_SIMD_AVX2, A5 = 1u << KF_SIMD_AVX512, AMX = 1u << KF_SIMD_AMX;
#ifdef KF_SIMDE_AVX512
    const uint32_t emulated = A5; /* SIMDe builds run the AVX-512 kernels wherever AVX2 runs */
#else
    const uint32_t emulated = 0;
#endif
    const fake_cpu all = {7, osxsave_avx_fma, {0, avx2 | f | bw | vl, vnni, amx}, 0x600e7, 0x600e7, 1, 0, 0};
    fake_cpu c = all;
    CHECK(fake_mask(&c) == (A2 | A5 | AMX) && c.amx_requests == 1 && c.xcr0_reads == 2);
    c = all;
    c.max_leaf = 6;
    CHECK(fake_mask(&c) == 0 && c.xcr0_reads == 0);
    c = all;
    c.leaf1_ecx &= ~(1u << 27); /* no OSXSAVE: XCR0 cannot be read */
    CHECK(fake_mask(&c) == 0 && c.xcr0_reads == 0);
    c = all;
    c.leaf1_ecx &= ~(1u << 12); /* no FMA */
    CHECK(fake_mask(&c) == 0);
    c = all;
    c.xcr0 = 0x3; /* the OS does not save YMM */
    CHECK(fake_mask(&c) == 0);
    c = all;
    c.leaf7[1] &= ~avx2;
    CHECK(fake_mask(&c) == (A5 | AMX));
    c = all;
    c.leaf7[3] = 0; /* the AVX-512 path on its own (below, without AMX) */
    CHECK(fake_mask(&c) == (A2 | A5) && c.amx_requests == 0);
    c.leaf7[2] = 0; /* AVX-512 without VNNI */
    CHECK(fake_mask(&c) == (A2 | emulated));
    c.leaf7[2] = vnni;
    c.leaf7[1] &= ~bw;
    CHECK(fake_mask(&c) == (A2 | emulated));
    c.leaf7[1] |= bw;
    c.xcr0 = c.xcr0_after_amx = 0x7; /* no opmask or ZMM state */
    CHECK(fake_mask(&c) == (A2 | emulated) && c.amx_requests == 0);
    c = all;
    c.leaf7[3] = 1u << 24; /* AMX-TILE without AMX-INT8 */
    CHECK(fake_mask(&c) == (A2 | A5) && c.amx_requests == 0);
    c = all;
    c.amx_granted = 0;
    CHECK(fake_mask(&c) == (A2 | A5) && c.amx_requests == 1 && c.xcr0_reads == 1);
    c = all;
    c.xcr0_after_amx = 0xe7; /* granted, but the OS does not enable the tile state */
    CHECK(fake_mask(&c) == (A2 | A5));
}
#endif

const kf_test_case kf_kernel_tests[] = {
    {"peak_loops", test_peak_loops},
    {"matmul_paths_agree", test_matmul_paths_agree},
    {"epilogues_and_quantize_agree", test_epilogues_and_quantize_agree},
    {"quantize_finds_non_finite_inputs", test_quantize_finds_non_finite_inputs},
    {"quantize_dynamic_agrees", test_quantize_dynamic_agrees},
    {"top_k_agrees", test_top_k_agrees},
    {"a_wrong_kernel_is_caught", test_a_wrong_kernel_is_caught},
#if !defined(__EMSCRIPTEN__) && !defined(__wasm__) && (defined(__x86_64__) || defined(_M_X64))
    {"x86_paths_from_cpuid", test_x86_paths_from_cpuid},
#endif
    {NULL, NULL},
};
