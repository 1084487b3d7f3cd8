/* Random draws as FANN takes them (kfann.h, kf_random).
 *
 * glibc's rand() is random_r's TYPE_3 generator, an additive lagged Fibonacci sequence over 31
 * words with taps 3 apart: each draw adds the rear tap to the front tap (modulo 2^32), returns
 * that word without its lowest bit, and moves both taps one word on. srand(seed) fills the words
 * with the Park-Miller sequence word[i] = 16807 * word[i-1] mod (2^31 - 1) from word[0] = seed,
 * then discards 310 draws. Written from that definition; the tests hold it against the C
 * library's rand() for many seeds. */
#include "internal.h"

#define GLIBC_DEGREE 31u
#define GLIBC_SEPARATION 3u

void kf_random_glibc(kf_random *r, uint32_t seed)
{
    int32_t word;
    uint32_t i;
    memset(r, 0, sizeof *r);
    r->kind = KF_RANDOM_GLIBC;
    if (seed == 0)
        seed = 1;
    word = (int32_t)seed; /* glibc keeps the seed in an int32_t */
    r->table[0] = seed;
    for (i = 1; i < GLIBC_DEGREE; i++) {
        /* 16807 * word mod (2^31 - 1) by Schrage's method, in glibc's (truncating) arithmetic */
        const int64_t hi = word / 127773, lo = word % 127773;
        int64_t next = 16807 * lo - 2836 * hi;
        if (next < 0)
            next += 2147483647;
        word = (int32_t)next;
        r->table[i] = (uint32_t)word;
    }
    r->front = GLIBC_SEPARATION;
    r->rear = 0;
    for (i = 0; i < 10 * GLIBC_DEGREE; i++)
        (void)kf_random_next(r);
}

void kf_random_pcg(kf_random *r, uint64_t seed)
{
    kf_rng rng;
    memset(r, 0, sizeof *r);
    kf_rng_seed(&rng, seed);
    r->kind = KF_RANDOM_PCG;
    r->state = rng.state;
    r->inc = rng.inc;
}

uint32_t kf_random_next(kf_random *r)
{
    uint32_t word;
    if (r->kind == KF_RANDOM_PCG) {
        kf_rng rng;
        rng.state = r->state;
        rng.inc = r->inc;
        word = kf_rng_u32(&rng) >> 1;
        r->state = rng.state;
        return word;
    }
    word = r->table[r->front] += r->table[r->rear];
    r->front = r->front + 1 == GLIBC_DEGREE ? 0 : r->front + 1;
    r->rear = r->rear + 1 == GLIBC_DEGREE ? 0 : r->rear + 1;
    return word >> 1;
}

float kf_random_uniform(kf_random *r, float lo, float hi)
{
    /* fann_rand: the draw converted to float (rounded to 24 bits) before the product, then the
     * division by RAND_MAX + 1.0f, which is 2^31 in float */
    const float draw = (float)kf_random_next(r);
    return lo + ((hi - lo) * draw) / 2147483648.0f;
}
