"""The valid-time rules: whether a fact counts as of a date, and the order of the fold.

* **as of a date**: by default a fact counts when it *certainly* happened on or before the
  date: its latest possible day (``valid.upper``) is on or before it. With
  ``possible=True`` a fact also counts when it *may* have happened by then (its earliest
  possible day is on or before it). A fact with an open end never certainly happened.
* **order**: facts are folded by (earliest day, latest day, position): an open start
  sorts first, an open end last, and the position breaks every tie, so the fold is
  deterministic and independent of how other tracks' facts interleave.

May import: the standard library and ``eventstore.dates``; nothing else.
"""

from __future__ import annotations

import datetime as dt

from ..dates import ValidTime

__all__ = ["counts_at", "order_key", "OrderKey"]

#: Where a fact comes in the fold: (earliest day, latest day, position).
OrderKey = tuple[dt.date, dt.date, int]


def counts_at(valid: ValidTime | None, as_of: dt.date | None, possible: bool = False) -> bool:
    """Whether a fact of this valid time counts in the state of the world on ``as_of``."""
    if as_of is None:
        return True
    if valid is None:
        return False
    if possible:
        return valid.lower is None or valid.lower <= as_of
    return valid.upper is not None and valid.upper <= as_of


def order_key(valid: ValidTime | None, position: int) -> OrderKey:
    """Deterministic fold order: earliest day, then latest day, then position."""
    lower = valid.lower if valid and valid.lower else dt.date.min
    upper = valid.upper if valid and valid.upper else dt.date.max
    return (lower, upper, position)
