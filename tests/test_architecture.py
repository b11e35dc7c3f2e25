"""The package's shape, checked: the layers of ARCHITECTURE.md, no import cycles, lazy imports
only at the command line's boundary.

Every import statement counts, at any depth (inside functions too), except those under
``if TYPE_CHECKING:``, which never run. The layer list is read from ARCHITECTURE.md itself, so
the document and the code cannot drift apart.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "waiter"
# The only part whose modules may import inside functions: the command line loads the heavier
# parts after parsing, and aiohttp once the settings have passed every check.
LAZY_PART = "_cli"


@dataclass(frozen=True)
class Import:
    source: str  # the importing module, dotted ("waiter._cli._main")
    target: str  # the imported module ("waiter._config._settings")
    line: int
    in_function: bool


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(name: str, path: Path, known: set[str]) -> Iterator[Import]:
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]

    def resolve(node: ast.ImportFrom) -> list[str]:
        if node.level:
            base = package.split(".")
            base = base[: len(base) - (node.level - 1)]
            stem = ".".join([*base, node.module] if node.module else base)
        else:
            stem = node.module or ""
        # "from . import x" and "from .pkg import mod" import modules; anything else, names.
        found = [f"{stem}.{alias.name}" for alias in node.names if f"{stem}.{alias.name}" in known]
        return found or [stem]

    def walk(node: ast.AST, in_function: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for other in child.orelse:
                    yield from walk_one(other, in_function)
                continue
            yield from walk_one(child, in_function)

    def walk_one(child: ast.AST, in_function: bool) -> Iterator[Import]:
        targets: list[str] = []
        if isinstance(child, ast.ImportFrom):
            targets = resolve(child)
        elif isinstance(child, ast.Import):
            targets = [alias.name for alias in child.names]
        for target in targets:
            if target == "waiter" or target.startswith("waiter."):
                yield Import(name, target, child.lineno, in_function)
        inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
        yield from walk(child, inner)

    yield from walk(ast.parse(path.read_text(), str(path)), False)


def all_imports() -> list[Import]:
    found = modules()
    return [imp for name, path in found.items() for imp in imports_of(name, path, set(found))]


def layers() -> list[set[str]]:
    """The parts of waiter, top to bottom, from ARCHITECTURE.md's ``layers`` block."""
    text = (ROOT / "ARCHITECTURE.md").read_text()
    block = re.search(r"```text\nlayers, top to bottom:\n(.*?)```", text, re.S)
    assert block, "ARCHITECTURE.md has no ```text block starting 'layers, top to bottom:'"
    return [set(re.findall(r"[\w.]+", line)) for line in block.group(1).splitlines() if line]


def part_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_part_of_the_package_is_in_exactly_one_layer():
    listed = [part for layer in layers() for part in layer]
    actual = {part_of(name) for name in modules()}
    assert sorted(listed) == sorted(set(listed)), "a part is listed twice"
    assert set(listed) == actual


def test_each_part_imports_only_its_own_layer_and_those_below():
    rank = {part: index for index, layer in enumerate(layers()) for part in layer}
    upward = [
        f"{imp.source}:{imp.line} imports {imp.target}"
        for imp in all_imports()
        if rank[part_of(imp.target)] < rank[part_of(imp.source)]
    ]
    assert upward == []


def test_there_is_no_import_cycle_counting_imports_inside_functions():
    graph: dict[str, set[str]] = {name: set() for name in modules()}
    for imp in all_imports():
        if imp.target in graph and imp.target != imp.source:
            graph[imp.source].add(imp.target)
    cycle = _find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_only_the_command_line_imports_inside_functions():
    lazy = [
        f"{imp.source}:{imp.line} imports {imp.target}"
        for imp in all_imports()
        if imp.in_function and part_of(imp.source) != LAZY_PART
    ]
    assert lazy == []


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle_hidden_behind_a_function_level_import(tmp_path):
    # The check itself must be able to fail: a module that imports another inside a function,
    # which imports it back at the top, is a cycle.
    source = "def later():\n    from .b import thing\n"
    path = tmp_path / "a.py"
    path.write_text(source)
    [imp] = imports_of("waiter._x.a", path, {"waiter._x.b"})
    assert imp.in_function
    assert _find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("name", ["waiter", "waiter.testing"])
def test_the_public_faces_load_their_names_lazily_and_import_nothing_else(name):
    path = modules()[name]
    statically = {imp.target for imp in imports_of(name, path, set(modules()))}
    assert statically <= {"waiter._version", "waiter._lazy"}
