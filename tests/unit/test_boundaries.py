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
