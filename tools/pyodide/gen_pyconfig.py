"""Generate a wasm32-emscripten pyconfig.h from (a) a host pyconfig.h used only as the
list of macro names and (b) the sysconfig vars dumped from the Pyodide runtime."""
import json
import re
import sys

host_pyconfig, sysconfig_json, out = sys.argv[1:4]
wasm = json.load(open(sysconfig_json))
names = []
for line in open(host_pyconfig):
    m = re.match(r"#define ([A-Za-z_][A-Za-z0-9_]*)\b", line) or re.match(r"/\* #undef ([A-Za-z_][A-Za-z0-9_]*) \*/", line)
    if m and m.group(1) not in names and m.group(1) != "Py_PYCONFIG_H":
        names.append(m.group(1))
lines = ["#ifndef Py_PYCONFIG_H", "#define Py_PYCONFIG_H", "/* generated for wasm32-emscripten from Pyodide sysconfig */"]
for n in names:
    v = wasm.get(n, 0)
    if v in (0, "0", None, ""):
        lines.append(f"/* #undef {n} */")
    else:
        lines.append(f"#define {n} {v}")
lines.append("#endif")
open(out, "w").write("\n".join(lines) + "\n")
print(out, len(names), "names")
