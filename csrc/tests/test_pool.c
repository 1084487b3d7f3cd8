/* kf_pool with real helper threads: every task of every job runs exactly once, statuses land
 * where they belong, the submitter's tasks come first and the helpers' last, helpers park and
 * come back, concurrent submitters do not mix their jobs. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#define MAX_TASKS 300

typedef struct job {
    uint32_t id;
    pthread_t submitter;
    _Atomic uint32_t runs[MAX_TASKS]; /* how often each task ran */
    uint32_t seen_id[MAX_TASKS];      /* the job each task saw */
    int by_helper[MAX_TASKS];         /* run on a thread other than the submitter's */
    uint32_t helped;                  /* jobs in which a helper ran a task */
} job;

static kf_status count_task(void *ctx, uint32_t task)
{
    job *j = ctx;
    atomic_fetch_add(&j->runs[task], 1);
    j->seen_id[task] = j->id;
    j->by_helper[task] = !pthread_equal(pthread_self(), j->submitter);
    return task % 7 == 3 ? KF_E_NUMERIC : KF_OK; /* a status per task, to see where it lands */
}

typedef struct helper {
    kf_pool *pool;
    uint64_t idle_ns;
    _Atomic int parks; /* times kf_pool_serve returned 1 */
    _Atomic int wake;
    _Atomic int resumed; /* times it was woken and served again */
    _Atomic int stop;    /* wakes every parked helper, to see the pool stopped */
} helper;

/* A binding's helper thread: serve, and when parked, wait (here: spin on a flag) to be woken. */
static void *serve(void *arg)
{
    helper *h = arg;
    while (kf_pool_serve(h->pool, h->idle_ns) == 1) {
        atomic_fetch_add(&h->parks, 1);
        while (!atomic_exchange(&h->wake, 0) && !atomic_load(&h->stop))
            ;
        kf_pool_unpark(h->pool);
        atomic_fetch_add(&h->resumed, 1);
    }
    return NULL;
}

static int check_job(kf_pool *pool, job *j, uint32_t n, uint32_t helpers)
{
    kf_status statuses[MAX_TASKS];
    memset(j->runs, 0, sizeof j->runs);
    j->submitter = pthread_self();
    for (uint32_t i = 0; i < n; i++)
        statuses[i] = KF_E_ARG;
    if (kf_pool_run(pool, n, helpers, count_task, j, statuses) != KF_OK)
        return 0;
    for (uint32_t i = 0; i < n; i++)
        if (atomic_load(&j->runs[i]) != 1 || j->seen_id[i] != j->id ||
            statuses[i] != (i % 7 == 3 ? KF_E_NUMERIC : KF_OK))
            return 0;
    /* the submitter took tasks from the front, the helpers from the back */
    for (uint32_t i = 1; i < n; i++)
        if (j->by_helper[i - 1] && !j->by_helper[i])
            return 0;
    j->helped += n > 0 && j->by_helper[n - 1];
    for (uint32_t i = n; i < MAX_TASKS; i++)
        if (atomic_load(&j->runs[i]) != 0)
            return 0;
    return 1;
}

static void test_without_helpers(void)
{
    static job j;
    kf_pool *pool = NULL;
    CHECK_OK(kf_pool_create(&pool));
    j.id = 1;
    CHECK(check_job(NULL, &j, 40, 4)); /* no pool: in order, here */
    CHECK(check_job(pool, &j, 40, 0)); /* no helper wanted */
    CHECK(check_job(pool, &j, 40, 3)); /* helpers wanted, none serving: the caller takes all */
    CHECK(check_job(pool, &j, 0, 3));
    kf_status st;
    CHECK(kf_pool_run(pool, 1, 1, NULL, &j, &st) == KF_E_ARG);
    CHECK(kf_pool_run(pool, 2, 1, count_task, &j, NULL) == KF_E_ARG);
    CHECK(kf_pool_run(pool, KF_POOL_MAX_TASKS + 1u, 1, count_task, &j, &st) == KF_E_LIMIT);
    CHECK(kf_pool_create(NULL) == KF_E_ARG);
    CHECK(kf_pool_serve(NULL, 0) == 0 && kf_pool_parked(NULL) == 0);
    kf_pool_stop(NULL);
    kf_pool_unpark(NULL);
    kf_pool_stop(pool);
    CHECK(kf_pool_serve(pool, 1000000) == 0); /* stopped: returns at once */
    kf_pool_free(pool);
}

