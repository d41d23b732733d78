"""tap-aws-carbon against malformed and merely unusual provider payloads.

Three sources: the Sustainability API's JSON (served over HTTP by a subclass of the fake that
passes one page of each run through a generated corruption, after the fake has checked the
request's signature and validated it), the CARBON_EMISSIONS export files and the Cost and Usage
Report files (local-folder mode, written by the same writers as the other tests, then damaged).
Malformed input must end in one clear line with no bookmark past unread data; unusual input must
load with its values kept. Judge and in-process runner: `test_bad_input_harness`.
"""

from __future__ import annotations

import base64
import csv
import gzip
import io
import json
import math
import shutil
import string
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tap_aws_carbon.tap import TapAwsCarbon

from tests.aws.conftest import ACCESS_KEY
from tests.badinput import SCALARS, huge_text, json_reply, letters
from tests.conftest import TEST_SECRETS, TapRun
from tests.fakes._http import Reply, Request
from tests.fakes.aws_cur import line_items, snake, write_cur2, write_legacy_cur
from tests.fakes.aws_data import synthetic_rows, synthetic_water_rows
from tests.fakes.aws_export import write_export
from tests.fakes.aws_sustainability import (
    OPERATIONS,
    ApiError,
    SustainabilityFake,
    _make_token,
    _read_token,
    _request_hash,
)
from tests.reliability.test_bad_input_harness import InProcessTap, Ran, Tally, examples

ACCOUNTS = ["012345678901", "123456789012"]
BUDGET = 60  # data requests per run; more means the tap is looping on a page token


# --- generated JSON ----------------------------------------------------------------------------

JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=5,
)
HUGE = huge_text(400_000)


def _not_a_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return True
    return False


def not_of(*kinds: type) -> st.SearchStrategy[Any]:
    """Any JSON value except one of `kinds` (bool is never a number here)."""

    def wrong(value: Any) -> bool:
        if isinstance(value, bool):
            return bool not in kinds
        return not isinstance(value, kinds)

    return JSON.filter(wrong)


# --- the Sustainability API ---------------------------------------------------------------------


@dataclass(frozen=True)
class Api:
    stream: str
    operation: str
    values_key: str
    unit: str


API = {
    "carbon_emissions": Api(
        "carbon_emissions", "GetEstimatedCarbonEmissions", "EmissionsValues", "MTCO2e"
    ),
    "water_allocation": Api(
        "water_allocation", "GetEstimatedWaterAllocation", "AllocationValues", "m3"
    ),
}


@dataclass(frozen=True)
class Corruption:
    """One generated change to an answer page; `sticky` keeps applying it to later pages."""

    what: str
    apply: Callable[[dict[str, Any], Request], Reply]
    sticky: bool = False


