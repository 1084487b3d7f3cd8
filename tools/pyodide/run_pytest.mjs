// Run a test directory of the project inside Pyodide under Node.js, offline.
// usage: node run_pytest.mjs WHEEL_DIR PROJECT_DIR TESTS [pytest args...]
// Every *.whl in WHEEL_DIR (micropip and its packaging, pytest and its pure-Python dependencies,
// the project's wasm32 wheel) goes into Pyodide's file system; micropip is loaded from its wheel
// and installs the others with deps=False (numpy is deliberately absent). The project directory
// is mounted at /proj (NODEFS), so that TESTS (relative to it) can read the repository's files
// (tests/golden), and pytest runs there. Exits with pytest's exit code.
import path from "node:path";
import fs from "node:fs";
import { loadPyodide } from "pyodide";

const [wheelDir, projectDir, tests, ...pytestArgs] = process.argv.slice(2);
const py = await loadPyodide();
const wheels = fs.readdirSync(wheelDir).filter((f) => f.endsWith(".whl"));
const isMicropip = (f) => /^(micropip|packaging)-/.test(f);
await py.loadPackage(wheels.filter(isMicropip).map((f) => path.resolve(wheelDir, f)), { messageCallback: () => {} });
py.FS.mkdirTree("/wheels");
for (const f of wheels) py.FS.writeFile(`/wheels/${f}`, fs.readFileSync(path.join(wheelDir, f)));
const urls = wheels.filter((f) => !isMicropip(f)).map((f) => `emfs:/wheels/${f}`);
await py.runPythonAsync(`import micropip\nawait micropip.install(${JSON.stringify(urls)}, deps=False)`);
py.FS.mkdirTree("/proj");
py.FS.mount(py.FS.filesystems.NODEFS, { root: path.resolve(projectDir) }, "/proj");
const args = JSON.stringify(["-p", "no:cacheprovider", `/proj/${tests}`, ...pytestArgs]);
const rc = await py.runPythonAsync(
  `import os, sys, pytest\nos.chdir("/proj")\nprint("Pyodide", sys.version.split()[0], sys.platform)\nint(pytest.main(${args}))`);
console.log("pytest exit code:", Number(rc));
process.exitCode = Number(rc);
