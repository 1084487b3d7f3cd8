/* WebAssembly SIMD128 float panel kernels (kernels.h, fann_lanes4.h): f32x4 multiply, then add
 * (no relaxed-SIMD fused multiply-add), fann_run's order in every lane. */
#include "kernels.h"

#include <wasm_simd128.h>

#define V4 v128_t
#define V4_LOAD wasm_v128_load
#define V4_STORE wasm_v128_store
#define V4_SPLAT wasm_f32x4_splat
#define V4_ADD wasm_f32x4_add
#define V4_MUL wasm_f32x4_mul
#define KF_LANES4(name) kf_##name##_wasm

#include "fann_lanes4.h"
