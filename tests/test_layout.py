"""The layout docs/design.md draws is the one the code has: which module may import which.

Read from the modules' own import statements (those under ``if TYPE_CHECKING:`` are for
types only and do not count), so a new import across a boundary fails here first.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "eventstore"

#: The storage shell's layers, bottom first: a module imports only from its own layer's
#: allowed rooms (below) and from the layers under it.
LAYERS = [
    {"schema", "engine", "errors", "bulk"},
    {"db", "rows", "states", "tree", "verify", "transfer"},
    {"sources", "append", "erasure", "reads", "read_models", "auditing", "subscriptions",
     "consumers"},
    {"store"},
    {"__init__"},
]
#: Imports allowed inside a layer (docs/design.md#the-storage-shell-in-rooms).
SIDEWAYS = {
    "sources": {"erasure"},
    "append": {"sources", "reads"},
    "erasure": set(),
    "reads": {"erasure"},
    "read_models": {"reads"},
    "auditing": {"reads", "read_models", "verify", "transfer"},
    "subscriptions": {"reads"},
    "consumers": {"reads", "subscriptions"},
    "db": {"bulk", "engine", "errors"},
    "rows": set(),
    "states": set(),
    "tree": {"rows"},
    "verify": {"rows"},
    "transfer": {"rows", "tree", "verify"},
    "engine": {"errors"},
    "errors": {"schema"},
    "schema": set(),
    "bulk": {"schema"},
}


def _runtime_imports(path: Path) -> set[str]:
    """The modules of the same package that ``path`` imports at run time."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    found.add(node.module.split(".")[0])
                else:
                    found.update(alias.name for alias in node.names)
            for child in ("body", "orelse", "handlers", "finalbody"):
                visit(getattr(node, child, []) or [])

    visit(tree.body)
    return found


def _layer(name: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if name in layer)


def test_every_storage_module_imports_only_what_the_design_allows() -> None:
    modules = {p.stem for p in (PACKAGE / "storage").glob("*.py")}
    assert modules == set().union(*LAYERS), "a module is missing from LAYERS"
    for path in sorted((PACKAGE / "storage").glob("*.py")):
        name = path.stem
        for imported in _runtime_imports(path):
            below = _layer(imported) < _layer(name)
            assert below or imported in SIDEWAYS.get(name, set()), \
                f"storage/{name}.py imports storage/{imported}.py"


def test_the_pure_core_imports_nothing_from_the_shell() -> None:
    pure = [path for path in PACKAGE.rglob("*.py")
            if path.parent.name not in {"storage", "cli"} and path != PACKAGE / "__init__.py"]
    assert len(pure) > 10
    for path in sorted(pure):  # the public API (eventstore/__init__.py) re-exports the shell
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level and node.module:
                top = node.module.split(".")[0] if node.level == 1 else node.module
                if path.parent != PACKAGE and node.level == 1:
                    continue  # inside a pure subpackage
                assert top.split(".")[0] not in {"storage", "cli"}, \
                    f"{path.relative_to(PACKAGE)} imports {node.module}"
