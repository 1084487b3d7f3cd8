// kimi-fann for JavaScript: the C core compiled to wasm32 (kfann.wasm, a WASI reactor built from
// csrc/ and csrc/wasm/kfann_wasm.c) and a reader of .kfn model files. No Python, no dependencies;
// runs in Node.js (>= 18) and in browsers (WebAssembly SIMD128, DecompressionStream).
//
//   import { KimiFann } from "./kimi-fann.mjs";
//   const kf = await KimiFann.create();            // or { wasm: bytes | URL | WebAssembly.Module }
//   const model = await kf.load(kfnBytes);          // Network, FixedNetwork, Router or Mixture
//   const y = model.run(new Float32Array([...]));   // rows of num_input values in, rows out
//
// Every model holds C memory inside the wasm instance: call model.free() when done with it.
// SIMD: the WASM SIMD128 kernels run by default; pass { simd: "scalar" } to a run call (or to
// KimiFann.create) to use the scalar reference. Both give the same integers.
//
// Nothing of the C core is retyped here: the SIMD path names, the status codes and the limits
// come from the wasm module (kf_simd_name, kf_constants), and a fully connected network's
// connections are implied by the core (kf_net_assemble).

/** The C core's constants by name (kfann.h: "KF_E_FORMAT", "KF_MAX_LAYERS", ...), read from the
 * first instance (every build of the core has the same). */
export const CONSTANTS = {};

export class KimiFannError extends Error {
  /** status: the core's status code, or its name ("KF_E_FORMAT"). */
  constructor(message, status = 0) {
    super(message);
    this.name = "KimiFannError";
    this.status = typeof status === "string" ? (CONSTANTS[status] ?? 0) : status;
  }
}

// ---------------------------------------------------------------------------------------------
// The wasm instance: a minimal WASI preview1 (the core only asks for its environment, to read
// KIMI_FANN_SIMD, and links stdio it never uses).

function wasiImports(env, getMemory) {
  const entries = Object.entries(env).map(([k, v]) => new TextEncoder().encode(`${k}=${v}\0`));
  const view = () => new DataView(getMemory().buffer);
  return {
    environ_sizes_get(countPtr, sizePtr) {
      view().setUint32(countPtr, entries.length, true);
      view().setUint32(sizePtr, entries.reduce((s, e) => s + e.length, 0), true);
      return 0;
    },
    environ_get(environPtr, bufPtr) {
      const mem = new Uint8Array(getMemory().buffer);
      for (const e of entries) {
        view().setUint32(environPtr, bufPtr, true);
        environPtr += 4;
        mem.set(e, bufPtr);
        bufPtr += e.length;
      }
      return 0;
    },
    fd_write(fd, iovs, iovsLen, nwrittenPtr) {
      let n = 0;
      for (let i = 0; i < iovsLen; i++) n += view().getUint32(iovs + 8 * i + 4, true);
      view().setUint32(nwrittenPtr, n, true);
      return 0;
    },
    fd_close: () => 0,
    fd_seek: () => 8, // EBADF
    proc_exit(code) {
      throw new KimiFannError(`the wasm core exited with code ${code}`);
    },
  };
}

async function wasmSource(wasm) {
  if (wasm instanceof WebAssembly.Module) return wasm;
  if (wasm instanceof ArrayBuffer || ArrayBuffer.isView(wasm)) return WebAssembly.compile(wasm);
  const url = wasm instanceof URL ? wasm : new URL(wasm ?? "./kfann.wasm", import.meta.url);
  if (url.protocol === "file:") {
    const { readFile } = await import("node:fs/promises");
    return WebAssembly.compile(await readFile(url));
  }
  const response = await fetch(url);
  if (!response.ok) throw new KimiFannError(`cannot fetch ${url}: HTTP ${response.status}`);
  return WebAssembly.compile(await response.arrayBuffer());
}

