"""The seams of the package (docs/architecture.md): modules talk through public names and the typed
descriptions, never through another object's private handle or another module's private name,
and no two modules import each other, however indirectly (imports inside functions and under
TYPE_CHECKING count)."""

from __future__ import annotations

import ast
import pathlib

import kimi_fann

PACKAGE = pathlib.Path(kimi_fann.__file__).resolve().parent
NAME = "kimi_fann"


def _module(path: pathlib.Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(p): p for p in PACKAGE.rglob("*.py")}
COMPILED = {_module(p.with_suffix(".py")) for p in PACKAGE.rglob("*.pyx")}


def _target(module: str, node: ast.ImportFrom) -> str:
    base = module.split(".") if MODULES[module].name == "__init__.py" else module.split(".")[:-1]
    if node.level:
        base = base[: len(base) - (node.level - 1)]
        return ".".join(base + ([node.module] if node.module else []))
    return node.module or ""


def _imports(module: str) -> tuple[set[str], dict[str, str], list[str], set[str]]:
    """(package modules imported, name -> module it came from, private names imported,
    external modules imported)."""
    tree = ast.parse(MODULES[module].read_text())
    deps: set[str] = set()
    origin: dict[str, str] = {}
    private: list[str] = []
    external: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = _target(module, node)
            if not target.startswith(NAME):
                continue
            for alias in node.names:
                full = f"{target}.{alias.name}"
                if full in COMPILED:
                    continue
                if full in MODULES:
                    deps.add(full)
                else:
                    deps.add(target)
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        private.append(f"{module}: {alias.name} from {target}")
                origin[alias.asname or alias.name] = target
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(NAME):
                    deps.add(alias.name)
                external.add((alias.asname or alias.name).split(".")[0])
    return {d for d in deps if d in MODULES and d != module}, origin, private, external


def test_no_private_name_is_imported_across_modules() -> None:
    found = [p for module in MODULES for p in _imports(module)[2]]
    assert found == []


def test_no_module_reads_another_objects_private_handle() -> None:
    """An attribute ``x._name`` is read only where ``_name`` is defined (a class of the same
    module), never on an object of a class imported from another module."""
    found = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text())
        _, origin, _, external = _imports(module)
        defined = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                defined.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                defined.add(node.attr)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                defined.add(node.value)  # __slots__
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")):
                continue
            base = node.value
            if isinstance(base, ast.Name) and base.id in {"self", "cls"} | external:
                continue
            if (isinstance(base, ast.Name) and base.id in origin) or node.attr not in defined:
                found.append(f"{module}:{node.lineno}: {ast.unparse(node)}")
    assert found == []


def test_no_import_cycle() -> None:
    edges = {module: _imports(module)[0] for module in MODULES}
    cycles = []

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            node = todo.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                todo.extend(edges[node])
        return False

    for module, deps in edges.items():
        cycles += [f"{module} <-> {d}" for d in deps if reaches(d, module)]
    assert cycles == []


def test_the_descriptions_are_a_leaf() -> None:
    """kimi_fann.descriptions imports nothing of the package but the compiled core."""
    deps, origin, _, _ = _imports("kimi_fann.descriptions")
    assert deps == set()
    assert set(origin) <= {"_core"}
