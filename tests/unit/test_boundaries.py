"""The headless packages stay free of Qt and load no ML framework at import time."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "sketchdiffuse"
HEADLESS = ("document", "brush", "io", "generation", "session")


def test_importing_the_headless_packages_loads_neither_qt_nor_torch():
    code = (
        "import sys, sketchdiffuse.document, sketchdiffuse.brush, sketchdiffuse.io\n"
        "import sketchdiffuse.session.jobs, sketchdiffuse.session.settings, sketchdiffuse.session.requests\n"
        "import importlib.util\n"
        "if importlib.util.find_spec('sketchdiffuse.generation'): import sketchdiffuse.generation\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'torch', 'diffusers', 'transformers'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_no_headless_module_imports_pyside6():
    offenders = []
    for sub in HEADLESS:
        for path in (PACKAGE / sub).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                if any(n.split(".")[0] == "PySide6" for n in names):
                    offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []


def test_no_module_imports_torch_at_top_level():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.parse(path.read_text()).body:
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n.split(".")[0] in ("torch", "diffusers", "transformers") for n in names):
                offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []


def module_imports() -> dict[str, set[str]]:
    """Every sketchdiffuse module and the sketchdiffuse modules it imports, anywhere in its body
    (type-checking-only and function-level imports count too)."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sketchdiffuse"):
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            graph[name] |= {t for t in targets if t in modules and t != name}
    return graph


def test_no_import_cycles():
    graph = module_imports()
    cycles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert cycles == []
