// The ES module in Node.js: every committed .kfn file of tests/golden (raw, deflate and lossy q8
// sections; networks, FANN fixed point, Q8/Q16, routers, mixtures) is read by kimi-fann.mjs and
// run by the wasm core; the outputs must equal those of the Python package (native build).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { KimiFann, KimiFannError, quantizeGates } from "../kimi-fann.mjs";
import { GOLDEN, buildModels, difference, expected, runCase } from "./golden.mjs";

const wasmPath = process.env.KFANN_WASM ? new URL(process.env.KFANN_WASM, `file://${process.cwd()}/`) : undefined;
const kf = await KimiFann.create({ wasm: wasmPath });
const doc = JSON.parse(await readFile(new URL("vectors.json", GOLDEN), "utf8"));

test("the SIMD128 kernels are on by default", () => {
  assert.equal(kf.simdPath(), "wasm");
  assert.ok(kf.simdSupported("scalar"));
  assert.ok(!kf.simdSupported("avx2"));
});

for (const entry of doc.kfn) {
  test(`${entry.file} (${entry.kind}) runs as in Python`, async () => {
    const model = await kf.load(await readFile(new URL(entry.file, GOLDEN)));
    const cases = entry.cases ?? doc.cases.filter((c) => c.model === entry.model);
    assert.ok(cases.length > 0);
    for (const c of cases) for (const simd of ["wasm", "scalar"]) {
      assert.equal(difference(runCase(model, c, simd), expected(c)), null, `${c.op} on ${simd}`);
    }
    model.free();
  });
}

test("int8/int16 gates are quantized as kimi_fann.Router quantizes them", () => {
  for (const name of ["router_int8", "router_int16"]) {
    const d = doc.models[name];
    const [q, s] = quantizeGates(d.gates, d.n_experts, d.dim, d.gate_bits);
    assert.deepEqual(Array.from(q), d.gates_q);
    assert.deepEqual(Array.from(s), d.gate_scale.map(Math.fround));
  }
});

test("models built from arrays match too, and free their memory", () => {
  const before = kf.memoryBytes();
  const models = buildModels(kf, doc.models);
  for (const c of doc.cases) assert.equal(difference(runCase(models[c.model], c), expected(c)), null, c.model);
  models.moe.free(); // frees its router and experts
  for (const [name, m] of Object.entries(models)) if (!name.startsWith("moe")) m.free();
  assert.ok(kf.memoryBytes() - before < 8 << 20);
});

test("damaged files and bad inputs raise KimiFannError", async () => {
  const bytes = new Uint8Array(await readFile(new URL("net_float.raw.kfn", GOLDEN)));
  const damaged = bytes.slice();
  damaged[damaged.length - 3] ^= 1;
  await assert.rejects(kf.load(damaged), (e) => e instanceof KimiFannError && /CRC-32/.test(e.message));
  await assert.rejects(kf.load(bytes.slice(0, 10)), KimiFannError);
  await assert.rejects(kf.load(new Uint8Array(64)), /bad magic/);
  // a model the C core rejects: its reason (kept in the caller's kf_diag) reaches the message
  assert.throws(() => kf.fannFixed("FANN_FIX_2.0\nnum_layers=banana\n"),
    (e) => e instanceof KimiFannError && /invalid FANN fixed-point network: .*num_layers.*line 2/.test(e.message));
  const net = await kf.load(bytes);
  assert.throws(() => net.run(new Float32Array(7)), KimiFannError);
  assert.throws(() => net.run(Float32Array.of(NaN, 0, 0, 0, 0, 0, 0, 0)), KimiFannError);
  net.free();
});
