// The ES module in headless Chromium: a static page served from localhost loads kfann.wasm and
// every golden .kfn file, runs them (DecompressionStream for deflated sections, SIMD128 and
// scalar paths) and posts its report back; the outputs must equal the Python package's.
// Chromium: $CHROMIUM, else chromium / chromium-browser / google-chrome on PATH.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const WASM = path.resolve(process.env.KFANN_WASM ?? fileURLToPath(new URL("../kfann.wasm", import.meta.url)));
const TYPES = { ".html": "text/html", ".mjs": "text/javascript", ".js": "text/javascript", ".json": "application/json",
  ".wasm": "application/wasm" };

function findChromium() {
  for (const name of [process.env.CHROMIUM, "chromium", "chromium-browser", "google-chrome"]) {
    if (!name) continue;
    try {
      execFileSync(name, ["--version"], { stdio: "ignore" });
      return name;
    } catch { /* next */ }
  }
  return null;
}

test("golden .kfn files run in headless Chromium as in Python", { timeout: 120_000 }, async (t) => {
  const chromium = findChromium();
  if (!chromium) return t.skip("no Chromium found");
  let resolveReport;
  const reportPromise = new Promise((r) => { resolveReport = r; });
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, "http://localhost");
    if (req.method === "POST" && url.pathname === "/result") {
      let body = "";
      for await (const chunk of req) body += chunk;
      res.end("ok");
      resolveReport(JSON.parse(body));
      return;
    }
    const file = url.pathname === "/kfann.wasm" ? WASM : path.join(ROOT, path.normalize(url.pathname));
    if (!file.startsWith(ROOT) && file !== WASM) { res.statusCode = 403; res.end(); return; }
    try {
      const data = await readFile(file);
      res.setHeader("Content-Type", TYPES[path.extname(file)] ?? "application/octet-stream");
      res.end(data);
    } catch {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const profile = mkdtempSync(path.join(tmpdir(), "kfann-chromium-"));
  const page = `http://127.0.0.1:${server.address().port}/js/test/browser/index.html`;
  const browser = spawn(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--no-first-run", `--user-data-dir=${profile}`, "--remote-debugging-port=0", page], { stdio: "ignore", detached: true });
  try {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error("no report from the page in 90 s")), 90_000);
    });
    const report = await Promise.race([reportPromise, timeout]).finally(() => clearTimeout(timer));
    t.diagnostic(`${report.userAgent}: ${report.checked} runs, simd ${report.simd}, memory ${report.memoryBytes} bytes`);
    assert.deepEqual(report.failures, []);
    assert.equal(report.simd, "wasm");
    assert.ok(report.checked >= 30);
  } finally {
    // Chromium's helper processes outlive the main one and may still write to the profile:
    // stop the whole process group, then retry the removal while their last writes land.
    const exited = browser.exitCode === null && browser.signalCode === null
      ? new Promise((r) => browser.once("exit", r)) : Promise.resolve();
    try { process.kill(-browser.pid, "SIGTERM"); } catch { browser.kill(); }
    await exited;
    server.close();
    rmSync(profile, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
  }
});