class CorruptingFake(SustainabilityFake):
    """The fake, with one page per run passed through the example's corruption."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.corruption: Corruption | None = None
        self.at = 0
        self.data_requests = 0
        self.over_budget = False
        self.page_sizes: list[int] = []  # results per data answer, as served

    def start(self, *args: Any, **kwargs: Any) -> CorruptingFake:
        super().start(*args, **kwargs)
        assert self._server is not None
        # Headers and body go out in two writes; without this, delayed ACKs add ~40 ms each.
        self._server.RequestHandlerClass.disable_nagle_algorithm = True  # type: ignore[attr-defined]
        return self

    def arm(self, corruption: Corruption | None, at: int) -> None:
        self.corruption, self.at, self.data_requests, self.over_budget = corruption, at, 0, False
        self.page_sizes = []

    def handle(self, request: Request) -> Reply:
        reply = super().handle(request)  # signature, model validation, paging: as always
        if request.path not in OPERATIONS or reply.status != 200:
            return reply
        index, self.data_requests = self.data_requests, self.data_requests + 1
        self.page_sizes.append(len(reply.body["Results"]))
        if self.data_requests > BUDGET:
            self.over_budget = True
            return ApiError(400, "ValidationException", "request budget exhausted").reply
        hit = index == self.at or (index > self.at and self.corruption and self.corruption.sticky)
        if self.corruption is None or not hit:
            return reply
        return self.corruption.apply(reply.body, request)


def _token_here(request: Request, *, fresh: bool = False) -> str:
    """A token the fake accepts for the page this request asked for (an empty page's next).

    `fresh`: spelled unlike the request's own token (compact JSON inside), as a real service
    hands out a new token for every page.
    """
    body = json.loads(request.body)
    operation = OPERATIONS[request.path].name
    binding = _request_hash(operation, body)
    offset = _read_token(body.get("NextToken"), binding)
    if fresh:
        inner = json.dumps([offset, binding], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(inner).decode()
    return _make_token(offset, binding)


def _item_change(what: str, change: Callable[[dict[str, Any]], None], position: int) -> Corruption:
    def apply(body: dict[str, Any], _request: Request) -> Reply:
        items = body["Results"]
        change(items[position % len(items)])
        return json_reply(body)

    return Corruption(what, apply)


def _set(path: tuple[str, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(item: dict[str, Any]) -> None:
        target = item
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return change


def _drop(path: tuple[str, ...]) -> Callable[[dict[str, Any]], None]:
    def change(item: dict[str, Any]) -> None:
        target = item
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]

    return change


@st.composite
def raw_bodies(draw: st.DrawFn) -> Corruption:
    """Bodies that are not the API's JSON at all: empty, HTML, cut short, not UTF-8."""
    kind = draw(st.sampled_from(["empty", "html", "truncated", "not-utf8", "json-not-object"]))
    if kind == "empty":
        return Corruption("empty body", lambda _b, _r: Reply(200, b""))
    if kind == "html":
        text = draw(st.sampled_from(["<html><body>Service Unavailable</body></html>", "OK"]))
        return Corruption("HTML body", lambda _b, _r: Reply(200, text.encode()))
    if kind == "json-not-object":
        value = draw(st.one_of(st.lists(JSON, max_size=2), SCALARS))
        return Corruption(f"JSON {type(value).__name__} body", lambda _b, _r: json_reply(value))
    cut = draw(st.floats(0.05, 0.95))
    if kind == "truncated":

        def truncated(body: dict[str, Any], _r: Request) -> Reply:
            text = json.dumps(body).encode()
            return Reply(200, text[: max(1, int(len(text) * cut))])

        return Corruption("truncated JSON", truncated)
    junk = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80\x80"]))

    def not_utf8(body: dict[str, Any], _r: Request) -> Reply:
        text = json.dumps(body).encode()
        at = text.index(b'"', int(len(text) * cut)) + 1 if b'"' in text else 0
        return Reply(200, text[:at] + junk + text[at:])

    return Corruption("body not UTF-8", not_utf8)


@st.composite
def top_level(draw: st.DrawFn) -> Corruption:
    """`Results` missing or not a list, or a `NextToken` that is not a string."""
    kind = draw(st.sampled_from(["no-results", "results-type", "token-type"]))
    if kind == "no-results":
        other = draw(
            st.dictionaries(st.sampled_from(["results", "Items", "Data"]), JSON, max_size=2)
        )
        return Corruption("no Results key", lambda _b, _r: json_reply(other))
    if kind == "results-type":
        # An empty object or string would iterate as an empty list: botocore reads it as one.
        value = draw(not_of(list).filter(lambda v: not (isinstance(v, dict | str) and not v)))
        return Corruption(
            f"Results is {type(value).__name__}", lambda b, _r: json_reply({**b, "Results": value})
        )
    token = draw(not_of(str).filter(lambda v: v is not None))
    return Corruption(
        f"NextToken is {type(token).__name__}", lambda b, _r: json_reply({**b, "NextToken": token})
    )


@st.composite
def items(draw: st.DrawFn, api: Api) -> Corruption:
    """One result item broken: wrong type, a required key missing, a key of the wrong type."""
    position = draw(st.integers(0, 50))
    required = ("TimePeriod", "DimensionsValues", "ModelVersion", api.values_key)
    kind = draw(st.sampled_from(["item-type", "missing", "key-type"]))
    if kind == "item-type":
        value = draw(not_of(dict))

        def replace(body: dict[str, Any], _r: Request) -> Reply:
            body["Results"][position % len(body["Results"])] = value
            return json_reply(body)

        return Corruption(f"a result is {type(value).__name__}", replace)
    key = draw(st.sampled_from(required))
    if kind == "missing":
        return _item_change(f"a result lacks {key}", _drop((key,)), position)
    wanted = str if key == "ModelVersion" else dict
    value = draw(not_of(wanted))
    return _item_change(f"{key} is {type(value).__name__}", _set((key,), value), position)


@st.composite
def periods(draw: st.DrawFn) -> Corruption:
    """TimePeriod.Start / End missing, of another type, not a timestamp, or another period."""
    position = draw(st.integers(0, 50))
    part = draw(st.sampled_from(["Start", "End"]))
    kind = draw(st.sampled_from(["missing", "type", "text", "huge", "other-period"]))
    if kind == "missing":
        return _item_change(f"TimePeriod lacks {part}", _drop(("TimePeriod", part)), position)
    if kind == "type":
        value = draw(
            st.one_of(
                st.booleans(),  # botocore reads a number as epoch seconds: 1970, not the period
                st.lists(SCALARS, min_size=1, max_size=2),
                st.dictionaries(st.text(max_size=3), SCALARS, min_size=1, max_size=2),
            )
        )
    elif kind == "text":
        # Letters no date parser knows (no month, weekday or am/pm), so never a timestamp.
        value = draw(letters(max_size=15))
    elif kind == "huge":
        value = draw(HUGE)
    elif part == "Start":
        day = draw(st.dates(date(1990, 1, 1), date(2099, 12, 1)))
        value = f"{day.replace(year=1990 + day.year % 30):%Y-%m-%d}T00:00:00Z"  # not 2022..2024
    else:
        value = "1999-01-01T00:00:00Z"  # an end before the start
    return _item_change(f"TimePeriod.{part} {kind}", _set(("TimePeriod", part), value), position)


@st.composite
def dimensions(draw: st.DrawFn) -> Corruption:
    """A dimension missing, empty, not text, or an account id that is not 12 digits."""
    position = draw(st.integers(0, 50))
    name = draw(st.sampled_from(["USAGE_ACCOUNT_ID", "REGION", "SERVICE"]))
    kind = draw(st.sampled_from(["missing", "empty", "type", "account"]))
    path = ("DimensionsValues", name)
    if kind == "missing":
        return _item_change(f"no {name}", _drop(path), position)
    if kind == "empty":  # an empty REGION or SERVICE is a value and loads (issue 14 item 2)
        account = ("DimensionsValues", "USAGE_ACCOUNT_ID")
        return _item_change("empty USAGE_ACCOUNT_ID", _set(account, ""), position)
    if kind == "type" or name != "USAGE_ACCOUNT_ID":
        value = draw(not_of(str).filter(lambda v: v is not None))
        return _item_change(f"{name} is {type(value).__name__}", _set(path, value), position)
    value = draw(
        st.one_of(
            st.text(min_size=1, max_size=20).filter(lambda t: not (t.isdigit() and len(t) == 12)),
            st.integers(0, 10**11 - 1).map(str),
            HUGE,
        )
    )
    return _item_change(f"account id {value[:20]!r}", _set(path, value), position)


@st.composite
def values(draw: st.DrawFn, api: Api, kinds: tuple[str, ...]) -> Corruption:
    """A reported value not an object, its Value not a finite number, its Unit unknown."""
    position = draw(st.integers(0, 50))
    kind = draw(st.sampled_from(kinds))
    path = (api.values_key, kind)
    problem = draw(st.sampled_from(["entry-type", "value-type", "non-finite", "unit", "unit-type"]))
    if problem == "entry-type":
        value = draw(not_of(dict).filter(lambda v: v is not None))
        return _item_change(f"{kind} is {type(value).__name__}", _set(path, value), position)
    if problem == "value-type":
        # botocore reads a double with float(): "1.5" and true become numbers before the tap
        # sees them, so only values float() refuses are malformed on this path.
        value = draw(
            st.one_of(
                st.text(min_size=1, max_size=12).filter(_not_a_float),
                HUGE,
                st.lists(SCALARS, max_size=2),
                st.dictionaries(st.text(max_size=3), SCALARS, max_size=2),
            )
        )
        return _item_change(
            f"Value is {type(value).__name__}", _set((*path, "Value"), value), position
        )
    if problem == "non-finite":
        value = draw(st.sampled_from([math.nan, math.inf, -math.inf, "NaN", "-Infinity"]))
        return _item_change(f"Value {value}", _set((*path, "Value"), value), position)
    if problem == "unit":
        unit = draw(st.one_of(st.text(max_size=12), HUGE).filter(lambda u: u != api.unit))
        return _item_change(f"Unit {unit[:20]!r}", _set((*path, "Unit"), unit), position)
    unit = draw(not_of(str))
    return _item_change(f"Unit is {type(unit).__name__}", _set((*path, "Unit"), unit), position)


@st.composite
def paging(draw: st.DrawFn) -> Corruption:
    """An empty page whose NextToken points at itself forever, or is not a token at all."""
    kind = draw(st.sampled_from(["loop", "garbage"]))
    if kind == "loop":
        return Corruption(
            "empty page, same NextToken again",
            lambda _b, r: json_reply({"Results": [], "NextToken": _token_here(r)}),
            sticky=True,
        )
    token = draw(st.text(alphabet=string.ascii_letters + "!~", min_size=1, max_size=40))
    return Corruption(
        "empty page, unknown NextToken",
        lambda _b, _r: json_reply({"Results": [], "NextToken": token}),
    )


def api_corruptions(api: Api, kinds: tuple[str, ...]) -> st.SearchStrategy[Corruption]:
    return st.one_of(
        raw_bodies(), top_level(), items(api), periods(), dimensions(), values(api, kinds), paging()
    )


@pytest.fixture(scope="module")
def api_fake() -> Iterator[CorruptingFake]:
    """Three months of carbon and two years of water data for two accounts, small pages."""
    fake = CorruptingFake(
        synthetic_rows(date(2024, 1, 1), 3, accounts=ACCOUNTS),
        water_rows=synthetic_water_rows(2022, 2, accounts=ACCOUNTS),
        page_size_cap=15,
        credentials={ACCESS_KEY: TEST_SECRETS["aws_secret_access_key"]},
    ).start()
    try:
        yield fake
    finally:
        fake.stop()


def api_config(fake: SustainabilityFake, stream: str) -> dict[str, Any]:
    """Carbon: 2024-01 .. 2024-03; water: 2022 .. 2024 (the last one in progress, empty)."""
    return {
        "sustainability_endpoint_url": fake.url,
        "aws_access_key_id": ACCESS_KEY,
        "aws_secret_access_key": TEST_SECRETS["aws_secret_access_key"],
        "start_date": "2024-01-01" if stream == "carbon_emissions" else "2022-01-01",
        "end_date": "2024-04-01",
        "max_requests_per_second": 0,
        "max_attempts": 1,
    }


@pytest.fixture(scope="module")
def api_tap(api_fake, workdir) -> tuple[InProcessTap, dict[str, Any], dict[str, list[int]]]:
    """The tap, a catalog per stream, and which data requests of a clean run carry results."""
    tap = InProcessTap(TapAwsCarbon, workdir)
    catalogs, requests = {}, {}
    for stream in API:
        config = api_config(api_fake, stream)
        catalogs[stream] = tap.catalog(config, [stream])
        api_fake.arm(None, 0)
        clean = tap.run(config, catalog=catalogs[stream])
        assert clean.returncode == 0, clean.stderr[-3000:]
        assert clean.records(stream)
        # Pages a corruption may hit: those with results (item changes need one).
        requests[stream] = [i for i, size in enumerate(api_fake.page_sizes) if size]
    return tap, catalogs, requests


def _carbon_or_water(draw: st.DrawFn) -> Api:
    return API[draw(st.sampled_from(sorted(API)))]


@st.composite
def api_cases(draw: st.DrawFn, requests: dict[str, list[int]]) -> tuple[Api, Corruption, int]:
    api = _carbon_or_water(draw)
    kinds = ("TOTAL_LBM_CARBON_EMISSIONS", "TOTAL_SCOPE_1_CARBON_EMISSIONS")
    if api.stream == "water_allocation":
        kinds = ("TOTAL_WATER_WITHDRAWALS",)
    corruption = draw(api_corruptions(api, kinds))
    at = draw(st.sampled_from(requests[api.stream]))
    return api, corruption, at


def test_malformed_sustainability_api_answers_fail_in_one_line(api_fake, api_tap):
    tap, catalogs, requests = api_tap
    cases = examples(110, 260)
    tally = Tally("aws", planned=cases["max_examples"])

    @settings(**cases)
    @given(api_cases(requests))
    def case(example: tuple[Api, Corruption, int]) -> None:
        api, corruption, at = example
        api_fake.arm(corruption, at)
        run = tap.run(api_config(api_fake, api.stream), catalog=catalogs[api.stream])
        what = f"{api.stream} page {at + 1}: {corruption.what}"
        if api_fake.over_budget:
            tally.tried += 1
            tally.unclear.append(f"[{what}] the tap kept requesting pages")
            return
        tally.check_failure(what, run, [api.stream, api.operation])

    case()
    tally.finish()


# --- merely unusual API answers ------------------------------------------------------------------


@dataclass(frozen=True)
class Unusual:
    """A change the tap must load as it is; `kept` is a (column, value) some record must show."""

    what: str
    apply: Callable[[dict[str, Any], Request], Reply]
    kept: tuple[str, Any] | None = None


def _unusual_item(
    what: str, change: Callable[[dict[str, Any]], None], position: int, kept: tuple[str, Any]
) -> Unusual:
    def apply(body: dict[str, Any], _request: Request) -> Reply:
        items = body["Results"]
        change(items[position % len(items)])
        return json_reply(body)

    return Unusual(what, apply, kept)


@st.composite
def unusual_answers(draw: st.DrawFn, api: Api, kinds: tuple[str, ...]) -> Unusual:
    position = draw(st.integers(0, 50))
    kind = draw(
        st.sampled_from(
            ["region", "service", "model", "account", "value", "extra", "type", "empty-page"]
        )
    )
    if kind == "region":
        region = draw(st.sampled_from(["mx-central-1", "ap-southeast-7", "eusc-de-east-1"]))
        return _unusual_item(
            f"new region {region}",
            _set(("DimensionsValues", "REGION"), region),
            position,
            ("region", region),
        )
    if kind == "service":
        service = "Amazon" + draw(st.text(alphabet=string.ascii_letters, min_size=1, max_size=12))
        return _unusual_item(
            f"new service {service}",
            _set(("DimensionsValues", "SERVICE"), service),
            position,
            ("service", service),
        )
    if kind == "model":
        model = f"v{draw(st.integers(4, 99))}.{draw(st.integers(0, 9))}.0-preview"
        return _unusual_item(
            f"model {model}", _set(("ModelVersion",), model), position, ("model_version", model)
        )
    if kind == "account":
        account = "0" * draw(st.integers(3, 11))
        account += str(draw(st.integers(1, 9))) * (12 - len(account))
        return _unusual_item(
            f"account {account}",
            _set(("DimensionsValues", "USAGE_ACCOUNT_ID"), account),
            position,
            ("usage_account_id", account),
        )
    if kind == "value":
        value_kind = draw(st.sampled_from(kinds))
        number = draw(st.sampled_from([0, 0.0, -0.000001, -12.5, 1e-9]))
        column = f"{value_kind.lower()}_{api.unit.lower()}"
        return _unusual_item(
            f"{value_kind} = {number}",
            _set((api.values_key, value_kind, "Value"), number),
            position,
            (column, number),
        )
    if kind == "extra":
        where = draw(st.sampled_from(["top", "item", "value", "dimension"]))
        extra = draw(JSON)

        def add(body: dict[str, Any], _request: Request) -> Reply:
            item = body["Results"][position % len(body["Results"])]
            if where == "top":
                body["FutureField"] = extra
            elif where == "item":
                item["FutureField"] = extra
            elif where == "value":
                next(iter(item[api.values_key].values()))["Confidence"] = extra
            else:
                item["DimensionsValues"]["PURCHASE_OPTION"] = "OnDemand"
            return json_reply(body)

        return Unusual(f"an extra field ({where})", add)
    if kind == "type":
        name = "TOTAL_SCOPE_3_CATEGORY_1_" + api.values_key.upper()

        def new_type(body: dict[str, Any], _request: Request) -> Reply:
            item = body["Results"][position % len(body["Results"])]
            item[api.values_key][name] = {"Value": 1.5, "Unit": api.unit}
            return json_reply(body)

        return Unusual("a value type the tap did not ask for", new_type)

    def empty_first(_body: dict[str, Any], request: Request) -> Reply:
        return json_reply({"Results": [], "NextToken": _token_here(request, fresh=True)})

    return Unusual("an empty page, then the same page again", empty_first)


@st.composite
def unusual_cases(draw: st.DrawFn, requests: dict[str, list[int]]) -> tuple[Api, Unusual, int]:
    api = _carbon_or_water(draw)
    kinds = ("TOTAL_LBM_CARBON_EMISSIONS", "TOTAL_SCOPE_1_CARBON_EMISSIONS")
    if api.stream == "water_allocation":
        kinds = ("TOTAL_WATER_WITHDRAWALS",)
    return api, draw(unusual_answers(api, kinds)), draw(st.sampled_from(requests[api.stream]))


def test_unusual_but_valid_api_answers_load_with_their_values_kept(api_fake, api_tap):
    tap, catalogs, requests = api_tap
    clean = {}
    for stream in API:
        api_fake.arm(None, 0)
        clean[stream] = len(
            tap.run(api_config(api_fake, stream), catalog=catalogs[stream]).records(stream)
        )
    problems: list[str] = []

    cases = examples(20, 60)
    ran = Ran(cases["max_examples"])

    @settings(**cases)
    @given(unusual_cases(requests))
    def case(example: tuple[Api, Unusual, int]) -> None:
        ran.count += 1
        api, unusual, at = example
        api_fake.arm(Corruption(unusual.what, unusual.apply), at)
        run = tap.run(api_config(api_fake, api.stream), catalog=catalogs[api.stream])
        records = run.records(api.stream)
        what = f"{api.stream} page {at + 1}: {unusual.what}"
        if run.returncode != 0:
            problems.append(f"[{what}] failed: {run.error_lines[-1:]}")
        elif len(records) != clean[api.stream]:
            problems.append(f"[{what}] {len(records)} records, not {clean[api.stream]}")
        elif unusual.kept and not any(r.get(unusual.kept[0]) == unusual.kept[1] for r in records):
            problems.append(f"[{what}] no record kept {unusual.kept[0]} = {unusual.kept[1]!r}")

    case()
    ran.check()
    assert not problems, "\n".join(problems[:20])


# --- the CARBON_EMISSIONS export (local-folder mode) ---------------------------------------------

EXPORT = "carbon_emissions_export"
VARIANTS = [(fmt, manifests) for fmt in ("csv.gz", "csv", "parquet") for manifests in (True, False)]
NUMBER_COLUMNS = ["total_lbm_emissions_value", "total_scope_2_mbm_emissions_value"]
TIME_COLUMNS = ["usage_period_start", "last_refresh_timestamp"]
KEY_COLUMNS = ["usage_account_id", "region_code", "product_code"]


@dataclass
class Template:
    """One written export: its files in the order the tap reads them, and their row counts."""

    root: Path
    fmt: str
    manifests: bool
    files: list[str]  # keys below the root, oldest period first
    rows: dict[str, int]


@pytest.fixture(scope="module")
def export_templates(workdir) -> dict[tuple[str, bool], Template]:
    rows = synthetic_rows(date(2025, 7, 1), 3, seed=5, accounts=ACCOUNTS)
    templates = {}
    for fmt, manifests in VARIANTS:
        root = workdir / f"export-{fmt}-{manifests}"
        written = write_export(root, rows, fmt=fmt, manifests=manifests, chunk_rows=16)
        keys = [p.relative_to(root).as_posix() for p in written]
        counts = {k: len(_read_table(root / k, fmt)[1]) for k in keys}
        templates[(fmt, manifests)] = Template(root, fmt, manifests, keys, counts)
    return templates


def _read_table(path: Path, fmt: str) -> tuple[list[str], list[list[Any]]]:
    """(header, rows) of an export file: text cells for CSV, typed values for Parquet."""
    if fmt == "parquet":
        table = pq.read_table(path)
        return table.column_names, [list(r.values()) for r in table.to_pylist()]
    data = path.read_bytes()
    text = (gzip.decompress(data) if fmt == "csv.gz" else data).decode()
    header, *rows = list(csv.reader(io.StringIO(text)))
    return header, rows


def _write_table(path: Path, fmt: str, header: list[str], rows: list[list[Any]]) -> None:
    if fmt == "parquet":
        columns = {name: [r[i] for r in rows] for i, name in enumerate(header)}
        pq.write_table(pa.table(columns), path)
        return
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([header, *rows])
    _write_text(path, fmt, text.getvalue().encode())


def _write_text(path: Path, fmt: str, data: bytes) -> None:
    path.write_bytes(gzip.compress(data) if fmt == "csv.gz" else data)


# A change to the file `key` below `root` (the template says its format); returns the path the
# error must name.
Edit = Callable[[Path, Any, str], Path]


@dataclass(frozen=True)
class FileDamage:
    """What to break in a copy of an export; `apply` returns the damaged path (for the judge)."""

    what: str
    apply: Callable[[Path, Template], Path]


def _cell(column: str, value: Any, row: int) -> Edit:
    def change(root: Path, template: Template, key: str) -> Path:
        header, rows = _read_table(root / key, template.fmt)
        at = header.index(column)
        if isinstance(value, str) and template.fmt == "parquet":
            for cells in rows:  # a Parquet column holds one type: the column becomes text
                cells[at] = (
                    cells[at].isoformat() if hasattr(cells[at], "isoformat") else str(cells[at])
                )
        rows[row % len(rows)][at] = value
        _write_table(root / key, template.fmt, header, rows)
        return root / key

    return change


def _on_file(what: str, change: Edit, index: int) -> FileDamage:
    def apply(root: Path, template: Template) -> Path:
        return change(root, template, template.files[index % len(template.files)])

    return FileDamage(what, apply)


@st.composite
def byte_damage(draw: st.DrawFn, fmt: str) -> Edit:
    """A file's bytes cut short, overwritten (gzip: its CRC notices), emptied, or junk.

    Plain CSV is only emptied: cut or overwritten text can still be a valid CSV file. Parquet
    is never overwritten: without page checksums a changed data page is still readable.
    """
    kinds = {"csv": ["empty"], "csv.gz": ["truncate", "overwrite", "empty", "garbage"]}
    kind = draw(st.sampled_from(kinds.get(fmt, ["truncate", "empty", "garbage"])))
    cut = draw(st.floats(0.1, 0.9))
    junk = draw(st.binary(min_size=8, max_size=64))

    def change(root: Path, template: Template, key: str) -> Path:
        path = root / key
        data = path.read_bytes()
        if kind == "truncate":
            path.write_bytes(data[: int(len(data) * cut)])
        elif kind == "overwrite":
            at = int(len(data) * cut)
            path.write_bytes(
                data[:at] + bytes(b ^ 0x5A for b in data[at : at + 16]) + data[at + 16 :]
            )
        elif kind == "empty":
            path.write_bytes(b"")
        else:
            path.write_bytes(junk)
        return path

    return change


@st.composite
def export_damages(draw: st.DrawFn, template: Template) -> FileDamage:
    index = draw(st.integers(0, 100))
    row = draw(st.integers(0, 100))
    kinds = ["bytes", "missing-column", "number", "timestamp", "empty-key"]
    if template.fmt != "parquet":
        kinds += ["not-utf8", "extra-cell", "quote", "nul"]
    if template.fmt == "csv.gz":
        kinds += ["not-gzip"]
    if template.fmt == "parquet":
        kinds += ["column-type"]
    if template.manifests:
        kinds += ["manifest-missing-file", "manifest-garbage"]
    kinds += ["stray"]
    kind = draw(st.sampled_from(kinds))
    if kind == "bytes":
        return _on_file("bytes damaged", draw(byte_damage(template.fmt)), index)
    if kind == "missing-column":
        columns = draw(
            st.sampled_from(
                [[c] for c in KEY_COLUMNS]
                + [[f"{c}_emissions_value" for c in ("total_lbm", "total_mbm")] + _scope_values()]
            )
        )
        return _on_file(f"no {columns[0]} column", _without(columns), index)
    if kind == "number":
        column = draw(st.sampled_from(NUMBER_COLUMNS))
        value = draw(
            st.one_of(
                st.text(min_size=1, max_size=15).filter(lambda t: t.strip() and _not_a_float(t)),
                st.sampled_from(["NaN", "inf", "-Infinity"]),
                HUGE,
            )
        )
        return _on_file(f"{column} = {value[:20]!r}", _cell(column, value, row), index)
    if kind == "timestamp":
        column = draw(st.sampled_from(TIME_COLUMNS))
        value = draw(st.one_of(st.sampled_from(["2025-13-01", "yesterday", "07/01/2025"]), HUGE))
        return _on_file(f"{column} = {value[:20]!r}", _cell(column, value, row), index)
    if kind == "empty-key":
        column = draw(st.sampled_from(KEY_COLUMNS))
        return _on_file(
            f"empty {column}", _cell(column, "" if template.fmt != "parquet" else None, row), index
        )
    if kind == "column-type":
        column = draw(st.sampled_from(["usage_account_id", "region_code", *NUMBER_COLUMNS]))
        value = draw(
            st.sampled_from([[1, 2], {"a": 1}, True] if column in KEY_COLUMNS else ["12x", "n/a"])
        )
        return _on_file(f"{column} of type {type(value).__name__}", _retyped(column, value), index)
    if kind == "not-utf8":
        junk = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xe9t\xe9"]))
        return _on_file(
            "not UTF-8", _raw_csv(lambda text: text.replace(b"Amazon", b"Amazon" + junk, 1)), index
        )
    if kind == "extra-cell":
        return _on_file(
            "a row with an extra cell",
            _raw_csv(lambda t: t.replace(b"\n", b",extra\n", 2).replace(b",extra\n", b"\n", 1)),
            index,
        )
    if kind == "quote":
        return _on_file(
            "an unterminated quote",
            _raw_csv(lambda t: t.replace(b"\n", b'\n"', 2).replace(b'\n"', b"\n", 1)),
            index,
        )
    if kind == "nul":
        return _on_file(
            "a NUL byte", _raw_csv(lambda t: t.replace(b"Amazon", b"Ama\x00zon", 1)), index
        )
    if kind == "not-gzip":
        return _on_file("not compressed", _raw_csv(lambda t: t, compress=False), index)
    if kind == "manifest-missing-file":
        return _on_file("the manifest names a deleted file", _deleted, index)
    if kind == "manifest-garbage":
        content = draw(
            st.one_of(
                st.sampled_from([b"", b"{", b'{"dataFiles": "x"}', b'{"files": []}', b"\xff\xfe"]),
                st.builds(
                    lambda v: json.dumps({"dataFiles": v}).encode(),
                    st.lists(
                        st.one_of(st.integers(), st.none(), st.text(max_size=8)),
                        min_size=1,
                        max_size=3,
                    ),
                ),
            )
        )
        return _on_file("a manifest that is not one", _manifest(content), index)
    return _on_file("a data file outside any partition", _stray, index)


def _scope_values() -> list[str]:
    return [f"total_scope_{s}_emissions_value" for s in ("1", "2_lbm", "2_mbm", "3_lbm", "3_mbm")]


def _without(columns: list[str]) -> Edit:
    def change(root: Path, template: Template, key: str) -> Path:
        header, rows = _read_table(root / key, template.fmt)
        keep = [i for i, name in enumerate(header) if name not in columns]
        _write_table(
            root / key,
            template.fmt,
            [header[i] for i in keep],
            [[r[i] for i in keep] for r in rows],
        )
        return root / key

    return change


def _retyped(column: str, value: Any) -> Edit:
    def change(root: Path, template: Template, key: str) -> Path:
        table = pq.read_table(root / key)
        index = table.column_names.index(column)
        table = table.set_column(index, column, pa.array([value] * table.num_rows))
        pq.write_table(table, root / key)
        return root / key

    return change


def _raw_csv(edit: Callable[[bytes], bytes], *, compress: bool = True) -> Edit:
    def change(root: Path, template: Template, key: str) -> Path:
        path = root / key
        data = path.read_bytes()
        text = gzip.decompress(data) if template.fmt == "csv.gz" else data
        edited = edit(text)
        path.write_bytes(gzip.compress(edited) if template.fmt == "csv.gz" and compress else edited)
        return path

    return change


def _deleted(root: Path, template: Template, key: str) -> Path:
    (root / key).unlink()
    return root / key


def _manifest_of(root: Path, key: str) -> Path:
    partition = "/".join(key.split("/")[1:3])  # data/<model>/<period>/file
    return next((root / "metadata" / partition).glob("*Manifest.json"))


def _manifest(content: bytes) -> Edit:
    def change(root: Path, template: Template, key: str) -> Path:
        manifest = _manifest_of(root, key)
        manifest.write_bytes(content)
        return manifest

    return change


def _stray(root: Path, template: Template, key: str) -> Path:
    stray = root / "data" / "usage_period=2025-07" / Path(key).name
    stray.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(root / key, stray)
    return stray


def export_state_problems(run: TapRun, root: Path, template: Template, damaged: Path) -> list[str]:
    """Files bookmarked that are damaged, or whose rows were not all emitted before the state."""
    emitted: Counter[str] = Counter()
    problems = []
    for message in run.messages:
        if message["type"] == "RECORD" and message["stream"] == EXPORT:
            emitted[message["record"]["_source_file"]] += 1
        elif message["type"] == "STATE":
            done = message["value"].get("bookmarks", {}).get(EXPORT, {}).get("files", {})
            for key in done:
                path = root / key
                if path == damaged:
                    problems.append(f"{key} is bookmarked although it could not be read")
                elif emitted[str(path)] != template.rows.get(key):
                    read, total = emitted[str(path)], template.rows.get(key)
                    problems.append(f"{key} is bookmarked after {read} of {total} rows")
    return problems


@pytest.fixture(scope="module")
def export_tap(workdir, export_templates) -> tuple[InProcessTap, dict[str, Any]]:
    tap = InProcessTap(TapAwsCarbon, workdir)
    some = next(iter(export_templates.values()))
    catalog = tap.catalog(export_config(some.root), [EXPORT])
    for template in export_templates.values():
        clean = tap.run(export_config(template.root), catalog=catalog)
        assert clean.returncode == 0, clean.stderr[-3000:]
        assert len(clean.records(EXPORT)) == sum(template.rows.values())
    return tap, catalog


def export_config(root: Path) -> dict[str, Any]:
    # The API streams are not selected; their window is one the API is never asked about.
    return {"carbon_export_uri": str(root), "start_date": "2030-01-01", "end_date": "2030-02-01"}


@contextmanager
def _copy(template: Template) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="export-case-"))
    root = folder / "export"
    shutil.copytree(template.root, root)
    try:
        yield root.resolve()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@st.composite
