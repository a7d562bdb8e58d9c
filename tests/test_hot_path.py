"""The append path's faster code gives the bytes and answers of the plain code it replaced.

- a payload's canonical bytes (orjson where its type allows) are ``canonical_json``'s,
  and so its hash, for random payloads of every fact type, and on what orjson refuses;
- ``is_country`` (a set of codes) answers as pycountry's lookup does, for every code.
"""

from __future__ import annotations

import hashlib
import itertools
import string
from typing import Any

import pycountry
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventstore import FACT_TYPES, ValidationError, canonical_json
from eventstore.codec import _plain_safe, payload_json, unstructure_data
from eventstore.facts import FactCorrected, FactData, StatementMade
from eventstore.tracks import is_country
from tests.strategies import any_payload

PURE = settings(max_examples=300, deadline=None)


@given(data=any_payload())
@PURE
def test_payload_bytes_and_hashes_are_canonical_json(data: FactData) -> None:
    plain = unstructure_data(data)
    old = canonical_json(plain)
    new = payload_json(data, plain)
    assert new == old
    assert hashlib.sha256(new).hexdigest() == hashlib.sha256(old).hexdigest()


@given(text=st.text(), number=st.integers())
@PURE
def test_any_text_and_integer_are_encoded_as_canonical_json(text: str, number: int) -> None:
    """Beyond what the fact types' checks let through: any text (control characters,
    every plane) and any integer (orjson refuses those beyond 64 bits: canonical_json)."""
    data = StatementMade.__new__(StatementMade)  # only its type is read
    plain: dict[str, Any] = {text: [text, number, {"z": None, "a": True}], "n": number}
    assert payload_json(data, plain) == canonical_json(plain)


def test_a_lone_surrogate_is_refused_as_before() -> None:
    data = StatementMade.__new__(StatementMade)
    with pytest.raises(ValidationError, match="lone surrogate"):
        canonical_json({"content": "a\ud800b"})
    with pytest.raises(ValidationError, match="lone surrogate"):
        payload_json(data, {"content": "a\ud800b"})


def test_which_types_orjson_encodes() -> None:
    """Every fact type whose fields hold only text, integers, enums and records of those;
    not a correction, whose ``data`` is free-form JSON (it could hold a float)."""
    assert _plain_safe(StatementMade)
    assert not _plain_safe(FactCorrected)
    unsafe = sorted(name for name, cls in FACT_TYPES.items() if not _plain_safe(cls))
    assert unsafe == ["fact.corrected"]


def test_is_country_answers_as_pycountry() -> None:
    """Every three-letter code in either case, and a few other strings (the naive oracle:
    pycountry's lookup, as is_country did it before)."""
    def oracle(code: str) -> bool:
        return (len(code) == 3 and code.isupper()
                and pycountry.countries.get(alpha_3=code) is not None)

    codes = ["".join(letters) for letters in itertools.product(string.ascii_uppercase, repeat=3)]
    codes += [code.lower() for code in codes[::7]] + [code.title() for code in codes[::11]]
    codes += ["", "US", "USAA", " USA", "ÉTA", "U5A", "usa"]
    assert [is_country(code) for code in codes] == [oracle(code) for code in codes]
