/* Memory layouts: one arena, measured then carved.
 *
 * Every object of the core is one allocation, and every scratch buffer one caller-provided
 * block, holding several arrays. Their layout is written once, as a function that takes each
 * array from an arena in order with KF_CARVE. Run on a measuring arena (kf_arena_measure, no
 * memory: every pointer it hands out is NULL), the function gives the size; run on the block
 * itself, it sets the pointers. The size function and the split are the same walk, so they
 * cannot disagree, and kf_arena_new checks that the two walks used the same bytes.
 *
 *     static void layout(kf_arena *a, void *obj, const void *ctx)   -- obj NULL when measuring
 *     {
 *         thing *t = kf_arena_take(a, 1, sizeof *t);                -- the struct itself first
 *         KF_CARVE(a, t, values, count);                            -- t->values = count values
 *     }
 *
 * Objects: kf_arena_new(layout, ctx, &out) measures, allocates (zeroed, KF_ALIGN-aligned) and
 * carves; kf_block_free releases the object. Scratch:
 * kf_arena_bytes(layout, obj, ctx) is the size to ask the caller for (alignment slack
 * included), kf_arena_over(scratch) the arena to carve the caller's buffer with. Every array
 * starts on a KF_ALIGN-byte boundary; sizes are 64-bit and the callers' counts are capped by
 * the KF_MAX_* limits, so the arithmetic cannot overflow. */
#ifndef KF_ARENA_H
#define KF_ARENA_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kfann.h"

#define KF_ALIGN 64u

typedef struct kf_arena {
    unsigned char *base; /* NULL while measuring */
    uint64_t used;       /* bytes taken so far (each take rounded up to KF_ALIGN) */
} kf_arena;

/* The layout of an object or a scratch buffer: takes its arrays from a in a fixed order and
 * stores them in obj (NULL while measuring). ctx carries the sizes. */
typedef void (*kf_layout_fn)(kf_arena *a, void *obj, const void *ctx);

static inline uint64_t kf_align_up(uint64_t n)
{
    return (n + (KF_ALIGN - 1)) & ~(uint64_t)(KF_ALIGN - 1);
}

static inline kf_arena kf_arena_measure(void)
{
    kf_arena a = {NULL, 0};
    return a;
}

/* An arena over a caller's buffer, from its first KF_ALIGN-aligned byte. */
static inline kf_arena kf_arena_over(void *buffer)
{
    kf_arena a;
    a.base = (unsigned char *)buffer + (kf_align_up((uintptr_t)buffer) - (uintptr_t)buffer);
    a.used = 0;
    return a;
}

/* count elements of size bytes; NULL while measuring. */
static inline void *kf_arena_take(kf_arena *a, uint64_t count, uint64_t size)
{
    void *p = a->base ? a->base + a->used : NULL;
    a->used += kf_align_up(count * size);
    return p;
}

/* obj->field = count elements of its type (obj may be NULL: then only measured). */
#define KF_CARVE(arena, obj, field, count)                                           \
    do {                                                                             \
        void *kf_carved_ = kf_arena_take((arena), (count), sizeof *(obj)->field);    \
        if (obj)                                                                     \
            (obj)->field = kf_carved_;                                               \
    } while (0)

/* Bytes of scratch a layout needs, with the slack kf_arena_over may skip to align. */
static inline uint64_t kf_arena_bytes(kf_layout_fn layout, const void *ctx)
{
    kf_arena a = kf_arena_measure();
    layout(&a, NULL, ctx);
    return a.used + KF_ALIGN;
}

/* Measure the layout, allocate it zeroed, carve it; *out is the block (the object struct,
 * taken first by the layout). KF_E_LIMIT when it cannot be addressed, KF_E_NOMEM. */
/* An object's block, zeroed, starting on a KF_ALIGN-byte boundary in memory, so that no vector
 * load of its arrays straddles two cache lines (calloc's blocks are only 16-byte aligned: a Q8
 * network measured 2.6 or 4.0 us a sample by where its block fell). From calloc, with the
 * pointer to free kept just before the block; release with kf_block_free. */
static inline void *kf_block_alloc(uint64_t bytes)
{
    unsigned char *raw, *block;
    if (bytes > SIZE_MAX - KF_ALIGN - sizeof(void *))
        return NULL;
    raw = calloc(1, (size_t)bytes + KF_ALIGN + sizeof(void *));
    if (raw == NULL)
        return NULL;
    block = raw + sizeof(void *);
    block += kf_align_up((uintptr_t)block) - (uintptr_t)block;
    memcpy(block - sizeof(void *), &raw, sizeof raw);
    return block;
}

static inline void kf_block_free(void *block)
{
    void *raw;
    if (block == NULL)
        return;
    memcpy(&raw, (unsigned char *)block - sizeof(void *), sizeof raw);
    free(raw);
}

/* The object's block from alloc (zeroed), released by release on failure; its arrays carved. */
static inline kf_status kf_arena_new_with(kf_layout_fn layout, const void *ctx, void **out,
                                          void *(*alloc)(uint64_t bytes), void (*release)(void *block))
{
    kf_arena a = kf_arena_measure();
    void *block;
    *out = NULL;
    layout(&a, NULL, ctx);
    if (a.used == 0 || a.used > SIZE_MAX)
        return KF_E_LIMIT;
    block = alloc(a.used);
    if (block == NULL)
        return KF_E_NOMEM;
    {
        const uint64_t measured = a.used;
        a.base = block; /* the offsets are multiples of KF_ALIGN from the block's start */
        a.used = 0;
        layout(&a, block, ctx);
        if (a.used != measured) { /* the two walks must agree */
            release(block);
            return KF_E_LIMIT;
        }
    }
    *out = block;
    return KF_OK;
}

/* A model's block (kf_block_alloc): freed with kf_block_free. */
static inline kf_status kf_arena_new(kf_layout_fn layout, const void *ctx, void **out)
{
    return kf_arena_new_with(layout, ctx, out, kf_block_alloc, kf_block_free);
}

#endif /* KF_ARENA_H */
