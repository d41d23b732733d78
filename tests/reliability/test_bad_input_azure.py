"""tap-azure-emissions against malformed and merely unusual ARM answers.

The Carbon Optimization reports (monthly summary, item details, overall summary with its access
decisions), the data window, the subscriptions list and Cost Management query answers are served
over HTTPS by a subclass of the fake: Entra ID issues the token and ARM checks it and validates
each request as always, then one answer per run passes through the example's corruption.
Malformed answers must end in one clear line with no bookmark past unread data; unusual ones
must load with their values kept. Judge and in-process runner: `test_bad_input_harness`.
"""

from __future__ import annotations

import base64
import json
import math
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tap_azure_emissions.tap import TapAzureEmissions

from tests.azure.conftest import CLIENT_ID, TENANT, tap_config
from tests.badinput import SCALARS, containers, huge_text, json_reply, letters, short
from tests.conftest import TEST_SECRETS
from tests.fakes._http import Reply, Request
from tests.fakes.azure_arm import AzureFake, _binding, _make_token, _read_token
from tests.fakes.azure_data import subscription_ids, synthetic_carbon_rows, synthetic_cost_rows
from tests.reliability.test_bad_input_harness import InProcessTap, Ran, Tally, examples

SUBSCRIPTIONS = subscription_ids(2, seed=41)
COST_FIRST = date.today() - timedelta(days=12)
BUDGET = 80  # ARM requests per run; more means the tap is looping on a page token
STREAMS = [
    "emissions_monthly",
    "emissions_by_subscription",
    "emissions_by_resource_group",
    "emissions_by_resource",
    "emissions_by_resource_type",
    "emissions_by_location",
    "subscription_access",
    "cost_daily",
]
HELPERS = {  # what an error about each answer must name, besides the stream being synced
    "window": ["data window"],
    "subscriptions": ["subscription_list", "subscriptions list"],
    "overall": ["subscription_access"],
    "monthly": [],
    "items": [],
    "cost": [],
}

# --- generated JSON ----------------------------------------------------------------------------

CONTAINERS = containers(SCALARS)
HUGE = huge_text(300_000)
NOT_TEXT = st.one_of(
    st.booleans(), st.integers(-(10**9), 10**9), st.floats(allow_nan=False), CONTAINERS
)
NOT_NUMBER = st.one_of(
    st.booleans(),
    st.text(max_size=10),
    HUGE,
    CONTAINERS,
    st.sampled_from([math.nan, math.inf, -math.inf]),
)
NOT_DATE = st.one_of(
    NOT_TEXT,
    HUGE,
    letters(max_size=10),
    st.sampled_from(["2025-13-01", "2025-02-30", "01/03/2026"]),
)
NOT_USAGE_DATE = st.one_of(
    st.booleans(),
    st.integers(0, 10**7 - 1),  # fewer than 8 digits: not yyyymmdd
    st.sampled_from([20261340, 20250230, 2026.5]),
    st.text(alphabet=string.ascii_letters, min_size=1, max_size=8),
    CONTAINERS,
)


@dataclass(frozen=True)
class Plan:
    """One generated corruption, read against whichever answer it meets (see `corrupt`)."""

    family: str  # raw | structure | field | paging
    pick: int  # which option of the family
    item: int  # which item or row
    missing: bool  # field family: drop a required field instead of mistyping one
    wrong: dict[str, Any]  # a wrong value per expected kind: text, number, date, usage_date
    raw: bytes
    paging: str = "loop"  # paging family: loop | garbage | elsewhere

    @property
    def sticky(self) -> bool:
        """A loop keeps answering later pages of the same API with the same pointer."""
        return self.family == "paging" and self.paging == "loop"


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    family = draw(st.sampled_from(["raw", "structure", "field", "field", "paging"]))
    raw = draw(
        st.sampled_from(
            [
                *(b"", b"<html><body>Bad Gateway</body></html>", b"[]", b"null", b'"value"'),
                *(b"42", b"\xff", b"\xc3\x28", b"\xed\xa0\x80"),  # the last three: not UTF-8
            ]
        )
    )
    return Plan(
        family=family,
        pick=draw(st.integers(0, 1000)),
        item=draw(st.integers(0, 1000)),
        missing=draw(st.booleans()),
        wrong={
            "text": draw(NOT_TEXT),
            "guid": draw(st.one_of(NOT_TEXT, st.text(min_size=1, max_size=12), HUGE)),
            "number": draw(NOT_NUMBER),
            "date": draw(NOT_DATE),
            "usage_date": draw(NOT_USAGE_DATE),
        },
        raw=raw,
        paging=draw(st.sampled_from(["loop", "garbage", "elsewhere"])),
    )


