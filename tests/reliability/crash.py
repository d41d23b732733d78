"""Crash-and-resume harness: a real `meltano run` whose tap is SIGKILLed, and the comparisons.

A run is started with its output in files (nothing can block on a full pipe), the tap is found
as a child of the Meltano process in /proc by its executable name and, at a KillPoint of its
extraction, SIGKILLed — the tap alone: Meltano and the target see it die and carry on as they
would in production. What the warehouse then holds is compared with a clean run's tables by
primary key, and Meltano's saved state with the clean run's.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import CAPTURED_OUTPUT, ROOT
from tests.e2e.conftest import _SCRUBBED_PREFIXES, MELTANO, Database, private_sys_dir

POLL_SECONDS = 0.005  # while the tap runs: one small /proc read and a counter per poll
SEARCH_SECONDS = 0.05  # while Meltano starts: each search reads every process's /proc entry
RUN_TIMEOUT = 600.0
MAX_KILLS_PER_TRIAL = 3  # a trial ends with a run that is left alone, whatever the RNG says
RE_KILL_CHANCE = 1 / 3  # chance that a resumed run is killed too (several crashes in a row)


# --- processes ----------------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name: [state, ppid, ...]; None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rsplit(")", 1)[1].split()


def is_running(pid: int) -> bool:
    """Alive and not a zombie (a zombie has finished; only its exit status is left)."""
    fields = _stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def child_by_executable(parent: int, executable: str) -> int | None:
    """The running child of `parent` whose program (argv[0], or the script argv[1] that a
    shebang interpreter runs) is named `executable`, catalog discovery (`--discover`) aside."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        fields = _stat_fields(pid)
        if fields is None or int(fields[1]) != parent or fields[0] in ("Z", "X"):
            continue
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (FileNotFoundError, ProcessLookupError):
            continue
        if b"--discover" in argv:
            continue
        if any(Path(arg.decode()).name == executable for arg in argv[:2]):
            return pid
    return None


@dataclass(frozen=True)
class KillPoint:
    """Where to kill: `delay` seconds after the fake has answered the tap's `request`-th
    request. Counting requests, not wall time, keeps the point inside extraction whatever the
    machine's load; the delay reaches the stretches without requests (files being read)."""

    request: int
    delay: float


@dataclass
class Attempt:
    """One `meltano run`, maybe with its tap killed."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    armed: bool  # a kill was planned for this run
    killed: bool  # SIGKILL reached the tap while it was still running
    extraction_seconds: float | None  # tap's first request to the fake -> tap exit (if seen)
    request_times: list[float]  # per request the tap made: seconds after its first one

    @property
    def landed_after_finish(self) -> bool:
        """Armed, but the tap had already finished when the kill was due."""
        return self.armed and not self.killed

    def random_point(self, rng: random.Random) -> KillPoint:
        """A moment drawn uniformly over this run's extraction, as a KillPoint."""
        assert self.extraction_seconds and self.request_times, "extraction was not observed"
        moment = rng.uniform(0, self.extraction_seconds)
        request = sum(1 for t in self.request_times if t <= moment)
        return KillPoint(request, moment - self.request_times[request - 1])


