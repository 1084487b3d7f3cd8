/* AVX-512 VNNI integer kernels (kernels.h): uint8 x int8 with vpdpbusd and int16 x int16 with
 * vpdpwssd, both exact into int32 (the accumulation bound is proven at load time, and integer
 * sums do not depend on their order: any blocking gives the scalar reference's integers).
 *
 * Register blocking: a tile of up to TILE_R row blocks (16 outputs each) by TILE_S samples keeps
 * its TILE_R * TILE_S accumulators in zmm registers while the columns stream past: for each
 * group of columns (four bytes of every sample: four uint8 or two int16 values), each row
 * block's 64-byte weight vector is loaded once and each sample's group broadcast once, then
 * TILE_R * TILE_S multiply-accumulates. 4 x 6 uses 24 accumulators, 4 weights and a broadcast
 * of the 32 registers. Edge tiles (fewer row blocks or samples) are the same code with smaller
 * constants.
 *
 * Also the requantization epilogues, the input quantizers, the router's top k and the peak
 * loops, sixteen lanes at a time with masked tails; the float kernels come from the AVX2 table. */
#include "kernels.h"

#include "kfann.h"

#ifdef KF_SIMDE_AVX512
#include "simde_avx512_shim.h" /* test builds: the same source on emulated AVX-512 (CMakeLists.txt) */
#else
#include <immintrin.h>
#endif
#include <string.h>

#if defined(_MSC_VER) && !defined(__clang__)
#define KF_ALWAYS_INLINE static __forceinline
#else
#define KF_ALWAYS_INLINE static inline __attribute__((always_inline))
#endif

#define SWAP_PAIRS 0xb1 /* _MM_PERM_CDAB: each pair of dwords swapped */
#define TILE_R 4
#define TILE_S 6

static inline __m512i broadcast32(const unsigned char *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm512_set1_epi32(v);
}

/* One R x S tile over `groups` column groups. x: the first sample's activations (bytes), samples
 * x_stride bytes apart; w: the first row block's packed weights, row blocks w_stride bytes
 * apart, 64 bytes per group; acc: the first sample's first output. wide selects int16 x int16
 * (vpdpwssd) instead of uint8 x int8 (vpdpbusd). R, S and wide are constants where inlined:
 * the accumulators are named variables (an array of vectors would live on the stack), and
 * those of rows or samples beyond R and S are never used, so the compiler drops them. */
