"""tap-gcp-carbon against malformed and merely unusual BigQuery answers and extract files.

BigQuery mode: a subclass of the BigQuery fake (which still checks the service-account token,
the parameters and the byte cap, and really runs the SQL) passes one answer per run through the
example's corruption: table metadata, the job resource, or a page of query results (cells of the
wrong type, rows cut short, a wrong total, page tokens that loop or lead nowhere), read by the
real google-cloud-bigquery client. File mode: `bq extract` files (NDJSON, CSV, Parquet, some
gzipped) damaged on disk. Malformed input must end in one clear line with no bookmark past
unread data; unusual input must load with its values kept. Judge and in-process runner:
`test_bad_input_harness`.
"""

from __future__ import annotations

import copy
import csv
import gzip
import io
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tap_gcp_carbon.tap import TapGcpCarbon

from tests.badinput import containers, huge_text, json_reply, letters, short
from tests.fakes._http import Reply, Request
from tests.fakes.gcp_bigquery import PREFIX, BigQueryFake, FakeTable, generate_service_account
from tests.fakes.gcp_data import (
    BILLING_PARTITIONING,
    BILLING_SCHEMA,
    CARBON_PARTITIONING,
    CARBON_SCHEMA,
    billing_rows,
    carbon_rows,
    write_ndjson,
)
from tests.gcp.conftest import (
    BILLING,
    BILLING_FIRST_DAY,
    DATASET,
    FIRST_MONTH,
    PROJECT,
    gcp_config,
)
from tests.gcp.test_file_mode import write_csv
from tests.reliability.test_bad_input_harness import InProcessTap, Ran, Tally, examples

STREAMS = ["carbon_footprint", "billing_usage_daily"]
BUDGET = 60  # API requests per run; more means the client is looping on a page token
# Result columns the tap keys rows on: NULL there is malformed, elsewhere it may be real data.
KEY_COLUMNS = {
    "usage_month",
    "billing_account_id",
    "service_id",
    "sku_id",
    "usage_unit",
    "currency",
    "usage_date",
    "last_export_time",
}

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**9), 10**9), st.floats(allow_nan=False)
)
CONTAINERS = containers(SCALARS)
HUGE = huge_text(300_000)
LETTERS = letters(min_size=1, max_size=12)
# A wrong cell ("v") for each BigQuery type, as the TableRow wire format would carry it.
WRONG_CELL = {
    "STRING": st.one_of(st.booleans(), st.integers(), st.floats(allow_nan=False), CONTAINERS),
    "FLOAT": st.one_of(LETTERS, HUGE, st.sampled_from(["NaN", "Infinity", "-Infinity", "1,5"])),
    "INTEGER": st.one_of(LETTERS, st.sampled_from(["1.5", "1e3", "0x10"]), HUGE),
    "DATE": st.one_of(LETTERS, st.sampled_from(["2025-13-01", "2025-02-30", "01/03/2025"]), HUGE),
    "TIMESTAMP": st.one_of(LETTERS, st.sampled_from(["1.5e", "2025-01-01T00:00:00Z"]), HUGE),
}


# --- BigQuery mode -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """One generated corruption, read against whichever BigQuery answer it meets."""

    family: str  # raw | cell | rows | total | paging | resource
    row: int
    column: int
    pick: int
    wrong: dict[str, Any]  # a wrong cell per BigQuery type
    raw: bytes

    @property
    def sticky(self) -> bool:
        """A page-token loop keeps answering every later page request the same way."""
        return self.family == "paging" and self.pick % 2 == 0


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    return Plan(
        family=draw(
            st.sampled_from(["raw", "cell", "cell", "rows", "total", "paging", "resource"])
        ),
        row=draw(st.integers(0, 1000)),
        column=draw(st.integers(0, 1000)),
        pick=draw(st.integers(0, 1000)),
        wrong={kind: draw(strategy) for kind, strategy in WRONG_CELL.items()},
        raw=draw(
            st.sampled_from(
                [
                    *(b"", b"<html>502 Bad Gateway</html>", b"[]", b"null", b'{"kind'),
                    *(b"\xff", b"\xc3\x28", b"\xed\xa0\x80"),  # put inside the answer: not UTF-8
                ]
            )
        ),
    )


