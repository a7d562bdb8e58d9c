"""The projection package stays pure, and each of its modules imports only those before it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "eventstore" / "projection"
#: The modules in the order ``eventstore/projection/__init__.py`` lists them; the last two
#: are both built on the fold and import neither each other.
ORDER = ["state", "identity", "timeline", "resolve", "fold", "read_model", "history"]
#: No I/O: not the shell, not the database, not the terminal.
FORBIDDEN = ("eventstore.storage", "eventstore.cli", "sqlalchemy", "click", "rich", "psycopg")


def imports(module: str) -> set[str]:
    """Absolute names of what ``eventstore/projection/{module}.py`` imports."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = {0: "", 1: "eventstore.projection", 2: "eventstore"}[node.level]
            names.add(".".join(part for part in (base, node.module or "") if part))
    return names


def test_every_module_is_listed() -> None:
    assert sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__") == sorted(ORDER)


@pytest.mark.parametrize("module", ORDER)
def test_a_module_does_no_io_and_imports_only_modules_before_it(module: str) -> None:
    found = imports(module)
    assert not {n for n in found if n.startswith(FORBIDDEN)}
    inside = {n.removeprefix("eventstore.projection.") for n in found
              if n.startswith("eventstore.projection.")}
    allowed = set(ORDER[:ORDER.index(module)]) - {"read_model"}
    assert inside <= allowed, f"{module} imports {sorted(inside - allowed)}"


@pytest.mark.parametrize("module", ORDER)
def test_a_module_says_what_it_owns_and_may_import(module: str) -> None:
    doc = ast.get_docstring(ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8")))
    assert doc and "May import:" in doc