def export_cases(
    draw: st.DrawFn, templates: dict[tuple[str, bool], Template]
) -> tuple[Template, FileDamage]:
    template = templates[draw(st.sampled_from(VARIANTS))]
    return template, draw(export_damages(template))


def test_malformed_export_files_fail_in_one_line_naming_the_file(export_tap, export_templates):
    tap, catalog = export_tap
    cases = examples(80, 160)
    tally = Tally("aws", planned=cases["max_examples"])

    @settings(**cases)
    @given(export_cases(export_templates))
    def case(example: tuple[Template, FileDamage]) -> None:
        template, damage = example
        with _copy(template) as root:
            damaged = damage.apply(root, template)
            run = tap.run(export_config(root), catalog=catalog)
            tally.check_failure(
                f"{template.fmt}{' + manifests' if template.manifests else ''}: {damage.what}",
                run,
                [str(damaged), damaged.relative_to(root).as_posix()],
                extra_state_check=lambda r: export_state_problems(r, root, template, damaged),
            )

    case()
    tally.finish()


@dataclass(frozen=True)
class UnusualFile:
    """A valid but unusual change to one file; `kept` is (column, value) some record shows."""

    what: str
    apply: Callable[[Path, Template, str], None]
    kept: tuple[str, Any] | None = None
    drops_rows: bool = False  # the file ends up with no rows


