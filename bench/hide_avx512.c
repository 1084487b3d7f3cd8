/* Preloaded by bench/without_avx512.py (LD_PRELOAD): the process sees its CPU as an AVX2 machine
 * without AVX-512, AVX-VNNI or AMX. Linux x86-64, CPUs with CPUID faulting only.
 *
 * arch_prctl(ARCH_SET_CPUID, 0) makes every cpuid instruction of this thread (and of the threads
 * it creates later) raise SIGSEGV. The handler runs the instruction with faulting off for that
 * moment, clears the feature bits, writes the registers and resumes after the instruction. Other
 * faults go to the handler the program installed (sigaction is interposed for SIGSEGV so that
 * ours stays first), or end the process as they would have. Faulting is reset at execve: an
 * exec'd child loads this library again through LD_PRELOAD.
 *
 * A bench tool, never part of the package; the state below is the one handler a process has. */
#define _GNU_SOURCE
#include <cpuid.h>
#include <dlfcn.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define ARCH_SET_CPUID 0x1012

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);

static sigaction_fn real_sigaction;
static struct sigaction program_handler; /* the program's SIGSEGV handler (SIG_DFL at first) */
static int active;

/* The feature bits of an AVX2 machine (Haswell to Zen 3): AVX, AVX2, FMA, F16C, BMI stay. */
static void hide(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    if (leaf == 7 && sub == 0) {
        /* EBX: AVX512 F, DQ, IFMA, PF, ER, CD, BW, VL */
        r[1] &= ~(1u << 16 | 1u << 17 | 1u << 21 | 1u << 26 | 1u << 27 | 1u << 28 | 1u << 30 | 1u << 31);
        /* ECX: AVX512 VBMI, VBMI2, VNNI, BITALG, VPOPCNTDQ */
        r[2] &= ~(1u << 1 | 1u << 6 | 1u << 11 | 1u << 12 | 1u << 14);
        /* EDX: AVX512 4VNNIW, 4FMAPS, VP2INTERSECT, FP16; AMX BF16, TILE, INT8 */
        r[3] &= ~(1u << 2 | 1u << 3 | 1u << 8 | 1u << 22 | 1u << 23 | 1u << 24 | 1u << 25);
    } else if (leaf == 7 && sub == 1) {
        r[0] &= ~(1u << 4 | 1u << 5 | 1u << 21 | 1u << 23); /* AVX-VNNI, AVX512 BF16, AMX FP16, AVX-IFMA */
        r[3] &= ~(1u << 4 | 1u << 5 | 1u << 8 | 1u << 10);  /* AVX-VNNI-INT8, AVX-NE-CONVERT, AMX, AVX-VNNI-INT16 */
    }
}

static void set_faulting(int on)
{
    syscall(SYS_arch_prctl, ARCH_SET_CPUID, on ? 0 : 1);
}

static void on_segv(int sig, siginfo_t *info, void *context)
{
    greg_t *g = ((ucontext_t *)context)->uc_mcontext.gregs;
    const unsigned char *ip = (const unsigned char *)g[REG_RIP];
    if (info->si_code == SI_KERNEL && ip[0] == 0x0f && ip[1] == 0xa2) { /* a cpuid that faulted */
        uint32_t r[4];
        set_faulting(0);
        __cpuid_count((uint32_t)g[REG_RAX], (uint32_t)g[REG_RCX], r[0], r[1], r[2], r[3]);
        set_faulting(1);
        hide((uint32_t)g[REG_RAX], (uint32_t)g[REG_RCX], r);
        g[REG_RAX] = r[0]; /* cpuid writes 32-bit registers: the upper halves become 0 */
        g[REG_RBX] = r[1];
        g[REG_RCX] = r[2];
        g[REG_RDX] = r[3];
        g[REG_RIP] += 2;
        return;
    }
    if (program_handler.sa_flags & SA_SIGINFO) {
        program_handler.sa_sigaction(sig, info, context);
    } else if (program_handler.sa_handler != SIG_DFL && program_handler.sa_handler != SIG_IGN) {
        program_handler.sa_handler(sig);
    } else { /* as without this library: the default action (raised again once this returns) */
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        real_sigaction(SIGSEGV, &dfl, NULL);
        raise(SIGSEGV);
    }
}

int sigaction(int signum, const struct sigaction *act, struct sigaction *oldact)
{
    if (real_sigaction == NULL)
        real_sigaction = (sigaction_fn)dlsym(RTLD_NEXT, "sigaction");
    if (signum != SIGSEGV || !active)
        return real_sigaction(signum, act, oldact);
    if (oldact)
        *oldact = program_handler;
    if (act)
        program_handler = *act;
    return 0;
}

sighandler_t signal(int signum, sighandler_t handler)
{
    struct sigaction act, old;
    memset(&act, 0, sizeof act);
    act.sa_handler = handler;
    act.sa_flags = SA_RESTART;
    sigemptyset(&act.sa_mask);
    return sigaction(signum, &act, &old) == 0 ? old.sa_handler : SIG_ERR;
}

__attribute__((constructor)) static void start(void)
{
    struct sigaction act;
    real_sigaction = (sigaction_fn)dlsym(RTLD_NEXT, "sigaction");
    memset(&act, 0, sizeof act);
    act.sa_sigaction = on_segv;
    act.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&act.sa_mask);
    program_handler.sa_handler = SIG_DFL;
    if (real_sigaction == NULL || real_sigaction(SIGSEGV, &act, NULL) != 0)
        _exit(126);
    active = 1;
    if (syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0) != 0) {
        static const char msg[] = "without_avx512: this CPU or kernel has no CPUID faulting\n";
        (void)!write(2, msg, sizeof msg - 1);
        _exit(126);
    }
}
