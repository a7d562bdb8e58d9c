"""The layout docs/design.md draws is the one the code has: which module may import which.

Read from the modules' own import statements (those under ``if TYPE_CHECKING:`` are for
types only and do not count), so a new import across a boundary fails here first.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "eventstore"

#: The storage shell's layers, bottom first: a module imports only from its own layer's
#: allowed rooms (below) and from the layers under it.
LAYERS = [
    {"schema", "engine", "errors", "bulk"},
    {"db", "rows", "states", "tree", "verify", "transfer"},
    {"sources", "append", "erasure", "reads", "read_models", "auditing", "subscriptions",
     "consumers", "migrating"},
    {"store"},
    {"__init__"},
]
#: Imports allowed inside a layer (docs/design.md#the-storage-shell-in-rooms).
SIDEWAYS = {
    "sources": {"erasure"},
    "append": {"sources", "reads"},
    "erasure": set(),
    "reads": {"erasure"},
    "read_models": {"reads", "consumers"},
    "auditing": {"reads", "read_models", "verify", "transfer"},
    "subscriptions": {"reads"},
    "consumers": {"reads", "subscriptions"},
    "migrating": set(),
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


# -- the audit package (docs/design.md#the-audit-package) ---------------------------------

AUDIT = PACKAGE / "audit"
#: What each module of the audit package may import: of the package, and of the rest of
#: eventstore (the pure core). The verifier and the proofs stay copyable: the one imports
#: nothing of eventstore, the other only the verifier.
AUDIT_IMPORTS = {
    "verifier": (set(), set()),
    "proofs": ({"verifier"}, set()),
    "merkle": ({"verifier"}, set()),
    "chain": (set(), {"codec", "events"}),
    "checker": ({"merkle", "verifier"}, {"codec", "errors", "events", "sources", "tracks"}),
}


def _audit_imports(module: str) -> tuple[set[str], set[str], set[str]]:
    """What ``audit/{module}.py`` imports, anywhere in it: (the package's modules, the rest
    of eventstore's, other top-level modules)."""
    tree = ast.parse((AUDIT / f"{module}.py").read_text(encoding="utf-8"))
    inside: set[str] = set()
    core: set[str] = set()
    other: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            other.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            name = node.module or ""
            if node.level == 1:
                inside.add(name.split(".")[0])
            elif node.level == 2:
                core.add(name.split(".")[0])
            elif name.split(".")[0] == "eventstore":
                core.add(name.split(".")[1] if "." in name else "")
            else:
                other.add(name.split(".")[0])
    return inside, core, other


def test_every_audit_module_is_listed() -> None:
    assert {p.stem for p in AUDIT.glob("*.py")} - {"__init__"} == set(AUDIT_IMPORTS)


def test_the_audit_package_imports_only_what_the_design_allows() -> None:
    for module, (allowed_inside, allowed_core) in AUDIT_IMPORTS.items():
        inside, core, _ = _audit_imports(module)
        assert inside <= allowed_inside, f"audit/{module}.py imports {inside - allowed_inside}"
        assert core <= allowed_core, f"audit/{module}.py imports eventstore.{core - allowed_core}"
        assert not core & {"storage", "cli"}


def test_the_verifier_and_the_proofs_need_only_the_standard_library_and_cryptography() -> None:
    for module in ("verifier", "proofs"):
        _, core, other = _audit_imports(module)
        assert core == set(), f"audit/{module}.py imports eventstore.{core}"
        assert other <= set(sys.stdlib_module_names) | {"cryptography"}, \
            f"audit/{module}.py imports {other - set(sys.stdlib_module_names)}"


def test_each_audit_module_says_what_it_owns_and_may_import() -> None:
    for path in AUDIT.glob("*.py"):
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert doc and "May import:" in doc, f"audit/{path.name} does not say what it may import"


def test_the_audit_package_exports_what_its_modules_give() -> None:
    import importlib

    import eventstore.audit as audit

    exported = set(audit.__all__)
    assert len(exported) == len(audit.__all__)
    for name in exported:
        module = next(m for m, names in audit._MODULES.items() if name in names)
        assert getattr(audit, name) is getattr(
            importlib.import_module(f"eventstore.audit.{module}"), name)
    assert exported == {name for names in audit._MODULES.values() for name in names}
