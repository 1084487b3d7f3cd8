/* Growable text output and a line-counting input cursor, for the FANN text formats. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kf_text_printf(kf_text *t, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (t->failed)
        return;
    for (;;) {
        size_t room = t->cap - t->len;
        va_start(ap, fmt);
        n = vsnprintf(t->data ? t->data + t->len : NULL, t->data ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if ((size_t)n < room) {
            t->len += (size_t)n;
            return;
        }
        {
            size_t cap = t->cap ? t->cap : 4096;
            char *grown;
            while (cap - t->len <= (size_t)n) {
                if (cap > SIZE_MAX / 2) {
                    t->failed = 1;
                    return;
                }
                cap *= 2;
            }
            grown = realloc(t->data, cap);
            if (grown == NULL) {
                t->failed = 1;
                return;
            }
            t->data = grown;
            t->cap = cap;
        }
    }
}

kf_status kf_text_finish(kf_text *t, char **text, size_t *len)
{
    if (t->failed || t->data == NULL) {
        free(t->data);
        t->data = NULL;
        return KF_E_NOMEM;
    }
    *text = t->data;
    if (len)
        *len = t->len;
    t->data = NULL;
    return KF_OK;
}

void kf_scan_init(kf_scan *s, const char *text, size_t len, kf_diag *diag)
{
    s->p = text;
    s->end = len ? text + len : text; /* empty input may come as NULL: NULL + 0 is undefined */
    s->line = 1;
    s->diag = diag;
    if (diag) {
        diag->line = 0;
        diag->message[0] = '\0';
    }
}

void kf_scan_space(kf_scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n')) {
        if (*s->p == '\n')
            s->line++;
        s->p++;
    }
}

int kf_scan_fail(kf_scan *s, const char *fmt, ...)
{
    va_list ap;
    if (s->diag == NULL)
        return 0;
    s->diag->line = s->line;
    va_start(ap, fmt);
    vsnprintf(s->diag->message, sizeof s->diag->message, fmt, ap);
    va_end(ap);
    return 0;
}

/* What stands at the cursor, quoted for a message: at most 24 printable characters. */
static const char *scan_excerpt(const kf_scan *s, char *buf, size_t cap)
{
    size_t i = 0;
    const char *p = s->p;
    if (p >= s->end)
        return "end of file";
    buf[i++] = '"';
    while (p < s->end && i + 2 < cap && i < 25 && *p != '\n' && *p != '\r') {
        buf[i++] = (*p >= 32 && *p < 127) ? *p : '?';
        p++;
    }
    buf[i++] = '"';
    buf[i] = '\0';
    return buf;
}

int kf_scan_literal(kf_scan *s, const char *literal)
{
    size_t n = strlen(literal);
    char seen[32];
    kf_scan_space(s);
    if ((size_t)(s->end - s->p) >= n && memcmp(s->p, literal, n) == 0) {
        s->p += n;
        return 1;
    }
    return kf_scan_fail(s, "expected '%s', found %s", literal, scan_excerpt(s, seen, sizeof seen));
}

/* Copy one number token (no whitespace) into buf; 0 if empty or too long. */
static size_t scan_token(kf_scan *s, char *buf, size_t cap)
{
    size_t n = 0;
    const char *p = s->p;
    while (p < s->end && n + 1 < cap) {
        char c = *p;
        int ok = (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.' || (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z');
        if (!ok)
            break;
        buf[n++] = c;
        p++;
    }
    buf[n] = '\0';
    if (p < s->end && n + 1 >= cap)
        return 0;
    return n;
}

int kf_scan_u32(kf_scan *s, uint32_t *value, const char *what)
{
    char buf[48], seen[32];
    size_t n, i;
    uint64_t v = 0;
    kf_scan_space(s);
    n = scan_token(s, buf, sizeof buf);
    if (n == 0)
        return kf_scan_fail(s, "expected %s (an unsigned integer), found %s", what,
                            scan_excerpt(s, seen, sizeof seen));
    for (i = 0; i < n; i++) {
        if (buf[i] < '0' || buf[i] > '9')
            return kf_scan_fail(s, "expected %s (an unsigned integer), found \"%s\"", what, buf);
        v = v * 10u + (uint64_t)(buf[i] - '0');
        if (v > UINT32_MAX)
            return kf_scan_fail(s, "%s is too large: \"%s\"", what, buf);
    }
    s->p += n;
    *value = (uint32_t)v;
    return 1;
}

int kf_scan_i32(kf_scan *s, int32_t *value, const char *what)
{
    char buf[48], seen[32];
    size_t n, i;
    uint64_t v = 0;
    int negative;
    kf_scan_space(s);
    n = scan_token(s, buf, sizeof buf);
    if (n == 0)
        return kf_scan_fail(s, "expected %s (an integer), found %s", what, scan_excerpt(s, seen, sizeof seen));
    negative = buf[0] == '-';
    i = (buf[0] == '-' || buf[0] == '+') ? 1 : 0;
    if (i == n)
        return kf_scan_fail(s, "expected %s (an integer), found \"%s\"", what, buf);
    for (; i < n; i++) {
        if (buf[i] < '0' || buf[i] > '9')
            return kf_scan_fail(s, "expected %s (an integer), found \"%s\"", what, buf);
        v = v * 10u + (uint64_t)(buf[i] - '0');
        if (v > (negative ? (uint64_t)INT32_MAX + 1u : (uint64_t)UINT32_MAX))
            return kf_scan_fail(s, "%s does not fit in 32 bits: \"%s\"", what, buf);
    }
    s->p += n;
    /* Values above INT32_MAX wrap, as glibc's scanf("%d") does: libfann prints some ints with %u. */
    if (negative)
        *value = v == (uint64_t)INT32_MAX + 1u ? INT32_MIN : -(int32_t)v;
    else
        *value = v > INT32_MAX ? (int32_t)(v - 4294967296ll) : (int32_t)v;
    return 1;
}

int kf_scan_float(kf_scan *s, float *value, const char *what)
{
    char buf[64], seen[32];
    char *stop = NULL;
    size_t n;
    float v;
    kf_scan_space(s);
    n = scan_token(s, buf, sizeof buf);
    if (n == 0)
        return kf_scan_fail(s, "expected %s (a number), found %s", what, scan_excerpt(s, seen, sizeof seen));
    errno = 0;
    v = strtof(buf, &stop);
    if (stop != buf + n)
        return kf_scan_fail(s, "expected %s (a number), found \"%s\"", what, buf);
    if (!isfinite(v))
        return kf_scan_fail(s, "%s is not a finite float32 number: \"%s\"", what, buf);
    s->p += n;
    *value = v;
    return 1;
}

int kf_scan_key_u32(kf_scan *s, const char *key, uint32_t *value)
{
    char literal[80];
    snprintf(literal, sizeof literal, "%s=", key);
    return kf_scan_literal(s, literal) && kf_scan_u32(s, value, key);
}

int kf_scan_key_float(kf_scan *s, const char *key, float *value)
{
    char literal[80];
    snprintf(literal, sizeof literal, "%s=", key);
    return kf_scan_literal(s, literal) && kf_scan_float(s, value, key);
}
