"""The house's own rules, checked on the source: rooms a newcomer can find their way in.

- no import cycle inside ``engine/`` or ``app/`` (every import counts, lazy ones too:
  a cycle hidden in a function is still two rooms that need each other);
- no module over 400 lines, and the window that only assembles at most 300;
- no two names in one package that differ only by a plural, or that the review found
  confusing side by side (``model``/``models``, ``data``/``datasets``,
  ``training``/``teach``, ``lecture``/``lessons``, ``cli``/``cli_*`` …);
- ``engine/`` never imports Qt, and ``app/`` reaches the engine only through its public
  API: ``engine`` itself or one of its packages, never a module inside one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ROOMS = ("engine", "app")
PUBLIC_PACKAGES = {"engine", "engine.lecture", "engine.experiments", "engine.storage",
                   "engine.explain", "engine.formats"}
CONFUSABLE = [{"model", "models"}, {"data", "datasets"}, {"training", "teach"},
              {"lecture", "lessons"}, {"experiment", "experiments"}, {"sweep", "sweeps"}]


def modules(room: str) -> dict[str, Path]:
    """Dotted module name → file, for every .py file of ``room``."""
    out = {}
    for path in sorted((ROOT / room).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports(path: Path, name: str, known: dict[str, Path]) -> set[str]:
    """The modules of the project that ``path`` imports (outside ``TYPE_CHECKING``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for n in ast.walk(node)}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([base] if base else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else base)
    return {m for m in found if m in known and m != name}


@pytest.mark.parametrize("room", ROOMS)
def test_no_import_cycle(room) -> None:
    known = modules(room)
    graph = {name: imports(path, name, known) for name, path in known.items()}
    # A package's __init__ importing its own modules is how a package shows its API; a
    # module importing its package's __init__ back is the cycle to look for.
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt):], nxt]
                raise AssertionError("import cycle: " + " → ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)


@pytest.mark.parametrize("room", ROOMS)
def test_no_module_over_400_lines_and_the_window_at_most_300(room) -> None:
    long = {str(p.relative_to(ROOT)): n for p in modules(room).values()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400}
    assert not long, f"modules over 400 lines: {long}"
    if room == "app":
        assert len((ROOT / "app" / "window.py").read_text().splitlines()) <= 300


@pytest.mark.parametrize("room", ROOMS)
def test_no_names_that_differ_by_a_plural_or_are_confusable(room) -> None:
    for folder in [ROOT / room, *(p for p in (ROOT / room).rglob("*") if p.is_dir()
                                  and (p / "__init__.py").exists())]:
        names = {p.stem for p in folder.glob("*.py")} | {
            p.name for p in folder.iterdir() if (p / "__init__.py").exists()}
        names.discard("__init__")
        for a in names:
            assert a + "s" not in names and a + "es" not in names, (folder, a)
            if a.startswith("cli_") or a.startswith(folder.name + "_"):
                raise AssertionError(f"{folder}: {a} reads as a second {folder.name}")
        for group in CONFUSABLE:
            assert len(group & names) < 2, (folder, sorted(group & names))


def test_the_engine_never_imports_qt() -> None:
    for name, path in modules("engine").items():
        qt = {m for m in _all_imports(path) if m.split(".")[0] in ("PySide6", "pyqtgraph",
                                                                  "PyQt5", "PyQt6")}
        assert not qt, f"{name} imports {qt}"


def test_the_app_reaches_the_engine_through_its_public_api_only() -> None:
    for name, path in modules("app").items():
        private = {m for m in _all_imports(path)
                   if m.split(".")[0] == "engine" and m not in PUBLIC_PACKAGES}
        assert not private, f"{name} imports engine internals {sorted(private)}"


def _all_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module)
    return out