static void test_helpers_share_jobs(void)
{
    enum { HELPERS = 3 };
    static job j;
    kf_pool *pool = NULL;
    CHECK_OK(kf_pool_create(&pool));
    helper h = {.pool = pool, .idle_ns = 200000000u};
    pthread_t threads[HELPERS];
    for (int t = 0; t < HELPERS; t++)
        CHECK(pthread_create(&threads[t], NULL, serve, &h) == 0);
    int good = 1;
    srand(5);
    for (uint32_t k = 0; k < 20000 && good; k++) {
        j.id = k;
        good = check_job(pool, &j, 1 + (uint32_t)rand() % MAX_TASKS, (uint32_t)rand() % 4);
    }
    CHECK(good);
    CHECK(j.helped > 1000); /* the helpers did serve: the order checks above saw them */
    kf_pool_stop(pool);
    atomic_store(&h.stop, 1);
    for (int t = 0; t < HELPERS; t++)
        pthread_join(threads[t], NULL);
    kf_pool_free(pool);
}

static void test_helpers_park_and_return(void)
{
    static job j;
    kf_pool *pool = NULL;
    CHECK_OK(kf_pool_create(&pool));
    helper h = {.pool = pool, .idle_ns = 100000u}; /* park after 0.1 ms without work */
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, serve, &h) == 0);
    for (int round = 0; round < 50; round++) {
        while (kf_pool_parked(pool) != 1) /* the helper parks */
            ;
        atomic_store(&h.wake, 1); /* woken as a binding wakes it, then a job */
        while (atomic_load(&h.resumed) != round + 1)
            ;
        j.id = (uint32_t)round;
        CHECK(check_job(pool, &j, 64, 1));
    }
    while (kf_pool_parked(pool) != 1)
        ;
    kf_pool_stop(pool);
    atomic_store(&h.wake, 1);
    pthread_join(thread, NULL);
    CHECK(atomic_load(&h.parks) == 51); /* once per round, and before the stop */
    CHECK(kf_pool_parked(pool) == 0);
    kf_pool_free(pool);
}

typedef struct submitter {
    kf_pool *pool;
    uint32_t base;
    int good;
} submitter;

static void *submit(void *arg)
{
    submitter *s = arg;
    job *j = malloc(sizeof *j);
    s->good = j != NULL;
    for (uint32_t k = 0; k < 5000 && s->good; k++) {
        j->id = s->base + k;
        s->good = check_job(s->pool, j, 1 + k % 97, 2);
    }
    free(j);
    return NULL;
}

static void test_concurrent_submitters(void)
{
    kf_pool *pool = NULL;
    CHECK_OK(kf_pool_create(&pool));
    helper h = {.pool = pool, .idle_ns = 200000000u};
    pthread_t helpers[2], submitters[2];
    submitter s[2] = {{pool, 0, 0}, {pool, 1u << 20, 0}};
    for (int t = 0; t < 2; t++)
        CHECK(pthread_create(&helpers[t], NULL, serve, &h) == 0);
    for (int t = 0; t < 2; t++)
        CHECK(pthread_create(&submitters[t], NULL, submit, &s[t]) == 0);
    for (int t = 0; t < 2; t++)
        pthread_join(submitters[t], NULL);
    CHECK(s[0].good && s[1].good);
    kf_pool_stop(pool);
    atomic_store(&h.stop, 1);
    for (int t = 0; t < 2; t++)
        pthread_join(helpers[t], NULL);
    kf_pool_free(pool);
}

static const kf_test_case kf_pool_tests[] = {
    {"pool_without_helpers", test_without_helpers},
    {"pool_helpers_share_jobs", test_helpers_share_jobs},
    {"pool_helpers_park_and_return", test_helpers_park_and_return},
    {"pool_concurrent_submitters", test_concurrent_submitters},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    const kf_test_case *const suites[] = {kf_pool_tests, NULL};
    return kf_test_main(suites, argc, argv);
}
