/* Test-only (CMake option KF_SIMDE_AVX512): the AVX-512 intrinsics that q_avx512.c and
 * fann_avx512.c use and that SIMDe 0.7 (Debian's libsimde-dev) does not provide, written lane by
 * lane in portable C over SIMDe's types, so that the AVX-512 kernels compile and run on any
 * x86-64 machine and the path-equality tests check their results. Each follows Intel's description of the
 * instruction; masked loads read only the selected elements, as the hardware does. This file
 * checks correctness, not speed, and is never part of a release build. */
#ifndef KF_SIMDE_AVX512_SHIM_H
#define KF_SIMDE_AVX512_SHIM_H

#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline simde__m512i kf_shim_maskz_loadu_epi32(simde__mmask16 k, const void *p)
{
    simde__m512i_private r;
    int i;
    for (i = 0; i < 16; i++) {
        int32_t v = 0;
        if (k >> i & 1)
            memcpy(&v, (const char *)p + 4 * i, 4);
        r.i32[i] = v; /* element by element: SIMDe's lanes may be vector types */
    }
    return simde__m512i_from_private(r);
}

static inline simde__m512 kf_shim_maskz_loadu_ps(simde__mmask16 k, const void *p)
{
    simde__m512_private r;
    int i;
    for (i = 0; i < 16; i++) {
        float v = 0.0f;
        if (k >> i & 1)
            memcpy(&v, (const char *)p + 4 * i, 4);
        r.f32[i] = v;
    }
    return simde__m512_from_private(r);
}

static inline simde__m256i kf_shim_maskz_loadu_epi32_256(simde__mmask8 k, const void *p)
{
    simde__m256i_private r;
    int i;
    for (i = 0; i < 8; i++) {
        int32_t v = 0;
        if (k >> i & 1)
            memcpy(&v, (const char *)p + 4 * i, 4);
        r.i32[i] = v;
    }
    return simde__m256i_from_private(r);
}

static inline simde__m128i kf_shim_maskz_loadu_epi8_128(simde__mmask16 k, const void *p)
{
    simde__m128i_private r;
    int i;
    for (i = 0; i < 16; i++)
        r.u8[i] = (k >> i & 1) ? ((const uint8_t *)p)[i] : 0;
    return simde__m128i_from_private(r);
}

static inline simde__m512i kf_shim_cvtepi32_epi64(simde__m256i a)
{
    const simde__m256i_private a_ = simde__m256i_to_private(a);
    simde__m512i_private r;
    int i;
    for (i = 0; i < 8; i++)
        r.i64[i] = a_.i32[i];
    return simde__m512i_from_private(r);
}

static inline simde__m512i kf_shim_cvtepu8_epi64(simde__m128i a)
{
    const simde__m128i_private a_ = simde__m128i_to_private(a);
    simde__m512i_private r;
    int i;
    for (i = 0; i < 8; i++)
        r.i64[i] = a_.u8[i];
    return simde__m512i_from_private(r);
}

static inline simde__m512i kf_shim_cvtepu8_epi32(simde__m128i a)
{
    const simde__m128i_private a_ = simde__m128i_to_private(a);
    simde__m512i_private r;
    int i;
    for (i = 0; i < 16; i++)
        r.i32[i] = a_.u8[i];
    return simde__m512i_from_private(r);
}

/* Bit i: int32 lane i of a below that of b. */
static inline simde__mmask16 kf_shim_cmplt_epi32_mask(simde__m512i a, simde__m512i b)
{
    const simde__m512i_private a_ = simde__m512i_to_private(a), b_ = simde__m512i_to_private(b);
    unsigned r = 0;
    int i;
    for (i = 0; i < 16; i++)
        r |= (unsigned)(a_.i32[i] < b_.i32[i]) << i;
    return (simde__mmask16)r;
}

/* floor, then int32; out of range and NaN give INT32_MIN as the instruction does. */
static inline simde__m512i kf_shim_cvt_floor_ps_epi32(simde__m512 a)
{
    const simde__m512_private a_ = simde__m512_to_private(a);
    simde__m512i_private r;
    int i;
    for (i = 0; i < 16; i++) {
        const float v = a_.f32[i];
        if (v >= -2147483648.0f && v < 2147483648.0f) {
            int32_t t = (int32_t)v;
            r.i32[i] = t - ((float)t > v);
        } else {
            r.i32[i] = INT32_MIN;
        }
    }
    return simde__m512i_from_private(r);
}

static inline simde__m512i kf_shim_i32gather_epi32(simde__m512i idx, const void *base, int scale)
{
    const simde__m512i_private i_ = simde__m512i_to_private(idx);
    simde__m512i_private r;
    int i;
    for (i = 0; i < 16; i++) {
        int32_t v;
        memcpy(&v, (const char *)base + (int64_t)i_.i32[i] * scale, 4);
        r.i32[i] = v;
    }
    return simde__m512i_from_private(r);
}