class CorruptingBigQuery(BigQueryFake):
    """The fake, with one answer per run passed through the example's plan."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arm(None, 0)

    def arm(self, plan: Plan | None, at: int, change: Change | None = None) -> None:
        self.plan, self.at, self.calls, self.over_budget = plan, at, 0, False
        self.change: Change = change or corrupt
        self.served: list[tuple[str, int]] = []  # (kind, rows) per API answer
        self.done: str | None = None
        self.hit: str | None = None

    def handle(self, request: Request) -> Reply:
        reply = super().handle(request)  # token, parameters, byte cap, SQL: as always
        kind = _kind(request)
        if kind is None or reply.status != 200:
            return reply
        index, self.calls = self.calls, self.calls + 1
        if self.calls > BUDGET:
            self.over_budget = True
            return Reply(400, {"error": {"code": 400, "message": "request budget exhausted"}})
        rows = len(reply.body.get("rows") or []) if isinstance(reply.body, dict) else 0
        self.served.append((kind, rows))
        if self.plan is None:
            return reply
        again = self.plan.sticky and index > self.at and kind == self.hit
        if index != self.at and not again:
            return reply
        self.hit = kind
        result, self.done = self.change(self.plan, kind, reply, request, self)
        return result


Change = Callable[[Plan, str, Reply, Request, BigQueryFake], tuple[Reply, str]]


def _kind(request: Request) -> str | None:
    if not request.path.startswith(PREFIX):
        return None
    parts = request.path[len(PREFIX) :].split("/")
    if len(parts) == 5 and parts[3] == "tables":
        return "table"
    if parts[1:] == ["jobs"]:
        return "job"
    if len(parts) == 3 and parts[1] == "queries":
        return "results"
    return None


def corrupt(
    plan: Plan, kind: str, reply: Reply, request: Request, fake: BigQueryFake
) -> tuple[Reply, str]:
    body = copy.deepcopy(reply.body)
    if plan.family == "raw":
        if plan.raw.startswith(b"<html"):
            return Reply(200, plan.raw, {"Content-Type": "text/html"}), "an HTML page"
        if len(plan.raw) <= 3 and plan.raw[:1] >= b"\x80":
            text = json.dumps(body).encode()
            at = text.index(b'"') + 1
            return Reply(200, text[:at] + plan.raw + text[at:]), "an answer that is not UTF-8"
        # An empty results answer reads as "job not complete yet": the client asks again.
        raw = b"[]" if plan.raw == b"" and kind == "results" else plan.raw
        return Reply(200, raw), f"body {raw[:12]!r}"
    if kind == "results" and body.get("rows") and plan.family in ("cell", "rows", "total"):
        return _results(plan, body, request, fake)
    if kind == "results" and plan.family == "paging":
        return _paging(plan, body, request, fake)
    return _resource(plan, kind, body, request)


def _schema(body: dict[str, Any], request: Request, fake: BigQueryFake) -> list[dict[str, Any]]:
    """The result schema: in the answer, or (later pages) the job's."""
    if body.get("schema"):
        return body["schema"]["fields"]
    return fake.jobs[request.path.rsplit("/", 1)[1]].schema