export class KimiFann {
  /** Instantiate the core. options.wasm: URL, bytes or module (default ./kfann.wasm next to
   * this file); options.simd: "wasm" or "scalar" (default: the best one). */
  static async create(options = {}) {
    const module = await wasmSource(options.wasm);
    let memory = null;
    const env = options.simd ? { KIMI_FANN_SIMD: options.simd } : {};
    const instance = await WebAssembly.instantiate(module, {
      wasi_snapshot_preview1: wasiImports(env, () => memory),
    });
    memory = instance.exports.memory;
    instance.exports._initialize();
    return new KimiFann(instance);
  }

  constructor(instance) {
    this.x = instance.exports;
    for (let i = 0; i < this.x.kfw_constant_count(); i++) {
      CONSTANTS[this.string(this.x.kfw_constant_name(i))] = this.x.kfw_constant_value(i);
    }
    /** The SIMD paths' names, indexed by kf_simd (0 is "auto"). */
    this.simdNames = Array.from({ length: CONSTANTS.KF_SIMD_COUNT_ }, (_, i) => this.string(this.x.kfw_simd_name(i)));
    const active = this.x.kfw_simd_active();
    if (active < 0) throw new KimiFannError(`KIMI_FANN_SIMD: ${this.string(this.x.kfw_status_str(active))}`, active);
    this.defaultPath = active;
  }

  // ---- introspection ----
  /** The SIMD path that runs by default: "wasm" (SIMD128) or "scalar". */
  simdPath() {
    return this.simdNames[this.defaultPath];
  }
  simdSupported(name) {
    const i = this.simdNames.indexOf(name);
    return i > 0 && this.x.kfw_simd_supported(i) === 1;
  }
  /** Bytes of the instance's linear memory (everything the core holds: models and scratch). */
  memoryBytes() {
    return this.x.memory.buffer.byteLength;
  }

  // ---- memory helpers ----
  string(ptr) {
    const mem = new Uint8Array(this.x.memory.buffer);
    let end = ptr;
    while (mem[end]) end++;
    return new TextDecoder().decode(mem.subarray(ptr, end));
  }
  alloc(bytes) {
    const p = this.x.kfw_alloc(bytes);
    if (!p) throw new KimiFannError(`out of memory allocating ${bytes} bytes`, "KF_E_NOMEM");
    return p;
  }
  /** Copy a typed array into new C memory; returns its address. */
  put(array) {
    const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
    const p = this.alloc(bytes.length);
    new Uint8Array(this.x.memory.buffer, p, bytes.length).set(bytes);
    return p;
  }
  take(Type, ptr, count) {
    return new Type(this.x.memory.buffer, ptr, count).slice();
  }
  check(status, what, diag = 0) {
    if (status === 0) return;
    const message = diag ? this.string(this.x.kfw_diag_message(diag)) : "";
    const line = diag ? this.x.kfw_diag_line(diag) : 0;
    const reason = message ? `${message}${line ? ` (line ${line})` : ""}` : this.string(this.x.kfw_status_str(status));
    throw new KimiFannError(`${what}: ${reason}`, status);
  }
  path(simd) {
    if (simd === undefined || simd === null) return this.defaultPath;
    const i = this.simdNames.indexOf(simd);
    if (i < 1 || !this.x.kfw_simd_supported(i)) {
      throw new KimiFannError(`SIMD path ${simd} is not available here`, "KF_E_UNSUPPORTED");
    }
    return i;
  }
  /** Run fn with temporary C copies of the given typed arrays (null stays 0). */
  with(arrays, fn) {
    const ptrs = arrays.map((a) => (a ? this.put(a) : 0));
    try {
      return fn(...ptrs);
    } finally {
      for (const p of ptrs) if (p) this.x.kfw_free(p);
    }
  }
  create(what, fn) {
    const out = this.alloc(4);
    const diag = this.x.kfw_diag_new();
    try {
      if (!diag) throw new KimiFannError("out of memory", "KF_E_NOMEM");
      this.check(fn(out, diag), what, diag);
      return new Uint32Array(this.x.memory.buffer, out, 1)[0];
    } finally {
      this.x.kfw_free(diag);
      this.x.kfw_free(out);
    }
  }

