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
import json
import math
import shutil
import string
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tap_aws_carbon.tap import TapAwsCarbon

from tests.aws.conftest import ACCESS_KEY
from tests.conftest import TEST_SECRETS
from tests.fakes._http import Reply, Request
from tests.fakes.aws_data import synthetic_rows, synthetic_water_rows
from tests.fakes.aws_sustainability import (
    OPERATIONS,
    ApiError,
    SustainabilityFake,
    _make_token,
    _read_token,
    _request_hash,
)
from tests.reliability.test_bad_input_harness import InProcessTap, Tally, examples

ACCOUNTS = ["012345678901", "123456789012"]
BUDGET = 60  # data requests per run; more means the tap is looping on a page token


# --- generated JSON ----------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=5,
)
HUGE = st.integers(20_000, 400_000).map(lambda n: "Z" * n)


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
        # Headers and body go out in two writes; without this, delayed ACKs add ~40 ms each.
        self._server.RequestHandlerClass.disable_nagle_algorithm = True  # type: ignore[union-attr]
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


def _json(body: Any) -> Reply:
    return Reply(200, json.dumps(body, allow_nan=True).encode())


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
        return _json(body)

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
        return Corruption(f"JSON {type(value).__name__} body", lambda _b, _r: _json(value))
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
        return Corruption("no Results key", lambda _b, _r: _json(other))
    if kind == "results-type":
        # An empty object or string would iterate as an empty list: botocore reads it as one.
        value = draw(not_of(list).filter(lambda v: not (isinstance(v, dict | str) and not v)))
        return Corruption(
            f"Results is {type(value).__name__}", lambda b, _r: _json({**b, "Results": value})
        )
    token = draw(not_of(str).filter(lambda v: v is not None))
    return Corruption(
        f"NextToken is {type(token).__name__}", lambda b, _r: _json({**b, "NextToken": token})
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
            return _json(body)

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
        value = "x" + draw(st.text(alphabet="qxkvbjg_", max_size=15))
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
    if kind == "empty":
        return _item_change(f"empty {name}", _set(path, ""), position)
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
            lambda _b, r: _json({"Results": [], "NextToken": _token_here(r)}),
            sticky=True,
        )
    token = draw(st.text(alphabet=string.ascii_letters + "!~", min_size=1, max_size=40))
    return Corruption(
        "empty page, unknown NextToken",
        lambda _b, _r: _json({"Results": [], "NextToken": token}),
    )


def api_corruptions(api: Api, kinds: tuple[str, ...]) -> st.SearchStrategy[Corruption]:
    return st.one_of(
        raw_bodies(), top_level(), items(api), periods(), dimensions(), values(api, kinds), paging()
    )


@pytest.fixture(scope="module")
def api_fake() -> Iterator[CorruptingFake]:
    """Three months of carbon and two years of water data for two accounts, small pages."""
    with CorruptingFake(
        synthetic_rows(date(2024, 1, 1), 3, accounts=ACCOUNTS),
        water_rows=synthetic_water_rows(2022, 2, accounts=ACCOUNTS),
        page_size_cap=15,
        credentials={ACCESS_KEY: TEST_SECRETS["aws_secret_access_key"]},
    ) as server:
        yield server  # type: ignore[misc]


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="bad-input-aws-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


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
    tally = Tally("aws", planned=examples(40, 260)["max_examples"])

    @settings(**examples(40, 260))
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
        return _json(body)

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
            return _json(body)

        return Unusual(f"an extra field ({where})", add)
    if kind == "type":
        name = "TOTAL_SCOPE_3_CATEGORY_1_" + api.values_key.upper()

        def new_type(body: dict[str, Any], _request: Request) -> Reply:
            item = body["Results"][position % len(body["Results"])]
            item[api.values_key][name] = {"Value": 1.5, "Unit": api.unit}
            return _json(body)

        return Unusual("a value type the tap did not ask for", new_type)

    def empty_first(_body: dict[str, Any], request: Request) -> Reply:
        return _json({"Results": [], "NextToken": _token_here(request, fresh=True)})

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

    @settings(**examples(15, 60))
    @given(unusual_cases(requests))
    def case(example: tuple[Api, Unusual, int]) -> None:
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
    assert not problems, "\n".join(problems[:20])
