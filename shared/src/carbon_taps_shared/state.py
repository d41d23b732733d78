"""The state a run starts from: refused in one line when it cannot be right, never a traceback.

singer-sdk parses `--state` as JSON and trusts its shape, so an empty or truncated file, a list,
`"bookmarks": null` or a bookmark that is not a date ends in a traceback deep inside a stream.
A bookmark in the future is worse: every stream reads nothing, exits 0 and writes the same
bookmark back, so the tap stalls silently on every later run. Both are refused before any
request: re-reading from the look-back instead would hide a state copied from the wrong
environment or a clock that is wrong, and only the user can tell which it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from carbon_taps_shared.messages import SHOWN_LIMIT, clip, short

# Bookmarks are provider dates (months, usage days) or export timestamps; a day absorbs
# providers that date usage in time zones ahead of UTC and any ordinary clock skew.
CLOCK_SKEW = timedelta(days=1)

RESET_HINT = (
    "under Meltano reset it with `meltano state clear <state_id>` (or write a correct one "
    "with `meltano state set <state_id> '<json>'`; `meltano state list` shows the ids); "
    "without Meltano fix or drop the --state file"
)


class StateError(Exception):
    """A state the tap cannot start from; the message names it and says how to reset it."""


def read_state(handle: IO[str], source: str) -> str:
    """The state file's text, once it is known to hold a state the SDK can load."""
    try:
        text = handle.read()
    except UnicodeDecodeError:
        raise StateError(f"State file {source} is not UTF-8 text; {RESET_HINT}") from None
    parse_state(text, source)
    return text


def parse_state(text: str, source: str) -> dict[str, Any]:
    """The state file's JSON object, with `bookmarks` a map of stream objects."""
    where = f"State file {source}"
    if not text.strip():
        raise StateError(f"{where} is empty; {RESET_HINT}")
    try:
        state = json.loads(text)
    except ValueError as exc:
        detail = short(exc)
        raise StateError(f"{where} is not JSON ({detail}); {RESET_HINT}") from None
    if not isinstance(state, dict):
        raise StateError(f"{where} holds {_kind(state)}, not a JSON object; {RESET_HINT}")
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, dict):
        raise StateError(
            f"{where}: `bookmarks` is {_kind(bookmarks)}, not an object of streams; {RESET_HINT}"
        )
    for stream, stream_state in bookmarks.items():
        if not isinstance(stream_state, dict):
            raise StateError(
                f"{where}: the bookmark of stream {stream} is {_kind(stream_state)}, not an "
                f"object; {RESET_HINT}"
            )
        partitions = stream_state.get("partitions", [])
        if not isinstance(partitions, list) or not all(
            isinstance(p, dict) and isinstance(p.get("context", {}), dict) for p in partitions
        ):
            raise StateError(
                f"{where}: the partitions of stream {stream} are not a list of objects with a "
                f"context; {RESET_HINT}"
            )
    return state


def check_bookmarks(
    state: Mapping[str, Any],
    replication_keys: Mapping[str, str],
    source: str,
    now: datetime | None = None,
) -> None:
    """Every bookmark of a stream with a (date or timestamp) replication key is a date in the past.

    `replication_keys` maps each incremental stream of the tap to its replication key; other
    streams' state (per-file or per-delivery) is theirs to read.
    """
    now = now or datetime.now(UTC)
    bookmarks = state.get("bookmarks") or {}
    for stream, key in replication_keys.items():
        stream_state = bookmarks.get(stream)
        if not isinstance(stream_state, dict):
            continue
        for where, value in _bookmark_values(stream, stream_state):
            moment = _as_moment(value)
            if moment is None:
                raise StateError(
                    f"State file {source}: the bookmark of {where} ({key}) is {_shown(value)}, "
                    f"not a date; {RESET_HINT}"
                )
            if moment > now + CLOCK_SKEW:
                raise StateError(
                    f"State file {source}: the bookmark of {where} ({key}) is {_shown(value)}, "
                    f"later than now ({now:%Y-%m-%d %H:%M} UTC), so the stream would read nothing "
                    f"and keep it forever; check the clock of this machine, then {RESET_HINT}"
                )


def _bookmark_values(stream: str, stream_state: Mapping[str, Any]) -> Iterable[tuple[str, Any]]:
    """(where, value) of the stream's bookmark and of each partition's."""
    if stream_state.get("replication_key_value") is not None:
        yield f"stream {stream}", stream_state["replication_key_value"]
    for partition in stream_state.get("partitions") or []:
        if isinstance(partition, dict) and partition.get("replication_key_value") is not None:
            context = partition.get("context") or {}
            label = ", ".join(f"{k}={v}" for k, v in context.items()) if context else ""
            where = f"stream {stream}" + (f" [{label}]" if label else "")
            yield where, partition["replication_key_value"]


def _as_moment(value: Any) -> datetime | None:
    """An ISO date or timestamp as an aware UTC datetime (naive means UTC), else None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}
    return names.get(type(value), "a number")


def _shown(value: Any) -> str:
    """A state value as it appears in the state file (text quoted), cut to fit in a message."""
    return clip(json.dumps(value) if not isinstance(value, str) else repr(value), SHOWN_LIMIT)
