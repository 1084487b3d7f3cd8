/* AVX2 (with FMA) kernels (kernels.h) and their table; the Q8 products are in q8_avx2.c. int16
 * weights and activations are multiplied with _mm256_madd_epi16, exact: the same int32 sums as
 * the scalar reference. */
#include "kernels.h"

#include "kfann.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

#if defined(_MSC_VER) && !defined(__clang__)
#define KF_ALWAYS_INLINE static __forceinline
#else
#define KF_ALWAYS_INLINE static inline __attribute__((always_inline))
#endif

/* One row block's 16 sums (lo: rows 0-7, hi: 8-15, left alone unless upper) for count samples
 * (at most 4) from x on. Inlined with count 4, the loop over samples unrolls and the eight sums
 * stay in registers (with count unknown, gcc kept three samples' sums on the stack: a store and
 * a load a group); with upper a constant, the unwanted half's instructions go too. */
KF_ALWAYS_INLINE void q16_block(const int16_t *wr, uint32_t groups, const int16_t *x, size_t x_stride, size_t count,
                                int upper, int32_t *out, size_t acc_stride)
{
    __m256i lo[4], hi[4];
    uint32_t g;
    size_t k;
    for (k = 0; k < 4; k++)
        lo[k] = hi[k] = _mm256_setzero_si256();
    for (g = 0; g < groups; g++) {
        const int16_t *block = wr + (size_t)g * KF_ROWS * KF_COLS16;
        const __m256i w0 = _mm256_loadu_si256((const __m256i *)block);
        const __m256i w1 = upper ? _mm256_loadu_si256((const __m256i *)(block + 16)) : w0;
        for (k = 0; k < count; k++) {
            int32_t pair;
            __m256i v;
            memcpy(&pair, x + k * x_stride + (size_t)g * KF_COLS16, sizeof pair);
            v = _mm256_set1_epi32(pair);
            lo[k] = _mm256_add_epi32(lo[k], _mm256_madd_epi16(w0, v));
            if (upper)
                hi[k] = _mm256_add_epi32(hi[k], _mm256_madd_epi16(w1, v));
        }
    }
    for (k = 0; k < count; k++) {
        _mm256_storeu_si256((__m256i *)(out + k * acc_stride), lo[k]);
        if (upper)
            _mm256_storeu_si256((__m256i *)(out + k * acc_stride + 8), hi[k]);
    }
}

static void q16_matmul(const int16_t *x, size_t x_stride, size_t nb, const int16_t *w, uint32_t n_out,
                       uint32_t n_in_pad, int32_t *acc, size_t acc_stride)
{
    const uint32_t groups = n_in_pad / KF_COLS16;
    uint32_t rb;
    size_t s;
    for (rb = 0; rb < KF_ROW_BLOCKS(n_out); rb++) {
        const int16_t *wr = w + (size_t)rb * groups * KF_ROWS * KF_COLS16;
        int32_t *out = acc + (size_t)rb * KF_ROWS;
        const int upper = rb * KF_ROWS + 8 < n_out; /* a row of the second half is wanted */
        for (s = 0; s + 4 <= nb; s += 4)
            if (upper)
                q16_block(wr, groups, x + s * x_stride, x_stride, 4, 1, out + s * acc_stride, acc_stride);
            else
                q16_block(wr, groups, x + s * x_stride, x_stride, 4, 0, out + s * acc_stride, acc_stride);
        if (s < nb)
            q16_block(wr, groups, x + s * x_stride, x_stride, nb - s, upper, out + s * acc_stride, acc_stride);
    }
}

/* One half of the lanes (even or odd elements, each in the low half of a 64-bit lane):
 * ((sum * mult + 2^(shift-1)) >> shift) - t0, clamped to [0, last], in 64-bit integers. The
 * arithmetic right shift AVX2 lacks is a logical one of the value plus 2^63, minus 2^(63-shift):
 * exact, since 2^shift divides 2^63. */
static inline __m256i requant_half(__m256i sum, __m256i mult, __m256i shift, __m256i t0, __m256i last)
{
    const __m256i one = _mm256_set1_epi64x(1), top = _mm256_set1_epi64x(INT64_MIN), zero = _mm256_setzero_si256();
    const __m256i round = _mm256_sllv_epi64(one, _mm256_sub_epi64(shift, one));
    __m256i t = _mm256_add_epi64(_mm256_add_epi64(_mm256_mul_epi32(sum, mult), round), top);
    t = _mm256_sub_epi64(_mm256_srlv_epi64(t, shift), _mm256_srlv_epi64(top, shift));
    t = _mm256_sub_epi64(t, t0);
    t = _mm256_andnot_si256(_mm256_cmpgt_epi64(zero, t), t);
    return _mm256_blendv_epi8(t, last, _mm256_cmpgt_epi64(t, last));
}

/* Eight int32 values in [0, 255] or [-32768, 32767] stored as uint8 or int16. */
static inline void store_narrow(__m256i v, void *out, uint32_t out_bits)
{
    const __m128i lo = _mm256_castsi256_si128(v), hi = _mm256_extracti128_si256(v, 1);
    if (out_bits == 8) {
        const __m128i w = _mm_packs_epi32(lo, hi);
        _mm_storel_epi64((__m128i *)out, _mm_packus_epi16(w, w));
    } else {
        _mm_storeu_si128((__m128i *)out, _mm_packs_epi32(lo, hi));
    }
}

/* Eight outputs' direct table indices as requant_half gives them, for outputs whose shifts are
 * all 33 or more, in 32-bit lanes (the AVX-512 epilogue's direct_index32): with P = sum * mult =
 * hi 2^32 + lo, (P + 2^(shift-1)) >> shift = (hi + 2^(shift-33)) >> (shift-32) exactly, as lo /
 * 2^32 < 1 cannot carry hi + 2^(shift-33), an integer, past a multiple of 2^(shift-32). |P| <
 * 2^62 keeps hi within int32; the index is clamped to [t0, top] (top = min(t0 + last,
 * INT32_MAX)) before t0 is taken off, so that no lane overflows. mult_odd: mult's odd elements
 * in the low halves of the 64-bit lanes; round and sh32 from shift32_operands. */
