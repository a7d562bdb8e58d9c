"""Pausing Python's cyclic garbage collector while many objects are made.

One context manager, :func:`gc_paused`, serves the two places where collections only
cost time:

* reading a large document or folding a track (``projection.read_model``,
  ``projection.fold``): ``json.loads``, a decoder or a fold create tens of thousands of
  containers that all stay alive until the end, and every collection their allocations
  trigger walks the growing heap again (reading a 10,000-fact state was 2.6 times
  slower). What they build holds no reference cycle, so there is nothing to find.
* loading the library and opening the store at the command line's start
  (``cli.base.open_store``, with ``freeze=True``): the import's objects (modules,
  classes, tables, statements) live as long as the process; frozen afterwards, they are
  left out of every later collection, and of the last one at exit
  (``docs/performance.md``).

The collector is process-wide: it stays off if it was off, and another thread's cycles
wait for the next collection.

May import: the standard library only (the command line imports it before the library).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["gc_paused"]


@contextlib.contextmanager
def gc_paused(*, freeze: bool = False) -> Iterator[None]:
    """Run the block with the cyclic garbage collector off, then turn it back on.

    With ``freeze``, what exists at the end is frozen (``gc.freeze()``) before the
    collector is turned on again, once a process: when something is frozen already, the
    block runs as it is. Nothing is done when the collector is off already (not ours to
    turn on).
    """
    if not gc.isenabled() or (freeze and gc.get_freeze_count()):
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        gc.enable()