def _results(
    plan: Plan, body: dict[str, Any], request: Request, fake: BigQueryFake
) -> tuple[Reply, str]:
    rows, schema = body["rows"], _schema(body, request, fake)
    if plan.family == "total":
        total = int(body["totalRows"])
        value = [total + 1 + plan.pick % 5, max(0, total - 1 - plan.pick % 5), "many"][
            plan.pick % 3
        ]
        body["totalRows"] = value
        return json_reply(body), f"totalRows {value!r} for {total} rows"
    if plan.family == "rows":
        options: list[tuple[str, Callable[[], None]]] = [
            ("rows is not a list", lambda: body.__setitem__("rows", {"f": []})),
            ("a row is not an object", lambda: rows.__setitem__(plan.row % len(rows), "row")),
            ("a row has no cells", lambda: rows[plan.row % len(rows)].pop("f")),
            ("a row lacks its last cell", lambda: rows[plan.row % len(rows)]["f"].pop()),
        ]  # (an extra cell is dropped by the client library, the row's columns intact)
        what, change = options[plan.pick % len(options)]
        change()
        return json_reply(body), what
    # One cell of the wrong type, or NULL in a key column.
    row = rows[plan.row % len(rows)]
    field = schema[plan.column % len(schema)]
    if field["name"] in KEY_COLUMNS and plan.pick % 3 == 0:
        row["f"][schema.index(field)]["v"] = None
        return json_reply(body), f"NULL {field['name']}"
    value = plan.wrong[field["type"] if field["type"] in WRONG_CELL else "STRING"]
    row["f"][schema.index(field)]["v"] = value
    return json_reply(body), f"{field['name']} ({field['type']}) = {short(value)}"


def _paging(
    plan: Plan, body: dict[str, Any], request: Request, fake: BigQueryFake
) -> tuple[Reply, str]:
    """Rows missing behind a page token that loops or leads past the end."""
    query = dict(p.split("=", 1) for p in request.query.split("&") if "=" in p)
    here = query.get("pageToken", "0")
    body["rows"] = []
    if plan.sticky:
        body["pageToken"] = here
        return json_reply(body), "empty pages whose token points at themselves"
    body["pageToken"] = "999999"  # the fake serves nothing there: the rest is never read
    return json_reply(body), "an empty page whose token leads past the end"


def _resource(plan: Plan, kind: str, body: dict[str, Any], request: Request) -> tuple[Reply, str]:
    """Table metadata, the job resource or a results answer with a broken part."""
    options: list[tuple[str, Callable[[], None]]]
    if kind == "table":
        options = [
            ("schema is not an object", lambda: body.__setitem__("schema", "fields")),
            ("schema fields is not a list", lambda: body["schema"].__setitem__("fields", 7)),
            ("a schema field has no name", lambda: body["schema"]["fields"][0].pop("name")),
            ("a schema field is not an object", lambda: body["schema"]["fields"].__setitem__(0, 3)),
        ]
    elif kind == "job":
        stats = body["statistics"]["query"]
        options = [
            ("the job has no jobReference", lambda: body.pop("jobReference")),
            ("the job's status is not an object", lambda: body.__setitem__("status", "DONE")),
            (
                "bytes processed is not a number",
                lambda: stats.__setitem__("totalBytesProcessed", "lots"),
            ),
            ("bytes billed is not a number", lambda: stats.__setitem__("totalBytesBilled", [1])),
        ]
    else:
        options = [("totalRows is not a number", lambda: body.__setitem__("totalRows", "some"))]
        if "pageToken=" not in request.query:  # later pages' schema is not read again
            options += [
                ("the schema is not an object", lambda: body.__setitem__("schema", ["x"])),
                ("a result field has no type", lambda: body["schema"]["fields"][0].pop("type")),
            ]
    what, change = options[plan.pick % len(options)]
    change()
    return json_reply(body), what


@dataclass
class GcpSetup:
    fake: CorruptingBigQuery
    key: dict[str, Any]
    tap: InProcessTap
    catalogs: dict[str, Any]
    served: dict[str, list[tuple[str, int]]]
    records: dict[str, int]