/* Masked gather and scatter of floats: only the selected elements are read or written (the
 * others of the gather come from src). */
static inline simde__m512 kf_shim_mask_i32gather_ps(simde__m512 src, simde__mmask16 k, simde__m512i idx,
                                                    const void *base, int scale)
{
    const simde__m512i_private i_ = simde__m512i_to_private(idx);
    simde__m512_private r = simde__m512_to_private(src);
    int i;
    for (i = 0; i < 16; i++)
        if (k >> i & 1) {
            float v;
            memcpy(&v, (const char *)base + (int64_t)i_.i32[i] * scale, 4);
            r.f32[i] = v;
        }
    return simde__m512_from_private(r);
}

static inline void kf_shim_mask_i32scatter_ps(void *base, simde__mmask16 k, simde__m512i idx, simde__m512 a, int scale)
{
    const simde__m512i_private i_ = simde__m512i_to_private(idx);
    const simde__m512_private a_ = simde__m512_to_private(a);
    int i;
    for (i = 0; i < 16; i++)
        if (k >> i & 1) {
            const float v = a_.f32[i];
            memcpy((char *)base + (int64_t)i_.i32[i] * scale, &v, 4);
        }
}

/* Narrowing stores (truncation) of the selected elements. */
static inline void kf_shim_mask_cvtepi32_storeu(void *p, simde__mmask16 k, simde__m512i a, int bytes)
{
    const simde__m512i_private a_ = simde__m512i_to_private(a);
    int i;
    for (i = 0; i < 16; i++)
        if (k >> i & 1) {
            if (bytes == 1)
                ((uint8_t *)p)[i] = (uint8_t)a_.i32[i];
            else
                ((uint16_t *)p)[i] = (uint16_t)a_.i32[i];
        }
}

static inline void kf_shim_mask_cvtepi64_storeu(void *p, simde__mmask8 k, simde__m512i a, int bytes)
{
    const simde__m512i_private a_ = simde__m512i_to_private(a);
    int i;
    for (i = 0; i < 8; i++)
        if (k >> i & 1) {
            if (bytes == 1)
                ((uint8_t *)p)[i] = (uint8_t)a_.i64[i];
            else
                ((uint16_t *)p)[i] = (uint16_t)a_.i64[i];
        }
}

/* Dwords rearranged within each 128-bit lane by the 2-bit fields of imm. */
static inline simde__m512i kf_shim_shuffle_epi32(simde__m512i a, int imm)
{
    const simde__m512i_private a_ = simde__m512i_to_private(a);
    simde__m512i_private r;
    int i;
    for (i = 0; i < 16; i++)
        r.i32[i] = a_.i32[(i & ~3) + (imm >> (2 * (i & 3)) & 3)];
    return simde__m512i_from_private(r);
}

/* The shuffle of kf_shim_shuffle_epi32 in the lanes of k, src's dwords elsewhere. */
static inline simde__m512i kf_shim_mask_shuffle_epi32(simde__m512i src, simde__mmask16 k, simde__m512i a, int imm)
{
    const simde__m512i_private s_ = simde__m512i_to_private(src), t_ = simde__m512i_to_private(kf_shim_shuffle_epi32(a, imm));
    simde__m512i_private r;
    int i;
    for (i = 0; i < 16; i++)
        r.i32[i] = k >> i & 1 ? t_.i32[i] : s_.i32[i];
    return simde__m512i_from_private(r);
}

/* Arithmetic right shifts of int32 lanes; counts above 31 fill with the sign. */
static inline simde__m512i kf_shim_srav_epi32(simde__m512i a, simde__m512i count)
{
    const simde__m512i_private a_ = simde__m512i_to_private(a), c_ = simde__m512i_to_private(count);
    simde__m512i_private r;
    int i;
    for (i = 0; i < 16; i++)
        r.i32[i] = (uint32_t)c_.i32[i] > 31 ? (a_.i32[i] < 0 ? -1 : 0) : a_.i32[i] >> c_.i32[i];
    return simde__m512i_from_private(r);
}

/* Arithmetic right shifts of int64 lanes; counts above 63 fill with the sign. */
static inline int64_t kf_shim_sra64(int64_t v, uint64_t count)
{
    return count > 63 ? (v < 0 ? -1 : 0) : v >> count;
}

static inline simde__m512i kf_shim_srav_epi64(simde__m512i a, simde__m512i count)
{
    const simde__m512i_private a_ = simde__m512i_to_private(a), c_ = simde__m512i_to_private(count);
    simde__m512i_private r;
    int i;
    for (i = 0; i < 8; i++)
        r.i64[i] = kf_shim_sra64(a_.i64[i], (uint64_t)c_.i64[i]);
    return simde__m512i_from_private(r);
}

