"""cost_daily and usage_daily against the Cost Management fake: columns by name, paging, QPU
throttling, the query shapes the API accepts."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs

from tap_azure_emissions.periods import months_through, today

from tests.azure.conftest import (
    CLIENT_ID,
    COST_DAYS,
    COST_FIRST,
    EXECUTABLE,
    TENANT,
    make_fake,
    tap_config,
)
from tests.conftest import TEST_SECRETS
from tests.fakes.azure_data import CostRow

STREAM = "cost_daily"
KEY = ("scope", "usage_date", "resource_location", "service_name", "currency", "cost_type")


def expected(rows: list[CostRow], first: date = COST_FIRST) -> dict[tuple, Decimal]:
    totals: dict[tuple, Decimal] = defaultdict(Decimal)
    for r in rows:
        if r.day >= first:
            key = (f"subscriptions/{r.subscription_id}", r.day.isoformat(), r.currency)
            totals[key] += Decimal(repr(r.cost))
    return dict(totals)


def loaded(records: list[dict]) -> dict[tuple, Decimal]:
    totals: dict[tuple, Decimal] = defaultdict(Decimal)
    for r in records:
        totals[(r["scope"], r["usage_date"], r["currency"])] += Decimal(repr(r["cost"]))
    return dict(totals)


def test_daily_cost_is_mapped_by_column_name_with_exact_totals(fake, tap_runner):
    run = tap_runner(EXECUTABLE, tap_config(fake))
    assert run.returncode == 0, run.stderr[-3000:]
    records = run.records(STREAM)
    keys = [tuple(r[k] for k in KEY) for r in records]
    assert (
        len(keys)
        == len(set(keys))
        == len({(r.subscription_id, r.day, r.location, r.service) for r in fake.cost_rows})
    )
    assert loaded(records) == expected(fake.cost_rows)
    assert {r["currency"] for r in records} == {"EUR", "USD"}
    assert {r["cost_type"] for r in records} == {"ActualCost"}
    # The fake answers ServiceName before ResourceLocation: a positional mapping would swap them.
    assert {r["resource_location"] for r in records} <= {
        "westeurope",
        "northeurope",
        "eastus",
        "swedencentral",
    }


def test_queries_are_one_month_per_scope_grouped_by_location_and_service(fake, tap_runner):
    assert tap_runner(EXECUTABLE, tap_config(fake)).returncode == 0
    requests = fake.cost_requests()
    assert any("$skiptoken" in r.query for r in requests), "nextLink pages must be followed"
    first_pages = [r for r in requests if "$skiptoken" not in r.query]
    periods = defaultdict(list)
    for request in first_pages:
        body = request.json()
        assert body["type"] == "ActualCost" and body["timeframe"] == "Custom"
        assert body["dataset"]["granularity"] == "Daily"
        assert [g["name"] for g in body["dataset"]["grouping"]] == [
            "ResourceLocation",
            "ServiceName",
        ]
        start, end = body["timePeriod"]["from"], body["timePeriod"]["to"]
        assert start[:7] == end[:7], "one calendar month (1 QPU) per query"
        periods[request.path].append(start[:10])
    assert len(periods) == len(fake.subscriptions)
    assert all(p[0] == COST_FIRST.isoformat() and p[1] == "2026-02-01" for p in periods.values())
    for request in requests:
        assert parse_qs(request.query)["api-version"] == ["2025-03-01"]


def test_qpu_throttling_waits_for_the_longest_retry_after_header(fake, tap_runner):
    fake.throttle_next(
        "cost",
        1,
        {
            "x-ms-ratelimit-microsoft.costmanagement-qpu-retry-after": "1",
            "x-ms-ratelimit-microsoft.costmanagement-entity-retry-after": "2",
        },
    )
    run = tap_runner(EXECUTABLE, tap_config(fake))
    assert run.returncode == 0, run.stderr[-3000:]
    times = [t for t, path in fake.request_times if path.endswith("CostManagement/query")]
    assert times[1] - times[0] >= 2.0
    assert loaded(run.records(STREAM)) == expected(fake.cost_rows)


def test_rerun_reads_from_the_bookmark_minus_the_lookback_days(fake, tap_runner):
    first = tap_runner(EXECUTABLE, tap_config(fake))
    partitions = first.final_state["bookmarks"][STREAM]["partitions"]
    last_day = max(r.day for r in fake.cost_rows).isoformat()
    assert {p["replication_key_value"] for p in partitions} == {last_day}
    fake.requests.clear()
    second = tap_runner(EXECUTABLE, tap_config(fake, cost_lookback_days=2), state=first.final_state)
    assert second.returncode == 0, second.stderr[-3000:]
    froms = sorted({r.json()["timePeriod"]["from"][:10] for r in fake.cost_requests()})
    # last day 2026-02-08 minus 2 days, then one query per month up to today
    assert froms[0] == "2026-02-06" and all(f.endswith("-01") for f in froms[1:])
    assert len(froms) == 1 + len(list(months_through(date(2026, 3, 1), today())))
    assert {r["usage_date"] for r in second.records(STREAM)} == {
        "2026-02-06",
        "2026-02-07",
        "2026-02-08",
    }
    assert COST_DAYS == 20


def test_missing_cost_role_fails_fast_naming_cost_management_reader(fake, tap_runner):
    fake.faults.cost_forbidden = True
    run = tap_runner(EXECUTABLE, tap_config(fake))
    assert run.returncode == 1
    assert len(fake.cost_requests()) == 1
    assert "Cost Management Reader" in run.error_lines[-1]
    assert "Traceback" not in run.stderr


def test_billing_scopes_from_settings_replace_the_subscriptions(fake, tap_runner):
    scope = "providers/Microsoft.Billing/billingAccounts/1234567"
    run = tap_runner(EXECUTABLE, tap_config(fake, cost_scopes=[f"/{scope}"]))
    assert run.returncode == 0, run.stderr[-3000:]
    assert {r.path for r in fake.cost_requests()} == {
        f"/{scope}/providers/Microsoft.CostManagement/query"
    }
    records = run.records(STREAM)
    assert {r["scope"] for r in records} == {scope}
    total = sum(Decimal(repr(r["cost"])) for r in records)
    assert total == sum(Decimal(repr(r.cost)) for r in fake.cost_rows)


USAGE = "usage_daily"
USAGE_KEY = ("scope", "usage_date", "resource_location", "meter", "currency", "cost_type")


def usage_expected(rows: list[CostRow]) -> dict[tuple, tuple[Decimal, Decimal]]:
    totals: dict[tuple, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for r in rows:
        key = (f"subscriptions/{r.subscription_id}", r.day.isoformat(), r.location, r.meter)
        totals[key][0] += Decimal(repr(r.quantity))
        totals[key][1] += Decimal(repr(r.cost))
    return {k: (round(q, 6), round(c, 6)) for k, (q, c) in totals.items()}


def test_usage_daily_sums_quantity_and_cost_per_location_and_meter(fake, tap_runner):
    run = tap_runner(EXECUTABLE, tap_config(fake, usage_quantities=True))
    assert run.returncode == 0, run.stderr[-3000:]
    records = run.records(USAGE)
    keys = [tuple(r[k] for k in USAGE_KEY) for r in records]
    assert len(keys) == len(set(keys))
    got = {
        (r["scope"], r["usage_date"], r["resource_location"], r["meter"]): (
            round(Decimal(repr(r["usage_quantity"])), 6),
            round(Decimal(repr(r["cost"])), 6),
        )
        for r in records
    }
    assert got == usage_expected(fake.cost_rows)
    assert {r["meter"] for r in records} == {r.meter for r in fake.cost_rows} != {""}
    # cost_daily still reads the same money, grouped by service
    assert loaded(run.records(STREAM)) == expected(fake.cost_rows)
    usage_queries = [
        r.json()["dataset"]
        for r in fake.cost_requests()
        if "$skiptoken" not in r.query
        and [g["name"] for g in r.json()["dataset"]["grouping"]] == ["ResourceLocation", "Meter"]
    ]
    # one query (1 QPU) per scope and month, as cost_daily
    months = len(list(months_through(COST_FIRST.replace(day=1), today())))
    assert len(usage_queries) == len(fake.subscriptions) * months
    assert all(
        sorted(m["name"] for m in q["aggregation"].values()) == ["Cost", "UsageQuantity"]
        for q in usage_queries
    )


def test_usage_daily_is_off_unless_asked_for_and_then_costs_no_query(fake, tap_runner):
    run = tap_runner(EXECUTABLE, tap_config(fake))
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.records(USAGE) == []
    assert "Stream usage_daily skipped: set usage_quantities" in run.stderr
    groupings = {
        tuple(g["name"] for g in r.json()["dataset"]["grouping"]) for r in fake.cost_requests()
    }
    assert groupings == {("ResourceLocation", "ServiceName")}


def test_the_fake_refuses_what_the_query_api_refuses(fake):
    """Three groupings, UnitOfMeasure outside a Customer Agreement, a third aggregation."""
    import requests

    from tests.fakes.azure_arm import AzureFake

    def post(server: AzureFake, grouping: list[str], measures: list[str]) -> int:
        token = requests.post(
            f"{server.url}/{TENANT}/oauth2/v2.0/token",
            data={
                "client_id": CLIENT_ID,
                "client_secret": TEST_SECRETS["azure_client_secret"],
                "grant_type": "client_credentials",
                "scope": "https://management.azure.com/.default",
            },
            verify=server.ca_file,
            timeout=10,
        ).json()["access_token"]
        body = {
            "type": "ActualCost",
            "timeframe": "Custom",
            "timePeriod": {"from": "2026-01-20T00:00:00Z", "to": "2026-01-31T23:59:59Z"},
            "dataset": {
                "granularity": "Daily",
                "aggregation": {
                    f"m{i}": {"name": m, "function": "Sum"} for i, m in enumerate(measures)
                },
                "grouping": [{"type": "Dimension", "name": g} for g in grouping],
            },
        }
        return requests.post(
            f"{server.url}/subscriptions/{server.subscriptions[0]}"
            "/providers/Microsoft.CostManagement/query?api-version=2025-03-01",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            verify=server.ca_file,
            timeout=10,
        ).status_code

    assert post(fake, ["ResourceLocation", "Meter"], ["Cost", "UsageQuantity"]) == 200
    assert post(fake, ["ResourceLocation", "Meter", "ServiceName"], ["Cost"]) == 400
    assert post(fake, ["Meter", "UnitOfMeasure"], ["Cost"]) == 400
    assert post(fake, ["Meter"], ["Cost", "UsageQuantity", "PreTaxCost"]) == 400
    with make_fake(agreement="MCA", cost_page_size=7) as mca:
        assert post(mca, ["Meter", "UnitOfMeasure"], ["Cost", "UsageQuantity"]) == 200