  // ---- models from their arrays (what .kfn sections and kimi_fann._core hold) ----
  /** A float network: { layer_start, con_start, con_src, weights, activation, steepness,
   * shortcut, connection_rate, scaling? } (FANN's neuron numbering, kfann.h). Without con_start
   * and con_src, the network is fully connected (the core implies its connections). */
  network(d) {
    const arrays = [Uint32Array.from(d.layer_start), d.con_start ? Uint32Array.from(d.con_start) : null,
      d.con_src ? Uint32Array.from(d.con_src) : null, Float32Array.from(d.weights), Uint8Array.from(d.activation),
      Float32Array.from(d.steepness), d.scaling ? Float32Array.from(d.scaling) : null];
    const ptr = this.with(arrays, (ls, cs, src, w, act, st, sc) =>
      this.create("invalid network", (out, diag) => this.x.kfw_net_assemble(d.layer_start.length - 1, d.shortcut ? 1 : 0,
        d.connection_rate, ls, cs, src, w, act, st, sc, out, diag)));
    return new Network(this, ptr);
  }
  /** A FANN_FIX_2.0 network from its text (string or bytes). */
  fannFixed(text) {
    const bytes = typeof text === "string" ? new TextEncoder().encode(text) : Uint8Array.from(text);
    const ptr = this.with([bytes], (p) =>
      this.create("invalid FANN fixed-point network", (out, diag) => this.x.kfw_fixnet_parse_fann(p, bytes.length, out, diag)));
    return new FixedNetwork(this, ptr);
  }
  /** A Q8/Q16 network: { activation_bits, weight_bits, input_inv_scale, input_zero,
   * output_scale, output_zero, layers: [{ n_in, n_out, weights, bias, multiplier, shift, t0,
   * seg_shift, knots, out_lo, out_hi }], shortcut? } (kf_qnet_desc; shortcut: each layer reads the
   * inputs and every earlier layer's outputs, as a cascade-trained network). */
  quantized(d) {
    const L = d.layers.length;
    const info = new Int32Array(7 * L);
    const keep = [];
    const addrs = new Uint32Array(5 * L);
    try {
      d.layers.forEach((l, i) => {
        info.set([l.n_in, l.n_out, l.t0, l.seg_shift, l.knots.length, l.out_lo, l.out_hi], 7 * i);
        const arrays = [Int16Array.from(l.weights), Int32Array.from(l.bias), Int32Array.from(l.multiplier),
          Uint8Array.from(l.shift), Int32Array.from(l.knots)];
        arrays.forEach((a, j) => {
          addrs[5 * i + j] = this.put(a);
          keep.push(addrs[5 * i + j]);
        });
      });
      const ptr = this.with([Float32Array.from(d.input_inv_scale), Int32Array.from(d.input_zero), info, addrs],
        (inv, zero, pi, pa) => this.create("invalid quantized network", (out, diag) => this.x.kfw_qnet_create(
          d.activation_bits, d.weight_bits, L, d.input_zero.length, inv, zero, d.output_scale, d.output_zero,
          pi, pa, out, diag, d.shortcut ? 1 : 0)));
      return new QuantizedNetwork(this, ptr, d.activation_bits);
    } finally {
      for (const p of keep) this.x.kfw_free(p);
    }
  }
  /** A router: { gates (n_experts x dim), n_experts, dim, top_k, scoring: "softmax" |
   * "sigmoid", scaling, gate_bits: 32 | 16 | 8, bias?, gates_q?, gate_scale? }. Gates of 8 or 16
   * bits are quantized here as kimi_fann.Router does unless gates_q and gate_scale are given. */
  router(d) {
    const bits = d.gate_bits ?? 32;
    let gq = null, gs = null;
    if (bits !== 32) {
      if (d.gates_q && d.gate_scale) [gq, gs] = [Int16Array.from(d.gates_q), Float32Array.from(d.gate_scale)];
      else [gq, gs] = quantizeGates(d.gates, d.n_experts, d.dim, bits);
    }
    const scoring = typeof d.scoring === "string" ? CONSTANTS[`KF_SCORING_${d.scoring.toUpperCase()}`] ?? -1
      : d.scoring;
    const ptr = this.with([bits === 32 ? Float32Array.from(d.gates) : null, gq, gs,
      d.bias ? Float32Array.from(d.bias) : null], (g, q, s, b) => this.create("invalid router", (out, diag) =>
      this.x.kfw_router_create(d.n_experts, d.dim, d.top_k, scoring, bits, g, q, s, b, d.scaling ?? 1, out, diag)));
    return new Router(this, ptr);
  }
  /** A mixture over models made by this instance; it owns them from now on (free() frees all). */
  mixture(router, experts, shared = null, domains = null) {
    const kind = (m) => (m instanceof Network ? CONSTANTS.KF_EXPERT_FLOAT
      : m instanceof QuantizedNetwork ? CONSTANTS.KF_EXPERT_QUANTIZED : -1);
    for (const m of [...experts, ...(shared ? [shared] : [])]) {
      if (kind(m) < 0) throw new KimiFannError("an expert must be a float or Q8/Q16 network");
    }
    const kinds = Uint32Array.from(experts.map(kind));
    const models = Uint32Array.from(experts.map((e) => e.ptr));
    const ptr = this.with([kinds, models], (k, m) => this.create("invalid mixture", (out, diag) => this.x.kfw_moe_create(
      router.ptr, k, m, experts.length, shared ? kind(shared) : -1, shared ? shared.ptr : 0, out, diag)));
    return new Mixture(this, ptr, router, experts, shared, domains);
  }