@pytest.fixture(scope="module")
def bigquery(workdir) -> Iterator[GcpSetup]:
    """The usual carbon and billing tables, results in pages of 40 rows, one fake per module."""
    tables = {
        f"{DATASET}.carbon_footprint": FakeTable(
            CARBON_SCHEMA, carbon_rows(FIRST_MONTH, MONTHS), CARBON_PARTITIONING
        ),
        BILLING: FakeTable(
            BILLING_SCHEMA, billing_rows(BILLING_FIRST_DAY, BILLING_DAYS), BILLING_PARTITIONING
        ),
    }
    fake = CorruptingBigQuery(tables, project=PROJECT, page_rows=40).start()
    key, public = generate_service_account(f"{fake.url}/token", PROJECT)
    fake.service_accounts[key["client_email"]] = public
    try:
        tap = InProcessTap(TapGcpCarbon, workdir)
        config = bq_config(fake, key)
        catalogs = {s: tap.catalog(config, [s]) for s in STREAMS}
        served, records = {}, {}
        for stream in STREAMS:
            fake.arm(None, 0)
            clean = tap.run(config, catalog=catalogs[stream])
            assert clean.returncode == 0, clean.stderr[-3000:]
            served[stream], records[stream] = list(fake.served), len(clean.records(stream))
            assert records[stream], stream
        yield GcpSetup(fake, key, tap, catalogs, served, records)
    finally:
        fake.stop()


MONTHS, BILLING_DAYS = 30, 3  # carbon 2022-10 .. 2025-03; three days of billing rows


def bq_config(fake: BigQueryFake, key: dict[str, Any]) -> dict[str, Any]:
    """Carbon from 2025-01 (three months, four pages of rows); billing from start_month too."""
    return gcp_config(fake, key, start_month="2025-01-01", max_attempts=1)


@st.composite
def bigquery_cases(draw: st.DrawFn, setup: GcpSetup) -> tuple[str, int, Plan]:
    stream = draw(st.sampled_from(STREAMS))
    at = draw(st.integers(0, len(setup.served[stream]) - 1))
    return stream, at, draw(plans())


def test_malformed_bigquery_answers_fail_in_one_line(bigquery):
    setup = bigquery
    cases = examples(70, 300)
    tally = Tally("gcp", planned=cases["max_examples"])

    @settings(**cases)
    @given(bigquery_cases(setup))
    def case(example: tuple[str, int, Plan]) -> None:
        stream, at, plan = example
        kind = setup.served[stream][at][0]
        setup.fake.arm(plan, at)
        run = setup.tap.run(bq_config(setup.fake, setup.key), catalog=setup.catalogs[stream])
        what = f"{stream}, {kind} answer {at + 1}: {setup.fake.done}"
        if setup.fake.over_budget:
            tally.tried += 1
            tally.unclear.append(f"[{what}] the tap kept requesting pages")
            return
        tally.check_failure(what, run, [stream])

    case()
    tally.finish()


# --- file mode -----------------------------------------------------------------------------------

FORMATS = ["ndjson", "ndjson.gz", "csv", "csv.gz", "parquet"]


@dataclass
class Extract:
    root: Path
    fmt: str
    files: list[str]
    rows: int