#define DP(c, xv, wv) c = wide ? _mm512_dpwssd_epi32(c, xv, wv) : _mm512_dpbusd_epi32(c, xv, wv)
#define SAMPLE(s)                                                                                                  \
    if (S > s) {                                                                                                   \
        const __m512i xv = broadcast32(x + s * x_stride + g * 4);                                                  \
        DP(c0##s, xv, w0);                                                                                         \
        if (R > 1)                                                                                                 \
            DP(c1##s, xv, w1);                                                                                     \
        if (R > 2)                                                                                                 \
            DP(c2##s, xv, w2);                                                                                     \
        if (R > 3)                                                                                                 \
            DP(c3##s, xv, w3);                                                                                     \
    }
#define STORE(s)                                                                                                   \
    if (S > s) {                                                                                                   \
        int32_t *out = acc + s * acc_stride;                                                                       \
        _mm512_storeu_si512((void *)out, c0##s);                                                                   \
        if (R > 1)                                                                                                 \
            _mm512_storeu_si512((void *)(out + KF_ROWS), c1##s);                                                   \
        if (R > 2)                                                                                                 \
            _mm512_storeu_si512((void *)(out + 2 * KF_ROWS), c2##s);                                               \
        if (R > 3)                                                                                                 \
            _mm512_storeu_si512((void *)(out + 3 * KF_ROWS), c3##s);                                               \
    }
#define ZERO4(s) c0##s = c1##s = c2##s = c3##s = _mm512_setzero_si512()

KF_ALWAYS_INLINE void tile(const unsigned char *x, size_t x_stride, const unsigned char *w, size_t w_stride,
                           size_t groups, int32_t *acc, size_t acc_stride, const int R, const int S, const int wide)
{
    __m512i c00, c10, c20, c30, c01, c11, c21, c31, c02, c12, c22, c32;
    __m512i c03, c13, c23, c33, c04, c14, c24, c34, c05, c15, c25, c35;
    size_t g;
    ZERO4(0);
    ZERO4(1);
    ZERO4(2);
    ZERO4(3);
    ZERO4(4);
    ZERO4(5);
    for (g = 0; g < groups; g++) {
        const unsigned char *wg = w + g * 64;
        const __m512i w0 = _mm512_loadu_si512((const void *)wg);
        const __m512i w1 = R > 1 ? _mm512_loadu_si512((const void *)(wg + w_stride)) : w0;
        const __m512i w2 = R > 2 ? _mm512_loadu_si512((const void *)(wg + 2 * w_stride)) : w0;
        const __m512i w3 = R > 3 ? _mm512_loadu_si512((const void *)(wg + 3 * w_stride)) : w0;
        SAMPLE(0)
        SAMPLE(1)
        SAMPLE(2)
        SAMPLE(3)
        SAMPLE(4)
        SAMPLE(5)
    }
    STORE(0)
    STORE(1)
    STORE(2)
    STORE(3)
    STORE(4)
    STORE(5)
}

typedef void (*tile_fn)(const unsigned char *x, size_t x_stride, const unsigned char *w, size_t w_stride,
                        size_t groups, int32_t *acc, size_t acc_stride);

#define TILE_FN(R, S)                                                                                              \
    static void q8_tile_##R##_##S(const unsigned char *x, size_t x_stride, const unsigned char *w, size_t w_stride,  \
                                  size_t groups, int32_t *acc, size_t acc_stride)                                 \
    {                                                                                                              \
        tile(x, x_stride, w, w_stride, groups, acc, acc_stride, R, S, 0);                                          \
    }                                                                                                              \
    static void q16_tile_##R##_##S(const unsigned char *x, size_t x_stride, const unsigned char *w, size_t w_stride, \
                                   size_t groups, int32_t *acc, size_t acc_stride)                                \
    {                                                                                                              \
        tile(x, x_stride, w, w_stride, groups, acc, acc_stride, R, S, 1);                                          \
    }
#define TILE_ROW(R) TILE_FN(R, 1) TILE_FN(R, 2) TILE_FN(R, 3) TILE_FN(R, 4) TILE_FN(R, 5) TILE_FN(R, 6)
TILE_ROW(1)
TILE_ROW(2)
TILE_ROW(3)
TILE_ROW(4)

#define TILE_NAMES(p, R) {p##_tile_##R##_1, p##_tile_##R##_2, p##_tile_##R##_3, p##_tile_##R##_4, p##_tile_##R##_5, p##_tile_##R##_6}
static const tile_fn q8_tiles[TILE_R][TILE_S] = {TILE_NAMES(q8, 1), TILE_NAMES(q8, 2), TILE_NAMES(q8, 3), TILE_NAMES(q8, 4)};
static const tile_fn q16_tiles[TILE_R][TILE_S] = {TILE_NAMES(q16, 1), TILE_NAMES(q16, 2), TILE_NAMES(q16, 3),
                                                  TILE_NAMES(q16, 4)};

/* Every tile of the product: row blocks in steps of TILE_R (the weights of one step stay in
 * cache while every sample passes), samples in steps of TILE_S. */
static void matmul(const tile_fn tiles[TILE_R][TILE_S], const unsigned char *x, size_t x_stride, size_t nb,
                   const unsigned char *w, uint32_t blocks, size_t groups, int32_t *acc, size_t acc_stride)
{
    const size_t w_stride = groups * 64;
    uint32_t rb;
    size_t s;
    for (rb = 0; rb < blocks; rb += TILE_R) {
        const uint32_t r = blocks - rb < TILE_R ? blocks - rb : TILE_R;
        for (s = 0; s < nb; s += TILE_S) {
            const size_t count = nb - s < TILE_S ? nb - s : TILE_S;
            tiles[r - 1][count - 1](x + s * x_stride, x_stride, w + rb * w_stride, w_stride, groups,
                                    acc + s * acc_stride + (size_t)rb * KF_ROWS, acc_stride);
        }
    }
}

void kf_q8_matmul_avx512(const uint8_t *x, size_t x_stride, size_t nb, const int8_t *w, uint32_t n_out,
                         uint32_t n_in_pad, int32_t *acc, size_t acc_stride)
{
    matmul(q8_tiles, x, x_stride, nb, (const unsigned char *)w, KF_ROW_BLOCKS(n_out), n_in_pad / KF_COLS8, acc, acc_stride);
}

void kf_q16_matmul_avx512(const int16_t *x, size_t x_stride, size_t nb, const int16_t *w, uint32_t n_out,
                          uint32_t n_in_pad, int32_t *acc, size_t acc_stride)
{
    matmul(q16_tiles, (const unsigned char *)x, x_stride * sizeof(int16_t), nb, (const unsigned char *)w,
           KF_ROW_BLOCKS(n_out), n_in_pad / KF_COLS16, acc, acc_stride);
}

/* ---- Requantization, tables and input quantization, sixteen lanes at a time ---- */

/* Lanes below n (of 16). */
static inline __mmask16 lanes(uint32_t n)
{
    return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u);
}

/* Sixteen outputs' direct table indices, clamp(kf_requantize(sum, mult, shift) - t0, 0, last),
 * in two halves of 64-bit lanes: even elements, and odd ones shuffled down (vpmuldq reads the
 * low half of each lane). With p = sum * mult and y = p >> (shift - 1) (floor division),
 * (p + 2^(shift-1)) >> shift = (y + 1) >> 1, and minus t0 that is (y + c) >> 1 with c = 1 - 2 t0:
 * exact for shift >= 1. y + c is clamped to [0, 2 last + 1] in 64 bits, then halved in 32-bit
 * lanes. sh_even and sh_odd: shift - 1 of the even and odd elements, one per 64-bit lane;
 * mult_odd: mult's odd elements in the low halves; interleave: the dword indices that take the
 * low halves of even and odd lanes back into element order. Shifts and multiplies of 512 bits
 * run on one port, shuffles on the other: the per-output operands are prepared once for a
 * column of samples. */
static inline __m512i direct_index(__m512i sum, __m512i mult, __m512i mult_odd, __m512i sh_even, __m512i sh_odd, __m512i c,
                                   __m512i top, __m512i interleave)
{
    const __m512i zero = _mm512_setzero_si512();
    __m512i even = _mm512_mul_epi32(sum, mult), odd = _mm512_mul_epi32(_mm512_shuffle_epi32(sum, SWAP_PAIRS), mult_odd);
    even = _mm512_add_epi64(_mm512_srav_epi64(even, sh_even), c);
    odd = _mm512_add_epi64(_mm512_srav_epi64(odd, sh_odd), c);
    even = _mm512_min_epi64(_mm512_max_epi64(even, zero), top);
    odd = _mm512_min_epi64(_mm512_max_epi64(odd, zero), top);
    /* both within [0, 2 last + 1] < 2^32: their low halves back into element order, halved */
    return _mm512_srli_epi32(_mm512_permutex2var_epi32(even, interleave, odd), 1);
}

/* Byte shuffles that spread sixteen shift bytes (repeated in every 128-bit lane) into the
 * 64-bit lanes of the even (odd) elements, zeros above. */
static inline __m512i shift_spread(int odd)
{
    const __m512i index = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
    return _mm512_mask_blend_epi8((__mmask64)0x0101010101010101ull, _mm512_set1_epi8(-128),
                                  odd ? _mm512_add_epi64(index, _mm512_set1_epi64(1)) : index);
}

/* Sixteen int32 values within the output range, stored as uint8 or int16 (lanes in mask). */
static inline void store_narrow16(__m512i v, void *out, uint32_t out_bits, __mmask16 mask)
{
    if (out_bits == 8)
        _mm512_mask_cvtepi32_storeu_epi8(out, mask, v);
    else
        _mm512_mask_cvtepi32_storeu_epi16(out, mask, v);
}

/* Sixteen outputs' direct table indices as direct_index gives them, for outputs whose shifts
 * are all 33 or more, in 32-bit lanes: with P = sum * mult = hi 2^32 + lo (hi the high half,
 * floor(P / 2^32), 0 <= lo < 2^32), (P + 2^(shift-1)) >> shift = (hi + 2^(shift-33)) >>
 * (shift-32) exactly, as hi + 2^(shift-33) is an integer and lo / 2^32 < 1 cannot carry it past
 * a multiple of 2^(shift-32). |P| < 2^62, so hi and the sum stay within int32; round holds
 * 2^(shift-33) and sh32 shift - 32 per output; the index is clamped to [t0, t0 + last] (top: at
 * most INT32_MAX) before t0 is taken off, so that no lane overflows. Half the vector work of
 * direct_index: no 64-bit shifts or clamps, and one shuffle to bring the high halves together. */
static inline __m512i direct_index32(__m512i sum, __m512i mult, __m512i mult_odd, __m512i round, __m512i sh32,
                                     __m512i t0, __m512i top)
{
    const __m512i even = _mm512_mul_epi32(sum, mult), odd = _mm512_mul_epi32(_mm512_shuffle_epi32(sum, SWAP_PAIRS), mult_odd);
    /* the odd elements' high halves are in place; the even ones' move down from the odd dwords */
    const __m512i hi = _mm512_mask_shuffle_epi32(odd, (__mmask16)0x5555, even, SWAP_PAIRS);
    const __m512i t = _mm512_srav_epi32(_mm512_add_epi32(hi, round), sh32);
    return _mm512_sub_epi32(_mm512_min_epi32(_mm512_max_epi32(t, t0), top), t0);
}

/* Sixteen outputs' shifts (33 in the lanes outside m, whose zero sums and multipliers then give
 * an index within the table, never stored) as direct_index32's operands: *round = 2^(shift-33)
 * and *sh32 = shift-32. Returns whether every shift is 33 or more (the operands' condition). */
static inline int shift32_operands(const uint8_t *shift, __mmask16 m, __m512i *round, __m512i *sh32)
{
    const __m512i s = _mm512_mask_blend_epi32(m, _mm512_set1_epi32(33), _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, shift)));
    *round = _mm512_sllv_epi32(_mm512_set1_epi32(1), _mm512_sub_epi32(s, _mm512_set1_epi32(33)));
    *sh32 = _mm512_sub_epi32(s, _mm512_set1_epi32(32));
    return _mm512_cmplt_epi32_mask(s, _mm512_set1_epi32(33)) == 0;
}

/* Sixteen uint8 outputs bytes[at[0]] .. bytes[at[15]] by scalar loads, stored as two 8-byte
 * words (x86 is little-endian: byte l of a word goes to out[l]). On Zen 4 this costs less than a
 * 16-lane gather (5.1 against 7.4 ns per sixteen outputs, C microbenchmark, Q8 256 x 256 at 96
 * samples) when the indices were stored KF_KNOTS_AHEAD samples before. */
static inline void lookup_bytes16(const uint32_t *at, const uint8_t *bytes, char *out)
{
    const volatile uint32_t *in_memory = at; /* scalar loads, not lane extractions or a gather */
    uint64_t word[2];
    int h, l;
    for (h = 0; h < 2; h++) {
        uint64_t v = 0;
        for (l = 0; l < 8; l++)
            v |= (uint64_t)bytes[in_memory[h * 8 + l]] << (8 * l);
        word[h] = v;
    }
    memcpy(out, word, sizeof word);
}

/* kf_epilogue_fn; by_loads: bytes by scalar lookups where they pay (below), else gathers. */
KF_ALWAYS_INLINE void epilogue_direct(const int32_t *acc, size_t acc_stride, size_t nb, const kf_qrequant *rq,
                                      const kf_qtable *table, void *out, size_t out_stride, uint32_t out_bits,
                                      const int by_loads)
{
    /* every operand in a local: the stores through out could alias the structures */
    const int32_t *knots = table->knots, *bias = rq->bias, *mult = rq->mult;
    const uint8_t *shift = rq->shift, *bytes = table->bytes;
    const uint32_t n = rq->n;
    const size_t elem = out_bits / 8;
    const int64_t t0 = table->t0, top = t0 + (int64_t)table->last;
    const __m512i c = _mm512_set1_epi64(1 - 2 * t0), top2 = _mm512_set1_epi64(2 * (int64_t)table->last + 1);
    const __m512i t0_32 = _mm512_set1_epi32((int32_t)t0), top_32 = _mm512_set1_epi32(top > INT32_MAX ? INT32_MAX : (int32_t)top);
    const __m512i one = _mm512_set1_epi64(1), spread_even = shift_spread(0), spread_odd = shift_spread(1);
    const __m512i interleave = _mm512_setr_epi32(0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30);
    uint32_t j;
    for (j = 0; j < n; j += 16) { /* sixteen outputs of every sample */
        const __mmask16 m = lanes(n - j);
        const __m512i b = _mm512_maskz_loadu_epi32(m, bias + j), mu = _mm512_maskz_loadu_epi32(m, mult + j);
        const __m512i mu_odd = _mm512_shuffle_epi32(mu, SWAP_PAIRS);
        const int32_t *a = acc + j;
        char *o = (char *)out + j * elem;
        __m512i rv, sv;
        size_t s;
        if (shift32_operands(shift + j, m, &rv, &sv)) {
            /* whole columns of bytes for two samples or more: scalar lookups (a single sample
             * would wait for its own index store, which the gather does not: 7% slower) */
            if (by_loads && out_bits == 8 && m == 0xffff && nb > 1) {
                for (s = 0; s < nb; s += KF_KNOTS_AHEAD) {
                    const size_t count = nb - s < KF_KNOTS_AHEAD ? nb - s : KF_KNOTS_AHEAD;
                    uint32_t at[KF_KNOTS_AHEAD][16];
                    size_t u;
                    for (u = 0; u < count; u++) {
                        const __m512i sum = _mm512_add_epi32(_mm512_loadu_si512(a + (s + u) * acc_stride), b);
                        _mm512_storeu_si512(at[u], direct_index32(sum, mu, mu_odd, rv, sv, t0_32, top_32));
                    }
                    for (u = 0; u < count; u++)
                        lookup_bytes16(at[u], bytes, o + (s + u) * out_stride);
                }
                continue;
            }
            for (s = 0; s < nb; s++) {
                const __m512i sum = _mm512_add_epi32(_mm512_maskz_loadu_epi32(m, a + s * acc_stride), b);
                const __m512i idx = direct_index32(sum, mu, mu_odd, rv, sv, t0_32, top_32);
                const __m512i v = out_bits == 8 ? _mm512_i32gather_epi32(idx, bytes, 1) : _mm512_i32gather_epi32(idx, knots, 4);
                store_narrow16(v, o + s * out_stride * elem, out_bits, m);
            }
            continue;
        }
        const __m512i sh = _mm512_broadcast_i32x4(_mm_maskz_loadu_epi8(m, shift + j));
        const __m512i sh_even = _mm512_sub_epi64(_mm512_shuffle_epi8(sh, spread_even), one);
        const __m512i sh_odd = _mm512_sub_epi64(_mm512_shuffle_epi8(sh, spread_odd), one);
        for (s = 0; s < nb; s++) {
            const __m512i sum = _mm512_add_epi32(_mm512_maskz_loadu_epi32(m, a + s * acc_stride), b);
            const __m512i idx = direct_index(sum, mu, mu_odd, sh_even, sh_odd, c, top2, interleave);
            /* lanes beyond n hold indices within [0, last] too: the gather reads the table only.
             * uint8 outputs: four bytes from each index of the padded byte table, of which the
             * narrowing store (vpmovdb truncates) keeps the first */
            const __m512i v = out_bits == 8 ? _mm512_i32gather_epi32(idx, bytes, 1) : _mm512_i32gather_epi32(idx, knots, 4);
            store_narrow16(v, o + s * out_stride * elem, out_bits, m);
        }
    }
}

void kf_epilogue_direct_avx512(const int32_t *acc, size_t acc_stride, size_t nb, const kf_qrequant *rq,
                               const kf_qtable *table, void *out, size_t out_stride, uint32_t out_bits)
{
    epilogue_direct(acc, acc_stride, nb, rq, table, out, out_stride, out_bits, 1);
}

/* The AMX table's (Intel only): Sapphire Rapids gathers sixteen bytes faster than Zen 4 (the
 * whole epilogue took 3.9 ns per sixteen outputs on a Sapphire Rapids VM, against 7.4 here), so
 * it keeps the gathers. They are the code kf_epilogue_direct_avx512 runs for one sample and for
 * partial columns, which the kernel test checks on any AVX-512 machine. */
void kf_epilogue_direct_gather_avx512(const int32_t *acc, size_t acc_stride, size_t nb, const kf_qrequant *rq,
                                      const kf_qtable *table, void *out, size_t out_stride, uint32_t out_bits)
{
    epilogue_direct(acc, acc_stride, nb, rq, table, out, out_stride, out_bits, 0);
}

/* kf_requantize(sum, mult, shift) - t0 in 64-bit lanes, clamped to [lo, hi], as direct_index
 * computes it: c = 1 - 2 t0, shift1 = shift - 1. */
static inline __m512i requant64(__m512i sum, __m512i mult, __m512i shift1, __m512i c, __m512i lo, __m512i hi)
{
    const __m512i t = _mm512_srai_epi64(_mm512_add_epi64(_mm512_srav_epi64(_mm512_mul_epi32(sum, mult), shift1), c), 1);
    return _mm512_min_epi64(_mm512_max_epi64(t, lo), hi);
}

/* Two outputs' knots[i] and knots[i + 1], a pair in each 64-bit lane. */
static inline __m128i two_pairs(const int32_t *knots, uint32_t a, uint32_t b)
{
    int64_t pa, pb;
    memcpy(&pa, knots + a, sizeof pa);
    memcpy(&pb, knots + b, sizeof pb);
    return _mm_set_epi64x(pb, pa);
}

/* knots[i] and knots[i + 1] of eight outputs, i = at[0], at[step], ..., at[7 step], one pair per
 * 64-bit lane, by one 8-byte load each (cheaper than gathers on Zen 4); at i = last the second is
 * the table's padding (kernels.h), which the interpolation weighs by f = 0. */
static inline __m512i knot_pairs(const int32_t *knots, const uint32_t *at, int step)
{
    const volatile uint32_t *in_memory = at; /* scalar loads, not lane extractions */
    __m512i v = _mm512_castsi128_si512(two_pairs(knots, in_memory[0], in_memory[step]));
    v = _mm512_inserti32x4(v, two_pairs(knots, in_memory[2 * step], in_memory[3 * step]), 1);
    v = _mm512_inserti32x4(v, two_pairs(knots, in_memory[4 * step], in_memory[5 * step]), 2);
    return _mm512_inserti32x4(v, two_pairs(knots, in_memory[6 * step], in_memory[7 * step]), 3);
}

/* The interpolation of kf_qtable_value over eight pairs of knots: (a (2^k - f) + b f + round) >>
 * bits in 64-bit lanes, g = 2^k - f and f in the low halves (vpmuldq reads those, signed). */
static inline __m512i interpolate(__m512i pairs, __m512i g, __m512i f, __m512i round, __m512i bits)
{
    const __m512i v = _mm512_add_epi64(_mm512_mul_epi32(pairs, g), _mm512_mul_epi32(_mm512_srli_epi64(pairs, 32), f));
    return _mm512_srav_epi64(_mm512_add_epi64(v, round), bits);
}

/* Eight outputs j .. j + 7 (those in m) of kf_epilogue_table_fn, one per 64-bit lane, for nb
 * samples. */
static inline void table_column(const int32_t *acc, size_t acc_stride, size_t nb, const kf_qrequant *rq,
                                const kf_qtable *t, uint32_t j, __mmask8 m, void *out, size_t out_stride, uint32_t out_bits)
{
    const __m512i one = _mm512_set1_epi64(1), k = _mm512_set1_epi64(t->seg_shift);
    const __m512i step = _mm512_sllv_epi64(one, k), bits = _mm512_set1_epi64(t->seg_shift + KF_QTABLE_FRAC_BITS);
    const __m512i round = _mm512_sllv_epi64(one, _mm512_sub_epi64(bits, one));
    const __m512i c = _mm512_set1_epi64(1 - 2 * (int64_t)t->t0), span = _mm512_set1_epi64((int64_t)t->last << t->seg_shift);
    const __m512i out_lo = _mm512_set1_epi64(t->out_lo), out_hi = _mm512_set1_epi64(t->out_hi);
    const __m256i bias = _mm256_maskz_loadu_epi32(m, rq->bias + j);
    const __m512i mult = _mm512_cvtepi32_epi64(_mm256_maskz_loadu_epi32(m, rq->mult + j));
    const __m512i sh1 = _mm512_sub_epi64(_mm512_cvtepu8_epi64(_mm_maskz_loadu_epi8(m, rq->shift + j)), one);
    size_t s;
    for (s = 0; s < nb; s++) {
        const __m256i sum = _mm256_add_epi32(_mm256_maskz_loadu_epi32(m, acc + s * acc_stride + j), bias);
        const __m512i rel = requant64(_mm512_cvtepi32_epi64(sum), mult, sh1, c, _mm512_setzero_si512(), span);
        const __m512i i = _mm512_srlv_epi64(rel, k), f = _mm512_and_si512(rel, _mm512_sub_epi64(step, one));
        uint32_t at[8];
        __m512i v;
        _mm256_storeu_si256((__m256i *)at, _mm512_cvtepi64_epi32(i));
        v = interpolate(knot_pairs(t->knots, at, 1), _mm512_sub_epi64(step, f), f, round, bits);
        v = _mm512_min_epi64(_mm512_max_epi64(v, out_lo), out_hi);
        if (out_bits == 8)
            _mm512_mask_cvtepi64_storeu_epi8((char *)out + s * out_stride + j, m, v);
        else
            _mm512_mask_cvtepi64_storeu_epi16((int16_t *)out + s * out_stride + j, m, v);
    }
}

/* Sixteen outputs j .. j + 15 (those in m) of kf_epilogue_table_fn whose shifts are all 33 or
 * more (seg_shift at most 30), for nb samples: rel = clamp(t - t0, 0, last << seg_shift) from
 * direct_index32 with top = min(t0 + (last << seg_shift), INT32_MAX), an unsigned 32-bit value
 * (t and t0 are int32), then the interpolation in 64-bit halves (|a| (2^k - f) + |b| f <
 * 2^(31+k)), whose shifted value lies within int32, so that it narrows and clamps in 32 bits.
 * The knot indices of KF_KNOTS_AHEAD samples are stored before the first of their pairs is loaded. */
static inline void table_column32(const int32_t *acc, size_t acc_stride, size_t nb, const kf_qrequant *rq,
                                  const kf_qtable *t, uint32_t j, __mmask16 m, __m512i rv, __m512i sv, void *out,
                                  size_t out_stride, uint32_t out_bits)
{
    const __m512i k = _mm512_set1_epi32((int32_t)t->seg_shift), step = _mm512_sllv_epi32(_mm512_set1_epi32(1), k);
    const __m512i low = _mm512_sub_epi32(step, _mm512_set1_epi32(1));
    const __m512i bits = _mm512_set1_epi64(t->seg_shift + KF_QTABLE_FRAC_BITS);
    const __m512i round = _mm512_sllv_epi64(_mm512_set1_epi64(1), _mm512_sub_epi64(bits, _mm512_set1_epi64(1)));
    const int64_t top = (int64_t)t->t0 + ((int64_t)t->last << t->seg_shift);
    const __m512i t0 = _mm512_set1_epi32(t->t0), top32 = _mm512_set1_epi32(top > INT32_MAX ? INT32_MAX : (int32_t)top);
    const __m512i out_lo = _mm512_set1_epi32(t->out_lo), out_hi = _mm512_set1_epi32(t->out_hi);
    const __m512i b = _mm512_maskz_loadu_epi32(m, rq->bias + j), mu = _mm512_maskz_loadu_epi32(m, rq->mult + j);
    const __m512i mu_odd = _mm512_shuffle_epi32(mu, SWAP_PAIRS);
    const size_t elem = out_bits / 8;
    size_t s0, u;
    for (s0 = 0; s0 < nb; s0 += KF_KNOTS_AHEAD) {
        const size_t count = nb - s0 < KF_KNOTS_AHEAD ? nb - s0 : KF_KNOTS_AHEAD;
        uint32_t at[KF_KNOTS_AHEAD][16];
        __m512i f[KF_KNOTS_AHEAD];
        for (u = 0; u < count; u++) {
            const __m512i sum = _mm512_add_epi32(_mm512_maskz_loadu_epi32(m, acc + (s0 + u) * acc_stride + j), b);
            const __m512i rel = direct_index32(sum, mu, mu_odd, rv, sv, t0, top32);
            _mm512_storeu_si512(at[u], _mm512_srlv_epi32(rel, k));
            f[u] = _mm512_and_si512(rel, low);
        }
        for (u = 0; u < count; u++) {
            const __m512i g = _mm512_sub_epi32(step, f[u]);
            /* even elements' pairs against the low halves of g and f, odd ones' against the high */
            const __m512i even = interpolate(knot_pairs(t->knots, at[u], 2), g, f[u], round, bits);
            const __m512i odd = interpolate(knot_pairs(t->knots, at[u] + 1, 2), _mm512_srli_epi64(g, 32),
                                            _mm512_srli_epi64(f[u], 32), round, bits);
            /* each value in the low half of its 64-bit lane: back into element order */
            const __m512i v = _mm512_mask_shuffle_epi32(even, (__mmask16)0xaaaa, odd, SWAP_PAIRS);
            store_narrow16(_mm512_min_epi32(_mm512_max_epi32(v, out_lo), out_hi),
                           (char *)out + ((s0 + u) * out_stride + j) * elem, out_bits, m);
        }
    }
}

void kf_epilogue_table_avx512(const int32_t *acc, size_t acc_stride, size_t nb, const kf_qrequant *rq,
                              const kf_qtable *table, void *out, size_t out_stride, uint32_t out_bits)
{
    const kf_qrequant r = *rq; /* copies: the stores through out could alias the structures */
    const kf_qtable t = *table;
    uint32_t j;
    for (j = 0; j < r.n; j += 16) {
        const __mmask16 m = lanes(r.n - j);
        __m512i rv, sv;
        if (shift32_operands(r.shift + j, m, &rv, &sv) && t.seg_shift <= 30) {
            table_column32(acc, acc_stride, nb, &r, &t, j, m, rv, sv, out, out_stride, out_bits);
            continue;
        }
        table_column(acc, acc_stride, nb, &r, &t, j, (__mmask8)m, out, out_stride, out_bits);
        if (r.n - j > 8)
            table_column(acc, acc_stride, nb, &r, &t, j + 8, (__mmask8)(m >> 8), out, out_stride, out_bits);
    }
}

/* Sixteen inputs of kf_quantize_fn (those in m); returns the lanes holding an infinity or NaN. */
static inline __mmask16 quantize16(const float *x, const float *inv, const float *lo_f, const float *hi_f,
                                   const int32_t *zero, __mmask16 m, char *out, uint32_t out_bits)
{
    const __m512i exponent = _mm512_set1_epi32(0x7f800000);
    const __m512 xv = _mm512_maskz_loadu_ps(m, x);
    /* the scalar version's float operations: multiply, add, clamp; then floor in the
     * conversion's rounding */
    __m512 v = _mm512_add_ps(_mm512_mul_ps(xv, _mm512_maskz_loadu_ps(m, inv)), _mm512_set1_ps(0.5f));
    v = _mm512_min_ps(_mm512_max_ps(v, _mm512_maskz_loadu_ps(m, lo_f)), _mm512_maskz_loadu_ps(m, hi_f));
    store_narrow16(_mm512_add_epi32(_mm512_cvt_roundps_epi32(v, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC),
                                    _mm512_maskz_loadu_epi32(m, zero)),
                   out, out_bits, m);
    return _mm512_cmpeq_epi32_mask(_mm512_and_si512(_mm512_castps_si512(xv), exponent), exponent);
}

int kf_quantize_avx512(const float *x, size_t nb, const kf_qinput *q, void *out, size_t out_stride, uint32_t out_bits)
{
    const float *inv = q->inv, *lo_f = q->lo_f, *hi_f = q->hi_f;
    const int32_t *zero = q->zero;
    const size_t elem = out_bits / 8;
    const uint32_t n = q->n, full = n / 16 * 16;
    const __mmask16 tail = lanes(n - full);
    __mmask16 bad = 0;
    size_t s;
    uint32_t i;
    for (s = 0; s < nb; s++) {
        const float *xs = x + s * n;
        char *os = (char *)out + s * out_stride * elem;
        for (i = 0; i < full; i += 16) {
            _mm_prefetch((const char *)((uintptr_t)(xs + i) + KF_PREFETCH_BYTES), _MM_HINT_T0);
            bad |= quantize16(xs + i, inv + i, lo_f + i, hi_f + i, zero + i, 0xffff, os + i * elem, out_bits);
        }
        if (tail)
            bad |= quantize16(xs + full, inv + full, lo_f + full, hi_f + full, zero + full, tail, os + full * elem, out_bits);
    }
    return bad != 0;
}

/* The router's dynamic quantizer (kf_quantize_dynamic_fn): the largest |x| as an unsigned
 * maximum of bit patterns, then the scalar version's float operations with one step and zero
 * point, sixteen inputs at a time. */
uint32_t kf_quantize_dynamic_avx512(const float *x, uint32_t n, int32_t qmax, int32_t zero, int32_t lo, int32_t hi,
                                    void *out, uint32_t out_bits)
{
    const __m512i magnitude = _mm512_set1_epi32(0x7fffffff);
    const size_t elem = out_bits / 8;
    __m512i m0 = _mm512_setzero_si512(), m1 = m0;
    float lane_max[16];
    uint32_t top, i;
    for (i = 0; i + 32 <= n; i += 32) {
        m0 = _mm512_max_epu32(m0, _mm512_and_si512(_mm512_loadu_si512((const void *)(x + i)), magnitude));
        m1 = _mm512_max_epu32(m1, _mm512_and_si512(_mm512_loadu_si512((const void *)(x + i + 16)), magnitude));
    }
    for (; i < n; i += 16)
        m0 = _mm512_max_epu32(m0, _mm512_and_si512(_mm512_maskz_loadu_epi32(lanes(n - i), x + i), magnitude));
    _mm512_storeu_si512((void *)lane_max, _mm512_max_epu32(m0, m1));
    top = kf_abs_max_bits_scalar(lane_max, 16, 0);
    if (top < 0x7f800000u) {
        const __m512 step = _mm512_set1_ps(kf_dynamic_step(top, qmax)), half = _mm512_set1_ps(0.5f);
        const __m512 lo_f = _mm512_set1_ps((float)(lo - zero)), hi_f = _mm512_set1_ps((float)(hi - zero));
        const __m512i z = _mm512_set1_epi32(zero);
        for (i = 0; i < n; i += 16) {
            const __mmask16 m = lanes(n - i);
            __m512 v = _mm512_add_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), step), half);
            v = _mm512_min_ps(_mm512_max_ps(v, lo_f), hi_f);
            store_narrow16(_mm512_add_epi32(_mm512_cvt_roundps_epi32(v, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC), z),
                           (char *)out + i * elem, out_bits, m);
        }
    }
    return top;
}

