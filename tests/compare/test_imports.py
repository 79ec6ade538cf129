"""compare/ calls the API's, Django's and allauth's public functions, never a test client; and
the apps depend one way (compare -> api -> accounts -> config).

Every module of the package is found with pkgutil and its imports are read with ast: none may
import django.test (a third-party package may, as simplejwt's settings import django.test.signals,
so what ends up in sys.modules says nothing about compare's own code).
"""

import ast
import importlib
import importlib.util
import pkgutil
from pathlib import Path

import accounts
import compare


def package_modules(package) -> dict[str, Path]:
    found = {package.__name__: Path(package.__file__)}
    for module in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
        spec = importlib.util.find_spec(module.name)
        assert spec is not None
        assert spec.origin is not None
        found[module.name] = Path(spec.origin)
    return found


def compare_modules() -> dict[str, Path]:
    return package_modules(compare)


def is_django_test(name: str) -> bool:
    return name == "django.test" or name.startswith("django.test.")


def django_test_imports(source: str) -> list[str]:
    """The imports of django.test in `source`, however spelled (importlib included)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if is_django_test(alias.name)]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if is_django_test(node.module):
                found.append(node.module)
            elif node.module == "django":
                found += [f"django.{a.name}" for a in node.names if a.name == "test"]
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and is_django_test(node.args[0].value)
        ):
            found.append(node.args[0].value)
    return found


def test_the_checker_finds_every_spelling():
    source = (
        "import django.test\n"
        "from django.test import Client\n"
        "from django.test.utils import CaptureQueriesContext\n"
        "from django import test\n"
        "import_module('django.test.client')\n"
    )

    assert len(django_test_imports(source)) == 5
    assert django_test_imports("from django.http import HttpRequest\nimport testing\n") == []


def test_no_module_of_compare_imports_django_test():
    modules = compare_modules()
    assert {"compare.demos", "compare.measurements", "compare.views"} <= set(modules)
    assert "compare.inprocess" not in modules

    offenders = {
        name: imports
        for name, path in modules.items()
        if (imports := django_test_imports(path.read_text()))
    }

    assert offenders == {}
    for name in modules:
        importlib.import_module(name)  # each one imports cleanly


def top_level_imports(source: str) -> set[str]:
    """The top-level packages `source` imports by name."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def test_accounts_imports_neither_api_nor_compare():
    """What the web sign-in shares with the token endpoint (the failure counters, the client
    address) lives in accounts or config."""
    offenders = {
        name: sorted(imports & {"api", "compare"})
        for name, path in package_modules(accounts).items()
        if (imports := top_level_imports(path.read_text())) & {"api", "compare"}
    }

    assert offenders == {}
