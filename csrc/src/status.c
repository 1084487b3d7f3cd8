/* Status codes, their descriptions, and kf_free. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

const char *kf_status_str(kf_status status)
{
    switch (status) {
    case KF_OK: return "ok";
    case KF_E_NOMEM: return "out of memory";
    case KF_E_ARG: return "invalid argument";
    case KF_E_SHAPE: return "array sizes do not match";
    case KF_E_FORMAT: return "malformed file";
    case KF_E_NUMERIC: return "non-finite number";
    case KF_E_UNSUPPORTED: return "unsupported for this network";
    case KF_E_LIMIT: return "size beyond the library's limits";
    case KF_STATUS_COUNT_: break;
    }
    return "unknown status";
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
