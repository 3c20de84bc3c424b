"""The package's shape: no import cycles, and the layers below training free of TensorFlow.

The import graph is read from the source with :mod:`ast`, imports inside functions
included (a lazy import is still a dependency), so nothing is imported to draw it.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "semgan_core"

#: Modules that must not import TensorFlow or Keras when they are imported: the image
#: contract and file I/O, data and degradation, metrics and classical methods, the
#: evaluation and figures, the config and the command line (TensorFlow loads only when
#: a model is built, trained or run; ``tflog`` is the one place that imports it quietly).
TENSORFLOW_FREE = (
    "semgan_core", "images", "fileformats", "tiffmeta", "databar", "checks", "results",
    "synth", "kernels", "noise", "degrade", "metrics", "baselines", "tuning", "datasets",
    "crops", "workers", "realdata", "config", "runlog", "generators", "infer", "batch",
    "evaluate", "bootstrap", "tables", "labels", "plotting", "explorer", "timing", "tflog",
    "study", "cli", "blurfit", "fogfit", "restorer", "harm",
)


def module_files(package_dir):
    """``{dotted module name: path}`` for every ``.py`` file under ``package_dir``."""
    package_dir = Path(package_dir)
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _imported(name, path, modules):
    """The names an ``import`` or ``from ... import`` in ``path`` refers to: for
    ``from p import x``, ``p.x`` when that is a module, else ``p``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([node.module] if node.module else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield full if full in modules else base


def import_graph(package_dir):
    """``{module: set of the package's modules it imports}`` (the top package itself
    left out, since every submodule imports it implicitly)."""
    modules = module_files(package_dir)
    root = Path(package_dir).name
    graph = {}
    for name, path in modules.items():
        targets = set()
        for target in _imported(name, path, modules):
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target not in (name, root):
                targets.add(target)
        graph[name] = targets
    return graph


def find_cycle(graph):
    """One import cycle as a list ``[a, b, ..., a]``, or None (depth-first search)."""
    state = {}  # 1: on the current path, 2: finished
    path = []

    def visit(node):
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_package_has_no_import_cycles():
    graph = import_graph(ROOT / PACKAGE)
    assert len(graph) > 40  # the whole package was read
    cycle = find_cycle(graph)
    assert cycle is None, f"import cycle: {' -> '.join(cycle)}"


def test_a_lazy_import_inside_a_function_counts(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg import b\n")
    (pkg / "b.py").write_text("def f():\n    from .sub import c\n")
    (pkg / "sub" / "c.py").write_text("def g():\n    import pkg.a\n")
    (pkg / "d.py").write_text("from pkg.sub.c import g\n")
    graph = import_graph(pkg)
    assert graph["pkg.b"] == {"pkg.sub.c"} and graph["pkg.d"] == {"pkg.sub.c"}
    assert find_cycle(graph) == ["pkg.a", "pkg.b", "pkg.sub.c", "pkg.a"]
    (pkg / "sub" / "c.py").write_text("def g():\n    pass\n")
    assert find_cycle(import_graph(pkg)) is None


@pytest.mark.parametrize("name", TENSORFLOW_FREE)
def test_module_imports_without_tensorflow(name):
    module = name if name == PACKAGE else f"{PACKAGE}.{name}"
    code = ("import importlib, json, sys; importlib.import_module(sys.argv[1]); "
            "print(json.dumps(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code, module], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=120).stdout
    assert json.loads(out.splitlines()[-1]) == [], f"importing {module} imports TensorFlow"
