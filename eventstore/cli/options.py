"""Command-line options shared by every command, and the type-driven options of ``append``.

The options of ``append TYPE`` are generated from the fields of the fact class, so the
CLI can never drift from the catalogue: a text field becomes ``--field TEXT``, an enum a
choice, a party ``--speaker "Name:ISO3[:role]"``, a list a repeatable option named in the
singular (``--participant``, ``--topic``). The catalogue is imported only when those
options are built (``append TYPE``): the other commands start without it.
"""

from __future__ import annotations

import datetime as dt
import enum
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
             "topics": "topic", "aliases": "alias", "roles": "role"}
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
    """``"Name:ISO3[:role]"`` → the JSON form of a :class:`Party`."""
    parts = [p.strip() for p in value.split(":", 2)]
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise click.BadParameter(f"{value!r}: write a party as NAME:COUNTRY[:ROLE], "
                                 "e.g. 'John Bolton:USA:national security adviser'",
                                 param_hint=where)
    party: dict[str, Any] = {"name": parts[0], "country": parts[1].upper()}
    if len(parts) == 3 and parts[2]:
        party["role"] = parts[2]
    return party


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
        return value


def field_options(cls: type[FactData]) -> list[tuple[FieldOption, click.Option]]:
    """The click options for the payload fields of a fact class."""
    import attrs

    from ..facts import ActorRole, Party

    hints = typing.get_type_hints(cls)
    result = []
    for field in attrs.fields(typing.cast(Any, cls)):
        hint = hints[field.name]
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
        elif typing.get_origin(hint) is not None and dict in {
                typing.get_origin(a) for a in typing.get_args(hint)}:
            kind, kwargs["metavar"] = "json", "JSON"
        else:
            kind, kwargs["metavar"] = "text", "TEXT"
        kwargs["help"] = field.metadata.get("help", f"data.{field.name}") + (
            " (repeatable)" if kwargs.get("multiple") else "")
        spec = FieldOption(field=field.name, flag=flag, kind=kind, required=required)
        result.append((spec, click.Option([flag, f"field_{field.name}"], **kwargs)))
    return result