# Fields each answer's items carry: (name, kind, required). Required ones may also go missing.
FIELDS: dict[str, list[tuple[str, str, bool]]] = {
    "monthly": [
        ("date", "date", True),
        ("dataType", "text", False),
        ("latestMonthEmissions", "number", True),
        ("previousMonthEmissions", "number", False),
        ("monthOverMonthEmissionsChangeRatio", "number", False),
        ("monthlyEmissionsChangeValue", "number", False),
        ("carbonIntensity", "number", False),
    ],
    "items": [
        ("itemName", "text", False),
        ("categoryType", "text", False),
        ("dataType", "text", False),
        ("subscriptionId", "text", False),
        ("resourceGroupUrl", "text", False),
        ("resourceId", "text", False),
        ("resourceGroup", "text", False),
        ("location", "text", False),
        ("resourceType", "text", False),
        ("latestMonthEmissions", "number", True),
        ("previousMonthEmissions", "number", False),
    ],
    "overall": [("subscriptionId", "text", True), ("decision", "text", False)],
    "subscriptions": [("subscriptionId", "guid", True)],
    "window": [("startDate", "date", True), ("endDate", "date", True)],
    "cost": [
        ("UsageDate", "usage_date", True),
        ("Cost", "number", True),
        ("Currency", "text", True),
        ("ResourceLocation", "text", True),
        ("ServiceName", "text", True),
    ],
}
# The item field that keys each category's rows (dropping it leaves the row without a key).
ITEM_KEYS = {
    "Subscription": "itemName",
    "ResourceGroup": "resourceGroupUrl",
    "Resource": "resourceId",
    "ResourceType": "itemName",
    "Location": "itemName",
}


Change = Callable[["Plan", str, Reply, Request, AzureFake], tuple[Reply, str]]