def _edit_table(edit: Callable[[list[str], list[list[Any]]], None]) -> Callable[..., None]:
    def change(root: Path, template: Template, key: str) -> None:
        header, rows = _read_table(root / key, template.fmt)
        edit(header, rows)
        _write_table(root / key, template.fmt, header, rows)

    return change


def _set_cell(column: str, value: Any) -> Callable[..., None]:
    def edit(header: list[str], rows: list[list[Any]]) -> None:
        rows[0][header.index(column)] = value

    return _edit_table(edit)


@st.composite
def unusual_files(draw: st.DrawFn, fmt: str) -> UnusualFile:
    kinds = ["extra-column", "unit", "number", "account", "region", "header-only", "reordered"]
    kinds += ["no-model-column"]
    if fmt != "parquet":
        kinds += ["bom", "crlf"]
    kind = draw(st.sampled_from(kinds))
    if kind == "extra-column":
        value = draw(st.text(alphabet=string.ascii_letters + " -", min_size=1, max_size=12))

        def add(header: list[str], rows: list[list[Any]]) -> None:
            header.append("total_scope_3_category_1_emissions_value")
            for row in rows:
                row.append(value)

        return UnusualFile(
            "a column AWS added later",
            _edit_table(add),
            ("_extra_columns", {"total_scope_3_category_1_emissions_value": value}),
        )
    if kind == "unit":
        unit = draw(st.sampled_from(["kgCO2e", "MTCO2e-v2", "tCO2e"]))
        return UnusualFile(
            f"unit {unit}",
            _set_cell("total_lbm_emissions_unit", unit),
            ("total_lbm_emissions_unit", unit),
        )
    if kind == "number":
        number = draw(st.sampled_from([0.0, -0.000001, -12.5]))
        cell = number if fmt == "parquet" else repr(number)
        return UnusualFile(
            f"value {number}",
            _set_cell("total_mbm_emissions_value", cell),
            ("total_mbm_emissions_value", number),
        )
    if kind == "account":
        account = "0" * draw(st.integers(3, 11))
        account += "7" * (12 - len(account))
        return UnusualFile(
            f"account {account}",
            _set_cell("usage_account_id", account),
            ("usage_account_id", account),
        )
    if kind == "region":
        region = draw(st.sampled_from(["mx-central-1", "ap-southeast-7"]))
        return UnusualFile(
            f"new region {region}", _set_cell("region_code", region), ("region_code", region)
        )
    if kind == "header-only":
        return UnusualFile(
            "a file with a header and no rows", _edit_table(lambda h, r: r.clear()), drops_rows=True
        )
    if kind == "reordered":

        def reorder(header: list[str], rows: list[list[Any]]) -> None:
            order = list(reversed(range(len(header))))
            header[:] = [header[i] for i in order]
            rows[:] = [[row[i] for i in order] for row in rows]

        return UnusualFile("columns in another order", _edit_table(reorder))
    if kind == "no-model-column":

        def drop(header: list[str], rows: list[list[Any]]) -> None:
            at = header.index("model_version")
            del header[at]
            for row in rows:
                del row[at]

        return UnusualFile(
            "no model_version column (the partition has it)",
            _edit_table(drop),
            ("model_version", "v3.0.0"),
        )
    if kind == "bom":
        return UnusualFile("a UTF-8 byte order mark", _raw_text(lambda t: b"\xef\xbb\xbf" + t))
    return UnusualFile("CRLF line ends", _raw_text(lambda t: t.replace(b"\n", b"\r\n")))


