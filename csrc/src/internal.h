/* Internal helpers shared by the core's source files. Not part of the public interface. */
#ifndef KF_INTERNAL_H
#define KF_INTERNAL_H

#include "kfann.h"

#include "arena.h"
#include "objects.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

/* ---- input checks ---- */

/* 1 when none of x[0..n) is NaN or infinite. Branch-free over blocks (an exponent of all ones
 * marks both), so that compilers vectorise it: it runs before every forward pass. */
static inline int kf_all_finite(const float *x, uint64_t n)
{
    uint64_t i = 0;
    while (i < n) {
        const uint64_t end = n - i < 256 ? n : i + 256;
        uint32_t bad = 0;
        for (; i < end; i++) {
            uint32_t bits;
            memcpy(&bits, x + i, sizeof bits);
            bad |= (bits & 0x7f800000u) == 0x7f800000u;
        }
        if (bad)
            return 0;
    }
    return 1;
}

/* Ask for bytes from p on (at most KF_PREFETCH_MAX of them) to be brought into the cache: a
 * hint, no effect on results. A larger burst of prefetches stalls the loads of the work it was
 * meant to overlap (measured on the Q8 run). */
#define KF_PREFETCH_MAX 32768u
static inline void kf_prefetch(const void *p, size_t bytes)
{
#if defined(__GNUC__) || defined(__clang__)
    size_t i;
    for (i = 0; i < bytes && i < KF_PREFETCH_MAX; i += 64)
        __builtin_prefetch((const char *)p + i, 0, 2);
#else
    (void)p;
    (void)bytes;
#endif
}

/* ---- random numbers: PCG32 (O'Neill), one stream per object, seeded explicitly ---- */

typedef struct kf_rng {
    uint64_t state;
    uint64_t inc;
} kf_rng;

void kf_rng_seed(kf_rng *rng, uint64_t seed);
uint32_t kf_rng_u32(kf_rng *rng);
/* Uniform in [0, bound) without modulo bias; bound >= 1. */
uint32_t kf_rng_below(kf_rng *rng, uint32_t bound);
/* Uniform float in [lo, hi), computed as FANN's fann_rand does: lo + (hi - lo) * u. */
float kf_rng_uniform(kf_rng *rng, float lo, float hi);

/* ---- parameters ---- */

/* Read or write one field of a parameter block (validated as kf_net_set_param does). */
kf_status kf_params_get(const kf_params *params, kf_param p, double *value);
kf_status kf_params_set(kf_params *params, kf_param p, double value);
/* The checks of a whole block (a parsed file's or an assembled network's): counts beyond
 * KF_MAX_CASCADE_LIST (KF_E_LIMIT), enumerations and cascade functions out of range (KF_E_ARG),
 * cascade steepnesses that are not finite (KF_E_NUMERIC). */
kf_status kf_params_check(const kf_params *params);

/* ---- network layout ---- */

/* Allocate a network with the given counts: every array in one block, zeroed, params default.
 * layer_start, con_start and the rest are left for the caller to fill. */
kf_status kf_net_alloc(uint32_t num_layers, uint32_t total_neurons, uint32_t total_connections,
                       uint32_t num_input, uint32_t num_output, kf_net **out);
/* The connection structure shared by float and fixed-point networks. */
typedef struct kf_structure {
    uint32_t num_layers, network_type, total_neurons, total_connections;
    const uint32_t *layer_start, *con_start, *con_src;
    const uint8_t *activation;
} kf_structure;

/* The structure of a kf_net or a kf_fixnet (the same fields), as an initializer. */
#define KF_STRUCTURE_OF(net)                                                                             \
    {(net)->num_layers, (net)->network_type, (net)->total_neurons, (net)->total_connections, (net)->layer_start, \
     (net)->con_start, (net)->con_src, (net)->activation}

/* Check layer sizes, connection ranges, feed-forward sources and activation values; set
 * contiguous[j] for neurons that read consecutive sources. KF_E_FORMAT with a reason. */
kf_status kf_structure_check(const kf_structure *st, uint8_t *contiguous, kf_diag *diag);
/* Copy a structure out for kf_net_get_structure and kf_fixnet_get_structure (a NULL array is
 * skipped); steepness holds one 4-byte value per neuron, float or fixed point. */
kf_status kf_structure_copy(const kf_structure *st, const void *steepness, uint32_t *layer_start, uint32_t *con_start,
                            uint32_t *con_src, uint8_t *activation, void *steepness_out);
/* Copy count 4-byte weights (float or fixed point) out: KF_E_SHAPE unless count is the number of
 * connections. */
kf_status kf_weights_copy(const kf_structure *st, const void *weights, void *out, uint64_t count);

/* Check the structure (indices, counts, activations, steepness) and compute `contiguous`.
 * Called after creation and after parsing; returns KF_E_FORMAT with a reason in diag. */
kf_status kf_net_finish(kf_net *net, kf_diag *diag);

/* Forward pass of one sample; values and sums hold total_neurons floats each (sums may be
 * NULL when not training). Writes nothing else. */
void kf_forward(const kf_net *net, const float *input, float *values, float *sums);


/* ---- weight updates (update.c): FANN's epoch algorithms over one array of connections ---- */

typedef struct kf_update_arrays {
    float *weights, *slopes, *steps, *prev_slopes; /* [count] each; the slopes are zeroed */
    uint32_t count;
} kf_update_arrays;
/* A uniform draw in [0, 1] from source (SARPROP's noise). */
typedef float (*kf_uniform_fn)(void *source);

