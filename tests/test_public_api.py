"""Every type a public method of EventStore returns or takes is exported from
``eventstore``, so that users (and these tests) never reach into private modules."""

from __future__ import annotations

import collections.abc
import inspect
import types
import typing
from typing import Any

import eventstore
from eventstore import EventStore


def _classes(hint: Any) -> set[type]:
    """The classes named by a type hint, through unions and containers."""
    origin = typing.get_origin(hint)
    if origin is None:
        return {hint} if isinstance(hint, type) else set()
    found: set[type] = set()
    for arg in typing.get_args(hint):
        found |= _classes(arg)
    if isinstance(origin, type) and origin not in (types.UnionType, tuple, list, dict):
        found.add(origin)
    return found


def _public_methods() -> list[tuple[str, Any]]:
    return [(name, member) for name, member in inspect.getmembers(EventStore)
            if not name.startswith("_") and callable(member)]


def test_every_type_the_store_returns_or_takes_is_exported() -> None:
    exported = {id(getattr(eventstore, name)) for name in eventstore.__all__}
    builtin = {int, str, bytes, bool, float, list, tuple, dict, type(None), object}
    library = {collections.abc.Iterator, collections.abc.Iterable, collections.abc.Mapping,
               collections.abc.Sequence, collections.abc.Callable}
    missing: dict[str, set[str]] = {}
    for name, method in _public_methods():
        hints = typing.get_type_hints(method)
        for hint in hints.values():
            for cls in _classes(hint):
                if cls in builtin or cls in library or cls.__module__ in (
                        "uuid", "datetime", "sqlalchemy.engine.base", "typing"):
                    continue
                if id(cls) not in exported:
                    missing.setdefault(name, set()).add(cls.__qualname__)
    assert missing == {}, missing
