/* The scalar reference of the trig kernel (trig.h): libm through the activation functions. */
#include "trig.h"

#include "kernels.h"

int kf_is_trig(kf_activation activation)
{
    return activation == KF_SIN_SYMMETRIC || activation == KF_COS_SYMMETRIC || activation == KF_SIN
        || activation == KF_COS;
}

void kf_fann_trig_scalar(kf_activation activation, int derive, float steepness, const float *x, float *out,
                         uint32_t count)
{
    uint32_t s;
    for (s = 0; s < count; s++)
        out[s] = derive ? out[s] * kf_activation_derived(activation, steepness, 0.0f, x[s])
                        : kf_activation_apply(activation, x[s]);
}

kf_fann_trig_fn kf_fann_trig_for(kf_simd path)
{
    switch (path) {
#ifdef KF_BUILT_AVX512
    case KF_SIMD_AVX512: return kf_fann_trig_avx512;
#endif
#ifdef KF_BUILT_AVX2
    case KF_SIMD_AVX2: return kf_fann_trig_avx2;
#endif
    default: return kf_fann_trig_scalar;
    }
}
