/* Which SIMD kernels this build has, which the CPU runs, and the one KIMI_FANN_SIMD asks for.
 * Nothing is cached globally: models record the choice and the supported paths when created. */
#if defined(__linux__) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE /* syscall() */
#endif
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

#if defined(KF_BUILT_AMX) && defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

/* The OS lets this process use AMX tile data. Linux enables the state in XCR0 but faults on
 * first use unless the process asked for it (arch_prctl ARCH_REQ_XCOMP_PERM, XTILEDATA): the
 * request is granted once for the process and repeating it is harmless. Other systems that
 * set XCR0 bits 17-18 (Windows) need no request. */
static int amx_permitted(void)
{
#if defined(KF_BUILT_AMX) && defined(__linux__) && defined(SYS_arch_prctl)
    const long req_xcomp_perm = 0x1023, xfeature_xtiledata = 18;
    return syscall(SYS_arch_prctl, req_xcomp_perm, xfeature_xtiledata) == 0;
#elif defined(KF_BUILT_AMX)
    return 1;
#else
    return 0;
#endif
}

/* Bit per x86 path a CPU runs, from what it reports through `cpu`. AVX2 needs the CPU feature
 * and the OS saving YMM state (XCR0 bits 1-2); AVX-512 also needs opmask and ZMM state (bits
 * 5-7); AMX the AVX-512 path, AMX-TILE and AMX-INT8, tile configuration and data state (bits
 * 17-18) and the OS's permission. */
uint32_t kf_x86_mask(const kf_x86_cpu *cpu)
{
    const uint32_t f = 1u << 16, bw = 1u << 30, vl = 1u << 31, vnni = 1u << 11;
    const uint32_t amx_tile = 1u << 24, amx_int8 = 1u << 25;
    const uint64_t tile_state = 3ull << 17;
    uint32_t r1[4], r7[4], mask = 0;
    uint64_t xcr0;
    cpu->cpuid(cpu->ctx, 0, 0, r1);
    if (r1[0] < 7)
        return 0;
    cpu->cpuid(cpu->ctx, 1, 0, r1);
    if (!(r1[2] & (1u << 27)) || !(r1[2] & (1u << 28)) || !(r1[2] & (1u << 12))) /* OSXSAVE, AVX, FMA */
        return 0;
    xcr0 = cpu->xgetbv0(cpu->ctx);
    if ((xcr0 & 0x6) != 0x6)
        return 0;
    cpu->cpuid(cpu->ctx, 7, 0, r7);
    if (r7[1] & (1u << 5))
        mask |= 1u << KF_SIMD_AVX2;
    if ((xcr0 & 0xe0) == 0xe0 && (r7[1] & f) && (r7[1] & bw) && (r7[1] & vl) && (r7[2] & vnni))
        mask |= 1u << KF_SIMD_AVX512;
#ifdef KF_SIMDE_AVX512
    /* Test builds (CMake KF_SIMDE_AVX512): the AVX-512 kernels run emulated by SIMDe on the AVX2
     * instructions, wherever AVX2 runs; AMX is not built then. */
    if (mask >> KF_SIMD_AVX2 & 1u)
        mask |= 1u << KF_SIMD_AVX512;
#endif
    /* the permission first, then the state the OS enables (XCR0 read again after the request) */
    if ((mask >> KF_SIMD_AVX512 & 1u) && (r7[3] & amx_tile) && (r7[3] & amx_int8) && cpu->amx_permitted(cpu->ctx)
        && (cpu->xgetbv0(cpu->ctx) & tile_state) == tile_state)
        mask |= 1u << KF_SIMD_AMX;
    return mask;
}

static void this_cpuid(void *ctx, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    (void)ctx;
    cpuid(leaf, sub, r);
}

static uint64_t this_xgetbv0(void *ctx)
{
    (void)ctx;
    return xgetbv0();
}

static int this_amx_permitted(void *ctx)
{
    (void)ctx;
    return amx_permitted();
}

static uint32_t x86_mask(void)
{
    const kf_x86_cpu this_cpu = {this_cpuid, this_xgetbv0, this_amx_permitted, NULL};
    return kf_x86_mask(&this_cpu);
}
#endif

static const char *const simd_names[KF_SIMD_COUNT_] = {"auto", "scalar", "avx2", "avx512", "neon", "wasm", "amx"};

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
#ifdef KF_BUILT_AMX
    case KF_SIMD_AMX: return &kf_kernels_amx;
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

uint32_t kf_simd_mask(void)
{
    uint32_t mask = 0;
    int p;
    for (p = KF_SIMD_SCALAR; p < KF_SIMD_COUNT_; p++)
        if (kf_simd_built((kf_simd)p))
            mask |= 1u << p;
#ifdef KF_X86
    mask &= ~((1u << KF_SIMD_AVX2) | (1u << KF_SIMD_AVX512) | (1u << KF_SIMD_AMX)) | x86_mask();
#endif
    return mask; /* scalar, and NEON / WASM SIMD128 whenever the build targets them */
}

int kf_simd_supported(kf_simd path)
{
    return (unsigned)path < KF_SIMD_COUNT_ && path != KF_SIMD_AUTO && (kf_simd_mask() >> path & 1u);
}

const struct kf_kernels *kf_kernels_run(kf_simd path, kf_simd chosen, uint32_t mask)
{
    if (path == KF_SIMD_AUTO)
        path = chosen;
    return (unsigned)path < KF_SIMD_COUNT_ && (mask >> path & 1u) ? kf_kernels_for(path) : NULL;
}

kf_status kf_simd_peak(kf_simd path, kf_peak_kind kind, uint64_t rounds, uint64_t *macs)
{
    const kf_kernels *k;
    uint32_t sink = 0x5a5a5a5au;
    if (macs == NULL || (unsigned)kind >= KF_PEAK_COUNT_)
        return KF_E_ARG;
    *macs = 0;
    k = kf_simd_supported(path) ? kf_kernels_for(path) : NULL;
    if (k == NULL)
        return KF_E_UNSUPPORTED;
    *macs = k->peak((uint32_t)kind, rounds, &sink);
    return KF_OK;
}

kf_status kf_simd_active(kf_simd *active)
{
    const char *forced = getenv("KIMI_FANN_SIMD");
    const uint32_t mask = kf_simd_mask();
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
        if (!(mask >> p & 1u))
            return KF_E_UNSUPPORTED;
        *active = (kf_simd)p;
        return KF_OK;
    }
    for (p = KF_SIMD_COUNT_ - 1; p > KF_SIMD_SCALAR; p--)
        if (mask >> p & 1u) {
            *active = (kf_simd)p;
            break;
        }
    return KF_OK;
}
