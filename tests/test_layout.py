"""The package layout's rules, read statically with `ast` (nothing from bootstrap is imported).

- only `bootstrap/gcp/` imports `google` or `google.*`;
- `bootstrap/emulator/` imports nothing from bootstrap outside itself;
- the import graph of bootstrap has no cycle;
- `bootstrap/__init__.py` imports nothing, so `bootstrap --help` stays fast.

Every import counts: top level, inside functions and under `if TYPE_CHECKING:`.
docs/architecture.md explains the layout these rules protect. The last test runs the same checker
on a small package written to a temporary directory, so the rules cannot pass because the checker
sees nothing.
"""

from __future__ import annotations

import ast
import itertools
import textwrap
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "bootstrap"


@dataclass(frozen=True, slots=True)
class ImportStatement:
    """One name an import statement brings in, made absolute (`from .x import y` resolved)."""

    line: int
    module: str  # the module the statement names: `a.b` for `import a.b` and `from a.b import c`
    candidate: str  # `a.b.c` for `from a.b import c` (a submodule if one exists), else `module`


@dataclass(frozen=True, slots=True)
class Module:
    """One source file of a package, named as Python imports it, with all its imports."""

    name: str
    file: str  # the path shown in messages: `bootstrap/plan/planner.py`
    is_package: bool
    imports: tuple[ImportStatement, ...]


Graph = dict[str, set[str]]
EdgeOrigins = dict[tuple[str, str], str]