  /** The model in a .kfn file's bytes (Uint8Array or ArrayBuffer). */
  async load(bytes) {
    const file = await KfnFile.parse(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
    return modelFrom(this, file, "", file.header.model);
  }
}

// ---------------------------------------------------------------------------------------------
// Models

class Model {
  constructor(kf, ptr) {
    this.kf = kf;
    this.ptr = ptr;
  }
  rows(x, width) {
    if (x.length % width !== 0) {
      throw new KimiFannError(`inputs must be rows of ${width} values, got ${x.length}`, "KF_E_SHAPE");
    }
    return x.length / width;
  }
}

export class Network extends Model {
  get numInput() { return this.kf.x.kfw_net_num_input(this.ptr); }
  get numOutput() { return this.kf.x.kfw_net_num_output(this.ptr); }
  /** Float32 outputs (n x numOutput) for n rows of inputs. */
  run(x) {
    const kf = this.kf, n = this.rows(x, this.numInput), out = kf.alloc(4 * n * this.numOutput);
    try {
      kf.with([Float32Array.from(x)], (px) => kf.check(kf.x.kfw_net_run(this.ptr, px, n, out), "cannot run the network"));
      return kf.take(Float32Array, out, n * this.numOutput);
    } finally {
      kf.x.kfw_free(out);
    }
  }
  free() { this.kf.x.kfw_net_free(this.ptr); this.ptr = 0; }
}

export class FixedNetwork extends Model {
  get numInput() { return this.kf.x.kfw_fixnet_num_input(this.ptr); }
  get numOutput() { return this.kf.x.kfw_fixnet_num_output(this.ptr); }
  get multiplier() { return this.kf.x.kfw_fixnet_multiplier(this.ptr); }
  /** Int32 in, int32 out: exactly libfixedfann's fann_run. */
  runRaw(x) {
    const kf = this.kf, n = this.rows(x, this.numInput), out = kf.alloc(4 * n * this.numOutput);
    try {
      kf.with([Int32Array.from(x)], (px) => kf.check(kf.x.kfw_fixnet_run(this.ptr, px, n, out), "cannot run the network"));
      return kf.take(Int32Array, out, n * this.numOutput);
    } finally {
      kf.x.kfw_free(out);
    }
  }
  /** Float in (rounded to the nearest multiple of 1/multiplier), float out. */
  run(x) {
    const m = this.multiplier;
    const xi = Int32Array.from(x, (v) => Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, rint(v * m))));
    return Float32Array.from(this.runRaw(xi), (v) => Math.fround(v / m));
  }
  free() { this.kf.x.kfw_fixnet_free(this.ptr); this.ptr = 0; }
}

