"""Checks the three taps make on provider data before it becomes a record.

One error type and one meaning of "a number", so a bad value is refused with the same kind of
message whichever tap read it (the bad-input reliability tests compare those messages).
"""

from __future__ import annotations

import math
from typing import Any

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