def _raw_text(edit: Callable[[bytes], bytes]) -> Callable[..., None]:
    def change(root: Path, template: Template, key: str) -> None:
        _raw_csv(edit)(root, template, key)

    return change


def test_unusual_but_valid_export_files_load_with_their_values_kept(export_tap, export_templates):
    tap, catalog = export_tap
    problems: list[str] = []

    cases = examples(20, 60)
    ran = Ran(cases["max_examples"])

    @settings(**cases)
    @given(st.sampled_from(VARIANTS), st.data())
    def case(variant: tuple[str, bool], data: st.DataObject) -> None:
        ran.count += 1
        template = export_templates[variant]
        unusual = data.draw(unusual_files(template.fmt))
        key = template.files[data.draw(st.integers(0, len(template.files) - 1))]
        with _copy(template) as root:
            unusual.apply(root, template, key)
            run = tap.run(export_config(root), catalog=catalog)
        records = run.records(EXPORT)
        expected = sum(template.rows.values()) - (template.rows[key] if unusual.drops_rows else 0)
        what = f"{template.fmt}: {unusual.what}"
        if run.returncode != 0:
            problems.append(f"[{what}] failed: {run.error_lines[-1:]}")
        elif len(records) != expected:
            problems.append(f"[{what}] {len(records)} records, not {expected}")
        elif unusual.kept and not any(r.get(unusual.kept[0]) == unusual.kept[1] for r in records):
            problems.append(f"[{what}] no record kept {unusual.kept[0]} = {unusual.kept[1]!r}")

    case()
    ran.check()
    assert not problems, "\n".join(problems[:20])