static inline __m256i direct_index32(__m256i sum, __m256i mult, __m256i mult_odd, __m256i round, __m256i sh32,
                                     __m256i t0, __m256i top)
{
    const __m256i even = _mm256_mul_epi32(sum, mult), odd = _mm256_mul_epi32(_mm256_srli_epi64(sum, 32), mult_odd);
    /* high halves: the even products' moved down from their odd dwords, the odd ones' in place */
    const __m256i hi = _mm256_blend_epi32(_mm256_shuffle_epi32(even, 0xb1), odd, 0xaa);
    const __m256i t = _mm256_srav_epi32(_mm256_add_epi32(hi, round), sh32);
    return _mm256_sub_epi32(_mm256_min_epi32(_mm256_max_epi32(t, t0), top), t0);
}

/* direct_index32's per-output operands from the shifts: 2^(shift-33) and shift-32. */
static inline void shift32_operands(__m256i sh, __m256i *round, __m256i *sh32)
{
    *round = _mm256_sllv_epi32(_mm256_set1_epi32(1), _mm256_sub_epi32(sh, _mm256_set1_epi32(33)));
    *sh32 = _mm256_sub_epi32(sh, _mm256_set1_epi32(32));
}

/* Eight outputs' table entries, stored as uint8 (four bytes read at each index of the padded
 * byte table, the first kept) or int16. */
static inline void lookup8(__m256i idx, const kf_qtable *tab, void *out, uint32_t out_bits)
{
    const __m256i v = out_bits == 8 ? _mm256_and_si256(_mm256_i32gather_epi32((const int *)tab->bytes, idx, 1),
                                                       _mm256_set1_epi32(0xff))
                                    : _mm256_i32gather_epi32((const int *)tab->knots, idx, 4);
    store_narrow(v, out, out_bits);
}

/* Eight uint8 outputs bytes[at[0]] .. bytes[at[7]] by scalar loads, stored as one 8-byte word
 * (x86 is little-endian: byte l of the word goes to out[l]): cheaper than a gather on Zen 4 when
 * the indices were stored KF_KNOTS_AHEAD samples before. */
static inline void lookup_bytes8(const uint32_t *at, const uint8_t *bytes, char *out)
{
    const volatile uint32_t *in_memory = at; /* scalar loads, not lane extractions or a gather */
    uint64_t word = 0;
    int l;
    for (l = 0; l < 8; l++)
        word |= (uint64_t)bytes[in_memory[l]] << (8 * l);
    memcpy(out, &word, sizeof word);
}

/* Eight outputs at a time for every sample (their operands loaded once), the last n % 8 by the
 * scalar loop. */
static void epilogue_direct(const int32_t *acc, size_t acc_stride, size_t nb, const kf_qrequant *rq,
                            const kf_qtable *tab, void *out, size_t out_stride, uint32_t out_bits)
{
    const int32_t *bias = rq->bias, *mult = rq->mult, t0 = tab->t0;
    const uint8_t *shift = rq->shift;
    const uint32_t n = rq->n, last = tab->last, full = n / 8 * 8;
    kf_qrequant tail;
    const int64_t top = (int64_t)t0 + last;
    const __m256i low = _mm256_set1_epi64x(0xffffffff), t0v = _mm256_set1_epi64x(t0), lastv = _mm256_set1_epi64x(last);
    const __m256i t0_32 = _mm256_set1_epi32(t0), top_32 = _mm256_set1_epi32(top > INT32_MAX ? INT32_MAX : (int32_t)top);
    const size_t elem = out_bits / 8;
    uint32_t j;
    size_t s;
    for (j = 0; j < full; j += 8) {
        const __m256i b = _mm256_loadu_si256((const __m256i *)(bias + j)), m = _mm256_loadu_si256((const __m256i *)(mult + j));
        const __m256i sh = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(shift + j)));
        const int32_t *a = acc + j;
        char *o = (char *)out + j * elem;
        if (_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(33), sh))) == 0) {
            const __m256i m_odd = _mm256_srli_epi64(m, 32);
            __m256i round, sh32;
            shift32_operands(sh, &round, &sh32);
            if (out_bits == 8 && nb > 1) { /* bytes, two samples or more: scalar lookups (as on AVX-512) */
                for (s = 0; s < nb; s += KF_KNOTS_AHEAD) {
                    const size_t count = nb - s < KF_KNOTS_AHEAD ? nb - s : KF_KNOTS_AHEAD;
                    uint32_t at[KF_KNOTS_AHEAD][8];
                    size_t u;
                    for (u = 0; u < count; u++) {
                        const __m256i sum = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(a + (s + u) * acc_stride)), b);
                        _mm256_storeu_si256((__m256i *)at[u], direct_index32(sum, m, m_odd, round, sh32, t0_32, top_32));
                    }
                    for (u = 0; u < count; u++)
                        lookup_bytes8(at[u], tab->bytes, o + (s + u) * out_stride);
                }
                continue;
            }
            for (s = 0; s < nb; s++) {
                const __m256i sum = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(a + s * acc_stride)), b);
                lookup8(direct_index32(sum, m, m_odd, round, sh32, t0_32, top_32), tab, o + s * out_stride * elem, out_bits);
            }
            continue;
        }
        for (s = 0; s < nb; s++) {
            const __m256i sum = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(a + s * acc_stride)), b);
            const __m256i even = requant_half(sum, m, _mm256_and_si256(sh, low), t0v, lastv);
            const __m256i odd = requant_half(_mm256_srli_epi64(sum, 32), _mm256_srli_epi64(m, 32), _mm256_srli_epi64(sh, 32),
                                             t0v, lastv);
            /* both halves are within [0, last] < 2^31: interleave them back into element order */
            lookup8(_mm256_or_si256(even, _mm256_slli_epi64(odd, 32)), tab, o + s * out_stride * elem, out_bits);
        }
    }
    tail.bias = bias + full;
    tail.mult = mult + full;
    tail.shift = shift + full;
    tail.n = n - full;
    if (tail.n > 0)
        kf_epilogue_direct_scalar(acc + full, acc_stride, nb, &tail, tab, (char *)out + full * elem, out_stride, out_bits);
}

