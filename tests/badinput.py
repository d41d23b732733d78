"""What the bad-input tests share: generated wrong values, a fake's JSON reply, a short repr for
an example's description, and the check that a run failed in one clear line.

The generators differ per provider only in their bounds (how long a huge value is, how wide the
scalars are), so those bounds are parameters, not copies.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from tests.conftest import TapRun, assert_no_secrets
from tests.fakes._http import Reply

# Any JSON scalar a provider could send where it should not.
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)


def containers(scalars: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A non-empty list or object of `scalars`: a container where a single value belongs."""
    return st.one_of(
        st.lists(scalars, min_size=1, max_size=3),
        st.dictionaries(st.text(max_size=5), scalars, min_size=1, max_size=3),
    )


def huge_text(longest: int) -> st.SearchStrategy[str]:
    """Text of 20 000 to `longest` characters: a value far past any sane field size."""
    return st.integers(20_000, longest).map(lambda n: "Z" * n)


def letters(*, min_size: int = 0, max_size: int) -> st.SearchStrategy[str]:
    """A word no number, date or timestamp parser reads ("x" then letters and underscores)."""
    return st.text(alphabet="qxkvbjg_", min_size=min_size, max_size=max_size).map(
        lambda tail: "x" + tail
    )


def json_reply(body: Any, headers: dict[str, str] | None = None) -> Reply:
    """A 200 answer carrying `body` as JSON; NaN and Infinity pass through, as a broken
    provider could send them."""
    return Reply(200, json.dumps(body, allow_nan=True).encode(), headers or {})


def short(value: Any) -> str:
    """`value`'s repr cut to 24 characters, for an example's description."""
    text = repr(value)
    return text if len(text) <= 24 else text[:23] + "…"


def one_line_error(run: TapRun, *needles: str) -> str:
    """The last ERROR line holding every needle, after checking that the run failed cleanly:
    exit code 1, no traceback, no test secret in its output."""
    assert run.returncode == 1, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    assert_no_secrets(run.stdout, run.stderr)
    lines = [line for line in run.error_lines if all(needle in line for needle in needles)]
    assert lines, f"no one-line error with {needles}:\n{run.stderr[-3000:]}"
    return lines[-1]
