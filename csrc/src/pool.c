/*
 * pool.c - the tasks of one batch on the calling thread and on helper threads.
 *
 * The core creates no threads: a binding starts helpers (its own threads) that call
 * kf_pool_serve. A job is published in one 64-bit word, so that a helper can never take a task
 * of a job other than the one it read:
 *
 *     generation (24 bits) | seats left for helpers (8) | tasks not yet taken (16) | taken by helpers (16)
 *
 * Taking a seat or a task is a compare-and-swap on that word. The submitter takes tasks from the
 * front (0, 1, ...) and helpers from the back (n - 1, n - 2, ...): a batch split the same way
 * call after call gives each thread the same rows each time, which its core still holds in its
 * cache when a caller runs the same inputs again, and the two ends meet wherever the threads'
 * speeds put them. The job's other fields are
 * written before the word is published (release) and stay valid while any task is taken and
 * not done: the submitter returns only once `done` counts every task, and reads them again
 * only after a task is taken. Helpers spin between jobs (waking a parked one took 0.15 to 2.4 ms
 * on the 2-vCPU VMs measured, the time of several small chunks), then park: the binding wakes
 * them, and a job does not wait for a helper that comes late (the submitter takes every task
 * left).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"

#if defined(_MSC_VER)
#include <intrin.h>
#elif defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#define TASK_BITS 16
#define LEFT_SHIFT TASK_BITS
#define SEAT_SHIFT (2 * TASK_BITS)
#define GEN_SHIFT 40
#define TASK_MASK ((UINT64_C(1) << TASK_BITS) - 1)
#define SEAT_MASK UINT64_C(0xff)
#define GEN_MASK UINT64_C(0xffffff)

struct kf_pool {
    _Atomic uint64_t state;  /* generation | seats | tasks left | taken from the back, as above */
    _Atomic uint32_t done;   /* tasks of the current job finished */
    _Atomic uint32_t parked; /* helpers that stopped spinning and wait for the binding */
    _Atomic int busy;        /* a submitter owns the job fields */
    _Atomic int stopping;
    uint32_t generation;     /* the submitter's: the generation of the last job published */
    /* The current job: written by its submitter before `state` publishes it. */
    uint32_t n;
    kf_task_fn task;
    void *ctx;
    kf_status *statuses;
};