/* v >> s for signed 64-bit lanes (AVX2 has no arithmetic 64-bit shift): a logical shift of
 * v + 2^63, minus 2^63 >> s; exact for every v and s in 0 .. 63. */
static inline __m256i sra64(__m256i v, __m256i s)
{
    const __m256i top = _mm256_set1_epi64x(INT64_MIN);
    return _mm256_sub_epi64(_mm256_srlv_epi64(_mm256_add_epi64(v, top), s), _mm256_srlv_epi64(top, s));
}

static inline __m256i min64(__m256i a, __m256i b)
{
    return _mm256_blendv_epi8(a, b, _mm256_cmpgt_epi64(a, b));
}

static inline __m256i max64(__m256i a, __m256i b)
{
    return _mm256_blendv_epi8(a, b, _mm256_cmpgt_epi64(b, a));
}

/* knots[i] and knots[i + 1] of four outputs, one pair per 64-bit lane (half the loads of two
 * gathers of 32-bit values); at i = last the second is the table's padding (kernels.h), which the
 * interpolation weighs by f = 0. */
static inline __m256i knot_pairs(__m128i i, const int32_t *knots)
{
    return _mm256_i32gather_epi64((const long long *)knots, i, 4);
}

/* Two outputs' knot pairs, one per 64-bit lane. */
static inline __m128i two_pairs(const int32_t *knots, uint32_t a, uint32_t b)
{
    int64_t pa, pb;
    memcpy(&pa, knots + a, sizeof pa);
    memcpy(&pb, knots + b, sizeof pb);
    return _mm_set_epi64x(pb, pa);
}

/* knot_pairs for i = at[0], at[2], at[4], at[6], by one 8-byte load each: cheaper than the
 * gather on Zen 4 once the indices were stored well before (KF_KNOTS_AHEAD). */
static inline __m256i knot_pairs_at(const int32_t *knots, const uint32_t *at)
{
    const volatile uint32_t *in_memory = at; /* scalar loads, not lane extractions */
    return _mm256_inserti128_si256(_mm256_castsi128_si256(two_pairs(knots, in_memory[0], in_memory[2])),
                                   two_pairs(knots, in_memory[4], in_memory[6]), 1);
}

/* The interpolation of kf_qtable_value over four pairs of knots: (a (2^k - f) + b f + round) >>
 * bits in 64-bit lanes, g = 2^k - f and f in the low halves (vpmuldq reads those, signed). */
static inline __m256i interpolate(__m256i pairs, __m256i g, __m256i f, __m256i round, __m256i bits)
{
    const __m256i v = _mm256_add_epi64(_mm256_mul_epi32(pairs, g), _mm256_mul_epi32(_mm256_srli_epi64(pairs, 32), f));
    return sra64(_mm256_add_epi64(v, round), bits);
}

/* Four outputs of kf_epilogue_table_fn, one per 64-bit lane. */
static inline __m256i table_quarter(const int32_t *acc, const int32_t *bias, const int32_t *mult, const uint8_t *shift,
                                    const kf_qtable *t)
{
    const __m256i one = _mm256_set1_epi64x(1), k = _mm256_set1_epi64x(t->seg_shift);
    const __m256i step = _mm256_sllv_epi64(one, k), span = _mm256_set1_epi64x((int64_t)t->last << t->seg_shift);
    const __m256i bits = _mm256_set1_epi64x(t->seg_shift + KF_QTABLE_FRAC_BITS);
    const __m128i sum = _mm_add_epi32(_mm_loadu_si128((const __m128i *)acc), _mm_loadu_si128((const __m128i *)bias));
    int32_t shifts;
    __m256i sh, v, rel, i, f;
    memcpy(&shifts, shift, sizeof shifts);
    sh = _mm256_cvtepu8_epi64(_mm_cvtsi32_si128(shifts));
    v = _mm256_mul_epi32(_mm256_cvtepi32_epi64(sum), _mm256_cvtepi32_epi64(_mm_loadu_si128((const __m128i *)mult)));
    v = sra64(_mm256_add_epi64(v, _mm256_sllv_epi64(one, _mm256_sub_epi64(sh, one))), sh);
    rel = min64(max64(_mm256_sub_epi64(v, _mm256_set1_epi64x(t->t0)), _mm256_setzero_si256()), span);
    i = _mm256_srlv_epi64(rel, k);
    f = _mm256_and_si256(rel, _mm256_sub_epi64(step, one));
    /* the four indices (below 2^17) from the low halves of the 64-bit lanes */
    i = _mm256_permutevar8x32_epi32(i, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6));
    v = interpolate(knot_pairs(_mm256_castsi256_si128(i), t->knots), _mm256_sub_epi64(step, f), f,
                    _mm256_sllv_epi64(one, _mm256_sub_epi64(bits, one)), bits);
    return min64(max64(v, _mm256_set1_epi64x(t->out_lo)), _mm256_set1_epi64x(t->out_hi));
}

/* Eight outputs j .. j + 7 of kf_epilogue_table_fn whose shifts sh are all 33 or more (seg_shift
 * at most 30), for nb samples: rel = clamp(t - t0, 0, last << seg_shift) (direct_index32 with
 * top = min(t0 + (last << seg_shift), INT32_MAX)), an unsigned 32-bit value (t and t0 are int32,
 * so t - t0 < 2^32), then table_quarter's interpolation, its products and rounding shift in
 * 64-bit lanes (|a| (2^k - f) + |b| f < 2^(31+k)) for the even and the odd elements; the shifted
 * value lies within int32, so the clamp runs in 32-bit lanes. The knot indices of
 * KF_KNOTS_AHEAD samples are stored before the first of their pairs is loaded. */
