// A kimi-fann model in JavaScript: the C core as WebAssembly, no Python.
//
//   sh js/build.sh                                   # once: js/kfann.wasm (clang, wasi-libc)
//   node examples/wasm_node.mjs MODEL.kfn [INPUTS.json] [--simd scalar]
//
// MODEL.kfn is any .kfn file that kimi_fann.save wrote (network, Q8/Q16, router or mixture; raw,
// deflate or q8/q4). INPUTS.json is a list of rows (default: one row of zeros). Prints one JSON
// object: the SIMD path, the model's class and sizes, and its outputs (and routes) per row.
// KFANN_WASM=path/to/kfann.wasm uses another build of the core.
import { readFile } from "node:fs/promises";
import { KimiFann } from "../js/kimi-fann.mjs";

const args = process.argv.slice(2);
const simdAt = args.indexOf("--simd");
const simd = simdAt >= 0 ? args.splice(simdAt, 2)[1] : undefined;
const [modelPath, inputsPath] = args;
if (!modelPath) {
  console.error("usage: node examples/wasm_node.mjs MODEL.kfn [INPUTS.json] [--simd scalar|wasm]");
  process.exit(2);
}

const wasm = process.env.KFANN_WASM ? await readFile(process.env.KFANN_WASM) : undefined;
const kf = await KimiFann.create({ wasm, simd });
const model = await kf.load(new Uint8Array(await readFile(modelPath)));
const width = model.numInput ?? model.dim;  // a router has dim
try {
  const rows = inputsPath ? JSON.parse(await readFile(inputsPath, "utf8")) : [new Array(width).fill(0)];
  const x = Float32Array.from(rows.flat());
  const split = (values, width) => rows.map((_, i) => Array.from(values.subarray(i * width, (i + 1) * width)));
  const result = { simd: kf.simdPath(), model: model.constructor.name, numInput: width };
  if (typeof model.route === "function") {  // a router alone
    const { experts, weights } = model.route(x);
    Object.assign(result, { experts: split(experts, model.topK), weights: split(weights, model.topK) });
  } else {
    const out = model.run(x);
    const output = out.output ?? out;  // a mixture also returns its routes
    Object.assign(result, { numOutput: model.numOutput, output: split(output, model.numOutput) });
    if (out.experts) {
      const k = model.router.topK;
      Object.assign(result, { experts: split(out.experts, k), weights: split(out.weights, k) });
    }
  }
  result.memoryBytes = kf.memoryBytes();
  console.log(JSON.stringify(result));
} finally {
  model.free();
}
