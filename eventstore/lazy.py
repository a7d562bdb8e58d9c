"""Names a package re-exports, each imported from its module when first used.

``eventstore`` and ``eventstore.audit`` re-export names whose modules are slow to import
and often not needed (SQLAlchemy, cattrs, the EDTF grammar, cryptography). With
:func:`lazy_exports` as the package's module ``__getattr__`` (PEP 562), ``import
eventstore`` or ``import eventstore.audit.verifier`` loads none of those modules, and
``from eventstore import EventStore`` still works. The package imports the same names
under ``if TYPE_CHECKING:`` so that mypy sees them.

May import: the standard library only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, modules: Mapping[str, Iterable[str]],
                 namespace: dict[str, Any]
                 ) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``, whose globals are ``namespace``.

    ``modules`` maps a module (relative to the package) to the names it gives; a name is
    imported from its module on first use and then kept in ``namespace``, so later
    lookups do not come here.
    """
    where = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> object:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        import importlib

        value = getattr(importlib.import_module(f".{module}", package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *where})

    return __getattr__, __dir__