/* ---- Top k ---- */

/* A lower bound of the k-th largest of v[0 .. full) (full a multiple of 16, at least 32 x
 * streams): the k-th largest of 16 x streams lane maxima, streams = ceil(k / 16). The vectors
 * of v go round 2 x streams accumulators (two a stream, so that no maximum waits on the one
 * before); lane j of stream s gathers lane j of its two. Each maximum is a different element, so
 * k elements reach the bound. The k-th largest of the maxima is the least of those that fewer
 * than k maxima exceed: counted for all lanes at once, a maximum at a time. */
static float top_k_bound(const float *v, uint32_t full, uint32_t k)
{
    const uint32_t streams = (k + 15) / 16, n_acc = 2 * streams, n_max = 16 * streams;
    const __m512i one = _mm512_set1_epi32(1), k_v = _mm512_set1_epi32((int32_t)k);
    __m512 acc[2 * KF_MAX_TOP_K / 16], low = _mm512_set1_ps(INFINITY);
    float maxima[KF_MAX_TOP_K], lows[16], bound = INFINITY;
    uint32_t e, s, i;
    if (streams == 1) { /* k <= 16: the same rounds, the accumulators named to stay in registers */
        __m512 a0 = _mm512_loadu_ps(v), a1 = _mm512_loadu_ps(v + 16);
        for (e = 32; e + 32 <= full; e += 32) {
            a0 = _mm512_max_ps(a0, _mm512_loadu_ps(v + e));
            a1 = _mm512_max_ps(a1, _mm512_loadu_ps(v + e + 16));
        }
        if (e < full)
            a0 = _mm512_max_ps(a0, _mm512_loadu_ps(v + e));
        _mm512_storeu_ps(maxima, _mm512_max_ps(a0, a1));
    } else {
        for (s = 0; s < n_acc; s++)
            acc[s] = _mm512_loadu_ps(v + 16 * s);
        for (e = 16 * n_acc, s = 0; e < full; e += 16, s = s + 1 == n_acc ? 0 : s + 1)
            acc[s] = _mm512_max_ps(acc[s], _mm512_loadu_ps(v + e));
        for (s = 0; s < streams; s++)
            _mm512_storeu_ps(maxima + 16 * s, _mm512_max_ps(acc[s], acc[s + streams]));
    }
    for (s = 0; s < streams; s++) {
        const __m512 m = _mm512_loadu_ps(maxima + 16 * s);
        __m512i above = _mm512_setzero_si512();
        for (i = 0; i < n_max; i++)
            above = _mm512_mask_add_epi32(above, _mm512_cmp_ps_mask(_mm512_set1_ps(maxima[i]), m, _CMP_GT_OQ), above, one);
        low = _mm512_mask_min_ps(low, _mm512_cmplt_epi32_mask(above, k_v), low, m);
    }
    _mm512_storeu_ps(lows, low);
    for (i = 0; i < 16; i++)
        bound = lows[i] < bound ? lows[i] : bound;
    return bound;
}