static void table_column32(const int32_t *acc, size_t acc_stride, size_t nb, const kf_qrequant *rq, uint32_t j,
                           __m256i sh, const kf_qtable *t, char *out, size_t out_stride, uint32_t out_bits)
{
    const __m256i one = _mm256_set1_epi32(1), k = _mm256_set1_epi32((int32_t)t->seg_shift);
    const __m256i step = _mm256_sllv_epi32(one, k), low = _mm256_sub_epi32(step, one);
    const __m256i bits = _mm256_set1_epi64x(t->seg_shift + KF_QTABLE_FRAC_BITS);
    const __m256i round = _mm256_sllv_epi64(_mm256_set1_epi64x(1), _mm256_sub_epi64(bits, _mm256_set1_epi64x(1)));
    const int64_t top = (int64_t)t->t0 + ((int64_t)t->last << t->seg_shift);
    const __m256i t0 = _mm256_set1_epi32(t->t0), top32 = _mm256_set1_epi32(top > INT32_MAX ? INT32_MAX : (int32_t)top);
    const __m256i out_lo = _mm256_set1_epi32(t->out_lo), out_hi = _mm256_set1_epi32(t->out_hi);
    const __m256i b = _mm256_loadu_si256((const __m256i *)(rq->bias + j)), m = _mm256_loadu_si256((const __m256i *)(rq->mult + j));
    const __m256i m_odd = _mm256_srli_epi64(m, 32);
    const size_t elem = out_bits / 8;
    __m256i rv, sv;
    size_t s0, u;
    shift32_operands(sh, &rv, &sv);
    for (s0 = 0; s0 < nb; s0 += KF_KNOTS_AHEAD) {
        const size_t count = nb - s0 < KF_KNOTS_AHEAD ? nb - s0 : KF_KNOTS_AHEAD;
        uint32_t at[KF_KNOTS_AHEAD][8];
        __m256i f[KF_KNOTS_AHEAD];
        for (u = 0; u < count; u++) {
            const __m256i sum = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(acc + (s0 + u) * acc_stride + j)), b);
            const __m256i rel = direct_index32(sum, m, m_odd, rv, sv, t0, top32);
            _mm256_storeu_si256((__m256i *)at[u], _mm256_srlv_epi32(rel, k));
            f[u] = _mm256_and_si256(rel, low);
        }
        for (u = 0; u < count; u++) {
            const __m256i g = _mm256_sub_epi32(step, f[u]);
            /* even elements' pairs against the low halves of g and f, odd ones' against the high */
            const __m256i even = interpolate(knot_pairs_at(t->knots, at[u]), g, f[u], round, bits);
            const __m256i odd = interpolate(knot_pairs_at(t->knots, at[u] + 1), _mm256_srli_epi64(g, 32),
                                            _mm256_srli_epi64(f[u], 32), round, bits);
            /* each value in the low half of its 64-bit lane: back into element order */
            const __m256i v = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xaa);
            store_narrow(_mm256_min_epi32(_mm256_max_epi32(v, out_lo), out_hi), out + ((s0 + u) * out_stride + j) * elem,
                         out_bits);
        }
    }
}

/* Eight outputs at a time for every sample, as epilogue_direct; the last n % 8 by the scalar
 * loop. */
static void epilogue_table(const int32_t *acc, size_t acc_stride, size_t nb, const kf_qrequant *rq,
                           const kf_qtable *table, void *out, size_t out_stride, uint32_t out_bits)
{
    const kf_qrequant r = *rq; /* copies: the stores through out could alias the structures */
    const kf_qtable t = *table;
    const __m256i low = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7); /* the low halves of four lanes first */
    const uint32_t full = r.n / 8 * 8;
    const size_t elem = out_bits / 8;
    kf_qrequant tail;
    uint32_t j;
    size_t s;
    for (j = 0; j < full; j += 8) {
        const __m256i sh = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(r.shift + j)));
        if (t.seg_shift <= 30 && _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(33), sh))) == 0) {
            table_column32(acc, acc_stride, nb, &r, j, sh, &t, (char *)out, out_stride, out_bits);
            continue;
        }
        for (s = 0; s < nb; s++) {
            const int32_t *a = acc + s * acc_stride + j;
            const __m256i lo = _mm256_permutevar8x32_epi32(table_quarter(a, r.bias + j, r.mult + j, r.shift + j, &t), low);
            const __m256i hi = _mm256_permutevar8x32_epi32(
                table_quarter(a + 4, r.bias + j + 4, r.mult + j + 4, r.shift + j + 4, &t), low);
            store_narrow(_mm256_permute2x128_si256(lo, hi, 0x20), (char *)out + (s * out_stride + j) * elem, out_bits);
        }
    }
    tail.bias = r.bias + full;
    tail.mult = r.mult + full;
    tail.shift = r.shift + full;
    tail.n = r.n - full;
    if (tail.n > 0)
        kf_epilogue_table_scalar(acc + full, acc_stride, nb, &tail, &t, (char *)out + full * elem, out_stride, out_bits);
}