static void cpu_relax(void)
{
#if defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
    _mm_pause();
#elif defined(_MSC_VER) && defined(_M_ARM64)
    __yield();
#elif defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    if (timespec_get(&ts, TIME_UTC) != TIME_UTC)
        return 0;
    return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

static uint32_t generation_of(uint64_t state) { return (uint32_t)(state >> GEN_SHIFT); }
static uint32_t seats_of(uint64_t state) { return (uint32_t)((state >> SEAT_SHIFT) & SEAT_MASK); }
static uint32_t left_of(uint64_t state) { return (uint32_t)((state >> LEFT_SHIFT) & TASK_MASK); }
static uint32_t back_of(uint64_t state) { return (uint32_t)(state & TASK_MASK); }

/* Take and run tasks of job `generation` until none is left: from the front for the submitter,
 * from the back for a helper. */
static void work_on(kf_pool *pool, uint32_t generation, int from_back)
{
    const uint64_t claim = ((uint64_t)1 << LEFT_SHIFT) - (from_back ? 1 : 0); /* one fewer left, one more at the back */
    uint64_t state = atomic_load_explicit(&pool->state, memory_order_acquire);
    while (generation_of(state) == generation && left_of(state) > 0) {
        if (!atomic_compare_exchange_weak_explicit(&pool->state, &state, state - claim, memory_order_acq_rel,
                                                   memory_order_acquire))
            continue; /* state now holds the current word */
        /* the fields are this job's once a task of it is taken */
        uint32_t index = from_back ? pool->n - 1 - back_of(state) : pool->n - left_of(state) - back_of(state);
        pool->statuses[index] = pool->task(pool->ctx, index);
        atomic_fetch_add_explicit(&pool->done, 1, memory_order_release);
        state = atomic_load_explicit(&pool->state, memory_order_acquire);
    }
}

/* A job a helper that last joined `seen` may join: new, with a seat and a task left. */
static int joinable(uint64_t state, uint32_t seen)
{
    return generation_of(state) != seen && seats_of(state) > 0 && left_of(state) > 0;
}

kf_status kf_pool_create(kf_pool **out)
{
    if (!out)
        return KF_E_ARG;
    kf_pool *pool = calloc(1, sizeof *pool);
    if (!pool)
        return KF_E_NOMEM;
    atomic_init(&pool->state, 0);
    atomic_init(&pool->done, 0);
    atomic_init(&pool->parked, 0);
    atomic_init(&pool->busy, 0);
    atomic_init(&pool->stopping, 0);
    *out = pool;
    return KF_OK;
}

void kf_pool_free(kf_pool *pool) { free(pool); }

void kf_pool_stop(kf_pool *pool)
{
    if (pool)
        atomic_store(&pool->stopping, 1);
}

uint32_t kf_pool_parked(kf_pool *pool)
{
    return pool ? atomic_load(&pool->parked) : 0;
}

kf_status kf_pool_run(kf_pool *pool, uint32_t n, uint32_t helpers, kf_task_fn task, void *ctx, kf_status *statuses)
{
    if (!task || (n > 0 && !statuses))
        return KF_E_ARG;
    if (n > KF_POOL_MAX_TASKS)
        return KF_E_LIMIT;
    int expected = 0;
    if (!pool || helpers == 0 || n < 2 ||
        !atomic_compare_exchange_strong_explicit(&pool->busy, &expected, 1, memory_order_acquire,
                                                 memory_order_relaxed)) {
        /* No helpers wanted, or another thread's job holds the pool: all tasks here, in order. */
        for (uint32_t i = 0; i < n; i++)
            statuses[i] = task(ctx, i);
        return KF_OK;
    }
    if (helpers > SEAT_MASK)
        helpers = (uint32_t)SEAT_MASK;
    pool->n = n;
    pool->task = task;
    pool->ctx = ctx;
    pool->statuses = statuses;
    atomic_store_explicit(&pool->done, 0, memory_order_relaxed);
    uint32_t generation = pool->generation = (uint32_t)((pool->generation + 1) & GEN_MASK);
    atomic_store_explicit(&pool->state,
                          (uint64_t)generation << GEN_SHIFT | (uint64_t)helpers << SEAT_SHIFT | (uint64_t)n << LEFT_SHIFT,
                          memory_order_release);
    work_on(pool, generation, 0);
    while (atomic_load_explicit(&pool->done, memory_order_acquire) != n)
        cpu_relax(); /* a helper finishing its last task */
    atomic_store_explicit(&pool->busy, 0, memory_order_release);
    return KF_OK;
}

int kf_pool_serve(kf_pool *pool, uint64_t idle_ns)
{
    if (!pool)
        return 0;
    uint32_t seen = (generation_of(atomic_load_explicit(&pool->state, memory_order_acquire)) - 1) & GEN_MASK;
    uint64_t idle_since = now_ns();
    for (uint32_t spins = 0;; spins++) {
        uint64_t state = atomic_load_explicit(&pool->state, memory_order_acquire);
        if (joinable(state, seen)) {
            if (atomic_compare_exchange_weak_explicit(&pool->state, &state, state - ((uint64_t)1 << SEAT_SHIFT),
                                                      memory_order_acq_rel, memory_order_acquire)) {
                seen = generation_of(state);
                work_on(pool, seen, 1);
                idle_since = now_ns();
            }
            continue;
        }
        if (atomic_load_explicit(&pool->stopping, memory_order_relaxed))
            return 0;
        cpu_relax();
        if (spins % 64 != 63 || now_ns() - idle_since < idle_ns)
            continue;
        /* Park, unless a job came in meanwhile. A job published just after this still runs
         * (its submitter takes every task left); the binding wakes parked helpers for the next. */
        atomic_fetch_add(&pool->parked, 1);
        if (!joinable(atomic_load(&pool->state), seen))
            return 1;
        atomic_fetch_sub(&pool->parked, 1);
    }
}

void kf_pool_unpark(kf_pool *pool)
{
    if (pool)
        atomic_fetch_sub(&pool->parked, 1);
}
