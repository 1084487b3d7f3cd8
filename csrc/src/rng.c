/* PCG32 random numbers (M. O'Neill, "PCG: A Family of Simple Fast Space-Efficient Statistically
 * Good Algorithms for Random Number Generation", 2014): XSH-RR output over a 64-bit LCG. */
#include "internal.h"

#define PCG_MULT 6364136223846793005ull

void kf_rng_seed(kf_rng *rng, uint64_t seed)
{
    /* Stream chosen from the seed too, so that nearby seeds give unrelated sequences. */
    rng->state = 0;
    rng->inc = ((seed ^ 0xda3e39cb94b95bdbull) << 1u) | 1u;
    (void)kf_rng_u32(rng);
    rng->state += seed;
    (void)kf_rng_u32(rng);
}

uint32_t kf_rng_u32(kf_rng *rng)
{
    uint64_t old = rng->state;
    uint32_t xorshifted, rot;
    rng->state = old * PCG_MULT + rng->inc;
    xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((32u - rot) & 31u));
}

uint32_t kf_rng_below(kf_rng *rng, uint32_t bound)
{
    /* Reject the low values that would make the modulo uneven. */
    uint32_t threshold = (0u - bound) % bound;
    for (;;) {
        uint32_t r = kf_rng_u32(rng);
        if (r >= threshold)
            return r % bound;
    }
}

float kf_rng_uniform(kf_rng *rng, float lo, float hi)
{
    /* 24 random bits: u is exactly representable and strictly below 1. */
    float u = (float)(kf_rng_u32(rng) >> 8) * (1.0f / 16777216.0f);
    return lo + (hi - lo) * u;
}
