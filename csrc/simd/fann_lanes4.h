/* The float panel kernels (kernels.h) for four-lane vector units, written once over a few
 * operations that the including file defines for its instruction set (fann_neon.c,
 * fann_wasm.c): V4 (the vector type), V4_LOAD, V4_STORE, V4_SPLAT, V4_ADD, V4_MUL (multiply,
 * then add as separate operations: no fused multiply-add), and KF_LANES4(name), the
 * path's name for each function. Every lane does the scalar reference's operations in its
 * order; activations and derivatives are left to the scalar ones (they call libm). */
#ifndef KF_FANN_LANES4_H
#define KF_FANN_LANES4_H

#define L4 4 /* samples (or sources) per vector */

/* The sums of nj neurons (nj <= 4, a constant at each call) for two registers of samples. */
static inline void lanes4_sums_tile(const float *w, uint32_t n, const float *v, uint32_t count, float *out,
                                    const int nj)
{
    const uint32_t r = n & 3u;
    uint32_t s0, i;
    int q, h;
    for (s0 = 0; s0 < count; s0 += 2 * L4) {
        V4 acc[4][2];
        for (q = 0; q < nj; q++)
            acc[q][0] = acc[q][1] = V4_SPLAT(0.0f);
        for (i = r; i-- > 0;) /* the leading terms, last to first */
            for (h = 0; h < 2; h++) {
                const V4 vi = V4_LOAD(v + (size_t)i * KF_PANEL + s0 + h * L4);
                for (q = 0; q < nj; q++)
                    acc[q][h] = V4_ADD(acc[q][h], V4_MUL(V4_SPLAT(w[(size_t)q * n + i]), vi));
            }
        for (i = r; i < n; i += 4)
            for (h = 0; h < 2; h++) {
                const float *v0 = v + (size_t)i * KF_PANEL + s0 + h * L4;
                const V4 a0 = V4_LOAD(v0), a1 = V4_LOAD(v0 + KF_PANEL);
                const V4 a2 = V4_LOAD(v0 + 2 * KF_PANEL), a3 = V4_LOAD(v0 + 3 * KF_PANEL);
                for (q = 0; q < nj; q++) {
                    const float *wq = w + (size_t)q * n + i;
                    V4 t = V4_MUL(V4_SPLAT(wq[0]), a0);
                    t = V4_ADD(t, V4_MUL(V4_SPLAT(wq[1]), a1));
                    t = V4_ADD(t, V4_MUL(V4_SPLAT(wq[2]), a2));
                    t = V4_ADD(t, V4_MUL(V4_SPLAT(wq[3]), a3));
                    acc[q][h] = V4_ADD(acc[q][h], t);
                }
            }
        for (q = 0; q < nj; q++)
            for (h = 0; h < 2; h++)
                V4_STORE(out + (size_t)q * KF_PANEL + s0 + h * L4, acc[q][h]);
    }
}

void KF_LANES4(fann_sums)(const float *w, uint32_t n, uint32_t m, const float *v, uint32_t count, float *out)
{
    uint32_t q = 0;
    for (; q + 4 <= m; q += 4)
        lanes4_sums_tile(w + (size_t)q * n, n, v, count, out + (size_t)q * KF_PANEL, 4);
    for (; q < m; q++)
        lanes4_sums_tile(w + (size_t)q * n, n, v, count, out + (size_t)q * KF_PANEL, 1);
}

void KF_LANES4(fann_backprop)(const float *w, uint32_t n, uint32_t m, const float *e, uint32_t count, float *err)
{
    uint32_t i, q, s0;
    for (i = 0; i < n; i++)
        for (s0 = 0; s0 < count; s0 += L4) {
            V4 acc = V4_LOAD(err + (size_t)i * KF_PANEL + s0);
            for (q = 0; q < m; q++)
                acc = V4_ADD(acc, V4_MUL(V4_LOAD(e + (size_t)q * KF_PANEL + s0), V4_SPLAT(w[(size_t)q * n + i])));
            V4_STORE(err + (size_t)i * KF_PANEL + s0, acc);
        }
}

void KF_LANES4(fann_slopes)(const float *e, const float *vt, size_t ldv, uint32_t n, uint32_t m, uint32_t count,
                            float *slopes)
{
    const uint32_t n4 = n & ~3u;
    uint32_t q, i, s;
    for (q = 0; q < m; q++) {
        float *row = slopes + (size_t)q * n;
        for (i = 0; i < n4; i += L4) {
            V4 acc = V4_LOAD(row + i);
            for (s = 0; s < count; s++)
                acc = V4_ADD(acc, V4_MUL(V4_SPLAT(e[(size_t)q * KF_PANEL + s]), V4_LOAD(vt + s * ldv + i)));
            V4_STORE(row + i, acc);
        }
    }
    for (q = 0; q < m && n4 < n; q++) /* the last sources, samples still in order for each slope */
        for (s = 0; s < count; s++)
            for (i = n4; i < n; i++)
                slopes[(size_t)q * n + i] += e[(size_t)q * KF_PANEL + s] * vt[s * ldv + i];
}

#undef L4

#endif
