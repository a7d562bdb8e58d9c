"""A compact JSON form for a tree of attrs classes, and fast code to write and read it.

cattrs turns attrs objects into dicts and back through generic hooks; for a read model of
~1,000 facts (some 4,500 objects) that costs tens of milliseconds, and the dicts' keys
make up a third of the JSON. :class:`PackedCodec` writes each attrs object as the list of
its fields' values instead, and names the fields once, in a header::

    {"packed": 1,
     "fields": {"eventstore.projection.Evidence": ["event_id", "position", …], …},
     "value": [[…], …]}

Its encoder and decoder are generated once per class from the fields' types (as attrs and
cattrs generate theirs), so they follow the classes: a new field or class needs nothing
here. Types they do not know (anything but attrs classes, ``X | None``, tuples, dates,
``str``, ``int``, ``bool``, ``None``) go through the cattrs converter given, both ways.

Why not the cattrs converter (``codec.documents``, which the published JSON of the same
classes is built on)? This is a storage format, not a document: only the store writes and reads
it, on every read-model update and every first read of a state, where cattrs' generic
hooks were most of the cost (``docs/performance.md``: a first read 1.4 to 1.8 times
faster, the JSON 31 % smaller). It defers to that converter for whatever it does not
know, and a property test checks that a packed state reads back as cattrs' round trip.

The header names a class by ``name(cls)`` (default :func:`class_key`: its module and
qualified name). The names are part of the stored form: a caller whose classes may move
between modules gives a ``name`` that does not depend on where they are defined.

A document whose header differs from the classes as they are now (written before a field
was added, say) is still read: by turning it back into cattrs' dict form with the
header's names and letting the converter structure that (a missing field gets its
default; a field that is gone is dropped, by a converter that ignores unknown keys as
cattrs' does by default).
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import threading
import types
import typing
from collections.abc import Callable
from typing import Any

import attrs
import cattrs

__all__ = ["PackedCodec", "FORMAT", "class_key"]

#: The value of a packed document's ``"packed"`` key.
FORMAT = 1

#: Turns one value into another (a field's value into JSON, or back); ``None``: as it is.
Convert = Callable[[Any], Any] | None
_PLAIN: frozenset[Any] = frozenset({str, int, bool, type(None)})
_DATES = (dt.date, dt.datetime)


def class_key(cls: type) -> str:
    """How a class is named in a packed document's header."""
    return f"{cls.__module__}.{cls.__qualname__}"


class PackedCodec:
    """Packs values of the attrs class ``root`` (and the attrs classes of its fields)."""

    def __init__(self, root: type, converter: cattrs.Converter,
                 name: Callable[[type], str] = class_key) -> None:
        self.root = root
        self.converter = converter
        self.name = name
        self._encoders: dict[type, Callable[[Any], Any]] = {}
        self._decoders: dict[type, Callable[[Any], Any]] = {}
        self.fields: dict[str, list[str]] = {}
        # The decoder is built now (it names every class's fields, which ``unpack``
        # compares with a document's header); the encoder on first use: a process that
        # only reads states never builds it.
        self._encode: Callable[[Any], Any] | None = None
        self._building = threading.Lock()
        self._decode = self._class_decoder(root)

    def pack(self, value: Any) -> dict[str, Any]:
        """The packed document of ``value``, ready for ``json.dumps``."""
        if self._encode is None:
            with self._building:  # (another thread may be building it)
                if self._encode is None:
                    self._encode = self._class_encoder(self.root)
        return {"packed": FORMAT, "fields": self.fields, "value": self._encode(value)}

    def unpack(self, doc: dict[str, Any]) -> Any:
        """The value of a packed document (see the module's docstring for old headers)."""
        if doc.get("packed") != FORMAT:
            raise ValueError(f"not a packed document of format {FORMAT}")
        if doc["fields"] == self.fields:
            return self._decode(doc["value"])
        return self.converter.structure(
            _as_dicts(doc["value"], self.root, doc["fields"], self.name), self.root)

    # -- generated code ----------------------------------------------------------------

    def _class_encoder(self, cls: type) -> Callable[[Any], Any]:
        """``[encode(o.a), o.b, …]`` over the fields ``__init__`` takes, in their order."""
        encoder = self._encoders.get(cls)
        if encoder is not None:
            return encoder
        self._encoders[cls] = lambda value: self._encoders[cls](value)  # recursive types
        fields = _init_fields(cls)
        hints = _hints(cls)
        names: dict[str, Any] = {}
        items = [self._source(hints[field.name], f"o.{field.name}", names, f"_e{i}",
                              encoding=True) for i, field in enumerate(fields)]
        encoder = self._encoders[cls] = _compile(
            "encode", f"(o):\n    return [{', '.join(items)}]", names, cls)
        return encoder

    def _class_decoder(self, cls: type) -> Callable[[Any], Any]:
        """``cls(decode(v[0]), v[1], …)``: by position, keyword-only fields by keyword."""
        decoder = self._decoders.get(cls)
        if decoder is not None:
            return decoder
        self._decoders[cls] = lambda value: self._decoders[cls](value)  # recursive types
        fields = _init_fields(cls)
        self.fields[self.name(cls)] = [field.name for field in fields]
        hints = _hints(cls)
        names: dict[str, Any] = {"cls": cls}
        args = []
        for i, field in enumerate(fields):
            value = self._source(hints[field.name], f"v[{i}]", names, f"_d{i}", encoding=False)
            args.append(f"{field.alias}={value}" if field.kw_only else value)
        decoder = self._decoders[cls] = _compile(
            "decode", f"(v):\n    return cls({', '.join(args)})", names, cls)
        return decoder

    def _source(self, hint: Any, expression: str, names: dict[str, Any], name: str, *,
                encoding: bool) -> str:
        """The source that converts one field's value (``expression``) of type ``hint``.

        ``X | None`` and ``tuple[X, ...]`` are written out in line: a call less per value.
        """
        convert = self._encoder if encoding else self._decoder
        kind, args = _shape(hint) or ("", ())
        inner = convert(args[0]) if kind in ("optional", "sequence") else None
        if kind == "optional" and inner is not None:
            return f"(None if {expression} is None else {_call(inner, expression, names, name)})"
        if kind == "sequence":
            container = "list" if encoding else "tuple"
            if inner is None:
                return f"{container}({expression})"
            names[name] = inner
            return f"{container}(map({name}, {expression}))"
        return _call(convert(hint), expression, names, name)

    def _encoder(self, hint: Any) -> Convert:
        """How a field of type ``hint`` is written."""
        if hint in _PLAIN:
            return None
        if hint in _DATES:
            return operator.methodcaller("isoformat")
        if attrs.has(hint):
            return self._class_encoder(hint)
        inner = _shape(hint)
        if inner is not None:
            kind, args = inner
            return _SHAPES[kind](tuple(self._encoder(arg) for arg in args), list)
        return functools.partial(self.converter.unstructure, unstructure_as=hint)

    def _decoder(self, hint: Any) -> Convert:
        """How a field of type ``hint`` is read back."""
        if hint in _PLAIN:
            return None
        if hint in _DATES:
            return hint.fromisoformat  # type: ignore[no-any-return]
        if attrs.has(hint):
            return self._class_decoder(hint)
        inner = _shape(hint)
        if inner is not None:
            kind, args = inner
            return _SHAPES[kind](tuple(self._decoder(arg) for arg in args), tuple)
        return functools.partial(self.converter.structure, cl=hint)


