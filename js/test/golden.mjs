// Shared by the golden-vector checks: run one case of tests/golden/vectors.json on a model made
// by the wasm core and say how it differs from the native scalar build's outputs.
export const GOLDEN = new URL("../../tests/golden/", import.meta.url);

/** The native outputs of a case, by name ("output", "experts", "weights"). */
export function expected(c) {
  const out = {};
  for (const key of ["output", "experts", "weights"]) if (c[key]) out[key] = c[key];
  return out;
}

/** Run case c on model m (made by the wasm core) with SIMD path simd. */
export function runCase(m, c, simd) {
  switch (c.op) {
    case "run": return { output: m.run(Float32Array.from(c.input), { simd }) };
    case "run_raw": return { output: m.runRaw(Int32Array.from(c.input), { simd }) };
    case "route": return m.route(Float32Array.from(c.input), { simd });
    case "moe": return m.run(Float32Array.from(c.input), { simd });
    default: throw new Error(`unknown op ${c.op}`);
  }
}

/** First difference between got and want (bit-exact: float32 values compared as float32), or null. */
export function difference(got, want) {
  for (const [key, values] of Object.entries(want)) {
    const g = got[key];
    if (!g || g.length !== values.length) return `${key}: ${g?.length} values, expected ${values.length}`;
    for (let i = 0; i < values.length; i++) {
      const w = g instanceof Float32Array ? Math.fround(values[i]) : values[i];
      if (!Object.is(g[i], w)) return `${key}[${i}] = ${g[i]}, native ${w}`;
    }
  }
  return null;
}

/** Build every model of vectors.json with the core's array constructors. */
export function buildModels(kf, models) {
  const made = {};
  const build = (name) => {
    if (made[name]) return made[name];
    const d = models[name];
    switch (d.kind) {
      case "network": made[name] = kf.network(d); break;
      case "fann_fixed": made[name] = kf.fannFixed(d.text); break;
      case "quantized": made[name] = kf.quantized(d); break;
      case "router": made[name] = kf.router(d); break;
      case "mixture": made[name] = kf.mixture(build(d.router), d.experts.map(build), d.shared ? build(d.shared) : null,
        d.domains); break;
      default: throw new Error(`unknown kind ${d.kind}`);
    }
    return made[name];
  };
  for (const name of Object.keys(models)) build(name);
  return made;
}
