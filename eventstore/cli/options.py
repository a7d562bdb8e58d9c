"""Command-line options shared by every command, and the type-driven options of ``append``.

The options of ``append TYPE`` are generated from the fields of the fact class, so the
CLI can never drift from the catalogue: a text field becomes ``--field TEXT``, an enum a
choice, a party ``--speaker "Name:ISO3[:role]"`` (``":ISO3:role"`` for one named only by
its role), a list a repeatable option named in the singular (``--participant``,
``--topic``; a topic with the citations that support it is ``--topic "TEXT@0,2"``). The
catalogue is imported only when those options are built (``append TYPE``): the other
commands start without it.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..errors import ValidationError
from ..jsonl import loads

if TYPE_CHECKING:
    from ..facts import FactData

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = ("table", "json")

_SINGULAR = {"participants": "participant", "signatories": "signatory", "parties": "party",
             "topics": "topic", "aliases": "alias", "roles": "role", "actors": "actor"}
#: Option names the envelope and every command use; payload fields get --data-NAME instead.
_RESERVED = {"actor", "db", "format", "track", "date", "date_text", "date_anchor", "cite",
             "event_id", "correlation_id", "causation_id", "expected_version", "file", "help"}


def db_option(func: F) -> F:
    return click.option(
        "--db", "db", metavar="URL", envvar="EVENTSTORE_URL", show_envvar=True,
        help="Database URL or SQLite file path [default: sqlite:///facts.db].")(func)


def format_option(*choices: str) -> Callable[[F], F]:
    names = choices or FORMATS

    def decorate(func: F) -> F:
        return click.option("--format", "fmt", type=click.Choice(names), default=names[0],
                            show_default=True, help="Output format (json: one document).")(func)
    return decorate


def actor_option(func: F) -> F:
    return click.option("--actor", metavar="NAME", envvar="EVENTSTORE_ACTOR", show_envvar=True,
                        help="Who records this [default: the OS user].")(func)


#: Where ``--sign-key`` leaves the key file for the command's store (see ``writer_options``).
SIGN_KEY_META = "eventstore.sign_key"


def _keep_sign_key(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.meta[SIGN_KEY_META] = value


def writer_options(func: F) -> F:
    """``--actor`` and ``--sign-key``: what every command that appends events takes."""
    func = click.option(
        "--sign-key", metavar="FILE", envvar="EVENTSTORE_SIGN_KEY", show_envvar=True,
        expose_value=False, callback=_keep_sign_key,
        help="Also store a checkpoint of the new tree head, signed with this private key, "
             "in the same transaction (docs/auditing.md#sign-every-append).")(func)
    return actor_option(func)


#: Where ``--dry-run`` leaves its flag for the command (the group's or the type's).
DRY_RUN_META = "eventstore.dry_run"


def _keep_dry_run(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta[DRY_RUN_META] = True


def dry_run_option(func: F) -> F:
    """``--dry-run``: check the facts exactly as an append would, and write nothing."""
    return click.option(
        "--dry-run", is_flag=True, expose_value=False, callback=_keep_dry_run,
        help="Check every fact exactly as an append would (citations, references, "
             "expected versions) and print what would be written; write nothing.")(func)


def common(func: F) -> F:
    """``--db`` and ``--format table|json``: every command takes them."""
    return db_option(format_option()(func))


def parse_moment(value: str | None, option: str) -> dt.datetime | None:
    """A record time: ISO 8601, UTC unless it says otherwise; a bare day means its end."""
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r}: give a UTC time such as 2026-11-01T12:00:00Z "
                                 "or a day", param_hint=option) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    if len(value) == 10:  # a bare day means the end of that day
        moment += dt.timedelta(days=1) - dt.timedelta(microseconds=1)
    return moment


def parse_party(value: str, where: str) -> dict[str, Any]:
    """``"Name:ISO3[:role]"`` → the JSON form of a :class:`Party`; ``":ISO3:role"`` (no
    name) for one the source names only by its role."""
    parts = [p.strip() for p in value.split(":", 2)]
    role = parts[2] if len(parts) == 3 and parts[2] else None
    if len(parts) < 2 or not parts[1] or not (parts[0] or role):
        raise click.BadParameter(f"{value!r}: write a party as NAME:COUNTRY[:ROLE], "
                                 "e.g. 'John Bolton:USA:national security adviser', or "
                                 "one named only by its role as :COUNTRY:ROLE, e.g. "
                                 "':CHN:foreign minister'", param_hint=where)
    party: dict[str, Any] = {"country": parts[1].upper()}
    if parts[0]:
        party["name"] = parts[0]
    if role:
        party["role"] = role
    return party


_TOPIC_CITE = re.compile(r"^(.*\S)\s*@(\d+(?:,\d+)*)$")


def parse_topic(value: str) -> str | dict[str, Any]:
    """``"Syria"`` → a topic every citation supports; ``"Syria@0,2"`` → the JSON form of a
    :class:`TopicCite`: the topic, cited by the fact's citations 0 and 2 only."""
    found = _TOPIC_CITE.match(value)
    if found is None:
        return value
    return {"topic": found.group(1), "cite": [int(n) for n in found.group(2).split(",")]}