def meltano_env(env: dict[str, str]) -> dict[str, str]:
    """The developer's environment without any setting a test must set itself (as e2e does)."""
    run_env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES)}
    run_env.update({"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
    run_env["TAP_AWS_CARBON_CUR_URI"] = ""  # the dev environment's sample CUR stays off
    run_env.update(env)
    return run_env


def run_meltano_killing_tap(
    args: tuple[str, ...],
    env: dict[str, str],
    *,
    executable: str,
    served: Callable[[], int],
    kill: KillPoint | None,
    logs: Path,
) -> Attempt:
    """`meltano --environment=dev <args>`, SIGKILLing the tap at `kill` (`served()` counts the
    requests the fake has answered), or leaving it alone and timing its requests."""
    logs.mkdir(parents=True, exist_ok=True)
    stamp = f"{time.monotonic_ns()}"
    out_path, err_path = logs / f"{stamp}.out", logs / f"{stamp}.err"
    began = time.monotonic()
    tap: int | None = None
    baseline = 0  # requests served before the tap started (an earlier run's)
    first_request: float | None = None
    request_times: list[float] = []
    reached: float | None = None  # when the kill point's request was answered
    tap_exit: float | None = None
    killed = False
    with out_path.open("w") as out, err_path.open("w") as err:
        meltano = subprocess.Popen(
            [str(MELTANO), "--environment=dev", *args],
            cwd=ROOT,
            env=meltano_env(env),
            stdout=out,
            stderr=err,
            start_new_session=True,  # its own process group: a timeout ends tap and target too
        )
        try:
            while meltano.poll() is None:
                now = time.monotonic()
                if now - began > RUN_TIMEOUT:
                    raise TimeoutError(f"meltano {' '.join(args)} ran over {RUN_TIMEOUT:.0f} s")
                if tap is None:
                    tap = child_by_executable(meltano.pid, executable)
                    baseline = served()
                elif tap_exit is None:
                    count = served() - baseline
                    if count and first_request is None:
                        first_request = now
                    if first_request is not None:
                        request_times += [now - first_request] * (count - len(request_times))
                    if kill is not None and reached is None and count >= kill.request:
                        reached = now
                    due = kill is not None and reached is not None and now - reached >= kill.delay
                    if due and not killed and is_running(tap):
                        os.kill(tap, signal.SIGKILL)
                        killed = True
                    if not is_running(tap):
                        tap_exit = now
                watching = tap is not None and tap_exit is None
                time.sleep(POLL_SECONDS if watching else SEARCH_SECONDS)
        finally:
            if meltano.poll() is None:
                os.killpg(meltano.pid, signal.SIGKILL)
                meltano.wait()
    stdout, stderr = out_path.read_text(), err_path.read_text()
    CAPTURED_OUTPUT.extend((stdout, stderr))
    return Attempt(
        returncode=meltano.returncode,
        stdout=stdout,
        stderr=stderr,
        seconds=time.monotonic() - began,
        armed=kill is not None,
        killed=killed,
        extraction_seconds=tap_exit - first_request if tap_exit and first_request else None,
        request_times=request_times,
    )


# --- warehouse and state ------------------------------------------------------------------------


@dataclass
class TableDiff:
    """A trial's table against the clean run's, by primary key."""

    table: str
    missing: int  # keys of the clean run absent here
    duplicated: int  # rows beyond the first per key
    unexpected: int  # keys the clean run does not have
    differing: int  # keys present in both whose loaded values differ


def loaded_rows(
    db: Database, schema: str, table: str, key: tuple[str, ...]
) -> list[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """(key, values) per row; values are every column but the target's `_sdc_*` metadata,
    which records load times and so differs between any two runs."""
    columns = [
        name
        for (name,) in db.rows(
            "select column_name from information_schema.columns "
            "where table_schema = %s and table_name = %s order by column_name",
            (schema, table),
        )
        if not name.startswith("_sdc_")
    ]
    assert columns, f"{schema}.{table} does not exist"
    values = [c for c in columns if c not in key]
    select = ", ".join(f'"{c}"' for c in (*key, *values))
    rows = db.rows(f'select {select} from "{schema}"."{table}"')
    return [(row[: len(key)], row[len(key) :]) for row in rows]


def compare_table(
    db: Database, clean_schema: str, schema: str, table: str, key: tuple[str, ...]
) -> TableDiff:
    expected = dict(loaded_rows(db, clean_schema, table, key))
    got = loaded_rows(db, schema, table, key)
    counts = Counter(k for k, _ in got)
    latest = dict(got)
    return TableDiff(
        table=table,
        missing=sum(1 for k in expected if k not in counts),
        duplicated=sum(n - 1 for n in counts.values()),
        unexpected=sum(1 for k in counts if k not in expected),
        differing=sum(1 for k, v in latest.items() if k in expected and expected[k] != v),
    )


def row_count(db: Database, schema: str, table: str) -> int:
    exists = db.one("select to_regclass(%s) is not null", (f'"{schema}"."{table}"',))
    return db.one(f'select count(*) from "{schema}"."{table}"') if exists else 0


def saved_state(state_root: Path) -> dict[str, Any]:
    """The one state Meltano's file backend holds: {"completed": ..., "partial": ...}."""
    files = sorted(state_root.rglob("state.json"))
    assert len(files) == 1, f"expected one saved state under {state_root}, found {files}"
    return json.loads(files[0].read_text())


def bookmarks(state: dict[str, Any], part: str = "completed") -> dict[str, Any]:
    return ((state.get(part) or {}).get("singer_state") or {}).get("bookmarks") or {}


def _holds_bookmark(value: Any) -> bool:
    """A replication key value or a file list anywhere in a stream's (or partition's) state."""
    if isinstance(value, dict):
        if value.get("replication_key_value") or value.get("files"):
            return True
        return any(_holds_bookmark(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_bookmark(v) for v in value)
    return False


def has_saved_bookmarks(state_root: Path) -> bool:
    """Whether a (failed) run left any bookmark for the next run to resume from."""
    if not any(state_root.rglob("state.json")):
        return False
    state = saved_state(state_root)
    return _holds_bookmark(bookmarks(state)) or _holds_bookmark(bookmarks(state, "partial"))


# --- trials -------------------------------------------------------------------------------------


@dataclass
class TapUnderTest:
    """What the trials need to know about one tap's pipeline."""

    figure: str  # "aws" / "azure" / "gcp" in the figures table
    executable: str
    tables: dict[str, tuple[str, ...]]  # table -> primary key columns
    env: Callable[[str, Path], dict[str, str]]  # (target schema, state dir) -> settings
    served: Callable[[], int]  # requests the fake has answered so far
    expected_rows: dict[str, int]  # rows a correct clean run loads, from the fake's data

    @property
    def args(self) -> tuple[str, ...]:
        return ("run", self.executable, "target-postgres")


@dataclass
class Report:
    """What the trials of one tap did, counted as it happened."""

    tap: str
    figure: str
    trials: int = 0
    trials_killed: int = 0  # trials with at least one kill that reached a running tap
    runs: int = 0
    kills_mid_run: int = 0  # SIGKILL reached a running tap
    kills_after_finish: int = 0  # the kill was due after the tap had already exited
    killed_runs_short: int = 0  # killed runs that left fewer rows than the clean run
    killed_runs_with_bookmark: int = 0  # killed runs after which a bookmark had been saved
    rows_lost: int = 0
    rows_duplicated: int = 0
    rows_unexpected: int = 0
    rows_differing: int = 0
    state_mismatches: list[str] = field(default_factory=list)
    clean_rows: int = 0
    clean_extraction: float = 0.0
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"{self.tap}: {self.trials} trials ({self.trials_killed} killed mid-run), "
            f"{self.runs} runs; kills {self.kills_mid_run} mid-run / {self.kills_after_finish} "
            f"after the tap finished; killed runs: {self.killed_runs_short} left rows missing, "
            f"{self.killed_runs_with_bookmark} had saved a bookmark to resume from; clean run "
            f"{self.clean_rows} rows, extraction {self.clean_extraction:.1f} s; after resuming: "
            f"{self.rows_lost} lost, {self.rows_duplicated} duplicated, {self.rows_unexpected} "
            f"unexpected, {self.rows_differing} differing, {len(self.state_mismatches)} state "
            f"mismatches; {self.seconds:.0f} s"
        )


def _failure(attempt: Attempt, what: str) -> str:
    return f"{what} (rc {attempt.returncode}):\n{attempt.stderr[-4000:]}"


@contextmanager
def _schema(db: Database, name: str) -> Iterator[str]:
    db.drop_schema(name)
    try:
        yield name
    finally:
        db.drop_schema(name)


class CrashTrials:
    """A clean reference run, then trials: a fresh schema and state, runs killed at random
    points until one completes, and the result compared with the clean run's."""

    def __init__(self, tap: TapUnderTest, db: Database, workdir: Path, *, seed: int) -> None:
        self.tap, self.db, self.workdir = tap, db, workdir
        self.rng = random.Random(seed)
        self.report = Report(tap.executable, tap.figure)
        self.sys_dir = private_sys_dir(workdir)
        self.prefix = f"crash_{tap.figure}_{os.getpid()}_{self.rng.getrandbits(32):08x}"

    def run(self, trials: int) -> Report:
        began = time.monotonic()
        with _schema(self.db, f"{self.prefix}_clean") as clean_schema:
            clean, clean_bookmarks, catalog_env = self._clean_run(clean_schema)
            for trial in range(trials):
                with _schema(self.db, f"{self.prefix}_t{trial}") as schema:
                    self._trial(trial, schema, clean, catalog_env)
                    self._compare(trial, schema, clean_schema, clean_bookmarks)
        self.report.seconds = time.monotonic() - began
        return self.report

    def _launch(self, env: dict[str, str], kill: KillPoint | None) -> Attempt:
        self.report.runs += 1
        return run_meltano_killing_tap(
            self.tap.args,
            {**env, "MELTANO_SYS_DIR_ROOT": str(self.sys_dir)},
            executable=self.tap.executable,
            served=self.tap.served,
            kill=kill,
            logs=self.workdir / "logs",
        )

    def _clean_run(self, schema: str) -> tuple[Attempt, dict[str, Any], dict[str, str]]:
        state_root = self.workdir / "state-clean"
        state_root.mkdir()
        clean = self._launch(self.tap.env(schema, state_root), None)
        assert clean.returncode == 0, _failure(clean, "the clean reference run failed")
        assert clean.extraction_seconds, "the clean run's tap was never seen extracting"
        loaded = {t: row_count(self.db, schema, t) for t in self.tap.tables}
        expected = {t: loaded[t] for t in self.tap.expected_rows}
        assert expected == self.tap.expected_rows, "the clean run did not load the fake's data"
        assert all(loaded.values()), f"the clean run left a table empty: {loaded}"
        self.report.clean_rows = sum(loaded.values())
        self.report.clean_extraction = clean.extraction_seconds
        # Trial runs hand Meltano the catalog it discovered here (the `catalog` extra): each
        # run then starts the tap once instead of twice, and syncs the same streams.
        catalog = self.workdir / "catalog.json"
        discovered = self.sys_dir / "run" / self.tap.executable / "tap.properties.json"
        catalog.write_bytes(discovered.read_bytes())
        extra = f"{self.tap.executable.upper().replace('-', '_')}__CATALOG"
        return clean, bookmarks(saved_state(state_root)), {extra: str(catalog)}

    def _trial(self, trial: int, schema: str, clean: Attempt, catalog_env: dict[str, str]):
        """Kill, resume (and maybe kill again) until a run is left to complete."""
        state_root = self.workdir / f"state-{trial}"
        state_root.mkdir()
        env = {**self.tap.env(schema, state_root), **catalog_env}
        kills = 0
        while True:
            armed = kills == 0 or (
                kills < MAX_KILLS_PER_TRIAL and self.rng.random() < RE_KILL_CHANCE
            )
            attempt = self._launch(env, clean.random_point(self.rng) if armed else None)
            if not attempt.killed:
                self.report.kills_after_finish += attempt.landed_after_finish
                assert attempt.returncode == 0, _failure(attempt, "an unkilled run failed")
                break
            kills += 1
            self.report.kills_mid_run += 1
            assert attempt.returncode != 0, _failure(
                attempt, "Meltano reported success for a run whose tap was killed"
            )
            clean_rows = self.report.clean_rows
            loaded = sum(row_count(self.db, schema, t) for t in self.tap.tables)
            self.report.killed_runs_short += loaded < clean_rows
            self.report.killed_runs_with_bookmark += has_saved_bookmarks(state_root)
        self.report.trials += 1
        self.report.trials_killed += kills > 0

    def _compare(
        self, trial: int, schema: str, clean_schema: str, clean_bookmarks: dict[str, Any]
    ) -> None:
        for table, key in self.tap.tables.items():
            diff = compare_table(self.db, clean_schema, schema, table, key)
            self.report.rows_lost += diff.missing
            self.report.rows_duplicated += diff.duplicated
            self.report.rows_unexpected += diff.unexpected
            self.report.rows_differing += diff.differing
        final = bookmarks(saved_state(self.workdir / f"state-{trial}"))
        if final != clean_bookmarks:
            self.report.state_mismatches.append(
                f"trial {trial}: {json.dumps(final, sort_keys=True)[:2000]}"
            )