export class QuantizedNetwork extends Model {
  constructor(kf, ptr, bits) {
    super(kf, ptr);
    this.format = bits === 8 ? "q8" : "q16";
  }
  get numInput() { return this.kf.x.kfw_qnet_num_input(this.ptr); }
  get numOutput() { return this.kf.x.kfw_qnet_num_output(this.ptr); }
  /** Float32 in and out, integer arithmetic inside. options.simd: "wasm" or "scalar". */
  run(x, options = {}) {
    const kf = this.kf, n = this.rows(x, this.numInput), out = kf.alloc(4 * n * this.numOutput);
    try {
      kf.with([Float32Array.from(x)], (px) => kf.check(
        kf.x.kfw_qnet_run(this.ptr, kf.path(options.simd), px, n, out), "cannot run the quantized network"));
      return kf.take(Float32Array, out, n * this.numOutput);
    } finally {
      kf.x.kfw_free(out);
    }
  }
  /** Quantized inputs (0..255 for Q8, -32768..32767 for Q16) to quantized outputs, as int32. */
  runRaw(x, options = {}) {
    const kf = this.kf, n = this.rows(x, this.numInput), out = kf.alloc(4 * n * this.numOutput);
    try {
      kf.with([Int32Array.from(x)], (px) => kf.check(
        kf.x.kfw_qnet_run_raw(this.ptr, kf.path(options.simd), px, n, out), "cannot run the quantized network"));
      return kf.take(Int32Array, out, n * this.numOutput);
    } finally {
      kf.x.kfw_free(out);
    }
  }
  free() { this.kf.x.kfw_qnet_free(this.ptr); this.ptr = 0; }
}

export class Router extends Model {
  get numExperts() { return this.kf.x.kfw_router_n_experts(this.ptr); }
  get dim() { return this.kf.x.kfw_router_dim(this.ptr); }
  get topK() { return this.kf.x.kfw_router_top_k(this.ptr); }
  /** { experts: Uint32Array, weights: Float32Array }, n x topK each, best first. */
  route(x, options = {}) {
    const kf = this.kf, n = this.rows(x, this.dim), k = this.topK;
    const pe = kf.alloc(4 * n * k), pw = kf.alloc(4 * n * k);
    try {
      kf.with([Float32Array.from(x)], (px) => kf.check(
        kf.x.kfw_router_route(this.ptr, kf.path(options.simd), px, n, pe, pw), "cannot route"));
      return { experts: kf.take(Uint32Array, pe, n * k), weights: kf.take(Float32Array, pw, n * k) };
    } finally {
      kf.x.kfw_free(pe);
      kf.x.kfw_free(pw);
    }
  }
  free() { this.kf.x.kfw_router_free(this.ptr); this.ptr = 0; }
}