static int quantize(const float *x, size_t nb, const kf_qinput *q, void *out, size_t out_stride, uint32_t out_bits)
{
    const __m256 half = _mm256_set1_ps(0.5f);
    const __m256i exponent = _mm256_set1_epi32(0x7f800000);
    const size_t elem = out_bits / 8;
    const uint32_t n = q->n, full = n / 8 * 8;
    __m256i bad = _mm256_setzero_si256();
    int tail_bad = 0;
    size_t s;
    uint32_t i;
    for (s = 0; s < nb; s++) {
        const float *xs = x + s * n;
        char *os = (char *)out + s * out_stride * elem;
        for (i = 0; i < full; i += 8) {
            const __m256 xv = _mm256_loadu_ps(xs + i);
            if (i % 16 == 0) /* one a cache line */
                _mm_prefetch((const char *)((uintptr_t)(xs + i) + KF_PREFETCH_BYTES), _MM_HINT_T0);
            /* the same float operations as the scalar version: multiply, add, clamp, floor */
            __m256 v = _mm256_add_ps(_mm256_mul_ps(xv, _mm256_loadu_ps(q->inv + i)), half);
            bad = _mm256_or_si256(bad, _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_castps_si256(xv), exponent), exponent));
            v = _mm256_min_ps(_mm256_max_ps(v, _mm256_loadu_ps(q->lo_f + i)), _mm256_loadu_ps(q->hi_f + i));
            store_narrow(_mm256_add_epi32(_mm256_cvttps_epi32(_mm256_floor_ps(v)), _mm256_loadu_si256((const __m256i *)(q->zero + i))),
                         os + i * elem, out_bits);
        }
        if (full < n) {
            const kf_qinput tail = {q->inv + full, q->lo_f + full, q->hi_f + full, q->zero + full, n - full};
            tail_bad |= kf_quantize_scalar(xs + full, 1, &tail, os + full * elem, 0, out_bits);
        }
    }
    return tail_bad || !_mm256_testz_si256(bad, bad);
}

/* kf_quantize_step_scalar's operations on eight values: x * step + 0.5, clamped to [lo_f, hi_f],
 * floored, plus zero. */
static inline __m256i quantize8(__m256 x, __m256 step, __m256 lo_f, __m256 hi_f, __m256i zero)
{
    const __m256 v = _mm256_add_ps(_mm256_mul_ps(x, step), _mm256_set1_ps(0.5f));
    return _mm256_add_epi32(_mm256_cvttps_epi32(_mm256_floor_ps(_mm256_min_ps(_mm256_max_ps(v, lo_f), hi_f))), zero);
}

uint32_t kf_quantize_dynamic_avx2(const float *x, uint32_t n, int32_t qmax, int32_t zero, int32_t lo, int32_t hi,
                                  void *out, uint32_t out_bits)
{
    const __m256i magnitude = _mm256_set1_epi32(0x7fffffff);
    const size_t elem = out_bits / 8;
    __m256i m0 = _mm256_setzero_si256(), m1 = m0;
    __m128i m;
    uint32_t top, i;
    /* the largest |x| as an unsigned maximum of bit patterns (as the scalar version) */
    for (i = 0; i + 16 <= n; i += 16) {
        m0 = _mm256_max_epu32(m0, _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(x + i)), magnitude));
        m1 = _mm256_max_epu32(m1, _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(x + i + 8)), magnitude));
    }
    m0 = _mm256_max_epu32(m0, m1);
    m = _mm_max_epu32(_mm256_castsi256_si128(m0), _mm256_extracti128_si256(m0, 1));
    m = _mm_max_epu32(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(1, 0, 3, 2)));
    m = _mm_max_epu32(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(2, 3, 0, 1)));
    top = kf_abs_max_bits_scalar(x + i, n - i, (uint32_t)_mm_cvtsi128_si32(m));
    if (top >= 0x7f800000u)
        return top;
    {
        const float step = kf_dynamic_step(top, qmax);
        const __m256 stepv = _mm256_set1_ps(step);
        const __m256 lo_f = _mm256_set1_ps((float)(lo - zero)), hi_f = _mm256_set1_ps((float)(hi - zero));
        const __m256i z = _mm256_set1_epi32(zero), order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
        i = 0;
        if (out_bits == 8) /* 32 bytes a store: the packs of four registers, then their dwords in order */
            for (; i + 32 <= n; i += 32) {
                const __m256i q01 = _mm256_packs_epi32(quantize8(_mm256_loadu_ps(x + i), stepv, lo_f, hi_f, z),
                                                       quantize8(_mm256_loadu_ps(x + i + 8), stepv, lo_f, hi_f, z));
                const __m256i q23 = _mm256_packs_epi32(quantize8(_mm256_loadu_ps(x + i + 16), stepv, lo_f, hi_f, z),
                                                       quantize8(_mm256_loadu_ps(x + i + 24), stepv, lo_f, hi_f, z));
                _mm256_storeu_si256((__m256i *)((char *)out + i),
                                    _mm256_permutevar8x32_epi32(_mm256_packus_epi16(q01, q23), order));
            }
        for (; i + 8 <= n; i += 8)
            store_narrow(quantize8(_mm256_loadu_ps(x + i), stepv, lo_f, hi_f, z), (char *)out + i * elem, out_bits);
        kf_quantize_step_scalar(x + i, n - i, step, zero, lo, hi, (char *)out + i * elem, out_bits);
    }
    return top;
}

/* The streams of top_k_bound for the k largest. */
static inline uint32_t bound_streams(uint32_t k)
{
    return k <= 16 ? 2 : (k + 7) / 8;
}

/* A lower bound of the k-th largest of v[0 .. full) (full a multiple of 8, at least 16 x
 * streams): the k-th largest of 8 x streams lane maxima, streams = max(2, ceil(k / 8)) (two at
 * least: sixteen maxima bound the k-th closely enough to skip most vectors). The vectors of v go
 * round 2 x streams accumulators (two a stream, so that no maximum waits on the one before);
 * lane j of stream s gathers lane j of its two. Each maximum is a different element, so k
 * elements reach the bound. The k-th largest of the maxima is the least of those that fewer than
 * k maxima exceed: counted for all lanes at once, a maximum at a time. */
