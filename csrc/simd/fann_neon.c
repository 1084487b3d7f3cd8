/* NEON float panel kernels (kernels.h, fann_lanes4.h): multiply and add as two instructions
 * (vmulq_f32, vaddq_f32; never vfmaq_f32, which rounds once), fann_run's order in every lane. */
#include "kernels.h"

#include <arm_neon.h>

#define V4 float32x4_t
#define V4_LOAD vld1q_f32
#define V4_STORE vst1q_f32
#define V4_SPLAT vdupq_n_f32
#define V4_ADD vaddq_f32
#define V4_MUL vmulq_f32
#define KF_LANES4(name) kf_##name##_neon

#include "fann_lanes4.h"