class CorruptingAzure(AzureFake):
    """The fake, with one ARM answer per run (or, for paging loops, every later one of the same
    API) passed through the example's plan."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arm(None, 0)

    def arm(self, plan: Plan | None, at: int, change: Change | None = None) -> None:
        """Corrupt answer `at` of the next run (`change`: how; default `corrupt`)."""
        self.plan, self.at, self.calls, self.over_budget = plan, at, 0, False
        self.change: Change = change or corrupt
        self.served: list[tuple[str, int]] = []  # (api, items) per ARM answer
        self.done: str | None = None  # what the plan did, for reports
        self.hit_api: str | None = None

    def handle(self, request: Request) -> Reply:
        reply = super().handle(request)  # token, bearer check, request validation: as always
        api = _api(request)
        if api is None or reply.status not in (200, 204):
            return reply
        index, self.calls = self.calls, self.calls + 1
        if self.calls > BUDGET:
            self.over_budget = True
            return Reply(400, {"error": {"code": "BudgetExhausted", "message": "request budget"}})
        self.served.append((api, _size(api, reply.body)))
        if self.plan is None:
            return reply
        sticky = self.plan.sticky and index > self.at and api == self.hit_api
        if index != self.at and not sticky:
            return reply
        self.hit_api = api
        result, self.done = self.change(self.plan, api, reply, request, self)
        return result


def _api(request: Request) -> str | None:
    path = request.path
    if path == "/subscriptions":
        return "subscriptions"
    if path.endswith("/queryCarbonEmissionDataAvailableDateRange"):
        return "window"
    if path.endswith("/carbonEmissionReports"):
        report = request.json().get("reportType")
        return {"MonthlySummaryReport": "monthly", "ItemDetailsReport": "items"}.get(
            report, "overall"
        )
    if path.endswith("/Microsoft.CostManagement/query"):
        return "cost"
    return None


def _size(api: str, body: Any) -> int:
    if not isinstance(body, dict):
        return 0
    if api == "cost":
        return len((body.get("properties") or {}).get("rows") or [])
    if api == "window":
        return 1
    if api == "overall":
        return len(body.get("subscriptionAccessDecisionList") or [])
    return len(body.get("value") or [])


def corrupt(
    plan: Plan, api: str, reply: Reply, request: Request, fake: AzureFake
) -> tuple[Reply, str]:
    """The plan applied to this answer: always something the tap must refuse."""
    body = json.loads(json.dumps(reply.body)) if reply.body is not None else {}
    if plan.family == "raw":
        return _raw(plan, api, body)
    if plan.family == "paging" and api in ("items", "cost", "subscriptions"):
        return _paging(plan, api, body, request, fake)
    if plan.family == "field" and _items(api, body):
        return _field(plan, api, body)
    return _structure(plan, api, body)


def _raw(plan: Plan, api: str, body: Any) -> tuple[Reply, str]:
    if len(plan.raw) <= 3 and plan.raw[:1] >= b"\x80":
        text = json.dumps(body).encode()
        at = text.index(b'"') + 1
        return Reply(200, text[:at] + plan.raw + text[at:]), "an answer that is not UTF-8"
    if plan.raw.startswith(b"<html"):
        return Reply(200, plan.raw, {"Content-Type": "text/html"}), "an HTML page"
    if plan.raw == b"":
        return Reply(200, b""), "an empty 200 answer"
    return Reply(200, plan.raw), f"JSON {plan.raw.decode()} instead of an object"


def _items(api: str, body: dict[str, Any]) -> list[Any]:
    if api == "cost":
        return body.get("properties", {}).get("rows") or []
    if api == "window":
        return [body]
    if api == "overall":
        return body.get("subscriptionAccessDecisionList") or []
    return body.get("value") or []


def _field(plan: Plan, api: str, body: dict[str, Any]) -> tuple[Reply, str]:
    rows = _items(api, body)
    row = rows[plan.item % len(rows)]
    if api == "cost":
        names = [c["name"] for c in body["properties"]["columns"]]
        name, kind, _required = FIELDS["cost"][plan.pick % len(FIELDS["cost"])]
        name = "Cost" if name == "Cost" and "Cost" in names else name
        if plan.missing:
            at = names.index(name)
            del body["properties"]["columns"][at]
            for cells in body["properties"]["rows"]:
                del cells[at]
            return json_reply(body), f"no {name} column"
        row[names.index(name)] = plan.wrong[kind]
        return json_reply(body), f"{name} = {short(plan.wrong[kind])}"
    present = [f for f in FIELDS[api] if f[0] in row]
    if plan.missing:
        required = [f[0] for f in present if f[2]]
        if api == "items":
            required.append(ITEM_KEYS[row["categoryType"]])
        name = required[plan.pick % len(required)]
        del row[name]
        return json_reply(body), f"no {name}"
    name, kind, _required = present[plan.pick % len(present)]
    row[name] = plan.wrong[kind]
    return json_reply(body), f"{name} = {short(plan.wrong[kind])}"


def _structure(plan: Plan, api: str, body: dict[str, Any]) -> tuple[Reply, str]:
    """A container of the wrong type, an item that is not an object, a row too long."""
    options: list[tuple[str, Callable[[], None]]] = []
    wrong = plan.wrong["text"]  # never a list, never null
    if api in ("monthly", "items", "subscriptions"):
        options.append(("value is not a list", lambda: body.__setitem__("value", wrong)))
        if body.get("value"):
            options.append(
                ("a value item is not an object", lambda: body["value"].__setitem__(0, wrong))
            )
    if api in ("monthly", "items", "overall"):
        key = "subscriptionAccessDecisionList"
        options.append((f"{key} is not a list", lambda: body.__setitem__(key, wrong)))
    if api == "cost":
        props = body.setdefault("properties", {})
        options += [
            ("properties is not an object", lambda: body.__setitem__("properties", wrong)),
            ("columns is not a list", lambda: props.__setitem__("columns", wrong)),
            ("rows is not a list", lambda: props.__setitem__("rows", wrong)),
            ("a column has no name", lambda: props["columns"][0].pop("name")),
        ]
        if props.get("rows"):
            options += [
                ("a row is not a list", lambda: props["rows"].__setitem__(0, wrong)),
                ("a row has an extra value", lambda: props["rows"][0].append("extra")),
            ]
    if api == "window":
        options += [
            (
                "the window ends before it starts",
                lambda: body.update(startDate="2026-03-01", endDate="2025-04-01"),
            ),
            ("the window has no dates", body.clear),
        ]
    what, change = options[plan.pick % len(options)]
    change()
    return json_reply(body), what


def _paging(
    plan: Plan, api: str, body: dict[str, Any], request: Request, fake: AzureFake
) -> tuple[Reply, str]:
    """An empty page whose next-page pointer loops, is garbage, or leads to another host."""
    here = _next_here(api, request, fake)
    if plan.paging == "loop":
        pointer, what = here, "empty pages pointing at themselves"
    elif plan.paging == "garbage":
        pointer = plan.wrong["text"] if api == "items" else "not a url"
        what = f"an empty page with next pointer {short(pointer)}"
    else:
        pointer = (
            "bm90LWEtdG9rZW4="
            if api == "items"
            else f"https://elsewhere.example{urlsplit(here).path}"
        )
        what = "an empty page pointing at an unknown token or another host"
    if api == "items":
        body.update(value=[], skipToken=pointer)
    elif api == "cost":
        body["properties"].update(rows=[], nextLink=pointer)
    else:
        body.update(value=[], nextLink=pointer)
    return json_reply(body), what


def _next_here(api: str, request: Request, fake: AzureFake, *, fresh: bool = False) -> str:
    """A next-page pointer to the page this request asked for; `fresh`: spelled differently."""
    if api == "items":
        body = request.json()
        binding = _binding(body)
        offset = _read_token(body.get("skipToken"), binding)
        return _token(offset, binding, fresh)
    query = parse_qs(request.query)
    if api == "subscriptions":
        offset = int((query.get("$skiptoken") or ["0"])[0])
        return f"{fake.url}/subscriptions?api-version=2022-12-01&$skiptoken={offset}"
    scope = request.path[1 : -len("/providers/Microsoft.CostManagement/query")]
    binding = _binding({**request.json(), "__scope__": scope})
    offset = _read_token((query.get("$skiptoken") or [None])[0], binding)
    return (
        f"{fake.url}{request.path}?api-version={query['api-version'][0]}"
        f"&$skiptoken={quote(_token(offset, binding, fresh))}"
    )


def _token(offset: int, binding: str, fresh: bool) -> str:
    if not fresh:
        return _make_token(offset, binding)
    inner = json.dumps([offset, binding], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(inner).decode()


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def azure_fake() -> Iterator[CorruptingAzure]:
    """Two subscriptions, 12 months of carbon data, 10 recent days of cost, small pages."""
    fake = CorruptingAzure(
        synthetic_carbon_rows(SUBSCRIPTIONS, date(2025, 4, 1), 12, resources=3),
        synthetic_cost_rows(SUBSCRIPTIONS, COST_FIRST, 10),
        subscriptions=SUBSCRIPTIONS,
        tenant=TENANT,
        clients={CLIENT_ID: TEST_SECRETS["azure_client_secret"]},
        item_page_cap=3,
        cost_page_size=6,
        subscription_page_size=1,
    )
    with fake:
        yield fake


def azure_config(fake: AzureFake, listed: bool) -> dict[str, Any]:
    """Two months, two scopes, recent cost days; `listed`: subscriptions from the list call."""
    config = tap_config(
        fake,
        start_month="2026-02-01",
        carbon_scopes=["Scope1", "Scope3"],
        cost_start_date=COST_FIRST.isoformat(),
        max_attempts=1,
    )
    if not listed:
        config["subscription_ids"] = SUBSCRIPTIONS
    return config


@dataclass
class AzureSetup:
    tap: InProcessTap
    catalogs: dict[str, Any]
    served: dict[tuple[str, bool], list[tuple[str, int]]]  # clean run's answers per case
    records: dict[tuple[str, bool], int]


@pytest.fixture(scope="module")
def azure_tap(azure_fake, workdir) -> AzureSetup:
    tap = InProcessTap(TapAzureEmissions, workdir, env={"REQUESTS_CA_BUNDLE": azure_fake.ca_file})
    catalogs = {s: tap.catalog(azure_config(azure_fake, False), [s]) for s in STREAMS}
    served, records = {}, {}
    for stream in STREAMS:
        for listed in (False, True):
            azure_fake.arm(None, 0)
            clean = tap.run(azure_config(azure_fake, listed), catalog=catalogs[stream])
            assert clean.returncode == 0, clean.stderr[-3000:]
            assert clean.records(stream), stream
            served[(stream, listed)] = list(azure_fake.served)
            records[(stream, listed)] = len(clean.records(stream))
    return AzureSetup(tap, catalogs, served, records)


@st.composite
def azure_cases(draw: st.DrawFn, setup: AzureSetup) -> tuple[str, bool, int, Plan]:
    stream = draw(st.sampled_from(STREAMS))
    listed = draw(st.booleans())
    served = setup.served[(stream, listed)]
    at = draw(st.sampled_from([i for i, (_api, size) in enumerate(served) if size]))
    return stream, listed, at, draw(plans())


def test_malformed_arm_answers_fail_in_one_line(azure_fake, azure_tap):
    setup = azure_tap
    cases = examples(110, 520)
    tally = Tally("azure", planned=cases["max_examples"])

    @settings(**cases)
    @given(azure_cases(setup))
    def case(example: tuple[str, bool, int, Plan]) -> None:
        stream, listed, at, plan = example
        api = setup.served[(stream, listed)][at][0]
        azure_fake.arm(plan, at)
        run = setup.tap.run(azure_config(azure_fake, listed), catalog=setup.catalogs[stream])
        what = f"{stream}{' (listed)' if listed else ''}, {api} answer {at + 1}: {azure_fake.done}"
        if azure_fake.over_budget:
            tally.tried += 1
            tally.unclear.append(f"[{what}] the tap kept requesting pages")
            return
        tally.check_failure(what, run, [stream, *HELPERS[api]])

    case()
    tally.finish()


# --- merely unusual answers ----------------------------------------------------------------------

# Per answer: a figure the tap keeps as it is, and the record column it lands in.
FIGURES = {
    "monthly": ("latestMonthEmissions", "latest_month_emissions_kgco2e"),
    "items": ("latestMonthEmissions", "latest_month_emissions_kgco2e"),
    "cost": ("Cost", "cost"),
}
NEW_TEXT = {
    "monthly": ("dataType", "data_type"),
    "items": ("dataType", "data_type"),
    "cost": ("ServiceName", "service_name"),
}


@dataclass(frozen=True)
class UnusualPlan:
    kind: str  # extra | figure | text | empty-page
    item: int
    figure: float
    label: str


@st.composite
def unusual_plans(draw: st.DrawFn) -> UnusualPlan:
    return UnusualPlan(
        kind=draw(st.sampled_from(["extra", "figure", "text", "empty-page"])),
        item=draw(st.integers(0, 1000)),
        figure=draw(st.sampled_from([0, 0.0, -0.5, -1234.567891, 1e-9])),
        label=draw(st.sampled_from(["FutureItemDetailsData", "Azure Quantum Compute", "Ünïcode"])),
    )


def apply_unusual(
    plan: UnusualPlan, api: str, reply: Reply, request: Request, fake: AzureFake
) -> tuple[Reply, tuple[str, Any] | None]:
    """The change, and (record column, value) some record must then carry (None: none)."""
    body = json.loads(json.dumps(reply.body))
    rows = _items(api, body)
    kind = plan.kind if api in FIGURES else "extra"
    if kind == "empty-page" and api not in ("items", "cost", "subscriptions"):
        kind = "extra"
    if kind == "extra":
        body["futureTopLevelField"] = {"added": "by a newer api-version"}
        if rows and isinstance(rows[0], dict):
            rows[0]["futureField"] = [1, "two"]
        return json_reply(body), None
    if kind == "empty-page":
        pointer = _next_here(api, request, fake, fresh=True)
        if api == "items":
            body.update(value=[], skipToken=pointer)
        elif api == "cost":
            body["properties"].update(rows=[], nextLink=pointer)
        else:
            body.update(value=[], nextLink=pointer)
        return json_reply(body), None
    field, column = (FIGURES if kind == "figure" else NEW_TEXT)[api]
    value = plan.figure if kind == "figure" else plan.label
    row = rows[plan.item % len(rows)]
    if api == "cost":
        names = [c["name"] for c in body["properties"]["columns"]]
        row[names.index(field if field in names else "PreTaxCost")] = value
    else:
        row[field] = value
    return json_reply(body), (column, value)


def test_unusual_but_valid_arm_answers_load_with_their_values_kept(azure_fake, azure_tap):
    setup = azure_tap
    problems: list[str] = []

    cases = examples(20, 60)
    ran = Ran(cases["max_examples"])

    @settings(**cases)
    @given(st.sampled_from(STREAMS), st.booleans(), unusual_plans(), st.data())
    def case(stream: str, listed: bool, plan: UnusualPlan, data: st.DataObject) -> None:
        ran.count += 1
        served = setup.served[(stream, listed)]
        at = data.draw(st.sampled_from([i for i, (_api, size) in enumerate(served) if size]))
        api = served[at][0]
        kept: list[tuple[str, Any] | None] = []

        def change(_plan: Plan, api_: str, reply: Reply, request: Request, fake: AzureFake):
            result, expect = apply_unusual(plan, api_, reply, request, fake)
            kept.append(expect)
            return result, plan.kind

        azure_fake.arm(Plan("unusual", 0, 0, False, {}, b""), at, change)
        run = setup.tap.run(azure_config(azure_fake, listed), catalog=setup.catalogs[stream])
        records = run.records(stream)
        what = f"{stream}, {api} answer {at + 1}: {plan.kind}"
        expected = kept[0] if kept else None
        if run.returncode != 0:
            problems.append(f"[{what}] failed: {run.error_lines[-1:]}")
        elif expected is None and len(records) != setup.records[(stream, listed)]:
            problems.append(
                f"[{what}] {len(records)} records, not {setup.records[(stream, listed)]}"
            )
        elif expected and not any(r.get(expected[0]) == expected[1] for r in records):
            problems.append(f"[{what}] no record kept {expected[0]} = {expected[1]!r}")

    case()
    ran.check()
    assert not problems, "\n".join(problems[:20])