void kf_update_rprop(const kf_params *p, kf_update_arrays s);
/* epsilon = learning_rate / num_data */
void kf_update_quickprop(const kf_params *p, uint32_t num_data, kf_update_arrays s);
/* carry: the next step a connection keeps when its slope sign product is 0, as libfann's loop
 * variable does; 0 at the start of an update, passed on across its arrays. */
void kf_update_sarprop(const kf_params *p, uint32_t epoch, float mse, kf_uniform_fn uniform, void *source,
                       float *carry, kf_update_arrays s);

/* ---- SIMD kernels ---- */

struct kf_kernels;
/* The kernels of the network's path (the scalar ones where that path is not built). */
const struct kf_kernels *kf_net_kernels(const kf_net *net);
/* How many neurons from j (contiguous, with sources) up to end share its sources and have
 * adjacent weight rows: a dense block that one panel kernel takes. */
uint32_t kf_dense_run(const kf_net *net, uint32_t j, uint32_t end);
/* How many neurons from j (which has sources) up to end have sources and share its activation
 * and steepness: a run that one call of a per-value kernel takes (a panel's rows, one sample's
 * neurons). */
uint32_t kf_activation_run(const kf_net *net, uint32_t j, uint32_t end);
/* Up to KF_PANEL samples through the network side by side: values[j * KF_PANEL + s] is neuron
 * j's value for sample s < count (a multiple of KF_PANEL_STEP; samples from nb on are zero
 * inputs whose results nobody reads), sums (when not NULL) the same for its steepened sum, as
 * kf_forward gives them. Dense blocks of neurons go to the path's panel kernels. Returns 1 when
 * the nb samples' inputs are all finite; otherwise 0, and the values are meaningless. */
int kf_forward_panel(const kf_net *net, const float *input, uint32_t nb, uint32_t count, float *values,
                     float *sums);
/* The kernel table of a path, or NULL when it is not built. */
const struct kf_kernels *kf_kernels_for(kf_simd path);
/* The paths this build and CPU run, bit p for kf_simd p. Models take it once, when created:
 * CPUID traps to the hypervisor on virtual machines (microseconds a call), too slow per run. */
uint32_t kf_simd_mask(void);
/* What an x86 CPU reports, asked through functions so that the C tests can stand in for any CPU:
 * CPUID (leaf, subleaf: EAX, EBX, ECX, EDX into r), XCR0 (asked only once CPUID reports
 * OSXSAVE), and the OS's permission to use AMX tiles (asked only of CPUs with AMX). */
typedef struct kf_x86_cpu {
    void (*cpuid)(void *ctx, uint32_t leaf, uint32_t sub, uint32_t r[4]);
    uint64_t (*xgetbv0)(void *ctx);
    int (*amx_permitted)(void *ctx);
    void *ctx;
} kf_x86_cpu;
/* The x86 paths (avx2, avx512, amx) such a CPU runs, bit p for kf_simd p: kf_simd_mask's x86
 * part (built on x86-64 only). */
uint32_t kf_x86_mask(const kf_x86_cpu *cpu);
/* The kernels a run uses: path, or the model's chosen path for KF_SIMD_AUTO; NULL when that
 * path is not in the model's mask. */
const struct kf_kernels *kf_kernels_run(kf_simd path, kf_simd chosen, uint32_t mask);

/* Row-major int16 weights (int8 values when activation_bits is 8) into the kernels' packed
 * layout (simd/kernels.h): n_out padded to 16 rows, n_in to 4 columns, zeros in the padding. */
void kf_pack_weights(const int16_t *weights, uint32_t n_out, uint32_t n_in, void *packed, uint32_t activation_bits);
/* Where weight (j, i) of an n_in-input layer lies in that layout. */
size_t kf_packed_index(uint32_t j, uint32_t i, uint32_t n_in, uint32_t activation_bits);

/* ---- text output ---- */

typedef struct kf_text {
    char *data;
    size_t len;
    size_t cap;
    int failed; /* an allocation failed; further appends are ignored */
} kf_text;

void kf_text_printf(kf_text *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Hand the text over (NUL-terminated) or report KF_E_NOMEM and free it. */
kf_status kf_text_finish(kf_text *t, char **text, size_t *len);

/* ---- text input: a cursor over a buffer that counts lines ---- */

typedef struct kf_scan {
    const char *p;
    const char *end;
    uint32_t line;
    kf_diag *diag;
} kf_scan;

void kf_scan_init(kf_scan *s, const char *text, size_t len, kf_diag *diag);
/* Skip spaces, tabs, carriage returns and newlines (counting lines). */
void kf_scan_space(kf_scan *s);
/* Expect the literal (after skipping whitespace); 0 and a diagnostic if absent. */
int kf_scan_literal(kf_scan *s, const char *literal);
/* Read a number after skipping whitespace; 0 and a diagnostic naming `what` on failure. */
int kf_scan_u32(kf_scan *s, uint32_t *value, const char *what);
int kf_scan_i32(kf_scan *s, int32_t *value, const char *what);
int kf_scan_float(kf_scan *s, float *value, const char *what);
/* `key=` then a number, as FANN's header lines. */
int kf_scan_key_u32(kf_scan *s, const char *key, uint32_t *value);
int kf_scan_key_float(kf_scan *s, const char *key, float *value);
/* Record a failure at the current line; always returns 0. */
int kf_scan_fail(kf_scan *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Clear a caller's kf_diag (NULL allowed): every public function taking one calls it first. */
void kf_diag_clear(kf_diag *diag);
void kf_diag_set(kf_diag *diag, uint32_t line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif /* KF_INTERNAL_H */
