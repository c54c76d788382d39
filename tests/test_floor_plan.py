"""The floor plan of the packages (README, "Layout"): imports only run down, no module imports itself
back through others, and no product file outgrows 700 lines."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Each package and the packages it may import; the ground imports none of ours.
FLOORS = {
    "xlkit_core": set(),
    "kg_pipeline": {"xlkit_core"},
    "corpus_builder": {"xlkit_core"},
    "trainer": {"xlkit_core", "corpus_builder"},   # trim.py reads the corpus text to pick the kept pieces
    "jobs": {"xlkit_core", "kg_pipeline", "corpus_builder", "trainer"},
}
MAX_LINES = 700


def modules() -> dict[str, Path]:
    out = {}
    for pkg in FLOORS:
        for p in (ROOT / pkg).rglob("*.py"):
            name = ".".join(p.relative_to(ROOT).with_suffix("").parts)
            out[name.removesuffix(".__init__")] = p
    return out


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules that ``name`` imports, at the top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                parts = parts[:len(parts) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


def test_imports_only_run_down_the_floors():
    known = modules()
    up = []
    for name, path in known.items():
        pkg = name.split(".")[0]
        for target in imports(name, path, known):
            tpkg = target.split(".")[0]
            if tpkg != pkg and tpkg not in FLOORS[pkg]:
                up.append(f"{name} imports {target}")
    assert not up, "imports that run back up: " + "; ".join(sorted(up))


def test_no_module_imports_itself_back():
    known = modules()
    graph = {n: {t for t in imports(n, p, known) if not (t.startswith(n + ".") or n.startswith(t + "."))}
             for n, p in known.items()}
    state: dict[str, int] = {}
    circles = []

    def visit(n, path):
        state[n] = 1
        for t in sorted(graph[n]):
            if state.get(t) == 1:
                circles.append(" -> ".join(path[path.index(t):] + [t]))
            elif t not in state:
                visit(t, path + [t])
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n, [n])
    assert not circles, "import circles: " + "; ".join(circles)


def test_the_check_sees_a_back_arrow(tmp_path, monkeypatch):
    """The graph walk finds an arrow that runs up (so the test above can fail)."""
    ground = tmp_path / "xlkit_core"
    ground.mkdir()
    (ground / "__init__.py").write_text("")
    (ground / "bad.py").write_text("def f():\n    from jobs import _spark\n")
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "__init__.py").write_text("")
    (tmp_path / "jobs" / "_spark.py").write_text("")
    known = {"xlkit_core": ground / "__init__.py", "xlkit_core.bad": ground / "bad.py",
             "jobs": tmp_path / "jobs" / "__init__.py", "jobs._spark": tmp_path / "jobs" / "_spark.py"}
    assert imports("xlkit_core.bad", known["xlkit_core.bad"], known) == {"jobs._spark"}


def test_no_product_file_is_over_700_lines():
    long = {str(p.relative_to(ROOT)): n for p in modules().values()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"files over {MAX_LINES} lines: {long}"
