"""The suite's modules stay independent: no module under tests/ imports a test module (``test_*.py``).

Importing a test module ties one test file to another's private helpers and runs the importer's tests
only with the other module loadable; a test or fixture imported that way is collected again where it
lands. What several modules share lives in a support module (``support.py``, ``helpers.py``,
``tests/support/``), which holds no tests.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def _imported(module: str, source: str) -> set[str]:
    """The modules that ``module`` (its text: ``source``) imports, relative imports resolved, and
    ``from x import y`` as both x and x.y (y may be a module)."""
    package = module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0]
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def _is_test_module(name: str) -> bool:
    parts = name.split(".")
    return (
        parts[0] == "tests"
        and parts[-1].startswith("test_")
        and (ROOT / Path(*parts)).with_suffix(".py").exists()
    )


def test_no_module_of_the_suite_imports_a_test_module() -> None:
    offending = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted(TESTS.rglob("*.py"))
        for name in _imported(_module_name(path), path.read_text())
        if _is_test_module(name)
    }
    assert not offending, "move what they share into a support module:\n" + "\n".join(sorted(offending))


@pytest.mark.parametrize(
    "source",
    [
        "from tests.households.test_sync import test_full_sync_is_the_caseload",
        "import tests.households.test_sync",
        "from tests.households import test_sync",
        "from .test_sync import test_full_sync_is_the_caseload",
        "from ..households.test_sync import test_full_sync_is_the_caseload",
    ],
)
def test_the_check_sees_every_way_of_importing_one(source: str) -> None:
    assert any(_is_test_module(name) for name in _imported("tests.households.support", source))


def test_the_check_lets_support_modules_be_imported() -> None:
    source = "from tests.households.support import settle\nfrom tests import factories"
    assert not any(_is_test_module(name) for name in _imported("tests.retention.test_cli", source))
