/* Which SIMD kernels this build has, which the CPU runs, and the one KIMI_FANN_SIMD asks for.
 * Nothing is cached: the choice is recomputed when asked (networks record it when created). */
#include "internal.h"

#include "../simd/kernels.h"

#include <stdlib.h>
#include <string.h>

#if !defined(__EMSCRIPTEN__) && !defined(__wasm__) && (defined(__x86_64__) || defined(_M_X64))
#define KF_X86 1
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    int regs[4];
    __cpuidex(regs, (int)leaf, (int)sub);
    memcpy(r, regs, sizeof regs);
}
static uint64_t xgetbv0(void)
{
    return _xgetbv(0);
}
#else
#include <cpuid.h>
static void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
}
static uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}
#endif

/* AVX2 needs the CPU feature and the OS saving YMM state (XCR0 bits 1-2); AVX-512 also needs
 * opmask and ZMM state (bits 5-7). */
static int x86_has(kf_simd path)
{
    uint32_t r1[4], r7[4];
    uint64_t xcr0;
    cpuid(0, 0, r1);
    if (r1[0] < 7)
        return 0;
    cpuid(1, 0, r1);
    if (!(r1[2] & (1u << 27)) || !(r1[2] & (1u << 28)) || !(r1[2] & (1u << 12))) /* OSXSAVE, AVX, FMA */
        return 0;
    xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6)
        return 0;
    cpuid(7, 0, r7);
    if (path == KF_SIMD_AVX2)
        return (r7[1] & (1u << 5)) != 0;
    if (path == KF_SIMD_AVX512) {
        const uint32_t f = 1u << 16, bw = 1u << 30, vl = 1u << 31, vnni = 1u << 11;
        return (xcr0 & 0xe0) == 0xe0 && (r7[1] & f) && (r7[1] & bw) && (r7[1] & vl) && (r7[2] & vnni);
    }
    return 0;
}
#endif

static const char *const simd_names[KF_SIMD_COUNT_] = {"auto", "scalar", "avx2", "avx512", "neon", "wasm"};

const char *kf_simd_name(kf_simd path)
{
    return (unsigned)path < KF_SIMD_COUNT_ ? simd_names[path] : NULL;
}

const kf_kernels *kf_kernels_for(kf_simd path)
{
    switch (path) {
    case KF_SIMD_SCALAR: return &kf_kernels_scalar;
#ifdef KF_BUILT_AVX2
    case KF_SIMD_AVX2: return &kf_kernels_avx2;
#endif
#ifdef KF_BUILT_AVX512
    case KF_SIMD_AVX512: return &kf_kernels_avx512;
#endif
#ifdef KF_BUILT_NEON
    case KF_SIMD_NEON: return &kf_kernels_neon;
#endif
#ifdef KF_BUILT_WASM
    case KF_SIMD_WASM: return &kf_kernels_wasm;
#endif
    default: return NULL;
    }
}

int kf_simd_built(kf_simd path)
{
    return kf_kernels_for(path) != NULL;
}

int kf_simd_supported(kf_simd path)
{
    if (!kf_simd_built(path))
        return 0;
#ifdef KF_X86
    if (path == KF_SIMD_AVX2 || path == KF_SIMD_AVX512)
        return x86_has(path);
#endif
    return 1; /* scalar, and NEON / WASM SIMD128 whenever the build targets them */
}

kf_status kf_simd_active(kf_simd *active)
{
    const char *forced = getenv("KIMI_FANN_SIMD");
    int p;
    if (active == NULL)
        return KF_E_ARG;
    *active = KF_SIMD_SCALAR;
    if (forced != NULL && forced[0] != '\0') {
        for (p = KF_SIMD_SCALAR; p < KF_SIMD_COUNT_; p++)
            if (strcmp(forced, simd_names[p]) == 0)
                break;
        if (p == KF_SIMD_COUNT_)
            return KF_E_ARG;
        if (!kf_simd_supported((kf_simd)p))
            return KF_E_UNSUPPORTED;
        *active = (kf_simd)p;
        return KF_OK;
    }
    for (p = KF_SIMD_COUNT_ - 1; p > KF_SIMD_SCALAR; p--)
        if (kf_simd_supported((kf_simd)p)) {
            *active = (kf_simd)p;
            break;
        }
    return KF_OK;
}
