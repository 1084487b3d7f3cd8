/* The trig kernel (trig.h) on AVX-512: eight double lanes per step. */
#include "trig.h"

#include "kernels.h"

#ifdef KF_SIMDE_AVX512
#include "simde_avx512_shim.h" /* test builds: the same source on emulated AVX-512 (CMakeLists.txt) */
#else
#include <immintrin.h>
#endif

/* sin(x) (shift 0) or cos(x) (shift 1) of eight doubles with |x| < KF_TRIG_MAX_ARG (trig.h). */
static inline __m512d trig_pd(__m512d x, int shift)
{
    const __m512d k = _mm512_roundscale_pd(_mm512_mul_pd(x, _mm512_set1_pd(0x1.45f306dc9c883p-1)),
                                           _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512d r1 = _mm512_sub_pd(x, _mm512_mul_pd(k, _mm512_set1_pd(0x1.921fb544p+0))); /* exact */
    const __m512d r = _mm512_sub_pd(r1, _mm512_mul_pd(k, _mm512_set1_pd(0x1.0b4611a626331p-34)));
    const __m512d r2 = _mm512_mul_pd(r, r);
    __m512d ps = _mm512_set1_pd(0x1.952c77030ad4ap-49), pc = _mm512_set1_pd(-0x1.6827863b97d97p-53);
    __m512d s, c;
    __m256i q;
    __mmask8 odd, negative;
    ps = _mm512_fmadd_pd(ps, r2, _mm512_set1_pd(-0x1.ae7f3e733b81fp-41));
    ps = _mm512_fmadd_pd(ps, r2, _mm512_set1_pd(0x1.6124613a86d09p-33));
    ps = _mm512_fmadd_pd(ps, r2, _mm512_set1_pd(-0x1.ae64567f544e4p-26));
    ps = _mm512_fmadd_pd(ps, r2, _mm512_set1_pd(0x1.71de3a556c734p-19));
    ps = _mm512_fmadd_pd(ps, r2, _mm512_set1_pd(-0x1.a01a01a01a01ap-13));
    ps = _mm512_fmadd_pd(ps, r2, _mm512_set1_pd(0x1.1111111111111p-7));
    ps = _mm512_fmadd_pd(ps, r2, _mm512_set1_pd(-0x1.5555555555555p-3));
    s = _mm512_fmadd_pd(_mm512_mul_pd(r, r2), ps, r);
    pc = _mm512_fmadd_pd(pc, r2, _mm512_set1_pd(0x1.ae7f3e733b81fp-45));
    pc = _mm512_fmadd_pd(pc, r2, _mm512_set1_pd(-0x1.93974a8c07c9dp-37));
    pc = _mm512_fmadd_pd(pc, r2, _mm512_set1_pd(0x1.1eed8eff8d898p-29));
    pc = _mm512_fmadd_pd(pc, r2, _mm512_set1_pd(-0x1.27e4fb7789f5cp-22));
    pc = _mm512_fmadd_pd(pc, r2, _mm512_set1_pd(0x1.a01a01a01a01ap-16));
    pc = _mm512_fmadd_pd(pc, r2, _mm512_set1_pd(-0x1.6c16c16c16c17p-10));
    pc = _mm512_fmadd_pd(pc, r2, _mm512_set1_pd(0x1.5555555555555p-5));
    c = _mm512_fmadd_pd(_mm512_mul_pd(r2, r2), pc,
                        _mm512_sub_pd(_mm512_set1_pd(1.0), _mm512_mul_pd(_mm512_set1_pd(0.5), r2)));
    q = _mm256_add_epi32(_mm512_cvtpd_epi32(k), _mm256_set1_epi32(shift));
    odd = _mm256_test_epi32_mask(q, _mm256_set1_epi32(1));
    negative = _mm256_test_epi32_mask(q, _mm256_set1_epi32(2));
    s = _mm512_mask_blend_pd(odd, s, c);
    return _mm512_castsi512_pd(_mm512_mask_xor_epi64(_mm512_castpd_si512(s), negative, _mm512_castpd_si512(s),
                                                     _mm512_set1_epi64(INT64_MIN)));
}

void kf_fann_trig_avx512(kf_activation activation, int derive, float steepness, const float *x, float *out,
                         uint32_t count)
{
    /* sin for sin_symmetric and sin, cos for the cosines; a derivative takes the other one */
    const int cosine = activation == KF_COS_SYMMETRIC || activation == KF_COS;
    const int shift = derive ? !cosine : cosine;
    const int halved = activation == KF_SIN || activation == KF_COS;
    const double st = steepness;
    const __m512d margin = _mm512_set1_pd(KF_TRIG_MARGIN * (1.0 + (derive ? fabs(st) : 1.0)));
    uint32_t i;
    for (i = 0; i < count; i += 8) {
        const __mmask8 live = count - i >= 8 ? 0xff : (__mmask8)((1u << (count - i)) - 1);
        __m256 arg = _mm256_maskz_loadu_ps(live, x + i), result;
        __m512d y, g;
        __mmask8 ok;
        if (derive)
            arg = _mm256_mul_ps(_mm256_set1_ps(steepness), arg); /* steepness * sum, in float */
        y = _mm512_cvtps_pd(arg);
        ok = _mm512_cmp_pd_mask(_mm512_abs_pd(y), _mm512_set1_pd(KF_TRIG_MAX_ARG), _CMP_LT_OQ) & live;
        y = trig_pd(_mm512_mask_blend_pd(ok, _mm512_setzero_pd(), y), shift);
        if (derive) {
            g = _mm512_mul_pd(_mm512_set1_pd(st), y); /* steepness * cos or steepness * -sin */
            if (cosine)
                g = _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(g),
                                                         _mm512_set1_epi64(INT64_MIN)));
            if (halved)
                g = _mm512_mul_pd(g, _mm512_set1_pd(0.5));
        } else {
            g = halved ? _mm512_add_pd(_mm512_mul_pd(y, _mm512_set1_pd(0.5)), _mm512_set1_pd(0.5)) : y;
        }
        result = _mm512_cvtpd_ps(g);
        ok &= _mm256_cmp_ps_mask(_mm512_cvtpd_ps(_mm512_sub_pd(g, margin)), _mm512_cvtpd_ps(_mm512_add_pd(g, margin)),
                                 _CMP_EQ_OQ);
        if (derive)
            result = _mm256_mul_ps(_mm256_maskz_loadu_ps(live, out + i), result);
        _mm256_mask_storeu_ps(out + i, ok, result);
        if (ok != live) { /* near a rounding boundary or 0, out of range, not finite: libm */
            uint32_t lane;
            for (lane = 0; lane < 8 && i + lane < count; lane++)
                if (!(ok >> lane & 1))
                    kf_fann_trig_scalar(activation, derive, steepness, x + i + lane, out + i + lane, 1);
        }
    }
}
