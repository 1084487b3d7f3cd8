/* The trig kernel (trig.h) on AVX2 with FMA: four double lanes per step. */
#include "trig.h"

#include "kernels.h"

#include <immintrin.h>

/* sin(x) (shift 0) or cos(x) (shift 1) of four doubles with |x| < KF_TRIG_MAX_ARG (trig.h). */
static inline __m256d trig_pd(__m256d x, int shift)
{
    const __m256d k = _mm256_round_pd(_mm256_mul_pd(x, _mm256_set1_pd(0x1.45f306dc9c883p-1)),
                                      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256d r1 = _mm256_sub_pd(x, _mm256_mul_pd(k, _mm256_set1_pd(0x1.921fb544p+0))); /* exact */
    const __m256d r = _mm256_sub_pd(r1, _mm256_mul_pd(k, _mm256_set1_pd(0x1.0b4611a626331p-34)));
    const __m256d r2 = _mm256_mul_pd(r, r);
    __m256d ps = _mm256_set1_pd(0x1.952c77030ad4ap-49), pc = _mm256_set1_pd(-0x1.6827863b97d97p-53);
    __m256d s, c, odd, negative;
    __m128i q;
    ps = _mm256_fmadd_pd(ps, r2, _mm256_set1_pd(-0x1.ae7f3e733b81fp-41));
    ps = _mm256_fmadd_pd(ps, r2, _mm256_set1_pd(0x1.6124613a86d09p-33));
    ps = _mm256_fmadd_pd(ps, r2, _mm256_set1_pd(-0x1.ae64567f544e4p-26));
    ps = _mm256_fmadd_pd(ps, r2, _mm256_set1_pd(0x1.71de3a556c734p-19));
    ps = _mm256_fmadd_pd(ps, r2, _mm256_set1_pd(-0x1.a01a01a01a01ap-13));
    ps = _mm256_fmadd_pd(ps, r2, _mm256_set1_pd(0x1.1111111111111p-7));
    ps = _mm256_fmadd_pd(ps, r2, _mm256_set1_pd(-0x1.5555555555555p-3));
    s = _mm256_fmadd_pd(_mm256_mul_pd(r, r2), ps, r);
    pc = _mm256_fmadd_pd(pc, r2, _mm256_set1_pd(0x1.ae7f3e733b81fp-45));
    pc = _mm256_fmadd_pd(pc, r2, _mm256_set1_pd(-0x1.93974a8c07c9dp-37));
    pc = _mm256_fmadd_pd(pc, r2, _mm256_set1_pd(0x1.1eed8eff8d898p-29));
    pc = _mm256_fmadd_pd(pc, r2, _mm256_set1_pd(-0x1.27e4fb7789f5cp-22));
    pc = _mm256_fmadd_pd(pc, r2, _mm256_set1_pd(0x1.a01a01a01a01ap-16));
    pc = _mm256_fmadd_pd(pc, r2, _mm256_set1_pd(-0x1.6c16c16c16c17p-10));
    pc = _mm256_fmadd_pd(pc, r2, _mm256_set1_pd(0x1.5555555555555p-5));
    c = _mm256_fmadd_pd(_mm256_mul_pd(r2, r2), pc,
                        _mm256_sub_pd(_mm256_set1_pd(1.0), _mm256_mul_pd(_mm256_set1_pd(0.5), r2)));
    q = _mm_add_epi32(_mm256_cvtpd_epi32(k), _mm_set1_epi32(shift));
    /* each quadrant bit widened to a 64-bit lane mask */
    odd = _mm256_castsi256_pd(_mm256_cmpeq_epi64(
        _mm256_cvtepi32_epi64(_mm_and_si128(q, _mm_set1_epi32(1))), _mm256_set1_epi64x(1)));
    negative = _mm256_castsi256_pd(_mm256_cmpeq_epi64(
        _mm256_cvtepi32_epi64(_mm_and_si128(q, _mm_set1_epi32(2))), _mm256_set1_epi64x(2)));
    s = _mm256_blendv_pd(s, c, odd);
    return _mm256_xor_pd(s, _mm256_and_pd(negative, _mm256_set1_pd(-0.0)));
}

void kf_fann_trig_avx2(kf_activation activation, int derive, float steepness, const float *x, float *out,
                       uint32_t count)
{
    const int cosine = activation == KF_COS_SYMMETRIC || activation == KF_COS;
    const int shift = derive ? !cosine : cosine;
    const int halved = activation == KF_SIN || activation == KF_COS;
    const double st = steepness;
    const __m256d margin = _mm256_set1_pd(KF_TRIG_MARGIN * (1.0 + (derive ? fabs(st) : 1.0)));
    const __m256d abs_mask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffll));
    uint32_t i = 0;
    for (; i + 4 <= count; i += 4) {
        __m128 arg = _mm_loadu_ps(x + i), result;
        __m256d y, g, in_range;
        int ok;
        if (derive)
            arg = _mm_mul_ps(_mm_set1_ps(steepness), arg); /* steepness * sum, in float */
        y = _mm256_cvtps_pd(arg);
        in_range = _mm256_cmp_pd(_mm256_and_pd(y, abs_mask), _mm256_set1_pd(KF_TRIG_MAX_ARG), _CMP_LT_OQ);
        y = trig_pd(_mm256_and_pd(y, in_range), shift);
        if (derive) {
            g = _mm256_mul_pd(_mm256_set1_pd(st), y); /* steepness * cos or steepness * -sin */
            if (cosine)
                g = _mm256_xor_pd(g, _mm256_set1_pd(-0.0));
            if (halved)
                g = _mm256_mul_pd(g, _mm256_set1_pd(0.5));
        } else {
            g = halved ? _mm256_add_pd(_mm256_mul_pd(y, _mm256_set1_pd(0.5)), _mm256_set1_pd(0.5)) : y;
        }
        result = _mm256_cvtpd_ps(g);
        ok = _mm_movemask_ps(_mm_cmp_ps(_mm256_cvtpd_ps(_mm256_sub_pd(g, margin)),
                                         _mm256_cvtpd_ps(_mm256_add_pd(g, margin)), _CMP_EQ_OQ));
        ok &= _mm256_movemask_pd(in_range);
        if (derive)
            result = _mm_mul_ps(_mm_loadu_ps(out + i), result);
        if (ok == 0xf) {
            _mm_storeu_ps(out + i, result);
        } else { /* near a rounding boundary or 0, out of range, not finite: libm for those lanes */
            float lanes[4];
            uint32_t lane;
            _mm_storeu_ps(lanes, result);
            for (lane = 0; lane < 4; lane++) {
                if (ok >> lane & 1)
                    out[i + lane] = lanes[lane];
                else
                    kf_fann_trig_scalar(activation, derive, steepness, x + i + lane, out + i + lane, 1);
            }
        }
    }
    kf_fann_trig_scalar(activation, derive, steepness, x + i, out + i, count - i);
}