static inline simde__m512i kf_shim_srai_epi64(simde__m512i a, unsigned count)
{
    const simde__m512i_private a_ = simde__m512i_to_private(a);
    simde__m512i_private r;
    int i;
    for (i = 0; i < 8; i++)
        r.i64[i] = kf_shim_sra64(a_.i64[i], count);
    return simde__m512i_from_private(r);
}

/* Float and double conversions and decompositions (fann_avx512.c). */
static inline simde__m512d kf_shim_cvtps_pd(simde__m256 a)
{
    const simde__m256_private a_ = simde__m256_to_private(a);
    simde__m512d_private r;
    int i;
    for (i = 0; i < 8; i++)
        r.f64[i] = (double)a_.f32[i];
    return simde__m512d_from_private(r);
}

static inline simde__m256 kf_shim_cvtpd_ps(simde__m512d a)
{
    const simde__m512d_private a_ = simde__m512d_to_private(a);
    simde__m256_private r;
    int i;
    for (i = 0; i < 8; i++)
        r.f32[i] = (float)a_.f64[i]; /* round to nearest, as under the default MXCSR */
    return simde__m256_from_private(r);
}

/* vgetexppd: floor(log2 |x|) as a double (subnormals normalized; -inf for 0, +inf for inf). */
static inline simde__m512d kf_shim_getexp_pd(simde__m512d a)
{
    const simde__m512d_private a_ = simde__m512d_to_private(a);
    simde__m512d_private r;
    int i;
    for (i = 0; i < 8; i++)
        r.f64[i] = logb(a_.f64[i]);
    return simde__m512d_from_private(r);
}

/* vgetmantpd with the interval [0.75, 1.5) and the source's sign, the only form used: the
 * mantissa of a finite nonzero x; 1.0 (signed) for zeros and infinities, NaN for NaN. */
static inline simde__m512d kf_shim_getmant_p75_1p5_src_pd(simde__m512d a)
{
    const simde__m512d_private a_ = simde__m512d_to_private(a);
    simde__m512d_private r;
    int i;
    for (i = 0; i < 8; i++) {
        const double x = a_.f64[i];
        double m;
        int e;
        if (isnan(x)) {
            m = x;
        } else if (x == 0.0 || isinf(x)) {
            m = copysign(1.0, x);
        } else {
            m = frexp(fabs(x), &e); /* [0.5, 1) */
            m = copysign(m < 0.75 ? 2.0 * m : m, x);
        }
        r.f64[i] = m;
    }
    return simde__m512d_from_private(r);
}

static inline void kf_shim_mask_storeu_ps(void *p, simde__mmask16 k, simde__m512 a)
{
    const simde__m512_private a_ = simde__m512_to_private(a);
    int i;
    for (i = 0; i < 16; i++)
        if (k >> i & 1) {
            const float v = a_.f32[i];
            memcpy((char *)p + 4 * i, &v, 4);
        }
}

static inline simde__m256 kf_shim_maskz_loadu_ps_256(simde__mmask8 k, const void *p)
{
    simde__m256_private r;
    int i;
    for (i = 0; i < 8; i++) {
        float v = 0.0f;
        if (k >> i & 1)
            memcpy(&v, (const char *)p + 4 * i, 4);
        r.f32[i] = v;
    }
    return simde__m256_from_private(r);
}

static inline void kf_shim_mask_storeu_ps_256(void *p, simde__mmask8 k, simde__m256 a)
{
    const simde__m256_private a_ = simde__m256_to_private(a);
    int i;
    for (i = 0; i < 8; i++)
        if (k >> i & 1) {
            const float v = a_.f32[i];
            memcpy((char *)p + 4 * i, &v, 4);
        }
}

/* vcvtpd2dq: each double rounded to the nearest int32 (ties to even, the default rounding mode);
 * out of range or NaN gives the integer indefinite value, 0x80000000. */
static inline simde__m256i kf_shim_cvtpd_epi32(simde__m512d a)
{
    simde__m512d_private x = simde__m512d_to_private(a);
    simde__m256i_private r;
    int i;
    for (i = 0; i < 8; i++) {
        const double v = nearbyint(x.f64[i]);
        r.i32[i] = v >= -2147483648.0 && v <= 2147483647.0 ? (int32_t)v : INT32_MIN;
    }
    return simde__m256i_from_private(r);
}