# --- Cost and Usage Reports (local-folder mode) --------------------------------------------------

CUR = "cur_usage_daily"
CUR_VARIANTS = [("legacy", "csv.gz"), ("legacy", "parquet"), ("2.0", "csv.gz"), ("2.0", "parquet")]


@dataclass
class CurTemplate:
    root: Path
    generation: str
    fmt: str
    files: list[str]  # data files below the root

    def column(self, legacy: str) -> str:
        """A column's name in this layout: `lineItem/UsageAmount` or `line_item_usage_amount`."""
        return legacy if self.generation == "legacy" and self.fmt != "parquet" else snake(legacy)


@pytest.fixture(scope="module")
def cur_templates(workdir) -> dict[tuple[str, str], CurTemplate]:
    items = line_items(date(2026, 1, 1), 60, seed=21) + line_items(date(2026, 2, 1), 40, seed=22)
    templates = {}
    for generation, fmt in CUR_VARIANTS:
        root = workdir / f"cur-{generation}-{fmt}"
        if generation == "legacy":
            written = write_legacy_cur(root, items, fmt=fmt, chunk_rows=25)
        else:
            written = write_cur2(root, items, fmt=fmt, chunk_rows=25)
        keys = [p.relative_to(root).as_posix() for p in written]
        templates[(generation, fmt)] = CurTemplate(root, generation, fmt, keys)
    return templates