static float top_k_bound(const float *v, uint32_t full, uint32_t k)
{
    const uint32_t streams = bound_streams(k), n_acc = 2 * streams, n_max = 8 * streams;
    const __m256i k_v = _mm256_set1_epi32((int32_t)k);
    __m256 acc[2 * KF_MAX_TOP_K / 8], low = _mm256_set1_ps(INFINITY);
    float maxima[KF_MAX_TOP_K], lows[8], bound = INFINITY;
    uint32_t e, s, i;
    if (streams == 2) { /* k <= 16: the same rounds, the accumulators named to stay in registers */
        __m256 a0 = _mm256_loadu_ps(v), a1 = _mm256_loadu_ps(v + 8), a2 = _mm256_loadu_ps(v + 16);
        __m256 a3 = _mm256_loadu_ps(v + 24);
        for (e = 32; e + 32 <= full; e += 32) {
            a0 = _mm256_max_ps(a0, _mm256_loadu_ps(v + e));
            a1 = _mm256_max_ps(a1, _mm256_loadu_ps(v + e + 8));
            a2 = _mm256_max_ps(a2, _mm256_loadu_ps(v + e + 16));
            a3 = _mm256_max_ps(a3, _mm256_loadu_ps(v + e + 24));
        }
        if (e < full)
            a0 = _mm256_max_ps(a0, _mm256_loadu_ps(v + e));
        if (e + 8 < full)
            a1 = _mm256_max_ps(a1, _mm256_loadu_ps(v + e + 8));
        if (e + 16 < full)
            a2 = _mm256_max_ps(a2, _mm256_loadu_ps(v + e + 16));
        _mm256_storeu_ps(maxima, _mm256_max_ps(a0, a2));
        _mm256_storeu_ps(maxima + 8, _mm256_max_ps(a1, a3));
    } else {
        for (s = 0; s < n_acc; s++)
            acc[s] = _mm256_loadu_ps(v + 8 * s);
        for (e = 8 * n_acc, s = 0; e < full; e += 8, s = s + 1 == n_acc ? 0 : s + 1)
            acc[s] = _mm256_max_ps(acc[s], _mm256_loadu_ps(v + e));
        for (s = 0; s < streams; s++)
            _mm256_storeu_ps(maxima + 8 * s, _mm256_max_ps(acc[s], acc[s + streams]));
    }
    for (s = 0; s < streams; s++) {
        const __m256 m = _mm256_loadu_ps(maxima + 8 * s);
        __m256i above = _mm256_setzero_si256();
        for (i = 0; i < n_max; i++) /* a true comparison is -1 */
            above = _mm256_sub_epi32(above, _mm256_castps_si256(_mm256_cmp_ps(_mm256_set1_ps(maxima[i]), m, _CMP_GT_OQ)));
        low = _mm256_blendv_ps(low, _mm256_min_ps(low, m), _mm256_castsi256_ps(_mm256_cmpgt_epi32(k_v, above)));
    }
    _mm256_storeu_ps(lows, low);
    for (i = 0; i < 8; i++)
        bound = lows[i] < bound ? lows[i] : bound;
    return bound;
}

/* The k largest of at most 16 values by rank: value e's place is the number of values above it
 * plus the equal ones before it (ties to the lower index), counted against all sixteen at once;
 * no branch depends on the values. The lanes past n hold -inf, which no finite value ties or
 * exceeds. */
static void top_k_by_rank(const float *v, uint32_t n, uint32_t k, uint32_t *idx)
{
    float padded[16];
    __m256 lo, hi;
    uint32_t e;
    for (e = 0; e < 16; e++)
        padded[e] = e < n ? v[e] : -INFINITY;
    lo = _mm256_loadu_ps(padded);
    hi = _mm256_loadu_ps(padded + 8);
    for (e = 0; e < n; e++) {
        const __m256 x = _mm256_set1_ps(v[e]);
        const uint32_t above = (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(lo, x, _CMP_GT_OQ))
                               | (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(hi, x, _CMP_GT_OQ)) << 8;
        const uint32_t equal = (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(lo, x, _CMP_EQ_OQ))
                               | (uint32_t)_mm256_movemask_ps(_mm256_cmp_ps(hi, x, _CMP_EQ_OQ)) << 8;
        const uint32_t rank = kf_popcount(above | (equal & ((1u << e) - 1)));
        if (rank < k)
            idx[rank] = e;
    }
}

void kf_top_k_avx2(const float *v, uint32_t n, uint32_t k, uint32_t *idx)
{
    const uint32_t full = n / 8 * 8;
    float best[KF_MAX_TOP_K], bound;
    uint32_t count = 0, e;
    if (n <= 16) {
        top_k_by_rank(v, n, k, idx);
        return;
    }
    if (n < 16 * bound_streams(k)) { /* too few for the bound's accumulators */
        kf_top_k_scalar(v, n, k, idx);
        return;
    }
    bound = top_k_bound(v, full, k);
    for (e = 0; e < full; e += 8) {
        /* Until k values are held, those below the bound are skipped; then those not above the
         * k-th at the vector's start (it only rises). The rest are offered in order. */
        const __m256 x = _mm256_loadu_ps(v + e);
        uint32_t pass = (uint32_t)_mm256_movemask_ps(count < k ? _mm256_cmp_ps(x, _mm256_set1_ps(bound), _CMP_GE_OQ)
                                                               : _mm256_cmp_ps(x, _mm256_set1_ps(best[k - 1]), _CMP_GT_OQ));
        for (; pass; pass &= pass - 1) {
            const uint32_t j = e + kf_lowest_bit(pass);
            kf_top_k_offer(best, idx, &count, k, v[j], j);
        }
    }
    for (; e < n; e++)
        if (v[e] >= bound)
            kf_top_k_offer(best, idx, &count, k, v[e], e);
}

/* ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7)) of the eight lanes. */
static inline float reduce8(__m256 v)
{
    const __m128 half = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1)); /* s0+s4 .. s3+s7 */
    const __m128 pairs = _mm_add_ps(half, _mm_movehl_ps(half, half));                      /* (0+4)+(2+6), (1+5)+(3+7) */
    return _mm_cvtss_f32(_mm_add_ss(pairs, _mm_shuffle_ps(pairs, pairs, 1)));
}

static inline uint32_t row_of(const uint32_t *rows, uint32_t e)
{
    return rows ? rows[e] : e;
}