@pytest.fixture(scope="module")
def extracts(workdir) -> dict[str, Extract]:
    """The carbon table as two `bq extract` shards, in each format."""
    rows = carbon_rows(date(2024, 10, 1), 3, seed=9)
    halves = (rows[: len(rows) // 2], rows[len(rows) // 2 :])
    made = {}
    for fmt in FORMATS:
        root = workdir / f"extract-{fmt.replace('.', '-')}"
        root.mkdir()
        names = []
        for number, part in enumerate(halves):
            name = f"carbon_footprint-{number:012d}.{_suffix(fmt)}"
            _write_extract(root / name, fmt, part)
            names.append(name)
        made[fmt] = Extract(root, fmt, names, len(rows))
    return made


def _suffix(fmt: str) -> str:
    return {"ndjson": "json", "ndjson.gz": "json.gz"}.get(fmt, fmt)


def _write_extract(path: Path, fmt: str, rows: list[dict[str, Any]]) -> None:
    if fmt.startswith("ndjson"):
        write_ndjson(path, CARBON_SCHEMA, rows)
        if fmt.endswith(".gz"):
            path.write_bytes(gzip.compress(path.read_bytes()))
    elif fmt.startswith("csv"):
        write_csv(path, rows)  # gzip-compressed, as the test of file mode writes it
        if fmt == "csv":
            path.write_bytes(gzip.decompress(path.read_bytes()))
    else:
        pq.write_table(pa.Table.from_pylist(rows), path)


def _text(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def _put_text(path: Path, data: bytes) -> None:
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)


@dataclass(frozen=True)
class FileDamage:
    what: str
    apply: Callable[[Path], None]


# Columns of a row, by the path `bq extract` writes: (path, kind, key part).
CARBON_PATHS = [
    ("usage_month", "date", True),
    ("billing_account_id", "text", True),
    ("project.id", "text", False),
    ("project.number", "text", False),
    ("service.id", "text", True),
    ("service.description", "text", False),
    ("location.location", "text", False),
    ("carbon_model_version", "integer", False),
    ("carbon_footprint_kgCO2e.scope1", "number", False),
    ("carbon_footprint_kgCO2e.scope2.location_based", "number", False),
    ("carbon_footprint_kgCO2e.scope3", "number", False),
    ("carbon_footprint_total_kgCO2e.location_based", "number", False),
]
WRONG_FILE_VALUE = {
    "text": st.one_of(st.booleans(), st.integers(), st.floats(allow_nan=False), CONTAINERS),
    "number": st.one_of(LETTERS, HUGE, st.booleans(), CONTAINERS, st.sampled_from(["NaN", "inf"])),
    "integer": st.one_of(LETTERS, st.sampled_from(["1.5", "ten"]), CONTAINERS, HUGE),
    "date": st.one_of(LETTERS, st.sampled_from(["2024-13-01", "2024-02-30"]), HUGE, CONTAINERS),
}
# What a CSV cell can be: text only (anything else is the same text).
WRONG_CSV_VALUE = {
    "text": st.nothing(),
    "number": st.one_of(LETTERS, HUGE, st.sampled_from(["NaN", "inf", "1,5"])),
    "integer": st.one_of(LETTERS, st.sampled_from(["1.5", "ten"]), HUGE),
    "date": st.one_of(LETTERS, st.sampled_from(["2024-13-01", "2024-02-30"]), HUGE),
}


@st.composite
def file_damages(draw: st.DrawFn, extract: Extract) -> tuple[str, FileDamage]:
    name = extract.files[draw(st.integers(0, len(extract.files) - 1))]
    fmt, line = extract.fmt, draw(st.integers(0, 1000))
    kinds = ["value", "missing", "bytes"]
    if fmt.startswith("ndjson"):
        kinds += ["line-not-object", "line-not-json", "record-not-object"]
    if fmt.startswith("csv"):
        kinds += ["extra-cell", "quote", "not-utf8"]
    if fmt.startswith("ndjson"):
        kinds += ["not-utf8"]
    kind = draw(st.sampled_from(kinds))
    if kind == "value":
        # CSV holds only text, so a text column can only be wrong by being empty (NULL).
        paths = [p for p in CARBON_PATHS if not fmt.startswith("csv") or p[1] != "text" or p[2]]
        path, value_kind, key = draw(st.sampled_from(paths))
        null = key and ((value_kind == "text" and fmt.startswith("csv")) or draw(st.booleans()))
        wrong = WRONG_CSV_VALUE if fmt.startswith("csv") else WRONG_FILE_VALUE
        value = None if null else draw(wrong[value_kind])
        return name, FileDamage(f"{path} = {short(value)}", _set_value(fmt, path, value, line))
    if kind == "missing":
        path = draw(st.sampled_from([p for p, _k, _key in CARBON_PATHS]))
        return name, FileDamage(f"no {path}", _drop_value(fmt, path, line))
    if kind == "bytes":
        how = draw(
            st.sampled_from(
                ["truncate", "garbage"] if fmt == "parquet" or fmt.endswith(".gz") else ["garbage"]
            )
        )
        junk = draw(st.binary(min_size=4, max_size=40).filter(lambda b: b"\n" not in b))
        return name, FileDamage(f"bytes: {how}", _bytes(how, junk, fmt))
    if kind == "line-not-object":
        value = draw(st.one_of(st.lists(SCALARS, max_size=2), SCALARS, st.text(max_size=5)))
        return name, FileDamage(
            f"a line holding {short(value)}", _line(json.dumps(value).encode(), line)
        )
    if kind == "line-not-json":
        return name, FileDamage(
            "a line that is not JSON", _line(b'{"usage_month": "2024-10-01",', line)
        )
    if kind == "record-not-object":
        record = draw(st.sampled_from(["project", "service", "carbon_footprint_kgCO2e"]))
        value = draw(st.one_of(st.text(max_size=5), st.integers(), st.lists(SCALARS, max_size=2)))
        return name, FileDamage(f"{record} = {short(value)}", _set_value(fmt, record, value, line))
    if kind == "extra-cell":
        return name, FileDamage(
            "a row with an extra cell",
            _csv_edit(lambda t: t.replace(b"\n", b",extra\n", 2).replace(b",extra\n", b"\n", 1)),
        )
    if kind == "quote":
        return name, FileDamage(
            "an unterminated quote",
            _csv_edit(lambda t: t.replace(b"\n", b'\n"', 2).replace(b'\n"', b"\n", 1)),
        )
    junk = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xe9t\xe9"]))
    return name, FileDamage(
        "not UTF-8", _csv_edit(lambda t: t.replace(b"Compute", b"Comp" + junk + b"ute", 1))
    )


def _set_value(fmt: str, path: str, value: Any, line: int) -> Callable[[Path], None]:
    def change(file: Path) -> None:
        _edit_row(file, fmt, line, lambda row: _assign(row, path, value, fmt))

    return change


def _drop_value(fmt: str, path: str, line: int) -> Callable[[Path], None]:
    def change(file: Path) -> None:
        if fmt.startswith("csv"):
            _edit_csv_columns(file, lambda header: [c for c in header if c != path])
            return
        if fmt == "parquet":
            _drop_parquet(file, path)
            return
        _edit_row(file, fmt, line, lambda row: _remove(row, path))

    return change


def _assign(row: dict[str, Any], path: str, value: Any, fmt: str) -> None:
    if fmt.startswith("csv"):
        row[path] = value
        return
    *parents, leaf = path.split(".")
    target = row
    for part in parents:
        if not isinstance(target.get(part), dict):
            target[part] = {}
        target = target[part]
    target[leaf] = value


def _remove(row: dict[str, Any], path: str) -> None:
    *parents, leaf = path.split(".")
    target = row
    for part in parents:
        target = target.get(part) or {}
    target.pop(leaf, None)
    if not parents:
        row.pop(leaf, None)


def _edit_row(file: Path, fmt: str, line: int, edit: Callable[[dict[str, Any]], None]) -> None:
    """One row edited; in Parquet every row, since a column holds values of one type."""
    if fmt == "parquet":
        rows = pq.read_table(file).to_pylist()
        for row in rows:
            edit(row)
        pq.write_table(pa.Table.from_pylist(rows), file)
        return
    if fmt.startswith("csv"):
        table = list(csv.DictReader(io.StringIO(_text(file).decode())))
        edit(table[line % len(table)])
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(table[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(table)
        _put_text(file, out.getvalue().encode())
        return
    rows = [json.loads(x) for x in _text(file).decode().splitlines()]
    edit(rows[line % len(rows)])
    _put_text(file, ("\n".join(json.dumps(r, allow_nan=True) for r in rows) + "\n").encode())


def _drop_parquet(file: Path, path: str) -> None:
    table = pq.read_table(file)
    top, *rest = path.split(".")
    if not rest:
        pq.write_table(table.drop_columns([top]), file)
        return
    rows = table.to_pylist()
    for row in rows:
        _remove(row, path)
    pq.write_table(pa.Table.from_pylist(rows), file)


def _edit_csv_columns(file: Path, keep: Callable[[list[str]], list[str]]) -> None:
    table = list(csv.DictReader(io.StringIO(_text(file).decode())))
    header = keep(list(table[0]))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(table)
    _put_text(file, out.getvalue().encode())


def _bytes(how: str, junk: bytes, fmt: str) -> Callable[[Path], None]:
    def change(file: Path) -> None:
        data = file.read_bytes()
        if how == "truncate":
            file.write_bytes(data[: len(data) // 2])
        else:
            file.write_bytes(gzip.compress(b"") + junk if fmt.endswith(".gz") else b"PAR1" + junk)

    return change


def _line(content: bytes, line: int) -> Callable[[Path], None]:
    def change(file: Path) -> None:
        lines = _text(file).splitlines()
        lines[line % len(lines)] = content
        _put_text(file, b"\n".join(lines) + b"\n")

    return change


def _csv_edit(edit: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def change(file: Path) -> None:
        _put_text(file, edit(_text(file)))

    return change


@pytest.fixture(scope="module")
def file_tap(workdir, extracts) -> tuple[InProcessTap, dict[str, Any]]:
    tap = InProcessTap(TapGcpCarbon, workdir)
    catalog = tap.catalog(file_config(extracts["ndjson"].root), ["carbon_footprint"])
    for extract in extracts.values():
        clean = tap.run(file_config(extract.root), catalog=catalog)
        assert clean.returncode == 0, clean.stderr[-3000:]
        assert len(clean.records("carbon_footprint")) == extract.rows
    return tap, catalog


def file_config(root: Path) -> dict[str, Any]:
    return {"carbon_footprint_uri": str(root), "start_month": "2024-01-01"}


@st.composite
def file_cases(draw: st.DrawFn, extracts: dict[str, Extract]) -> tuple[Extract, str, FileDamage]:
    extract = extracts[draw(st.sampled_from(FORMATS))]
    name, damage = draw(file_damages(extract))
    return extract, name, damage


def test_malformed_extract_files_fail_in_one_line_naming_the_file(file_tap, extracts):
    tap, catalog = file_tap
    cases = examples(70, 220)
    tally = Tally("gcp", planned=cases["max_examples"])

    @settings(**cases)
    @given(file_cases(extracts))
    def case(example: tuple[Extract, str, FileDamage]) -> None:
        extract, name, damage = example
        folder = Path(tempfile.mkdtemp(prefix="extract-case-"))
        try:
            root = (folder / "extract").resolve()
            shutil.copytree(extract.root, root)
            damage.apply(root / name)
            run = tap.run(file_config(root), catalog=catalog)
            tally.check_failure(f"{extract.fmt}: {damage.what}", run, [str(root / name)])
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    case()
    tally.finish()


# --- merely unusual input ------------------------------------------------------------------------


@st.composite
def unusual_cells(draw: st.DrawFn) -> tuple[str, str, Any, Any]:
    """(what, result column, wire value, the record's value): valid, if unusual, data."""
    kind = draw(st.sampled_from(["location", "service", "zero", "negative", "empty-project"]))
    if kind == "location":
        value = draw(st.sampled_from(["africa-south1", "me-central2-b", "global"]))
        return f"new location {value}", "location", value, value
    if kind == "service":
        value = draw(st.sampled_from(["Vertex AI Agent Engine", "Gemini API", "Ünïcode Service"]))
        return f"new service {value}", "service_description", value, value
    if kind == "zero":
        return "a zero figure", "scope3_kgco2e", "0", 0.0
    if kind == "negative":
        return "a negative figure", "scope1_kgco2e", "-0.5", -0.5
    return "usage without a project", "project_id", None, None


def test_unusual_but_valid_bigquery_answers_load_with_their_values_kept(bigquery):
    setup = bigquery
    stream = "carbon_footprint"
    pages = [i for i, (kind, rows) in enumerate(setup.served[stream]) if kind == "results" and rows]
    problems: list[str] = []

    cases = examples(10, 40)
    ran = Ran(cases["max_examples"])

    @settings(**cases)
    @given(unusual_cells(), st.sampled_from(pages), st.integers(0, 1000), st.booleans())
    def case(cell: tuple[str, str, Any, Any], at: int, row: int, empty_first: bool) -> None:
        ran.count += 1
        what, column, wire, kept = cell

        def change(_plan, _kind, reply, request, fake):
            body = copy.deepcopy(reply.body)
            if empty_first:  # an empty page first, whose (new) token leads to the same rows
                query = dict(p.split("=", 1) for p in request.query.split("&") if "=" in p)
                body["rows"], body["pageToken"] = [], "0" + query.get("pageToken", "0")
                return json_reply(body), "an empty page first"
            schema = _schema(body, request, fake)
            names = [f["name"] for f in schema]
            body["rows"][row % len(body["rows"])]["f"][names.index(column)]["v"] = wire
            return json_reply(body), what

        setup.fake.arm(Plan("unusual", 0, 0, 0, {}, b""), at, change)
        run = setup.tap.run(bq_config(setup.fake, setup.key), catalog=setup.catalogs[stream])
        records = run.records(stream)
        label = f"results answer {at + 1}: {'an empty page first' if empty_first else what}"
        if run.returncode != 0:
            problems.append(f"[{label}] failed: {run.error_lines[-1:]}")
        elif len(records) != setup.records[stream]:
            problems.append(f"[{label}] {len(records)} records, not {setup.records[stream]}")
        elif not empty_first and not any(r.get(column) == kept for r in records):
            problems.append(f"[{label}] no record kept {column} = {kept!r}")

    case()
    ran.check()
    assert not problems, "\n".join(problems[:20])


def test_unusual_but_valid_extract_files_load_with_their_values_kept(file_tap, extracts):
    tap, catalog = file_tap
    problems: list[str] = []

    cases = examples(10, 30)
    ran = Ran(cases["max_examples"])

    @settings(**cases)
    @given(st.sampled_from(FORMATS), unusual_cells(), st.integers(0, 1), st.integers(0, 1000))
    def case(fmt: str, cell: tuple[str, str, Any, Any], shard: int, line: int) -> None:
        ran.count += 1
        extract = extracts[fmt]
        what, column, _wire, kept = cell
        path = {
            "location": "location.location",
            "service_description": "service.description",
            "scope3_kgco2e": "carbon_footprint_kgCO2e.scope3",
            "scope1_kgco2e": "carbon_footprint_kgCO2e.scope1",
            "project_id": "project.id",
        }[column]
        value = kept if not fmt.startswith("csv") or kept is None else str(kept)
        folder = Path(tempfile.mkdtemp(prefix="extract-unusual-"))
        try:
            root = (folder / "extract").resolve()
            shutil.copytree(extract.root, root)
            _set_value(fmt, path, value, line)(root / extract.files[shard])
            run = tap.run(file_config(root), catalog=catalog)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        records = run.records("carbon_footprint")
        label = f"{fmt}: {what}"
        if run.returncode != 0:
            problems.append(f"[{label}] failed: {run.error_lines[-1:]}")
        elif len(records) != extract.rows:
            problems.append(f"[{label}] {len(records)} records, not {extract.rows}")
        elif not any(r.get(column) == kept for r in records):
            problems.append(f"[{label}] no record kept {column} = {kept!r}")

    case()
    ran.check()
    assert not problems, "\n".join(problems[:20])
