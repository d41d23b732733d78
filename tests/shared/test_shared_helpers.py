"""The helpers the three taps share: message shortening, number and text checks, look-back
windows, the history settings group.

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
from carbon_taps_shared.settings import FirstMonth, LookBack, history_settings
from carbon_taps_shared.tapbase import TapUserError
from carbon_taps_shared.validation import (
    UnexpectedDataError,
    checked_text,
    finite_float,
    is_finite_json_number,
    number_field,
    text_field,
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


def test_text_is_a_string_only_and_the_error_says_what_and_what_to_do() -> None:
    assert checked_text("", "x", "fix it") == ""
    with pytest.raises(UnexpectedDataError, match=r"^row 3: name is 12, not text; fix it$"):
        checked_text(12, "row 3: name", "fix it")
    with pytest.raises(UnexpectedDataError, match="is True, not text"):
        checked_text(True, "flag", "fix it")


def test_text_and_number_fields_absent_required_or_wrong() -> None:
    item = {"name": "vm", "empty": "", "count": 2.5, "bad": "2.5", "flag": False}
    assert text_field(item, "name", "w", hint="h") == "vm"
    assert text_field(item, "empty", "w", hint="h", required=True) == ""
    assert text_field(item, "missing", "w", hint="h") is None
    with pytest.raises(UnexpectedDataError, match=r"^w: a row has no `missing`; h$"):
        text_field(item, "missing", "w", hint="h", required=True)
    with pytest.raises(UnexpectedDataError, match=r"^w: `count` is 2\.5, not text; h$"):
        text_field(item, "count", "w", hint="h")
    assert number_field(item, "count", "w", hint="h") == 2.5
    assert number_field(item, "missing", "w", hint="h") is None
    for key in ("bad", "flag"):
        with pytest.raises(UnexpectedDataError, match=rf"`{key}` is .*, not a finite number; h"):
            number_field(item, key, "w", hint="h")


def test_history_settings_keep_each_taps_names_defaults_and_bounds() -> None:
    settings = [
        setting.to_dict()
        for setting in history_settings(
            FirstMonth("start_date", "First month.", default="2022-01-01"),
            LookBack("Months again.", default=3, maximum=36),
            end_description="Stop before.",
        )
    ]
    (start,), (end,), (lookback,) = (s.items() for s in settings)
    assert start == (
        "start_date",
        {
            "type": ["string", "null"],
            "format": "date",
            "default": "2022-01-01",
            "description": "First month.",
        },
    )
    assert end[0] == "end_date" and "default" not in end[1]
    assert lookback[1]["minimum"] == 0 and lookback[1]["maximum"] == 36
    assert lookback[0] == "lookback_months" and lookback[1]["default"] == 3
    azure = history_settings(FirstMonth("start_month", "First."), LookBack("Again.", 2, 12))
    assert [s.name for s in azure] == ["start_month", "lookback_months"]
    assert "default" not in azure[0].to_dict()["start_month"]