void kf_top_k_avx512(const float *v, uint32_t n, uint32_t k, uint32_t *idx)
{
    float best[KF_MAX_TOP_K], bound;
    uint32_t count = 0, e;
    if (n <= 16) { /* by rank, as the AVX2 path: value e's place is the number of values above it
                      plus the equal ones before it, counted against all n at once */
        const __mmask16 in = lanes(n);
        const __m512 all = _mm512_maskz_loadu_ps(in, v);
        for (e = 0; e < n; e++) {
            const __m512 x = _mm512_set1_ps(v[e]);
            const uint32_t above = in & _mm512_cmp_ps_mask(all, x, _CMP_GT_OQ);
            const uint32_t equal = in & _mm512_cmp_ps_mask(all, x, _CMP_EQ_OQ);
            const uint32_t rank = kf_popcount(above | (equal & ((1u << e) - 1)));
            if (rank < k)
                idx[rank] = e;
        }
        return;
    }
    if (n < 32 * ((k + 15) / 16)) { /* too few for the bound's accumulators */
        kf_top_k_scalar(v, n, k, idx);
        return;
    }
    bound = top_k_bound(v, n / 16 * 16, k);
    for (e = 0; e < n; e += 16) {
        /* Until k values are held, those below the bound are skipped; then those not above the
         * k-th at the vector's start (it only rises). The rest are offered in order. */
        const __mmask16 in = lanes(n - e);
        const __m512 x = _mm512_maskz_loadu_ps(in, v + e);
        uint32_t pass = in & (count < k ? _mm512_cmp_ps_mask(x, _mm512_set1_ps(bound), _CMP_GE_OQ)
                                        : _mm512_cmp_ps_mask(x, _mm512_set1_ps(best[k - 1]), _CMP_GT_OQ));
        for (; pass; pass &= pass - 1) {
            const uint32_t j = e + kf_lowest_bit(pass);
            kf_top_k_offer(best, idx, &count, k, v[j], j);
        }
    }
}