void kf_gate_scores_avx2(const float *x, size_t nb, uint32_t dim, const float *gates, const uint32_t *rows,
                         uint32_t n_rows, float *scores)
{
    const uint32_t full = dim / 8 * 8, rest = dim - full;
    /* The partial last block reads zeros beyond dim: fma(0, 0, s) = s leaves those sums alone. */
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)rest), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    uint32_t e0, e, i, q;
    /* Experts in chunks that stay in cache across all nb samples; within a chunk two samples
     * by four experts at a time, each gate block loaded once for two samples. */
    const uint32_t chunk = (uint32_t)(96 * 1024 / (4 * (size_t)dim)) / 4 * 4 + 4;
    for (e0 = 0; e0 < n_rows; e0 += chunk) {
    const uint32_t e1 = n_rows - e0 < chunk ? n_rows : e0 + chunk;
    size_t s = 0;
    for (; s + 2 <= nb; s += 2) {
        const float *x0 = x + s * dim, *x1 = x0 + dim;
        for (e = e0; e < e1; e += 4) {
            const uint32_t count = e1 - e < 4 ? e1 - e : 4;
            __m256 a[4], b[4];
            const float *g[4];
            for (q = 0; q < 4; q++) {
                a[q] = b[q] = _mm256_setzero_ps();
                g[q] = gates + (size_t)row_of(rows, e + (q < count ? q : 0)) * dim;
            }
            for (i = 0; i < full; i += 8) {
                const __m256 v0 = _mm256_loadu_ps(x0 + i), v1 = _mm256_loadu_ps(x1 + i);
                for (q = 0; q < 4; q++) {
                    const __m256 gv = _mm256_loadu_ps(g[q] + i);
                    a[q] = _mm256_fmadd_ps(v0, gv, a[q]);
                    b[q] = _mm256_fmadd_ps(v1, gv, b[q]);
                }
            }
            if (rest) {
                const __m256 v0 = _mm256_maskload_ps(x0 + full, mask), v1 = _mm256_maskload_ps(x1 + full, mask);
                for (q = 0; q < 4; q++) {
                    const __m256 gv = _mm256_maskload_ps(g[q] + full, mask);
                    a[q] = _mm256_fmadd_ps(v0, gv, a[q]);
                    b[q] = _mm256_fmadd_ps(v1, gv, b[q]);
                }
            }
            for (q = 0; q < count; q++) {
                scores[s * n_rows + e + q] = reduce8(a[q]);
                scores[(s + 1) * n_rows + e + q] = reduce8(b[q]);
            }
        }
    }
    for (; s < nb; s++) {
        const float *x0 = x + s * dim;
        for (e = e0; e < e1; e += 4) {
            const uint32_t count = e1 - e < 4 ? e1 - e : 4;
            __m256 a[4];
            const float *g[4];
            for (q = 0; q < 4; q++) {
                a[q] = _mm256_setzero_ps();
                g[q] = gates + (size_t)row_of(rows, e + (q < count ? q : 0)) * dim;
            }
            for (i = 0; i < full; i += 8) {
                const __m256 v0 = _mm256_loadu_ps(x0 + i);
                for (q = 0; q < 4; q++)
                    a[q] = _mm256_fmadd_ps(v0, _mm256_loadu_ps(g[q] + i), a[q]);
            }
            if (rest) {
                const __m256 v0 = _mm256_maskload_ps(x0 + full, mask);
                for (q = 0; q < 4; q++)
                    a[q] = _mm256_fmadd_ps(v0, _mm256_maskload_ps(g[q] + full, mask), a[q]);
            }
            for (q = 0; q < count; q++)
                scores[s * n_rows + e + q] = reduce8(a[q]);
        }
    }
    }
}

/* Two rows' four floats in one register: row a in the low half, row b in the high half. */
static inline __m256 two_rows(const float *a, const float *b)
{
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(a)), _mm_loadu_ps(b), 1);
}

void kf_dot8_fann_avx2(const float *w, const float *v, uint32_t n, float out[8])
{
    const uint32_t r = n & 3u;
    const size_t row = n;
    __m256 sum = _mm256_setzero_ps();
    uint32_t i, q;
    for (i = r; i-- > 0;) { /* the leading terms, last to first */
        float wi[8];
        for (q = 0; q < 8; q++)
            wi[q] = w[q * row + i];
        sum = _mm256_add_ps(sum, _mm256_mul_ps(_mm256_loadu_ps(wi), _mm256_set1_ps(v[i])));
    }
    for (i = r; i < n; i += 4) {
        /* Products of rows (0|4), (1|5), (2|6), (3|7) with v[i..i+3], then a 4x4 transpose in
         * each half so that register j holds every row's j-th product, lane q for row q. */
        const __m128 x4 = _mm_loadu_ps(v + i);
        const __m256 x = _mm256_insertf128_ps(_mm256_castps128_ps256(x4), x4, 1);
        const __m256 p0 = _mm256_mul_ps(two_rows(w + i, w + 4 * row + i), x);
        const __m256 p1 = _mm256_mul_ps(two_rows(w + row + i, w + 5 * row + i), x);
        const __m256 p2 = _mm256_mul_ps(two_rows(w + 2 * row + i, w + 6 * row + i), x);
        const __m256 p3 = _mm256_mul_ps(two_rows(w + 3 * row + i, w + 7 * row + i), x);
        const __m256 t0 = _mm256_unpacklo_ps(p0, p1), t1 = _mm256_unpackhi_ps(p0, p1);
        const __m256 t2 = _mm256_unpacklo_ps(p2, p3), t3 = _mm256_unpackhi_ps(p2, p3);
        const __m256 c0 = _mm256_shuffle_ps(t0, t2, 0x44), c1 = _mm256_shuffle_ps(t0, t2, 0xEE);
        const __m256 c2 = _mm256_shuffle_ps(t1, t3, 0x44), c3 = _mm256_shuffle_ps(t1, t3, 0xEE);
        sum = _mm256_add_ps(sum, _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), c2), c3));
    }
    _mm256_storeu_ps(out, sum);
}

