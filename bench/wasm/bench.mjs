// Latency and memory of kimi-fann in WebAssembly (Node.js), scalar vs SIMD128, against native.
//   node bench/wasm/bench.mjs [--wasm js/kfann.wasm] [--python python3]
// The models (64-128-64-8 and 768-256-64 networks in float and Q8, a 384-expert top-8 router with
// float and int8 gates, a mixture of six Q8 768-256-64 experts) are made by the Python package,
// which also times them natively (bench/wasm/native.py); here each .kfn file is loaded into a
// fresh wasm instance and timed on both SIMD paths. Prints a markdown table.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { KimiFann } from "../../js/kimi-fann.mjs";

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const here = path.dirname(fileURLToPath(import.meta.url));
const wasm = readFileSync(opt("--wasm", path.join(here, "../../js/kfann.wasm")));
const dir = mkdtempSync(path.join(tmpdir(), "kfann-bench-"));
const native = JSON.parse(execFileSync(opt("--python", "python3"), [path.join(here, "native.py"), dir],
  { encoding: "utf8", env: { ...process.env, OMP_NUM_THREADS: "1" } }));

function timed(fn, seconds = 0.3) {
  fn();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    fn();
    n++;
  }
  return ((performance.now() - t0) / n) * 1000; // microseconds
}

const fmt = (us) => (us >= 100 ? us.toFixed(0) : us >= 10 ? us.toFixed(1) : us.toFixed(2));
const rows = [];
for (const [name, info] of Object.entries(native)) {
  if (name.startsWith("_")) continue;
  const kf = await KimiFann.create({ wasm });
  const base = kf.memoryBytes();
  const model = await kf.load(readFileSync(path.join(dir, info.file)));
  const x1 = Float32Array.from({ length: info.dim }, (_, i) => Math.sin(i));
  const xb = Float32Array.from({ length: 256 * info.dim }, (_, i) => Math.sin(i * 0.37));
  const call = model.route ? (x, simd) => model.route(x, { simd }) : (x, simd) => model.run(x, { simd });
  const w = {};
  for (const simd of ["scalar", "wasm"]) {
    w[simd] = { single: timed(() => call(x1, simd)), batch: timed(() => call(xb, simd)) / 256 };
  }
  const np = native._native_path;
  rows.push(`| ${name} | ${fmt(w.scalar.single)} / ${fmt(w.scalar.batch)} | ${fmt(w.wasm.single)} / ${fmt(w.wasm.batch)} | ` +
    `${info.scalar ? `${fmt(info.scalar.single_us)} / ${fmt(info.scalar.batch_us)}` : "—"} | ` +
    `${fmt(info[np].single_us)} / ${fmt(info[np].batch_us)} | ` +
    `${(kf.memoryBytes() / 2 ** 20).toFixed(1)} (${((kf.memoryBytes() - base) / 2 ** 20).toFixed(1)}) |`);
  model.free();
}
rmSync(dir, { recursive: true, force: true });
console.log(`Node.js ${process.version}; native: Python package, path ${native._native_path}; µs per inference, ` +
  "one sample per call / per sample in batches of 256; wasm memory: the instance's whole linear memory " +
  "after loading and running (growth for the model and its scratch).\n");
console.log(`| model | wasm scalar µs | wasm SIMD128 µs | native scalar µs | native ${native._native_path} µs | wasm memory MiB |`);
console.log("| --- | --- | --- | --- | --- | --- |");
for (const r of rows) console.log(r);
