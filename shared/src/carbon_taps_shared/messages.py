"""Values and texts cut to fit in one line of user output, the same way in every tap.

Messages quote provider values (a cell, an answer field, a bookmark); a huge or multi-line
value must not bury the advice that follows it.
"""

from __future__ import annotations

from typing import Any

SHOWN_LIMIT = 40  # characters of a quoted value inside a message


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the cut marked with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def short(value: object, limit: int = 80) -> str:
    """A value or message on one line (runs of whitespace become one space), cut to fit."""
    return clip(" ".join(str(value).split()), limit)


def shown(value: object) -> str:
    """A value as Python writes it (quotes show text), on one line, cut to fit in a message."""
    return short(repr(value), SHOWN_LIMIT)


def shown_as_is(value: Any) -> str:
    """A value as Python writes it, cut but not reflowed: a file cell keeps its exact spacing."""
    return clip(repr(value), SHOWN_LIMIT)
