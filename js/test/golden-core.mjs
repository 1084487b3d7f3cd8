// The C core on wasm32 against the native build: every golden vector of tests/golden/vectors.json
// (float networks, FANN fixed point, Q8/Q16, routers, a mixture; produced by the native scalar
// build) is recomputed by kfann.wasm on the scalar path and on the WASM SIMD128 path, and must
// match bit for bit; the two wasm paths must match each other too.
//   node js/test/golden-core.mjs path/to/kfann.wasm
import { readFile } from "node:fs/promises";
import { KimiFann } from "../kimi-fann.mjs";
import { GOLDEN, buildModels, difference, expected, runCase } from "./golden.mjs";

const wasm = process.argv[2] ? await readFile(process.argv[2]) : undefined;
const kf = await KimiFann.create({ wasm });
const doc = JSON.parse(await readFile(new URL("vectors.json", GOLDEN), "utf8"));
if (!kf.simdSupported("wasm")) throw new Error("this wasm build has no SIMD128 kernels");
if (kf.simdPath() !== "wasm") throw new Error(`the default path is ${kf.simdPath()}, expected wasm`);
const models = buildModels(kf, doc.models);
let failures = 0, checked = 0;
for (const c of doc.cases) {
  const got = {};
  for (const simd of ["scalar", "wasm"]) {
    // float networks have one path (no SIMD kernel): run them once
    if (simd === "wasm" && doc.models[c.model].kind === "network") continue;
    got[simd] = runCase(models[c.model], c, simd);
    const diff = difference(got[simd], expected(c));
    checked++;
    if (diff) {
      failures++;
      console.log(`FAIL ${c.model} ${c.op} [${simd}]: ${diff}`);
    }
  }
  if (got.wasm) {
    const diff = difference(got.wasm, got.scalar);
    if (diff) {
      failures++;
      console.log(`FAIL ${c.model} ${c.op}: wasm SIMD128 vs wasm scalar: ${diff}`);
    }
  }
}
console.log(`golden vectors on wasm32: ${checked - failures}/${checked} runs equal to the native scalar build ` +
  `(${doc.cases.length} cases, simd paths scalar and wasm), memory ${kf.memoryBytes() >> 10} KiB`);
process.exitCode = failures ? 1 : 0;