def _init_fields(cls: type) -> list[attrs.Attribute[Any]]:
    return [field for field in attrs.fields(cls) if field.init]


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """The class's resolved type hints (resolving them is most of building a codec)."""
    return typing.get_type_hints(cls)


def _compile(name: str, rest: str, names: dict[str, Any], cls: type) -> Callable[[Any], Any]:
    """Define ``def {name}{rest}`` with ``names`` as its globals."""
    source = f"def {name}{rest}\n"
    exec(compile(source, f"<packed {name}r of {cls.__qualname__}>", "exec"), names)  # noqa: S102
    function: Callable[[Any], Any] = names[name]
    return function


def _call(convert: Convert, expression: str, names: dict[str, Any], name: str) -> str:
    """The source of ``convert(expression)``, ``convert`` bound to ``name`` in ``names``."""
    if convert is None:
        return expression
    names[name] = convert
    return f"{name}({expression})"


def _shape(hint: Any) -> tuple[str, tuple[Any, ...]] | None:
    """``X | None``, ``tuple[X, ...]`` or ``tuple[X, Y, …]`` and the types inside; else None."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType) and len(args) == 2 and type(None) in args:
        return "optional", tuple(arg for arg in args if arg is not type(None))
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return "sequence", args[:1]
    if origin is tuple and args and Ellipsis not in args:
        return "fixed", args
    return None


def _optional(converts: tuple[Convert, ...], _: type) -> Convert:
    (convert,) = converts
    if convert is None:
        return None
    inner = convert
    return lambda value: None if value is None else inner(value)


def _sequence(converts: tuple[Convert, ...], container: type) -> Convert:
    (convert,) = converts
    if convert is None:
        return container
    inner = convert
    return lambda values: container(map(inner, values))


def _fixed(converts: tuple[Convert, ...], container: type) -> Convert:
    return lambda values: container([value if convert is None else convert(value)
                                     for convert, value in zip(converts, values, strict=True)])


_SHAPES: dict[str, Callable[[tuple[Convert, ...], type], Convert]] = {
    "optional": _optional, "sequence": _sequence, "fixed": _fixed}


def _as_dicts(value: Any, hint: Any, header: dict[str, list[str]],
              name: Callable[[type], str]) -> Any:
    """A packed value in cattrs' dict form, its attrs objects' fields named by ``header``."""
    if value is None:
        return None
    if attrs.has(hint):
        hints = _hints(hint)
        return {field: _as_dicts(item, hints.get(field, Any), header, name)
                for field, item in zip(header[name(hint)], value, strict=True)}
    inner = _shape(hint)
    if inner is None:
        return value
    kind, args = inner
    if kind == "optional":
        return _as_dicts(value, args[0], header, name)
    if kind == "sequence":
        return [_as_dicts(item, args[0], header, name) for item in value]
    return [_as_dicts(item, arg, header, name) for item, arg in zip(value, args, strict=True)]
