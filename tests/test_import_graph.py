"""No import cycle among ``scheduler`` modules.

Imports inside functions count: hiding an import in a function body dodges the cycle at import
time but keeps the two modules tangled, so the layers this test guards would erode unseen.
A package's ``__init__`` importing its submodules is an edge too, and so is a submodule importing
a name defined in its package's ``__init__``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import scheduler

ROOT = Path(scheduler.__file__).parent
PACKAGE = "scheduler"


def module_name(path: Path) -> str:
    parts = (PACKAGE, *path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def _base(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module a ``from`` import names, relative levels resolved."""
    if node.level == 0:
        return node.module or ""
    # A package's own ``__init__`` is the anchor for ``.``; a plain module's anchor is its parent.
    anchor = module.split(".")
    if not is_package:
        anchor = anchor[:-1]
    anchor = anchor[: len(anchor) - (node.level - 1)]
    return ".".join([*anchor, node.module] if node.module else anchor)


def imported(module: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    """Every ``scheduler`` module that ``module`` imports, at any depth of its body."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield from _known_prefix(alias.name, known)
        elif isinstance(node, ast.ImportFrom):
            base = _base(module, is_package, node)
            for alias in node.names:
                # ``from pkg import sub`` names a submodule; ``from pkg import thing`` names
                # something in ``pkg/__init__``.
                submodule = f"{base}.{alias.name}"
                yield submodule if submodule in known else from_known(base, known)


def _known_prefix(name: str, known: dict[str, Path]) -> Iterator[str]:
    if name.split(".")[0] == PACKAGE:
        yield from_known(name, known)


def from_known(name: str, known: dict[str, Path]) -> str:
    """The longest known module at the start of ``name`` (``''`` outside the package)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in known:
            return candidate
        parts.pop()
    return ""


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {
        module: {target for target in imported(module, path, known) if target and target != module}
        for module, path in known.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path that starts and ends on the same module, or None."""
    visiting: list[str] = []
    on_path: set[str] = set()
    done: set[str] = set()

    def visit(module: str) -> list[str] | None:
        visiting.append(module)
        on_path.add(module)
        for target in sorted(graph[module]):
            if target in on_path:
                return [*visiting[visiting.index(target) :], target]
            if target not in done and (cycle := visit(target)):
                return cycle
        on_path.discard(visiting.pop())
        done.add(module)
        return None

    for module in sorted(graph):
        if module not in done and (cycle := visit(module)):
            return cycle
    return None


def test_the_graph_sees_relative_package_and_function_level_imports() -> None:
    graph = import_graph()
    # ``from . import extensions`` inside ``create_app``.
    assert "scheduler.extensions" in graph["scheduler"]
    # A package's ``__init__`` importing its own submodule.
    assert "scheduler.protocols.definition" in graph["scheduler.protocols"]
    # ``from ..config import ROOT``, two levels up.
    assert "scheduler.config" in graph["scheduler.reminders.rendering"]
    # ``from ..models import Appointment``: a name defined in a package's ``__init__``.
    assert "scheduler.models" in graph["scheduler.booking.appointments"]


def test_no_import_cycle_among_scheduler_modules() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_find_cycle_reports_the_loop() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_page_module_imports_another() -> None:
    """A helper two pages share lives in a module that is not a page, so a page can change or
    go without breaking its neighbours."""
    known = modules()
    graph = import_graph()
    pages = {
        module
        for module, path in known.items()
        if module.startswith(f"{PACKAGE}.web.") and "@bp." in path.read_text()
    }
    crossings = sorted((page, target) for page in pages for target in graph[page] & pages)
    assert not crossings, f"pages importing pages: {crossings}"
