"""Bad-input runs in this process, and the judge of what a user reads when a run fails.

Hundreds of malformed payloads per tap cannot each start a tap process, so every example calls
the tap's real click command (`TapClass.cli`, what the console script runs) through click's
`CliRunner`: same argument parsing, same config validation, same one-line failure handling in
`CarbonTap.sync_all`. Where the console script would die of an unhandled exception, the
command's own excepthook renders it here exactly as it would print it (a traceback).

A failure is *clear* when all of these hold:

- exit code 1 and no unhandled exception (so no "Traceback" anywhere in stderr);
- exactly one ERROR line, at most `MAX_LINE` characters long;
- the line names what is wrong: one of the subjects the example knows about (the stream, the
  API operation, the file or its URI, or the setting);
- the line says what to do: a clause opens with one of `REMEDY_VERBS` ("…; re-deliver the
  file", "… — check sustainability_endpoint_url", ". What to do: grant …");
- no test secret appears in stdout or stderr.

No state may move past unread data: every STATE message is checked against the records emitted
before it (`bookmark_violations`): a replication-key bookmark may keep its initial value or take
one some record already carried, never more; streams that bookmark files or billing periods add
their own check (a damaged file or period is never marked done). `Tally.finish` records what a
property test tried (`figures.record`) and fails it on any unclear error or premature bookmark.

The tests at the bottom feed the judge runs it must refuse, so a judge that waves everything
through fails here first.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import os
import re
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from hypothesis.configuration import set_hypothesis_home_dir
from singer_sdk.logging import ConsoleFormatter

from tests.conftest import CAPTURED_OUTPUT, TEST_SECRETS, TapRun
from tests.reliability.figures import record, trials

MAX_LINE = 1000  # an error line longer than this is a dump, not a sentence
# What to do, as an imperative opening a clause: "…; re-deliver the file", "… — check X",
# ". What to do: grant …", "Config validation failed: …. Fix these settings".
REMEDY_VERBS = (
    "check",
    "fix",
    "re-deliver",
    "re-export",
    "re-run",
    "retry",
    "remove",
    "set",
    "point",
    "grant",
    "upgrade",
    "wait",
    "raise",
    "lower",
    "restore",
    "add",
    "export",
    "report",
    "use",
    "give",
    "delete",
)
_REMEDY = re.compile(
    r"(?:[;:—.]|\bor|\band|\bthen)\s+(?:" + "|".join(REMEDY_VERBS) + r")\b", re.IGNORECASE
)
# The console format is "<time> | <LEVEL> | <logger> | <message>".
_LOG_LINE = re.compile(r"^\S+ \S+ \| (?P<level>[A-Z]+)\s*\| [^|]*\| (?P<message>.*)$")

# What `tests.conftest.run_tap` keeps out of a tap's environment, and what it sets instead.
_HERMETIC = ("AWS_", "OTEL_", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_")


def hermetic_env(extra: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """CliRunner's env: None unsets a variable for the duration of one invocation."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith(_HERMETIC)}
    env.update({"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
    env.update(extra or {})
    return env


@functools.cache
def _command(tap_class: type) -> click.Command:
    """The tap's click command, built once; the root handler it installs is taken off again.

    Each access to `TapClass.cli` adds a stderr handler to the root logger; the runs below
    capture the log with a handler of their own, per run, in the same console format.
    """
    root = logging.getLogger()
    before = list(root.handlers)
    command = tap_class.cli
    for handler in root.handlers:
        if handler not in before:
            root.removeHandler(handler)
    return command


@contextmanager
def _captured_log() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(ConsoleFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)


class InProcessTap:
    """One tap's CLI, invoked in this process with files under `workdir`."""

    def __init__(self, tap_class: type, workdir: Path, env: Mapping[str, str] | None = None):
        self.tap_class = tap_class
        self.command = _command(tap_class)
        self.workdir = workdir
        self.env = hermetic_env(env)

    def _file(self, kind: str, content: Any) -> str:
        path = self.workdir / f"{kind}-{uuid.uuid4().hex[:12]}.json"
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        return str(path)

    def run(
        self,
        config: Mapping[str, Any] | str,
        *,
        state: Mapping[str, Any] | None = None,
        catalog: Mapping[str, Any] | None = None,
        args: tuple[str, ...] = (),
    ) -> TapRun:
        """Like `tests.conftest.run_tap`: a config (dict, or raw file text), state and catalog."""
        files = [self._file("config", config)]
        argv = ["--config", files[0]]
        if state is not None:
            files.append(self._file("state", state))
            argv += ["--state", files[-1]]
        if catalog is not None:
            files.append(self._file("catalog", catalog))
            argv += ["--catalog", files[-1]]
        argv += list(args)
        saved_hook = sys.excepthook
        try:
            with _captured_log() as log:
                result = CliRunner().invoke(self.command, argv, env=self.env, catch_exceptions=True)
                crash = result.exception
                if crash is not None and not isinstance(crash, SystemExit):
                    # What the console script does with an exception that escapes the tap.
                    self.command.excepthook(type(crash), crash, crash.__traceback__)  # type: ignore[attr-defined]
                    exit_code = 1
                else:
                    exit_code = result.exit_code
            stderr = log.getvalue() + result.stderr
        finally:
            sys.excepthook = saved_hook
            for name in files:
                Path(name).unlink(missing_ok=True)
        stdout = result.stdout
        CAPTURED_OUTPUT.extend((stdout, stderr))
        messages = [json.loads(line) for line in stdout.splitlines() if line.startswith('{"type"')]
        return TapRun(exit_code, stdout, stderr, messages)

    def catalog(self, config: Mapping[str, Any], streams: Iterable[str]) -> dict[str, Any]:
        """The tap's own discovery, with only `streams` selected."""
        run = self.run(config, args=("--discover",))
        assert run.returncode == 0, run.stderr[-3000:]
        catalog = json.loads(run.stdout)
        wanted = set(streams)
        for entry in catalog["streams"]:
            for item in entry["metadata"]:
                if item["breadcrumb"] == []:
                    item["metadata"]["selected"] = entry["tap_stream_id"] in wanted
        return catalog


def error_messages(run: TapRun) -> list[str]:
    """The message part of every ERROR / CRITICAL log line."""
    found = []
    for line in run.stderr.splitlines():
        match = _LOG_LINE.match(line)
        if match and match["level"] in ("ERROR", "CRITICAL"):
            found.append(match["message"])
    return found


def unclear(run: TapRun, subjects: Iterable[str]) -> str | None:
    """None when the run failed with one actionable line; otherwise what is wrong with it."""
    if run.returncode == 0:
        return "the run succeeded: the bad input went through unnoticed"
    if "Traceback" in run.stderr:
        return "a traceback was printed"
    if run.returncode != 1:
        return f"exit code {run.returncode}"
    leaked = [name for name, secret in TEST_SECRETS.items() if secret in run.stdout + run.stderr]
    if leaked:
        return f"the {leaked[0]} test secret was printed"
    messages = error_messages(run)
    if len(messages) != 1:
        return f"{len(messages)} error lines instead of one: {messages[:3]!r}"
    line = messages[0]
    if len(line) > MAX_LINE:
        return f"the error line is {len(line)} characters long: {line[:200]!r}…"
    names = [s for s in subjects if s]
    if not any(name in line for name in names):
        return f"the error names none of {names}: {line!r}"
    if not _REMEDY.search(line):
        return f"the error does not say what to do: {line!r}"
    return None


def bookmark_violations(run: TapRun, initial: Mapping[str, Any] | None = None) -> list[str]:
    """STATE bookmarks (replication keys) beyond the newest record emitted before them.

    Per stream and, for partitioned streams, per partition context: a bookmark may stay at its
    initial value or move to a value some record already carried, never further.
    """
    start = _bookmarks(initial or {})
    keys = {
        m["stream"]: (m.get("bookmark_properties") or [None])[0]
        for m in run.messages
        if m["type"] == "SCHEMA"
    }
    emitted: dict[str, list[Mapping[str, Any]]] = {}
    problems = []
    for message in run.messages:
        if message["type"] == "RECORD":
            emitted.setdefault(message["stream"], []).append(message["record"])
        elif message["type"] == "STATE":
            for (stream, part), value in _bookmarks(message["value"]).items():
                if value == start.get((stream, part)) or not keys.get(stream):
                    continue
                context = json.loads(part) if part else {}
                values = [
                    str(r[keys[stream]])
                    for r in emitted.get(stream, [])
                    if r.get(keys[stream]) is not None
                    and all(r.get(k) == v for k, v in context.items())
                ]
                newest = max(values, default=None)
                if newest is None or str(value) > newest:
                    where = f"{stream} {part}".strip()
                    problems.append(
                        f"{where}: bookmark {value} but the newest record emitted before it "
                        f"is {newest}"
                    )
    return problems


def _bookmarks(state: Mapping[str, Any]) -> dict[tuple[str, str], Any]:
    found: dict[tuple[str, str], Any] = {}
    for stream, entry in (state.get("bookmarks") or {}).items():
        if "replication_key_value" in entry:
            found[(stream, "")] = entry["replication_key_value"]
        for partition in entry.get("partitions") or []:
            if "replication_key_value" in partition:
                context = json.dumps(partition.get("context") or {}, sort_keys=True)
                found[(stream, context)] = partition["replication_key_value"]
    return found


@dataclass
class Tally:
    """What one property test tried, and every example it has to complain about."""

    tap: str
    planned: int
    tried: int = 0
    unclear: list[str] = field(default_factory=list)
    state: list[str] = field(default_factory=list)

    def check_failure(
        self,
        kind: str,
        run: TapRun,
        subjects: Iterable[str],
        *,
        initial_state: Mapping[str, Any] | None = None,
        extra_state_check: Callable[[TapRun], list[str]] | None = None,
    ) -> None:
        """Count one malformed example and keep what, if anything, was wrong with its run."""
        self.tried += 1
        problem = unclear(run, subjects)
        if problem:
            self.unclear.append(f"[{kind}] {problem}")
        violations = bookmark_violations(run, initial_state)
        if extra_state_check is not None:
            violations += extra_state_check(run)
        self.state += [f"[{kind}] {v}" for v in violations]

    def finish(self) -> None:
        """Record the figures, then fail on any unclear error or premature bookmark."""
        record(self.tap, bad_inputs=self.tried, unclear_errors=len(self.unclear))
        assert not self.unclear, (
            f"{len(self.unclear)} of {self.tried} bad inputs did not end in one clear line:\n"
            + "\n".join(self.unclear[:30])
        )
        assert not self.state, "state moved past unread data:\n" + "\n".join(self.state[:15])
        Ran(self.planned, self.tried).check()


@dataclass
class Ran:
    """How many examples a property ran, held to the plan in CI mode as in the full run.

    Hypothesis counts only valid examples towards `max_examples` and may stop short (a strategy
    exhausted, most draws rejected); such a property would pass while testing a handful of cases.
    """

    planned: int
    count: int = 0

    def check(self) -> None:
        assert self.count >= self.planned, f"only {self.count} of {self.planned} examples ran"


# Hypothesis keeps caches (constants, Unicode tables) beside the example database; none of it
# belongs in the repository.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "carbon-taps-hypothesis")


def examples(ci: int, full: int) -> dict[str, Any]:
    """Hypothesis settings for a bad-input property: deterministic, no example database."""
    from hypothesis import HealthCheck, Phase

    return {
        "max_examples": trials(ci, full),
        "derandomize": True,
        "database": None,
        "deadline": None,
        "phases": (Phase.explicit, Phase.generate),
        "suppress_health_check": list(HealthCheck),
        "print_blob": False,
    }


# --- the judge itself ---------------------------------------------------------------------------

_PREFIX = "2026-01-01 00:00:00,000 | ERROR    | tap-aws-carbon | "


def _run(code: int, stderr: str, stdout: str = "") -> TapRun:
    return TapRun(code, stdout, stderr, [])


@pytest.mark.parametrize(
    ("run", "why"),
    [
        (_run(0, ""), "succeeded"),
        (_run(1, _PREFIX + "boom\nTraceback (most recent call last):\n  x\n"), "traceback"),
        (_run(2, _PREFIX + "carbon_emissions: check it"), "exit code 2"),
        (_run(1, "plain text, no log line"), "0 error lines"),
        (_run(1, _PREFIX + "carbon_emissions: check\n" + _PREFIX + "again, check"), "2 error"),
        (_run(1, _PREFIX + "carbon_emissions: check " + "x" * MAX_LINE), "characters long"),
        (_run(1, _PREFIX + "something went wrong; check the logs"), "names none"),
        (_run(1, _PREFIX + "carbon_emissions: KeyError 'Results'"), "does not say what to do"),
        (_run(1, _PREFIX + "carbon_emissions: not a clean CSV export"), "does not say what to do"),
        (
            _run(1, _PREFIX + f"carbon_emissions: check {TEST_SECRETS['azure_client_secret']}"),
            "secret",
        ),
    ],
)
def test_the_judge_refuses_what_a_user_could_not_act_on(run: TapRun, why: str) -> None:
    verdict = unclear(run, ["carbon_emissions"])
    assert verdict is not None and why in verdict, verdict


def test_the_judge_accepts_one_named_line_with_a_remedy() -> None:
    line = "carbon_emissions month 2024-01: a result lacks 'ModelVersion' — check the endpoint"
    assert unclear(_run(1, _PREFIX + line), ["carbon_emissions"]) is None


def test_a_bookmark_past_the_newest_emitted_record_is_reported() -> None:
    schema = {"type": "SCHEMA", "stream": "s", "bookmark_properties": ["month"], "schema": {}}
    records = [{"type": "RECORD", "stream": "s", "record": {"month": "2024-01-01"}}]
    ahead = {
        "type": "STATE",
        "value": {"bookmarks": {"s": {"replication_key_value": "2024-02-01"}}},
    }
    level = {
        "type": "STATE",
        "value": {"bookmarks": {"s": {"replication_key_value": "2024-01-01"}}},
    }
    assert bookmark_violations(TapRun(1, "", "", [schema, *records, ahead]))
    assert not bookmark_violations(TapRun(1, "", "", [schema, *records, level]))
    assert bookmark_violations(TapRun(1, "", "", [schema, ahead]))  # nothing emitted at all
    kept = {"bookmarks": {"s": {"replication_key_value": "2024-02-01"}}}
    assert not bookmark_violations(TapRun(1, "", "", [schema, ahead]), kept)


def test_a_property_that_ran_fewer_examples_than_planned_fails() -> None:
    Ran(20, 20).check()
    with pytest.raises(AssertionError, match="only 19 of 20 examples ran"):
        Ran(20, 19).check()