/* AVX-512 peaks: sixteen chains of vpdpbusd (64 uint8 x int8 multiply-accumulates) or vpdpwssd
 * (32 int16 x int16), or of a multiply then an add on sixteen floats (the float kernels' FANN
 * arithmetic, never fused). One function per instruction: each loop's sums stay in registers. */
#define CHAINS16(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
#define PEAK_LOOP(name, dp)                                                                                        \
    static uint32_t name(__m512i a, __m512i b, uint64_t rounds)                                                    \
    {                                                                                                              \
        __m512i total = _mm512_setzero_si512();                                                                    \
        int32_t out[16];                                                                                           \
        uint64_t r;                                                                                                \
        CHAINS16(DECLARE)                                                                                          \
        for (r = 0; r < rounds; r++) {                                                                             \
            CHAINS16(dp)                                                                                           \
        }                                                                                                          \
        CHAINS16(FOLD)                                                                                             \
        _mm512_storeu_si512((void *)out, total);                                                                   \
        return (uint32_t)out[0];                                                                                   \
    }
#define DECLARE(k) __m512i c##k = _mm512_set1_epi32(k);
#define STEP8(k) c##k = _mm512_dpbusd_epi32(c##k, a, b);
#define STEP16(k) c##k = _mm512_dpwssd_epi32(c##k, a, b);
#define FOLD(k) total = _mm512_xor_si512(total, c##k);
PEAK_LOOP(peak_dpbusd, STEP8)
PEAK_LOOP(peak_dpwssd, STEP16)
#undef DECLARE
#undef STEP8
#undef STEP16
#undef FOLD

