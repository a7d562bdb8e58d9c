"""The one way the garbage collector is paused: while reading and folding, and (frozen
after) while the command line loads the library."""

from __future__ import annotations

import gc

from eventstore.collector import gc_paused


def test_with_freeze_what_exists_is_frozen_once_and_the_collector_turned_back_on() -> None:
    gc.unfreeze()  # the command-line tests may have frozen this process already
    try:
        with gc_paused(freeze=True):
            assert not gc.isenabled()
            assert gc.get_freeze_count() == 0
        assert gc.isenabled()
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with gc_paused(freeze=True):  # once a process: the second time does nothing
            assert gc.isenabled()
        assert gc.isenabled()
    finally:
        gc.unfreeze()


def test_with_freeze_a_collector_that_was_off_is_left_alone() -> None:
    gc.unfreeze()
    gc.disable()
    try:
        with gc_paused(freeze=True):
            assert not gc.isenabled()
        assert not gc.isenabled()
        assert gc.get_freeze_count() == 0
    finally:
        gc.enable()
