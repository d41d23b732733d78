"""Checks the three taps make on provider data before it becomes a record.

One error type and one meaning of "a number", so a bad value is refused with the same kind of
message whichever tap read it (the bad-input reliability tests compare those messages).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal, overload

from carbon_taps_shared.messages import shown
from carbon_taps_shared.tapbase import TapUserError


class UnexpectedDataError(TapUserError):
    """A provider answer or row the tap cannot load without inventing or mislabelling data."""


def is_finite_json_number(value: Any) -> bool:
    """A JSON number as parsed: int or float, finite, and not true/false (bool is an int)."""
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def finite_float(value: Any) -> float | None:
    """``value`` read as a finite float (numbers, numeric text, decimals), else None.

    true/false is refused: ``float(True)`` is 1.0, which would load a flag as a quantity.
    """
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def checked_text(value: Any, what: str, hint: str) -> str:
    """``value`` if it is text; otherwise a one-line error naming ``what`` and what to do.

    Only a string is text: a number or true/false where the provider writes text means the
    answer or file is not the one the tap was built for.
    """
    if not isinstance(value, str):
        raise UnexpectedDataError(f"{what} is {shown(value)}, not text; {hint}")
    return value


def _field(item: Mapping[str, Any], key: str, where: str, hint: str, required: bool) -> Any:
    """`item[key]`, None when absent or null; a required field must be there."""
    value = item.get(key)
    if value is None and required:
        raise UnexpectedDataError(f"{where}: a row has no `{key}`; {hint}")
    return value


@overload
def text_field(
    item: Mapping[str, Any], key: str, where: str, *, hint: str, required: Literal[True]
) -> str: ...
@overload
def text_field(
    item: Mapping[str, Any], key: str, where: str, *, hint: str, required: bool = False
) -> str | None: ...
def text_field(
    item: Mapping[str, Any], key: str, where: str, *, hint: str, required: bool = False
) -> str | None:
    """A text field of an answer item: a string, or None when absent (and not required).

    An empty string is a value, required or not: the caller decides what it means.
    """
    value = _field(item, key, where, hint, required)
    return None if value is None else checked_text(value, f"{where}: `{key}`", hint)


def number_field(
    item: Mapping[str, Any], key: str, where: str, *, hint: str, required: bool = False
) -> float | int | None:
    """A numeric field of an answer item: a finite JSON number, or None when absent."""
    value = _field(item, key, where, hint, required)
    if value is not None and not is_finite_json_number(value):
        raise UnexpectedDataError(
            f"{where}: `{key}` is {shown(value)}, not a finite number; {hint}"
        )
    return value