static uint32_t peak_mul_add(uint64_t rounds, uint32_t seed)
{
    const __m512 b = _mm512_set1_ps(1e-9f + (float)(seed & 1) * 1e-12f);
    __m512 total = _mm512_setzero_ps();
    float out[16];
    uint64_t r;
    uint32_t bits;
#define DECLARE(k) __m512 c##k = _mm512_set1_ps((float)(k + 1));
#define STEP(k) c##k = _mm512_add_ps(c##k, _mm512_mul_ps(c##k, b));
#define FOLD(k) total = _mm512_add_ps(total, c##k);
    CHAINS16(DECLARE)
    for (r = 0; r < rounds; r++) {
        CHAINS16(STEP)
    }
    CHAINS16(FOLD)
#undef DECLARE
#undef STEP
#undef FOLD
    _mm512_storeu_ps(out, total);
    memcpy(&bits, &out[0], sizeof bits);
    return bits;
}

uint64_t kf_peak_avx512(uint32_t kind, uint64_t rounds, uint32_t *sink)
{
    const __m512i a = _mm512_set1_epi32((int32_t)(*sink & 0x7f7f7f7fu)), b = _mm512_set1_epi32((int32_t)(*sink >> 1 & 0x3f3f3f3fu));
    if (kind == KF_PEAK_FLOAT) {
        *sink = peak_mul_add(rounds, *sink);
        return rounds * 16 * 16;
    }
    *sink = kind == KF_PEAK_INT8 ? peak_dpbusd(a, b, rounds) : peak_dpwssd(a, b, rounds);
    return rounds * 16 * (kind == KF_PEAK_INT8 ? 64 : 32);
}

const kf_kernels kf_kernels_avx512 = {
    .q8_matmul = kf_q8_matmul_avx512,
    .q16_matmul = kf_q16_matmul_avx512,
    .epilogue_direct = kf_epilogue_direct_avx512,
    .epilogue_table = kf_epilogue_table_avx512,
    .quantize = kf_quantize_avx512,
    .gate_scores = kf_gate_scores_avx2,
    .dot8_fann = kf_dot8_fann_avx2,
    .dot_packed_fann = kf_dot16_packed_fann_avx512,
    .packed_rows = 16,
    .quantize_dynamic = kf_quantize_dynamic_avx512,
    .top_k = kf_top_k_avx512,
    .fann_sums = kf_fann_sums_avx512,
    .fann_activate = kf_fann_activate_avx512,
    .exp_model = kf_exp_model_avx512,
    .fann_backprop = kf_fann_backprop_avx512,
    .fann_slopes = kf_fann_slopes_avx512,
    .fann_derive = kf_fann_derive_avx512,
    .transpose = kf_transpose_avx2,
    .fann_error_tanh = kf_fann_error_tanh_avx512,
    .peak = kf_peak_avx512,
};
