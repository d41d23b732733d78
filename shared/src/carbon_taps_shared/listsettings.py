"""Checks for list settings that a JSON schema cannot state: repeats, compared as the provider
compares them.

A repeated entry is refused rather than silently dropped: each entry of these lists becomes its
own request (a repeated Azure carbon scope doubled the emissions, with the same row count, so an
upsert could not repair it), and a repeat is usually a copy-paste where another value was meant,
which dropping it would hide.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from carbon_taps_shared.messages import shown_as_is


def repeats(
    name: str,
    values: Any,
    *,
    same: Callable[[str], str] = lambda value: value,
    why: str = "",
) -> list[str]:
    """One settings error per value `name` lists more than once (`same` gives the form the
    provider compares: e.g. lower-case for case-insensitive ids); none for a non-list (the
    schema reports that)."""
    if not isinstance(values, list):
        return []
    first: dict[str, int] = {}
    problems: list[str] = []
    for index, value in enumerate(values):
        if not isinstance(value, str):
            continue  # the schema reports it
        key = same(value)
        if key in first:
            problems.append(
                f"{name}[{index}] repeats {name}[{first[key]}] ({shown_as_is(value)}){why}; "
                "list each value once"
            )
        else:
            first[key] = index
    return problems