def load_package(package_dir: Path) -> dict[str, Module]:
    """Every `.py` file under `package_dir`, keyed by its dotted module name."""
    modules: dict[str, Module] = {}
    for path in sorted(package_dir.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        file = path.relative_to(package_dir.parent)
        parts = list(file.with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        imports = tuple(_imports(tree, name=name, is_package=is_package))
        modules[name] = Module(
            name=name, file=file.as_posix(), is_package=is_package, imports=imports
        )
    return modules


def _absolute_base(node: ast.ImportFrom, *, name: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = name.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imports(tree: ast.Module, *, name: str, is_package: bool) -> Iterator[ImportStatement]:
    """Every import anywhere in the module; `from __future__` is a compiler directive, skipped."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield ImportStatement(line=node.lineno, module=alias.name, candidate=alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            base = _absolute_base(node, name=name, is_package=is_package)
            for alias in node.names:
                candidate = base if alias.name == "*" else f"{base}.{alias.name}"
                yield ImportStatement(line=node.lineno, module=base, candidate=candidate)


def _where(module: Module, line: int) -> str:
    return f"{module.file}:{line}"


def _is_within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def google_imports(modules: Mapping[str, Module], *, allowed: str) -> list[str]:
    """`file:line: module imports google...` for each google import outside package `allowed`."""
    found: list[str] = []
    for module in modules.values():
        if _is_within(module.name, allowed):
            continue
        for statement in module.imports:
            if _is_within(statement.module, "google"):
                where = _where(module, statement.line)
                found.append(f"{where}: {module.name} imports {statement.module}")
    return found


def _deepest_module(name: str, modules: Mapping[str, Module]) -> str | None:
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _target(statement: ImportStatement, modules: Mapping[str, Module]) -> str | None:
    if statement.candidate in modules:
        return statement.candidate
    return _deepest_module(statement.module, modules)


def island_breaks(modules: Mapping[str, Module], *, island: str) -> list[str]:
    """Each import, inside package `island`, of a module of the same root package outside it."""
    root = island.split(".")[0]
    found: list[str] = []
    for module in modules.values():
        if not _is_within(module.name, island):
            continue
        for statement in module.imports:
            if _is_within(statement.module, root) and not _is_within(statement.module, island):
                where = _where(module, statement.line)
                target = _target(statement, modules) or statement.candidate
                found.append(f"{where}: {module.name} imports {target}")
    return found


def has_imports(module: Module) -> bool:
    """Whether the module imports anything (a thin `__init__` holds a docstring at most)."""
    return bool(module.imports)


def import_graph(modules: Mapping[str, Module]) -> tuple[Graph, EdgeOrigins]:
    """Module -> modules it imports, within the package, plus where each edge comes from.

    An import runs every ancestor package's `__init__` too; an edge to an ancestor is kept only
    when that `__init__` imports something, since a thin one cannot close a cycle.
    """
    graph: Graph = {name: set() for name in modules}
    origins: EdgeOrigins = {}
    heavy_inits = {m.name for m in modules.values() if m.is_package and has_imports(m)}
    for module in modules.values():
        for statement in module.imports:
            target = _target(statement, modules)
            if target is None:
                continue  # outside the package: stdlib or third party
            parts = target.split(".")
            ancestors = [".".join(parts[:i]) for i in range(1, len(parts))]
            heavy = [a for a in ancestors if a in heavy_inits]
            for dependency in [target, *heavy]:
                if dependency == module.name:
                    continue
                graph[module.name].add(dependency)
                via = "" if dependency == target else f" (runs {dependency}'s __init__)"
                origins.setdefault(
                    (module.name, dependency),
                    f"{_where(module, statement.line)}: imports {target}{via}",
                )
    return graph, origins


def _reachable(graph: Mapping[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    queue = deque(graph[start])
    while queue:
        node = queue.popleft()
        if node not in seen:
            seen.add(node)
            queue.extend(graph[node])
    return seen


def _shortest_cycle(graph: Mapping[str, set[str]], start: str, within: set[str]) -> list[str]:
    parent: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(graph[node] & within):
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return [*reversed(path), start]
            if nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
    return []


def find_cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """For each tangle of mutually importing modules, the shortest cycle through each member,
    as paths `[a, b, a]`, each rotated to start at its smallest name and listed once."""
    reach = {node: _reachable(graph, node) for node in graph}
    cycles: list[list[str]] = []
    for node in sorted(graph):
        if node not in reach[node]:
            continue
        tangle = {other for other in reach[node] if node in reach[other]}
        loop = _shortest_cycle(graph, node, tangle)[:-1]
        smallest = loop.index(min(loop))
        rotated = [*loop[smallest:], *loop[:smallest]]
        cycle = [*rotated, rotated[0]]
        if cycle not in cycles:
            cycles.append(cycle)
    return cycles


def describe_cycles(cycles: list[list[str]], origins: EdgeOrigins) -> str:
    lines: list[str] = []
    for cycle in cycles:
        lines.append(" -> ".join(cycle))
        lines.extend(f"    {origins[edge]}" for edge in itertools.pairwise(cycle))
    return "\n".join(lines)


@cache
def _bootstrap() -> dict[str, Module]:
    return load_package(PACKAGE_DIR)


@cache
def _bootstrap_graph() -> tuple[Graph, EdgeOrigins]:
    return import_graph(_bootstrap())


def test_the_checker_sees_the_package() -> None:
    modules = _bootstrap()
    graph, _ = _bootstrap_graph()
    assert len(modules) > 40
    assert sum(len(targets) for targets in graph.values()) > 100
    gcp_google = [
        statement
        for module in modules.values()
        if _is_within(module.name, "bootstrap.gcp")
        for statement in module.imports
        if _is_within(statement.module, "google")
    ]
    assert gcp_google, "bootstrap/gcp/ imports google.*, so the google rule must see some"


def test_only_gcp_imports_google() -> None:
    found = google_imports(_bootstrap(), allowed="bootstrap.gcp")
    assert not found, "google imported outside bootstrap/gcp/:\n" + "\n".join(found)


def test_the_emulator_is_an_island() -> None:
    found = island_breaks(_bootstrap(), island="bootstrap.emulator")
    assert not found, "bootstrap/emulator/ imports the rest of bootstrap:\n" + "\n".join(found)


def test_no_import_cycles() -> None:
    graph, origins = _bootstrap_graph()
    cycles = find_cycles(graph)
    assert not cycles, "import cycles in bootstrap:\n" + describe_cycles(cycles, origins)


def test_the_top_package_imports_nothing() -> None:
    top = _bootstrap()["bootstrap"]
    found = [f"{_where(top, s.line)}: imports {s.candidate}" for s in top.imports]
    assert not found, "bootstrap/__init__.py must stay import-free:\n" + "\n".join(found)


SYNTHETIC = {
    "__init__.py": '"""The top package: imports nothing."""\n',
    "a.py": "from pkg import b\n",
    "b.py": "def late() -> None:\n    from . import a\n",
    "c.py": """
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            from google.cloud import billing_v1
        """,
    "gcp/__init__.py": "",
    "gcp/client.py": "import google.auth\n",
    "emu/__init__.py": "",
    "emu/app.py": "from ..c import TYPE_CHECKING\nfrom . import state\n",
    "emu/state.py": "",
    "face/__init__.py": "from .child import Thing\n",
    "face/child.py": "from pkg.face.sibling import Part\n\nThing = Part\n",
    "face/sibling.py": "Part = 1\n",
    "thin/__init__.py": '"""A thin package face."""\n',
    "thin/p.py": "import pkg.thin.q\n",
    "thin/q.py": "import os\n",
}


def test_the_checker_finds_what_it_should(tmp_path: Path) -> None:
    for relative, text in SYNTHETIC.items():
        path = tmp_path / "pkg" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    modules = load_package(tmp_path / "pkg")
    graph, origins = import_graph(modules)

    assert google_imports(modules, allowed="pkg.gcp") == ["pkg/c.py:5: pkg.c imports google.cloud"]
    assert island_breaks(modules, island="pkg.emu") == [
        "pkg/emu/app.py:1: pkg.emu.app imports pkg.c"
    ]
    assert graph["pkg.thin.p"] == {"pkg.thin.q"}  # a thin __init__ adds no edge
    assert find_cycles(graph) == [
        ["pkg.a", "pkg.b", "pkg.a"],
        ["pkg.face", "pkg.face.child", "pkg.face"],
    ]
    assert describe_cycles(find_cycles(graph), origins).splitlines()[1:3] == [
        "    pkg/a.py:1: imports pkg.b",
        "    pkg/b.py:2: imports pkg.a",
    ]
    assert not has_imports(modules["pkg"])
    assert has_imports(modules["pkg.face"])