def cur_config(root: Path) -> dict[str, Any]:
    return {"cur_uri": str(root), "start_date": "2030-01-01", "end_date": "2030-02-01"}


@pytest.fixture(scope="module")
def cur_tap(workdir, cur_templates) -> tuple[InProcessTap, dict[str, Any], int]:
    tap = InProcessTap(TapAwsCarbon, workdir)
    some = next(iter(cur_templates.values()))
    catalog = tap.catalog(cur_config(some.root), [CUR])
    counts = set()
    for template in cur_templates.values():
        clean = tap.run(cur_config(template.root), catalog=catalog)
        assert clean.returncode == 0, clean.stderr[-3000:]
        counts.add(sum(r["line_item_count"] for r in clean.records(CUR)))
    assert counts == {100}, counts
    return tap, catalog, 100


def _period_of(key: str) -> str:
    """The billing period (YYYY-MM) a CUR file belongs to, from its folder."""
    for part in key.split("/"):
        if part.startswith("BILLING_PERIOD="):
            return part.removeprefix("BILLING_PERIOD=")
        if len(part) == 17 and part[8] == "-" and part[:8].isdigit():
            return f"{part[:4]}-{part[4:6]}"
    raise AssertionError(f"no billing period in {key}")


def _cur_cell(legacy: str, value: str, row: int) -> Edit:
    """One cell of one file set to `value`; a typed Parquet column becomes text first."""

    def change(root: Path, template: CurTemplate, key: str) -> Path:
        path, column = root / key, template.column(legacy)
        if template.fmt == "parquet":
            table = pq.read_table(path)
            at = table.column_names.index(column)
            cells = [
                v.isoformat() if hasattr(v, "isoformat") else None if v is None else str(v)
                for v in table.column(at).to_pylist()
            ]
            cells[row % len(cells)] = value
            pq.write_table(table.set_column(at, column, pa.array(cells, pa.string())), path)
            return path
        header, rows = _read_table(path, template.fmt)
        rows[row % len(rows)][header.index(column)] = value
        _write_table(path, template.fmt, header, rows)
        return path

    return change


def _cur_without(legacy: str) -> Edit:
    def change(root: Path, template: CurTemplate, key: str) -> Path:
        path, column = root / key, template.column(legacy)
        if template.fmt == "parquet":
            table = pq.read_table(path)
            pq.write_table(table.drop_columns([column]), path)
            return path
        header, rows = _read_table(path, template.fmt)
        at = header.index(column)
        _write_table(
            path, template.fmt, header[:at] + header[at + 1 :], [r[:at] + r[at + 1 :] for r in rows]
        )
        return path

    return change


def _cur_manifest(root: Path, template: CurTemplate, key: str) -> Path:
    """The manifest that lists `key`: the period's own (legacy) or the one under metadata/."""
    if template.generation == "legacy":
        return (root / key).parent.parent / "daily-Manifest.json"
    return next((root / "metadata" / f"BILLING_PERIOD={_period_of(key)}").glob("*Manifest.json"))


@dataclass(frozen=True)
class CurDamage:
    what: str
    change: Edit
    index: int