export class Mixture extends Model {
  constructor(kf, ptr, router, experts, shared, domains) {
    super(kf, ptr);
    Object.assign(this, { router, experts, shared, domains });
  }
  get numInput() { return this.router.dim; }
  get numOutput() { return this.kf.x.kfw_moe_num_output(this.ptr); }
  /** { output: Float32Array (n x numOutput), experts, weights (n x topK) }. */
  run(x, options = {}) {
    const kf = this.kf, n = this.rows(x, this.numInput), k = this.router.topK, m = this.numOutput;
    const py = kf.alloc(4 * n * m), pe = kf.alloc(4 * n * k), pw = kf.alloc(4 * n * k);
    try {
      kf.with([Float32Array.from(x)], (px) => kf.check(
        kf.x.kfw_moe_run(this.ptr, kf.path(options.simd), px, n, py, pe, pw), "cannot run the mixture"));
      return { output: kf.take(Float32Array, py, n * m), experts: kf.take(Uint32Array, pe, n * k),
        weights: kf.take(Float32Array, pw, n * k) };
    } finally {
      for (const p of [py, pe, pw]) kf.x.kfw_free(p);
    }
  }
  free() {
    this.kf.x.kfw_moe_free(this.ptr);
    for (const m of [this.router, ...this.experts, ...(this.shared ? [this.shared] : [])]) m.free();
    this.ptr = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Numbers as numpy computes them

/** Round half to even (numpy.rint). */
export function rint(x) {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

/** numpy's pairwise summation of float64 values (np.add.reduce over a contiguous row): the
 * first value, then the rest summed pairwise in blocks of up to 128 with eight accumulators. */
function pairwise(a, lo, n) {
  if (n < 8) {
    let s = -0.0;
    for (let i = lo; i < lo + n; i++) s += a[i];
    return s;
  }
  if (n <= 128) {
    const r = a.slice(lo, lo + 8);
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[lo + i + j];
    let s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) s += a[lo + i];
    return s;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwise(a, lo, n2) + pairwise(a, lo + n2, n - n2);
}

/** kimi_fann.router._quantize_gates: int8/int16 rows with a float32 scale each, such that a
 * row's dot product with an input quantized to the same width cannot overflow int32. */
export function quantizeGates(gates, nExperts, dim, bits) {
  const [qmax, amax] = bits === 8 ? [127, 255] : [32767, 32767];
  const q = new Int16Array(nExperts * dim), scales = new Float32Array(nExperts);
  for (let e = 0; e < nExperts; e++) {
    const row = Float64Array.from(gates.slice(e * dim, (e + 1) * dim), (v) => Math.abs(Math.fround(v)));
    const top = row.reduce((m, v) => Math.max(m, v), 0);
    const sum = row[0] + pairwise(row, 1, dim - 1);
    const ratio = sum / (top > 0 ? top : 1);
    let levels = Math.min(qmax, Math.floor((2 ** 31 - 1) / amax / Math.max(ratio, 1)));
    for (;;) {
      const scale = top > 0 ? Math.fround(top / levels) : 1;
      let total = 0;
      for (let i = 0; i < dim; i++) {
        const v = Math.max(-qmax, Math.min(qmax, rint(Math.fround(gates[e * dim + i]) / scale)));
        q[e * dim + i] = v;
        total += Math.abs(v);
      }
      if (total * amax <= 2 ** 31 - 1) {
        scales[e] = scale;
        break;
      }
      levels -= Math.max(1, Math.floor(levels / 1000));
    }
  }
  return [q, scales];
}

// ---------------------------------------------------------------------------------------------
// The .kfn container (src/kimi_fann/kfn.py): prefix "<4sHHIII" (magic KFN\0, version major and
// minor, flags, header length, header CRC-32), the JSON header (deflated when flags bit 0 is
// set), padding to 64 bytes, then the sections (raw, deflate or quantized), each with a CRC-32.

const ALIGN = 64;
const MAX_HEADER = 16 << 20;
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Inflate zlib-wrapped deflate data (Python's zlib.compress) with DecompressionStream. */
export async function inflate(bytes, limit) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  const reader = stream.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel();
      throw new KimiFannError(`inflates to more than ${limit} bytes`, "KF_E_FORMAT");
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function float16(h) {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

const DTYPES = {
  "<f4": Float32Array, "<f2": Uint16Array, "<i8": BigInt64Array, "<u8": BigUint64Array, "<i4": Int32Array,
  "<u4": Uint32Array, "<i2": Int16Array, "<u2": Uint16Array, "|i1": Int8Array, "|u1": Uint8Array,
};

class KfnFile {
  static async parse(data) {
    const fail = (m) => new KimiFannError(`.kfn: ${m}`, "KF_E_FORMAT");
    if (data.length < 20) throw fail(`${data.length} bytes, too short for a .kfn file`);
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (data[0] !== 0x4b || data[1] !== 0x46 || data[2] !== 0x4e || data[3] !== 0) throw fail("not a .kfn file (bad magic)");
    const major = dv.getUint16(4, true), flags = dv.getUint32(8, true);
    const headerLen = dv.getUint32(12, true), headerCrc = dv.getUint32(16, true);
    if (major !== 1) throw fail(`format version ${major}.x; this reader reads 1.x`);
    if (headerLen > Math.min(MAX_HEADER, data.length - 20)) throw fail(`the header claims ${headerLen} bytes`);
    if (flags & ~1) throw fail(`unknown flags ${flags}`);
    let header = data.subarray(20, 20 + headerLen);
    if (crc32(header) !== headerCrc) throw fail("the header's CRC-32 does not match (damaged file)");
    if (flags & 1) header = await inflate(header, MAX_HEADER);
    const file = new KfnFile();
    file.header = JSON.parse(new TextDecoder().decode(header));
    if (!Array.isArray(file.header.sections) || typeof file.header.model !== "object") {
      throw fail("the header lacks its model description or section table");
    }
    file.data = data;
    file.start = Math.ceil((20 + headerLen) / ALIGN) * ALIGN;
    file.entries = new Map(file.header.sections.map((e) => [e.name, e]));
    file.fail = fail;
    return file;
  }

  has(name) {
    return this.entries.has(name);
  }

  /** The section's values as a typed array (64-bit integers as Float64Array), and its shape. */
  async array(name) {
    const e = this.entries.get(name);
    if (!e) throw this.fail(`section ${name} is missing`);
    const Type = DTYPES[e.dtype];
    if (!Type || !Array.isArray(e.shape)) throw this.fail(`section ${name}: unsupported dtype ${e.dtype}`);
    const count = e.shape.reduce((a, b) => a * b, 1);
    const item = Type.BYTES_PER_ELEMENT;
    if (this.start + e.offset + e.length > this.data.length) throw this.fail(`section ${name} lies outside the file`);
    const payload = this.data.subarray(this.start + e.offset, this.start + e.offset + e.length);
    if (crc32(payload) !== e.crc32) throw this.fail(`section ${name}: CRC-32 does not match (damaged file)`);
    let raw;
    if (e.encoding === "raw") raw = payload;
    else if (e.encoding === "deflate") raw = await inflate(payload, count * item);
    else if (e.encoding === "quantized") return { values: await this.dequantize(name, e, payload, count), shape: e.shape };
    else throw this.fail(`section ${name}: unknown encoding ${e.encoding}`);
    if (raw.length !== count * item) throw this.fail(`section ${name}: ${raw.length} bytes for ${count} values`);
    const copy = new Uint8Array(raw); // aligned, little-endian (every WebAssembly host is)
    let values = new Type(copy.buffer, 0, count);
    if (e.dtype === "<f2") values = Float32Array.from(values, float16);
    if (item === 8) values = Float64Array.from(values, Number);
    return { values, shape: e.shape };
  }

  async dequantize(name, e, payload, count) {
    const { bits, group } = e;
    if ((bits !== 8 && bits !== 4) || !(group >= 1)) throw this.fail(`section ${name}: bad quantization`);
    const exact = e.exact ?? 0; // format 1.1: values kept exactly, a bitmap then float32 values
    if (!Number.isInteger(exact) || exact < 0 || exact > count) throw this.fail(`section ${name}: bad exact count`);
    const groups = Math.ceil(count / group);
    const codeBytes = bits === 8 ? count : Math.ceil(count / 2);
    const maskBytes = exact ? Math.ceil(count / 8) : 0;
    const size = 2 * groups + codeBytes + maskBytes + 4 * exact;
    const raw = await inflate(payload, size);
    if (raw.length !== size) throw this.fail(`section ${name} inflates to the wrong size`);
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      const scale = Math.fround(float16(dv.getUint16(2 * Math.floor(i / group), true)));
      let code;
      if (bits === 8) code = dv.getInt8(2 * groups + i);
      else {
        const b = raw[2 * groups + (i >> 1)];
        code = ((i & 1 ? b >> 4 : b & 15) & 15) - 8;
      }
      out[i] = Math.fround(code * scale);
    }
    if (exact) {
      const mask = 2 * groups + codeBytes;
      let k = 0;
      for (let i = 0; i < count; i++) {
        if (!((raw[mask + (i >> 3)] >> (i & 7)) & 1)) continue;
        if (k === exact) throw this.fail(`section ${name}: the bitmap marks more than ${exact} exact values`);
        out[i] = dv.getFloat32(mask + maskBytes + 4 * k++, true);
      }
      if (k !== exact) throw this.fail(`section ${name}: the bitmap marks ${k} exact values, the entry says ${exact}`);
    }
    return out;
  }
}

async function modelFrom(kf, file, p, meta) {
  const get = async (name) => (await file.array(p + name)).values;
  switch (meta?.type) {
    case "network": {
      const layerStart = await get("layer_start");
      const [conStart, conSrc] = meta.connections === "full" ? [null, null] // the core implies them
        : [await get("con_start"), await get("con_src")];
      return kf.network({ layer_start: layerStart, con_start: conStart, con_src: conSrc, weights: await get("weights"),
        activation: await get("activation"), steepness: await get("steepness"), shortcut: meta.shortcut,
        connection_rate: meta.connection_rate, scaling: meta.scaling ? await get("scaling") : null });
    }
    case "fann_fixed":
      return kf.fannFixed(await get("fann"));
    case "quantized": {
      const layers = [];
      for (let i = 0; i < meta.layers.length; i++) {
        const w = await file.array(`${p}layer${i}.weights`);
        layers.push({ ...meta.layers[i], n_out: w.shape[0], n_in: w.shape[1], weights: w.values,
          bias: await get(`layer${i}.bias`), multiplier: await get(`layer${i}.multiplier`),
          shift: await get(`layer${i}.shift`), knots: await get(`layer${i}.knots`) });
      }
      return kf.quantized({ ...meta, layers, input_inv_scale: await get("input_inv_scale"),
        input_zero: await get("input_zero") });
    }
    case "router": {
      const g = await file.array(p + "gates");
      return kf.router({ gates: g.values, n_experts: g.shape[0], dim: g.shape[1], top_k: meta.top_k,
        scoring: meta.scoring, scaling: meta.scaling, gate_bits: meta.gate_bits,
        bias: file.has(p + "bias") ? await get("bias") : null });
    }
    case "mixture": {
      const made = [];
      try {
        const router = await modelFrom(kf, file, p + "router/", meta.router);
        made.push(router);
        const experts = [];
        for (let i = 0; i < meta.experts.length; i++) {
          experts.push(await modelFrom(kf, file, `${p}expert${i}/`, meta.experts[i]));
          made.push(experts[i]);
        }
        const shared = meta.shared ? await modelFrom(kf, file, p + "shared/", meta.shared) : null;
        if (shared) made.push(shared);
        return kf.mixture(router, experts, shared, meta.domains ?? null);
      } catch (err) {
        for (const m of made) m.free();
        throw err;
      }
    }
    default:
      throw new KimiFannError(`.kfn: unknown model description at ${p || "the top"}`, "KF_E_FORMAT");
  }
}
