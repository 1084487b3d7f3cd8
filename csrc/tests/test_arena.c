/* The arena (csrc/src/arena.h), white-box: a layout measured then carved gives a 64-byte aligned
 * block of zeroed arrays in order, and a layout whose two walks disagree, or that takes nothing,
 * is refused rather than carved. */
#include <stdint.h>
#include <string.h>

#include "test.h"

#include "../src/arena.h"

typedef struct pair {
    int32_t *ints;
    double *reals;
} pair;

/* The struct first, then ctx[0] ints and ctx[1] doubles. */
static void pair_layout(kf_arena *a, void *obj, const void *ctx)
{
    const uint64_t *n = ctx;
    pair *p = kf_arena_take(a, 1, sizeof *p);
    (void)obj;
    KF_CARVE(a, p, ints, n[0]);
    KF_CARVE(a, p, reals, n[1]);
}

static void empty_layout(kf_arena *a, void *obj, const void *ctx)
{
    (void)a;
    (void)obj;
    (void)ctx;
}

/* Takes one more array when carving than when measuring: a layout bug the arena must catch. */
static void unsteady_layout(kf_arena *a, void *obj, const void *ctx)
{
    pair *p = kf_arena_take(a, 1, sizeof *p);
    (void)ctx;
    KF_CARVE(a, p, ints, 4);
    if (obj != NULL)
        KF_CARVE(a, p, reals, 4);
}

static void test_measure_then_carve(void)
{
    const uint64_t n[2] = {5, 17};
    pair *p = NULL;
    uint64_t i;
    CHECK_OK(kf_arena_new(pair_layout, n, (void **)&p));
    if (p == NULL)
        return;
    /* the block and each array on a 64-byte boundary in memory, in the layout's order */
    CHECK((uintptr_t)p % 64 == 0);
    CHECK((unsigned char *)p->ints == (unsigned char *)p + 64);
    CHECK((unsigned char *)p->reals == (unsigned char *)p + 64 + 64); /* 5 ints round up to 64 bytes */
    for (i = 0; i < n[0]; i++)
        CHECK(p->ints[i] == 0);
    for (i = 0; i < n[1]; i++)
        CHECK(p->reals[i] == 0.0);
    kf_block_free(p);
    kf_block_free(NULL); /* as free(NULL) */
    CHECK(kf_block_alloc(UINT64_MAX - 8) == NULL); /* beyond what calloc could be asked for */
    /* scratch: the size with alignment slack, carved from any start */
    CHECK(kf_arena_bytes(pair_layout, n) == 64 + 64 + 192 + 64);
    {
        unsigned char buffer[64 * 8];
        kf_arena a = kf_arena_over(buffer + 3);
        CHECK((uintptr_t)a.base % 64 == 0 && a.base >= buffer + 3 && a.base < buffer + 3 + 64 && a.used == 0);
    }
}

static void test_refused_layouts(void)
{
    void *block = (void *)&block;
    CHECK(kf_arena_new(empty_layout, NULL, &block) == KF_E_LIMIT && block == NULL);
    block = (void *)&block;
    CHECK(kf_arena_new(unsteady_layout, NULL, &block) == KF_E_LIMIT && block == NULL);
}

const kf_test_case kf_arena_tests[] = {
    {"measure_then_carve", test_measure_then_carve},
    {"refused_layouts", test_refused_layouts},
    {NULL, NULL},
};