@st.composite
def cur_damages(draw: st.DrawFn, template: CurTemplate) -> CurDamage:
    index, row = draw(st.integers(0, 100)), draw(st.integers(0, 100))
    kinds = ["bytes", "amount", "date", "missing-column", "manifest-missing-file"]
    kinds += ["manifest-garbage", "manifest-no-id"]
    if template.fmt == "csv.gz":
        kinds += ["not-utf8", "extra-cell", "quote"]
    kind = draw(st.sampled_from(kinds))
    if kind == "bytes":
        damage = draw(byte_damage(template.fmt))
        return CurDamage("bytes damaged", damage, index)
    if kind == "amount":
        column = draw(st.sampled_from(["lineItem/UsageAmount", "lineItem/UnblendedCost"]))
        value = draw(
            st.one_of(
                st.sampled_from(["12x", "n/a", "1,5", "--1", "0x1F"]),
                st.text(alphabet="abcdefghij%$", min_size=1, max_size=10),
                HUGE.map(lambda z: "1" + z),
            )
        )
        return CurDamage(f"{column} = {value[:12]!r}", _cur_cell(column, value, row), index)
    if kind == "date":
        value = draw(st.sampled_from(["yesterday", "2026-13-01T00:00:00Z", "01/02/2026", "x"]))
        return CurDamage(
            f"usage start {value!r}", _cur_cell("lineItem/UsageStartDate", value, row), index
        )
    if kind == "missing-column":
        column = draw(
            st.sampled_from(
                [
                    "lineItem/UsageAccountId",
                    "lineItem/ProductCode",
                    "lineItem/UsageAmount",
                    "lineItem/UsageStartDate",
                    "lineItem/LineItemType",
                ]
            )
        )
        return CurDamage(f"no {column}", _cur_without(column), index)
    if kind == "not-utf8":
        junk = draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xe9t\xe9"]))
        edit = _raw_csv(lambda t: t.replace(b"Amazon", b"Amazon" + junk, 1))
        return CurDamage("not UTF-8", edit, index)
    if kind == "extra-cell":
        edit = _raw_csv(lambda t: t.replace(b"\n", b",extra\n", 2).replace(b",extra\n", b"\n", 1))
        return CurDamage("a row with an extra cell", edit, index)
    if kind == "quote":
        edit = _raw_csv(lambda t: t.replace(b"\n", b'\n"', 2).replace(b'\n"', b"\n", 1))
        return CurDamage("an unterminated quote", edit, index)
    if kind == "manifest-missing-file":
        return CurDamage("the manifest names a deleted file", _deleted, index)
    if kind == "manifest-garbage":
        content = draw(
            st.sampled_from([b"", b"{", b"[]", b'{"reportKeys": 3, "dataFiles": 3}', b"\xff\xfe"])
        )

        def garbage(root: Path, template: CurTemplate, key: str) -> Path:
            manifest = _cur_manifest(root, template, key)
            manifest.write_bytes(content)
            return manifest

        return CurDamage("a manifest that is not one", garbage, index)

    def no_id(root: Path, template: CurTemplate, key: str) -> Path:
        manifest = _cur_manifest(root, template, key)
        document = json.loads(manifest.read_text())
        document.pop("assemblyId" if template.generation == "legacy" else "executionId")
        manifest.write_text(json.dumps(document))
        return manifest

    return CurDamage("a manifest without its delivery id", no_id, index)


def cur_state_problems(run: TapRun, bad_period: str) -> list[str]:
    """Periods bookmarked that are damaged, or bookmarked before any of their rows went out."""
    emitted: Counter[str] = Counter()
    problems = []
    for message in run.messages:
        if message["type"] == "RECORD" and message["stream"] == CUR:
            emitted[message["record"]["billing_period"]] += 1
        elif message["type"] == "STATE":
            done = message["value"].get("bookmarks", {}).get(CUR, {}).get("periods", {})
            for period in done:
                if period == bad_period:
                    problems.append(f"{period} is bookmarked although a file of it is damaged")
                elif not emitted[period]:
                    problems.append(f"{period} is bookmarked before any of its rows went out")
    return problems


@st.composite
def cur_cases(
    draw: st.DrawFn, templates: dict[tuple[str, str], CurTemplate]
) -> tuple[CurTemplate, CurDamage]:
    template = templates[draw(st.sampled_from(CUR_VARIANTS))]
    return template, draw(cur_damages(template))


def test_malformed_cur_files_fail_in_one_line_naming_the_file(cur_tap, cur_templates):
    tap, catalog, _lines = cur_tap
    cases = examples(45, 120)
    tally = Tally("aws", planned=cases["max_examples"])

    @settings(**cases)
    @given(cur_cases(cur_templates))
    def case(example: tuple[CurTemplate, CurDamage]) -> None:
        template, damage = example
        key = template.files[damage.index % len(template.files)]
        folder = Path(tempfile.mkdtemp(prefix="cur-case-"))
        try:
            root = (folder / "cur").resolve()
            shutil.copytree(template.root, root)
            damaged = damage.change(root, template, key)
            run = tap.run(cur_config(root), catalog=catalog)
            tally.check_failure(
                f"{template.generation} {template.fmt}: {damage.what}",
                run,
                [str(damaged), damaged.relative_to(root).as_posix()],
                extra_state_check=lambda r: cur_state_problems(r, _period_of(key)),
            )
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    case()
    tally.finish()


@st.composite
def unusual_cur(draw: st.DrawFn) -> tuple[str, str, str, tuple[str, Any] | None]:
    """(what, legacy column, new text value, (record column, kept value) or None)."""
    kind = draw(st.sampled_from(["line-type", "region", "account", "negative", "zero"]))
    if kind == "line-type":
        value = draw(st.sampled_from(["SavingsPlanNegation", "BundledDiscount", "FutureType"]))
        return f"line item type {value}", "lineItem/LineItemType", value, ("line_item_type", value)
    if kind == "region":
        value = draw(st.sampled_from(["mx-central-1", "ap-southeast-7"]))
        return f"region {value}", "product/regionCode", value, ("region", value)
    if kind == "account":
        value = "0" * draw(st.integers(3, 11))
        value += "5" * (12 - len(value))
        return f"account {value}", "lineItem/UsageAccountId", value, ("usage_account_id", value)
    if kind == "negative":
        return "a negative cost (a credit)", "lineItem/UnblendedCost", "-3.25", None
    return "a zero usage amount", "lineItem/UsageAmount", "0", None


def test_unusual_but_valid_cur_files_load_with_their_values_kept(cur_tap, cur_templates):
    tap, catalog, line_count = cur_tap
    problems: list[str] = []

    cases = examples(10, 40)
    ran = Ran(cases["max_examples"])

    @settings(**cases)
    @given(st.sampled_from(CUR_VARIANTS), unusual_cur(), st.integers(0, 100), st.integers(0, 100))
    def case(variant: tuple[str, str], unusual: tuple, index: int, row: int) -> None:
        ran.count += 1
        template = cur_templates[variant]
        what, column, value, kept = unusual
        if template.generation == "2.0" and column == "product/regionCode":
            column = "product/region_code"  # CUR 2.0 has its own column for it
        key = template.files[index % len(template.files)]
        folder = Path(tempfile.mkdtemp(prefix="cur-unusual-"))
        try:
            root = (folder / "cur").resolve()
            shutil.copytree(template.root, root)
            _cur_cell(column, value, row)(root, template, key)
            run = tap.run(cur_config(root), catalog=catalog)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        records = run.records(CUR)
        label = f"{template.generation} {template.fmt}: {what}"
        if run.returncode != 0:
            problems.append(f"[{label}] failed: {run.error_lines[-1:]}")
        elif sum(r["line_item_count"] for r in records) != line_count:
            problems.append(f"[{label}] line items lost or added")
        elif kept and not any(r.get(kept[0]) == kept[1] for r in records):
            problems.append(f"[{label}] no record kept {kept[0]} = {kept[1]!r}")

    case()
    ran.check()
    assert not problems, "\n".join(problems[:20])