def parse_role(value: str, where: str) -> dict[str, Any]:
    """``"role[:since[:until]]"`` → the JSON form of an :class:`ActorRole`."""
    parts = [p.strip() for p in value.split(":", 2)]
    if not parts[0]:
        raise click.BadParameter(f"{value!r}: write a role as ROLE[:SINCE[:UNTIL]], e.g. "
                                 "'secrétaire du Conseil de sécurité:2008-05'", param_hint=where)
    names = ("role", "since", "until")
    return {name: part for name, part in zip(names, parts, strict=False) if part}


def parse_json(value: str, where: str) -> Any:
    try:
        return loads(value, where)
    except ValidationError as err:
        raise click.BadParameter(str(err).removeprefix(f"{where}: "), param_hint=where
                                 ) from None


class FieldOption(typing.NamedTuple):
    """How one payload field is given on the command line."""

    field: str
    flag: str
    kind: str  # "text", "choice", "party", "parties", "texts"
    required: bool

    def to_data(self, value: Any) -> Any:
        if self.kind == "party":
            return None if value is None else parse_party(value, self.flag)
        if self.kind == "parties":
            return [parse_party(v, self.flag) for v in value]
        if self.kind == "roles":
            return [parse_role(v, self.flag) for v in value]
        if self.kind == "json":
            return None if value is None else parse_json(value, self.flag)
        if self.kind == "texts":
            return list(value)
        if self.kind == "topics":
            return [parse_topic(v) for v in value]
        return value


def field_options(cls: type[FactData]) -> list[tuple[FieldOption, click.Option]]:
    """The click options for the payload fields of a fact class."""
    import attrs

    from ..facts import ActorRole, Party

    hints = typing.get_type_hints(cls)
    result = []
    for field in attrs.fields(typing.cast(Any, cls)):
        hint = hints[field.name]
        if hint == Party | None:  # an optional party (``by``, ``target``) is given like one
            hint = Party
        required = field.default is attrs.NOTHING
        args = typing.get_args(hint)
        item = args[0] if typing.get_origin(hint) is tuple else None
        name = _SINGULAR.get(field.name, field.name) if item is not None else field.name
        if name in _RESERVED:  # a payload field named like an option every command has
            name = f"data_{name}"
        flag = "--" + name.replace("_", "-")
        kwargs: dict[str, Any] = {"required": required}
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            kind = "choice"
            kwargs["type"] = click.Choice([m.value for m in hint])
        elif hint is Party:
            kind, kwargs["metavar"] = "party", "NAME:ISO3[:ROLE]"
        elif item is Party:
            kind, kwargs["metavar"], kwargs["multiple"] = "parties", "NAME:ISO3[:ROLE]", True
        elif item is ActorRole:
            kind, kwargs["metavar"], kwargs["multiple"] = "roles", "ROLE[:SINCE[:UNTIL]]", True
        elif item is str:
            kind, kwargs["metavar"], kwargs["multiple"] = "texts", "TEXT", True
        elif item is not None and str in typing.get_args(item):  # a topic, or with citations
            kind, kwargs["metavar"], kwargs["multiple"] = "topics", "TEXT[@N,…]", True
        elif typing.get_origin(hint) is not None and dict in {
                typing.get_origin(a) for a in typing.get_args(hint)}:
            kind, kwargs["metavar"] = "json", "JSON"
        else:
            kind, kwargs["metavar"] = "text", "TEXT"
        said = field.metadata.get("help")  # what the catalogue says of the field, if anything
        said = said.rstrip(".") if said else said  # the help goes on after it
        kwargs["help"] = (f"data.{field.name}" + (f": {said}" if said else "")
                          + (" (repeatable)" if kwargs.get("multiple")
                             and "repeatable" not in (said or "") else ""))
        if kind == "topics":
            kwargs["help"] += ("; TEXT@0,2: the topic is supported by the fact's citations 0 "
                               "and 2 only (--cite order, from 0)")
        elif kind in ("party", "parties"):
            kwargs["help"] += "; :ISO3:ROLE for one the source names only by its role"
        spec = FieldOption(field=field.name, flag=flag, kind=kind, required=required)
        result.append((spec, click.Option([flag, f"field_{field.name}"], **kwargs)))
    return result
