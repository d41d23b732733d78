"""What every ARM answer must be before a stream reads it: a JSON object, lists of objects.

Fields inside an item are checked with the shared `text_field` / `number_field`, given
`ANSWER_HINT` as what to do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import requests
from carbon_taps_shared.messages import shown
from carbon_taps_shared.validation import UnexpectedDataError

ANSWER_HINT = "check arm_endpoint and the api-version settings, and re-run later"


def json_object_answer(response: requests.Response, where: str) -> dict[str, Any]:
    """The JSON object an ARM answer must be; anything else ends the run in one line."""
    try:
        # From the bytes: JSON is UTF-8 (RFC 8259), so no guessed encoding turns a broken
        # answer into mojibake.
        body = json.loads(response.content.decode("utf-8")) if response.content else None
    except ValueError:  # not JSON, or not UTF-8
        body = ...
    if not isinstance(body, dict):
        what = (
            "empty"
            if body is None
            else "not JSON"
            if body is ...
            else f"JSON {type(body).__name__}, not an object"
        )
        raise UnexpectedDataError(f"{where}: the answer is {what}; {ANSWER_HINT}")
    return body


def object_list(
    container: Mapping[str, Any], key: str, where: str, *, required: bool = False
) -> list[dict[str, Any]]:
    """`container[key]`: a list of objects; absent or null is an empty list unless required."""
    items = container.get(key)
    if items is None:
        if required:
            raise UnexpectedDataError(f"{where}: the answer has no `{key}` list; {ANSWER_HINT}")
        return []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        bad = (
            items
            if not isinstance(items, list)
            else next(i for i in items if not isinstance(i, dict))
        )
        raise UnexpectedDataError(
            f"{where}: `{key}` holds {shown(bad)}, not a list of objects; {ANSWER_HINT}"
        )
    return items