/* The names the AVX-512 files use (macros replace any native declaration of the same name). */
#undef _mm512_cvtps_pd
#define _mm512_cvtps_pd(a) kf_shim_cvtps_pd(a)
#undef _mm512_cvtpd_epi32
#define _mm512_cvtpd_epi32(a) kf_shim_cvtpd_epi32(a)
#undef _mm256_maskz_loadu_ps
#define _mm256_maskz_loadu_ps(k, p) kf_shim_maskz_loadu_ps_256(k, p)
#undef _mm256_mask_storeu_ps
#define _mm256_mask_storeu_ps(p, k, a) kf_shim_mask_storeu_ps_256(p, k, a)
#undef _mm512_cvtpd_ps
#define _mm512_cvtpd_ps(a) kf_shim_cvtpd_ps(a)
#undef _mm512_getexp_pd
#define _mm512_getexp_pd(a) kf_shim_getexp_pd(a)
#undef _mm512_getmant_pd
#define _mm512_getmant_pd(a, interval, sign) ((void)(interval), (void)(sign), kf_shim_getmant_p75_1p5_src_pd(a))
#undef _mm512_mask_storeu_ps
#define _mm512_mask_storeu_ps(p, k, a) kf_shim_mask_storeu_ps(p, k, a)
#undef _mm512_maskz_loadu_epi32
#define _mm512_maskz_loadu_epi32(k, p) kf_shim_maskz_loadu_epi32(k, p)
#undef _mm512_maskz_loadu_ps
#define _mm512_maskz_loadu_ps(k, p) kf_shim_maskz_loadu_ps(k, p)
#undef _mm256_maskz_loadu_epi32
#define _mm256_maskz_loadu_epi32(k, p) kf_shim_maskz_loadu_epi32_256(k, p)
#undef _mm_maskz_loadu_epi8
#define _mm_maskz_loadu_epi8(k, p) kf_shim_maskz_loadu_epi8_128(k, p)
#undef _mm512_cvtepi32_epi64
#define _mm512_cvtepi32_epi64(a) kf_shim_cvtepi32_epi64(a)
#undef _mm512_cvtepu8_epi64
#define _mm512_cvtepu8_epi64(a) kf_shim_cvtepu8_epi64(a)
#undef _mm512_cvtepu8_epi32
#define _mm512_cvtepu8_epi32(a) kf_shim_cvtepu8_epi32(a)
#undef _mm512_cmplt_epi32_mask
#define _mm512_cmplt_epi32_mask(a, b) kf_shim_cmplt_epi32_mask(a, b)
#undef _mm512_cvt_roundps_epi32
#define _mm512_cvt_roundps_epi32(a, r) ((void)(r), kf_shim_cvt_floor_ps_epi32(a)) /* floor only */
#undef _mm512_i32gather_epi32
#define _mm512_i32gather_epi32(idx, base, scale) kf_shim_i32gather_epi32(idx, base, scale)
#undef _mm512_mask_i32gather_ps
#define _mm512_mask_i32gather_ps(src, k, idx, base, scale) kf_shim_mask_i32gather_ps(src, k, idx, base, scale)
#undef _mm512_mask_i32scatter_ps
#define _mm512_mask_i32scatter_ps(base, k, idx, a, scale) kf_shim_mask_i32scatter_ps(base, k, idx, a, scale)
#undef _mm512_mask_cvtepi32_storeu_epi8
#define _mm512_mask_cvtepi32_storeu_epi8(p, k, a) kf_shim_mask_cvtepi32_storeu(p, k, a, 1)
#undef _mm512_mask_cvtepi32_storeu_epi16
#define _mm512_mask_cvtepi32_storeu_epi16(p, k, a) kf_shim_mask_cvtepi32_storeu(p, k, a, 2)
#undef _mm512_mask_cvtepi64_storeu_epi8
#define _mm512_mask_cvtepi64_storeu_epi8(p, k, a) kf_shim_mask_cvtepi64_storeu(p, k, a, 1)
#undef _mm512_mask_cvtepi64_storeu_epi16
#define _mm512_mask_cvtepi64_storeu_epi16(p, k, a) kf_shim_mask_cvtepi64_storeu(p, k, a, 2)
#undef _mm512_shuffle_epi32
#define _mm512_shuffle_epi32(a, imm) kf_shim_shuffle_epi32(a, (int)(imm))
#undef _mm512_mask_shuffle_epi32
#define _mm512_mask_shuffle_epi32(src, k, a, imm) kf_shim_mask_shuffle_epi32(src, k, a, (int)(imm))
#undef _mm512_srav_epi32
#define _mm512_srav_epi32(a, count) kf_shim_srav_epi32(a, count)
#undef _mm512_srav_epi64
#define _mm512_srav_epi64(a, count) kf_shim_srav_epi64(a, count)
#undef _mm512_srai_epi64
#define _mm512_srai_epi64(a, count) kf_shim_srai_epi64(a, count)

#endif
