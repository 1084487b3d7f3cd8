/* Status codes, their descriptions, the table of constants, diagnostics, and kf_free. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

const char *kf_status_str(kf_status status)
{
    switch (status) {
    case KF_OK: return "ok";
    case KF_E_NOMEM: return "out of memory";
    case KF_E_ARG: return "invalid argument";
    case KF_E_SHAPE: return "input arrays do not fit the model";
    case KF_E_FORMAT: return "malformed file";
    case KF_E_NUMERIC: return "non-finite number";
    case KF_E_UNSUPPORTED: return "unsupported for this network";
    case KF_E_LIMIT: return "size beyond the library's limits";
    case KF_STATUS_COUNT_: break;
    }
    return "unknown status";
}

/* One row per constant of kfann.h that a binding needs. */
#define KF_CONSTANT(name) {#name, (int64_t)(name)}

static const kf_constant constants[] = {
    KF_CONSTANT(KF_OK),
    KF_CONSTANT(KF_E_NOMEM),
    KF_CONSTANT(KF_E_ARG),
    KF_CONSTANT(KF_E_SHAPE),
    KF_CONSTANT(KF_E_FORMAT),
    KF_CONSTANT(KF_E_NUMERIC),
    KF_CONSTANT(KF_E_UNSUPPORTED),
    KF_CONSTANT(KF_E_LIMIT),
    KF_CONSTANT(KF_STATUS_COUNT_),
    KF_CONSTANT(KF_MAX_LAYERS),
    KF_CONSTANT(KF_MAX_NEURONS),
    KF_CONSTANT(KF_MAX_CONNECTIONS),
    KF_CONSTANT(KF_MAX_CASCADE_LIST),
    KF_CONSTANT(KF_MAX_DATA_VALUES),
    KF_CONSTANT(KF_RAND_MAX),
    KF_CONSTANT(KF_MAX_EXPERTS),
    KF_CONSTANT(KF_POOL_MAX_TASKS),
    KF_CONSTANT(KF_MAX_TOP_K),
    KF_CONSTANT(KF_MAX_INPUT_ZERO),
    KF_CONSTANT(KF_QTABLE_FRAC_BITS),
    KF_CONSTANT(KF_QTABLE_MAX_KNOTS),
    KF_CONSTANT(KF_ACTIVATION_COUNT_),
    KF_CONSTANT(KF_PARAM_COUNT_),
    KF_CONSTANT(KF_TRAIN_COUNT_),
    KF_CONSTANT(KF_SIMD_COUNT_),
    KF_CONSTANT(KF_SCORING_SOFTMAX),
    KF_CONSTANT(KF_SCORING_SIGMOID),
    KF_CONSTANT(KF_EXPERT_FLOAT),
    KF_CONSTANT(KF_EXPERT_QUANTIZED),
};

#undef KF_CONSTANT

const kf_constant *kf_constants(uint32_t *count)
{
    if (count)
        *count = (uint32_t)(sizeof constants / sizeof constants[0]);
    return constants;
}

void kf_free(void *ptr)
{
    free(ptr);
}

void kf_diag_clear(kf_diag *diag)
{
    if (diag == NULL)
        return;
    diag->line = 0;
    diag->message[0] = '\0';
}

void kf_diag_set(kf_diag *diag, uint32_t line, const char *fmt, ...)
{
    va_list ap;
    if (diag == NULL)
        return;
    diag->line = line;
    va_start(ap, fmt);
    vsnprintf(diag->message, sizeof diag->message, fmt, ap);
    va_end(ap);
}
