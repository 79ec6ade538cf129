"""Within each package of the project, the modules import one another without a cycle.

Each module's imports are read with ast, wherever they stand: a cycle hidden behind TYPE_CHECKING
or an import inside a function is still a cycle (two modules that cannot do without each other).
"""

import ast
import importlib
import importlib.util
import pkgutil
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGES = ("accounts", "api", "compare", "config", "emulators")


@dataclass(frozen=True)
class Module:
    source: str
    is_package: bool


def package_modules(package_name: str) -> dict[str, Module]:
    """Every module of the package, its subpackages' included, by name."""
    package = importlib.import_module(package_name)
    found = {package_name: Module(Path(package.__file__).read_text(), is_package=True)}
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."):
        spec = importlib.util.find_spec(info.name)
        assert spec is not None
        assert spec.origin is not None
        found[info.name] = Module(Path(spec.origin).read_text(), is_package=info.ispkg)
    return found


def imported_names(name: str, module: Module) -> set[str]:
    """What the module's import statements name: `from a import b` names `a` and `a.b`, as b may
    be a module; relative imports are resolved."""
    anchor = name if module.is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(module.source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), anchor)
            found |= {base, *(f"{base}.{alias.name}" for alias in node.names)}
    return found


def import_graph(modules: dict[str, Module]) -> dict[str, set[str]]:
    """Each module and the modules of the same set it imports."""
    return {
        name: (imported_names(name, module) & set(modules)) - {name}
        for name, module in modules.items()
    }


def import_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph, as its modules back to the first; None when there is none."""
    done: set[str] = set()
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        path.append(name)
        for imported in sorted(graph[name]):
            if imported in path:
                return [*path[path.index(imported) :], imported]
            if imported not in done and (cycle := visit(imported)):
                return cycle
        path.pop()
        done.add(name)
        return None

    for name in sorted(graph):
        if name not in done and (cycle := visit(name)):
            return cycle
    return None


def test_the_checker_finds_a_cycle_however_the_imports_are_written():
    modules = {
        "app": Module("", is_package=True),
        "app.flows": Module(
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n"
            "    from app.services import Saved\n",
            is_package=False,
        ),
        "app.services": Module("def save():\n    from . import recording\n", is_package=False),
        "app.recording": Module("import app.flows\n", is_package=False),
        "app.views": Module("from app import services\n", is_package=False),
    }

    cycle = import_cycle(import_graph(modules))

    assert cycle == ["app.flows", "app.services", "app.recording", "app.flows"]
    del modules["app.recording"]
    assert import_cycle(import_graph(modules)) is None


@pytest.mark.parametrize("package_name", PACKAGES)
def test_the_modules_of_a_package_import_one_another_without_a_cycle(package_name):
    modules = package_modules(package_name)
    assert len(modules) > 3

    assert import_cycle(import_graph(modules)) is None
