"""An item's lifecycle (issue 13): the statuses it went through, each with its date,
kept by the fold (``stages``) and said in one line (``lifecycle_words``)."""

from __future__ import annotations

import pytest

from eventstore import EventStore, parse_valid_time
from eventstore.projection.state import Stage, lifecycle_words, staged
from tests.conftest import ARTICLE_GENEVA
from tests.test_projection import BOLTON, fact, meeting


@pytest.fixture
def cited(store: EventStore) -> str:
    return store.add_source(ARTICLE_GENEVA.read_bytes()).id


def test_lifecycle_words_say_the_year_once_when_the_stages_share_it() -> None:
    june, july = parse_valid_time("2018-06-27"), parse_valid_time("2018-07-16")
    assert lifecycle_words((Stage("planned", june), Stage("held", july))) == \
        "planned 27 Jun → held 16 Jul 2018"
    assert lifecycle_words((Stage("planned", parse_valid_time("2017-12-27")),
                            Stage("held", july))) == "planned 27 Dec 2017 → held 16 Jul 2018"
    assert lifecycle_words((Stage("not_signed", parse_valid_time("2018")),)) == \
        "not signed 2018"
    assert lifecycle_words((Stage("planned", parse_valid_time("2018")),
                            Stage("held", july))) == "planned 2018 → held 16 Jul 2018"
    assert lifecycle_words((Stage("planned", None), Stage("held", july))) == \
        "planned → held 16 Jul 2018"
    assert lifecycle_words((), "extended", None) == "extended"  # a state stored before


def test_a_status_kept_is_one_stage_dated_as_the_item() -> None:
    june, july = parse_valid_time("2018-06-27"), parse_valid_time("2018-07-16")
    one = staged((), None, "held", june)
    assert staged(one, "held", "held", july) == (Stage("held", july),)
    assert staged(one, "held", "held", june) is one


def test_the_fold_keeps_every_status_an_item_went_through(store: EventStore,
                                                          cited: str) -> None:
    store.append("RUS-USA", [
        meeting("planned", "vienna", "2018-06-27", cited, place="Vienne"),
        meeting("cancelled", "vienna", "2018-07", cited),
        meeting("held", "geneva", "2018-08-23", cited, place="Moscou"),
        meeting("held", "geneva", "2018-08-23", cited, place="Moscou"),
        fact("invitation.extended", "2018-06-27", {
            "key": "moscow", "inviter": {"name": "Nikolaï Patrouchev", "country": "RUS"},
            "invitee": BOLTON, "place": "Moscou"}, cited),
        fact("invitation.accepted", "2018-07-02", {"key": "moscow"}, cited),
        fact("declaration.signed", "2018-08-23", {"key": "joint"}, cited)])
    state = store.project("RUS-USA")
    lines = {item.key: lifecycle_words(item.stages)
             for kind in ("meetings", "invitations", "declarations")
             for item in state.items(kind)}
    assert lines == {"vienna": "planned 27 Jun → cancelled Jul 2018",
                     "geneva": "held 23 Aug 2018",  # twice held: one stage
                     "moscow": "extended 27 Jun → accepted 2 Jul → fulfilled 23 Aug 2018",
                     "joint": "signed 23 Aug 2018"}  # an outcome only: its one stage
    assert store.project("RUS-USA", as_of=parse_valid_time("2018-06-30").lower
                         ).invitations[0].stages == (
        Stage("extended", parse_valid_time("2018-06-27")),)
    steps = store.history("RUS-USA")
    assert not any("stages" in change for step in steps for change in step.changes)
    store.rebuild()  # the stored read model keeps them
    assert store.project("RUS-USA") == state