/* One block's group of four sources (i .. i+3) into its running sum, in fann_run's order. */
static inline __m256 packed_group(__m256 sum, const float *w0, const float *v)
{
    __m256 g = _mm256_mul_ps(_mm256_loadu_ps(w0), _mm256_broadcast_ss(v));
    g = _mm256_add_ps(g, _mm256_mul_ps(_mm256_loadu_ps(w0 + 8), _mm256_broadcast_ss(v + 1)));
    g = _mm256_add_ps(g, _mm256_mul_ps(_mm256_loadu_ps(w0 + 16), _mm256_broadcast_ss(v + 2)));
    g = _mm256_add_ps(g, _mm256_mul_ps(_mm256_loadu_ps(w0 + 24), _mm256_broadcast_ss(v + 3)));
    return _mm256_add_ps(sum, g);
}

/* Blocks four at a time: independent sums in flight hide the additions' latency (two left C
 * 768-256-64 at batch 1 6% slower; six spill registers). Past the last block the first of the
 * four is repeated, and only the real ones are stored. */
#define PACKED_BLOCKS 4
void kf_dot8_packed_fann_avx2(const float *w, const float *v, uint32_t n, uint32_t blocks, float *out)
{
    const size_t block = (size_t)8 * n;
    uint32_t b, i, k;
    for (b = 0; b < blocks; b += PACKED_BLOCKS) {
        const uint32_t real = blocks - b < PACKED_BLOCKS ? blocks - b : PACKED_BLOCKS;
        const float *wk[PACKED_BLOCKS];
        __m256 s[PACKED_BLOCKS];
        for (k = 0; k < PACKED_BLOCKS; k++) {
            wk[k] = w + (b + (k < real ? k : 0)) * block;
            s[k] = _mm256_setzero_ps();
        }
        for (i = n & 3u; i-- > 0;) { /* the leading terms, last to first */
            const __m256 vi = _mm256_broadcast_ss(v + i);
            for (k = 0; k < PACKED_BLOCKS; k++)
                s[k] = _mm256_add_ps(s[k], _mm256_mul_ps(_mm256_loadu_ps(wk[k] + (size_t)i * 8), vi));
        }
        for (i = n & 3u; i < n; i += 4)
            for (k = 0; k < PACKED_BLOCKS; k++)
                s[k] = packed_group(s[k], wk[k] + (size_t)i * 8, v + i);
        for (k = 0; k < real; k++)
            _mm256_storeu_ps(out + (size_t)(b + k) * 8, s[k]);
    }
}

/* AVX2 peaks: twelve chains of vpmaddwd plus vpaddd (sixteen int16 multiply-accumulates, the
 * integer kernels' arithmetic, for Q8 and Q16 alike) or of a multiply then an add (eight float:
 * the float kernels keep FANN's rounding of each product, so they never fuse the two). Each
 * chain's multiply reads its own sum: with constant operands a compiler computes the product
 * once, before the loop, and the loop times the adds alone. */
#define CHAINS12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

uint64_t kf_peak_avx2(uint32_t kind, uint64_t rounds, uint32_t *sink)
{
    uint64_t r;
    if (kind == KF_PEAK_FLOAT) {
        const __m256 b = _mm256_set1_ps(1e-9f + (float)(*sink & 1) * 1e-12f);
        __m256 total = _mm256_setzero_ps();
        float out[8];
#define DECLARE(k) __m256 c##k = _mm256_set1_ps((float)(k + 1));
#define STEP(k) c##k = _mm256_add_ps(c##k, _mm256_mul_ps(c##k, b));
#define FOLD(k) total = _mm256_add_ps(total, c##k);
        CHAINS12(DECLARE)
        for (r = 0; r < rounds; r++) {
            CHAINS12(STEP)
        }
        CHAINS12(FOLD)
#undef DECLARE
#undef STEP
#undef FOLD
        _mm256_storeu_ps(out, total);
        memcpy(sink, &out[0], sizeof out[0]);
        return rounds * 12 * 8;
    } else {
        const __m256i b = _mm256_set1_epi16((int16_t)(*sink >> 8 & 0x7f));
        __m256i total = _mm256_setzero_si256();
#define DECLARE(k) __m256i c##k = _mm256_set1_epi32((int32_t)(*sink & 0x7f) + k);
#define STEP(k) c##k = _mm256_add_epi32(c##k, _mm256_madd_epi16(c##k, b));
#define FOLD(k) total = _mm256_xor_si256(total, c##k);
        CHAINS12(DECLARE)
        for (r = 0; r < rounds; r++) {
            CHAINS12(STEP)
        }
        CHAINS12(FOLD)
#undef DECLARE
#undef STEP
#undef FOLD
        *sink = (uint32_t)_mm256_extract_epi32(total, 0);
        return rounds * 12 * 16;
    }
}

const kf_kernels kf_kernels_avx2 = {
    .q8_matmul = kf_q8_matmul_avx2,
    .q7_matmul = kf_q7_matmul_avx2,
    .q16_matmul = q16_matmul,
    .epilogue_direct = epilogue_direct,
    .epilogue_table = epilogue_table,
    .quantize = quantize,
    .gate_scores = kf_gate_scores_avx2,
    .dot8_fann = kf_dot8_fann_avx2,
    .dot_packed_fann = kf_dot8_packed_fann_avx2,
    .packed_rows = 8,
    .quantize_dynamic = kf_quantize_dynamic_avx2,
    .top_k = kf_top_k_avx2,
    .fann_sums = kf_fann_sums_avx2,
    .fann_activate = kf_fann_activate_avx2,
    .exp_model = kf_exp_model_avx2,
    .fann_backprop = kf_fann_backprop_avx2,
    .fann_slopes = kf_fann_slopes_avx2,
    .fann_derive = kf_fann_derive_avx2,
    .transpose = kf_transpose_avx2,
    .fann_error_tanh = kf_fann_error_tanh_avx2,
    .peak = kf_peak_avx2,
};
