"""The helpers the three taps share: message shortening, number checks, look-back windows.

Each tap's messages quote values through these, so a change here changes every tap's output
(the bad-input reliability tests compare whole messages; these pin the edges).
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

import pytest
from carbon_taps_shared.messages import clip, short, shown, shown_as_is
from carbon_taps_shared.periods import add_years, look_back, look_back_days, year_start
from carbon_taps_shared.tapbase import TapUserError
from carbon_taps_shared.validation import (
    UnexpectedDataError,
    finite_float,
    is_finite_json_number,
)


def test_clip_keeps_the_limit_with_the_ellipsis() -> None:
    assert clip("x" * 40, 40) == "x" * 40
    assert clip("x" * 41, 40) == "x" * 39 + "…"
    assert len(clip("y" * 500, 60)) == 60


def test_short_reflows_whitespace_and_shown_quotes_text() -> None:
    assert short("a\n  b\tc") == "a b c"
    assert short("z" * 100) == "z" * 79 + "…"
    assert shown("12") == "'12'"
    assert shown(12) == "12"
    assert shown({"k": "v" * 60}) == "{'k': '" + "v" * 32 + "…"


def test_shown_as_is_keeps_the_spacing_of_a_cell() -> None:
    assert shown_as_is("a  b") == "'a  b'"
    assert shown("a  b") == "'a b'"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, True),
        (2.5, True),
        (True, False),
        (math.inf, False),
        (math.nan, False),
        ("1", False),
        (None, False),
        (Decimal("1"), False),
    ],
)
def test_json_numbers_are_finite_ints_and_floats_only(value: object, expected: bool) -> None:
    assert is_finite_json_number(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1.5", 1.5),
        (" 2 ", 2.0),
        (3, 3.0),
        (Decimal("0.25"), 0.25),
        (False, None),
        ("nan", None),
        ("inf", None),
        ("abc", None),
        (None, None),
        ([], None),
    ],
)
def test_finite_float_reads_numbers_and_numeric_text(value: object, expected: float | None) -> None:
    assert finite_float(value) == expected


def test_unexpected_data_is_a_user_error() -> None:
    assert issubclass(UnexpectedDataError, TapUserError)


def test_look_back_months_from_the_bookmark_but_not_before_the_start() -> None:
    start = date(2023, 1, 1)
    assert look_back(start, None, 3) == start
    assert look_back(start, "", 3) == start
    assert look_back(start, "2024-05-17T00:00:00+00:00", 3) == date(2024, 2, 1)
    assert look_back(start, date(2024, 1, 9), 12) == start
    assert look_back(start, "2024-01-01", 0) == date(2024, 1, 1)


def test_look_back_in_years_and_days() -> None:
    assert look_back(date(2020, 1, 1), "2024-06-30", 2, align=year_start, shift=add_years) == date(
        2022, 1, 1
    )
    assert look_back_days(date(2024, 1, 1), "2024-03-10", 7) == date(2024, 3, 3)
    assert look_back_days(date(2024, 3, 5), "2024-03-10", 7) == date(2024, 3, 5)
