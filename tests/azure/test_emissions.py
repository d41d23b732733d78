"""Carbon Optimization streams against the local ARM fake, through the real CLI, over HTTPS."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal

from tests.azure.conftest import EXECUTABLE, make_fake, tap_config
from tests.fakes.azure_data import CarbonRow

ITEM_STREAMS = {
    "emissions_by_subscription": ("Subscription", ("subscription_id",)),
    "emissions_by_resource_group": ("ResourceGroup", ("resource_group_url",)),
    "emissions_by_resource": ("Resource", ("resource_id",)),
    "emissions_by_resource_type": ("ResourceType", ("resource_type",)),
    "emissions_by_location": ("Location", ("location",)),
}
LATEST = "latest_month_emissions_kgco2e"


def expected_totals(
    rows: list[CarbonRow], denied: set[str] = frozenset(), months: set[date] | None = None
) -> dict[tuple[str, str], Decimal]:
    """(month, scope) -> exact kgCO2e total of the fake's resource rows."""
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for r in rows:
        if r.subscription_id not in denied and (months is None or r.month in months):
            totals[(r.month.isoformat(), r.scope)] += Decimal(repr(r.emissions))
    return dict(totals)


def loaded_totals(records: list[dict]) -> dict[tuple[str, str], Decimal]:
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for r in records:
        totals[(r["month"], r["scope"])] += Decimal(repr(r[LATEST]))
    return dict(totals)


def test_every_category_totals_match_the_data_per_month_and_scope(fake, tap_runner):
    run = tap_runner(EXECUTABLE, tap_config(fake))
    assert run.returncode == 0, run.stderr[-3000:]
    expected = expected_totals(fake.carbon_rows)
    for stream, (_, identity) in ITEM_STREAMS.items():
        records = run.records(stream)
        keys = [(r["month"], r["scope"], *(r[k] for k in identity)) for r in records]
        assert len(keys) == len(set(keys)), f"{stream} has duplicate keys"
        assert loaded_totals(records) == expected, stream
    assert loaded_totals(run.records("emissions_monthly")) == expected


def test_item_requests_are_one_month_one_scope_and_pages_are_followed(fake, tap_runner):
    run = tap_runner(EXECUTABLE, tap_config(fake))
    assert run.returncode == 0, run.stderr[-3000:]
    bodies = fake.carbon_bodies("ItemDetailsReport")
    assert any("skipToken" in b for b in bodies), "skipToken pages must be followed"
    for body in bodies:
        assert body["dateRange"]["start"] == body["dateRange"]["end"]
        assert len(body["carbonScopeList"]) == 1
        assert body["pageSize"] == 5000
        assert all(s == s.lower() for s in body["subscriptionList"])
    first_pages = [b for b in bodies if "skipToken" not in b]
    # 12 months x 3 scopes x 5 categories x 1 chunk of subscriptions
    assert len(first_pages) == 12 * 3 * 5
    categories = Counter(b["categoryType"] for b in first_pages)
    assert set(categories) == {c for c, _ in ITEM_STREAMS.values()}


def test_monthly_rows_keep_scopes_apart_and_carry_carbon_intensity(fake, tap_runner):
    run = tap_runner(EXECUTABLE, tap_config(fake))
    records = run.records("emissions_monthly")
    assert {r["scope"] for r in records} == {"Scope1", "Scope2", "Scope3"}
    assert all(r["carbon_intensity"] is not None for r in records)
    scope1 = sum(r[LATEST] for r in records if r["scope"] == "Scope1")
    scope2 = sum(r[LATEST] for r in records if r["scope"] == "Scope2")
    assert scope1 < scope2 / 100  # the fake's Scope 1 is tiny; a summed scope list would not be
    for body in fake.carbon_bodies("MonthlySummaryReport"):
        assert len(body["carbonScopeList"]) == 1 and len(body["subscriptionList"]) == 1


def test_resource_ids_are_lower_cased_so_mixed_casing_cannot_split_a_resource(fake, tap_runner):
    records = tap_runner(EXECUTABLE, tap_config(fake)).records("emissions_by_resource")
    assert any("/resourceGroups/" in r.resource_id for r in fake.carbon_rows)
    assert all(r["resource_id"] == r["resource_id"].lower() for r in records)
    assert {r["item_name"] for r in records} == {r.resource_name for r in fake.carbon_rows}


def test_months_come_from_the_data_window_and_start_month(tap_runner):
    with make_fake(window=(date(2025, 10, 1), date(2026, 2, 1))) as fake:
        run = tap_runner(EXECUTABLE, tap_config(fake, start_month="2025-12-15"))
        assert run.returncode == 0, run.stderr[-3000:]
        months = {b["dateRange"]["start"] for b in fake.carbon_bodies("ItemDetailsReport")}
        assert months == {"2025-12-01", "2026-01-01", "2026-02-01"}
        assert {r["month"] for r in run.records("emissions_monthly")} == months


def test_bookmark_is_the_last_month_and_a_rerun_reads_only_the_lookback(fake, tap_runner):
    first = tap_runner(EXECUTABLE, tap_config(fake))
    for stream in ("emissions_monthly", *ITEM_STREAMS):
        assert first.final_state["bookmarks"][stream]["replication_key_value"] == "2026-03-01"
    fake.requests.clear()
    second = tap_runner(EXECUTABLE, tap_config(fake, lookback_months=1), state=first.final_state)
    assert second.returncode == 0, second.stderr[-3000:]
    months = {b["dateRange"]["start"] for b in fake.carbon_bodies("ItemDetailsReport")}
    assert months == {"2026-02-01", "2026-03-01"}
    for body in fake.carbon_bodies("MonthlySummaryReport"):
        assert body["dateRange"] == {"start": "2026-02-01", "end": "2026-03-01"}
    assert loaded_totals(second.records("emissions_by_resource")) == expected_totals(
        fake.carbon_rows, months={date(2026, 2, 1), date(2026, 3, 1)}
    )


def test_more_than_100_subscriptions_are_listed_and_chunked_with_exact_totals(tap_runner):
    with make_fake(130, window=(date(2026, 2, 1), date(2026, 3, 1)), item_page_cap=50) as fake:
        run = tap_runner(EXECUTABLE, {**tap_config(fake), "cost_start_date": "2026-03-01"})
        assert run.returncode == 0, run.stderr[-3000:]
        assert [
            r.query.count("$skiptoken") for r in fake.requests if r.path == "/subscriptions"
        ] == [
            0,
            1,
            1,
        ]
        bodies = fake.carbon_bodies("ItemDetailsReport")
        assert max(len(b["subscriptionList"]) for b in bodies) == 100
        assert {len(b["subscriptionList"]) for b in bodies} == {100, 30}
        expected = expected_totals(fake.carbon_rows, months={date(2026, 2, 1), date(2026, 3, 1)})
        for stream in ITEM_STREAMS:
            assert loaded_totals(run.records(stream)) == expected, stream
        locations = run.records("emissions_by_location")
        keys = [(r["month"], r["scope"], r["location"]) for r in locations]
        assert len(keys) == len(set(keys)), "chunk parts of one location must be added up"
        assert len(run.records("subscription_access")) == 130


def test_denied_subscriptions_are_warned_about_and_recorded(tap_runner):
    with make_fake(3) as fake:
        denied = fake.subscriptions[1]
        fake.denied = {denied}
        run = tap_runner(EXECUTABLE, tap_config(fake))
        assert run.returncode == 0, run.stderr[-3000:]
        warnings = [
            line for line in run.stderr.splitlines() if "WARNING" in line and denied in line
        ]
        assert len(warnings) == 1 and "Carbon Optimization Reader" in warnings[0]
        access = {r["subscription_id"]: r for r in run.records("subscription_access")}
        assert access[denied]["decision"] == "Denied" and access[denied]["denial_reason"]
        assert {r["decision"] for s, r in access.items() if s != denied} == {"Allowed"}
        assert denied not in {
            r["subscription_id"] for r in run.records("emissions_by_subscription")
        }
        monthly = {b["subscriptionList"][0] for b in fake.carbon_bodies("MonthlySummaryReport")}
        assert monthly == set(fake.subscriptions) - {denied}
        assert loaded_totals(run.records("emissions_by_resource")) == expected_totals(
            fake.carbon_rows, denied={denied}
        )


def test_throttled_reports_are_retried_after_retry_after_and_nothing_is_lost(fake, tap_runner):
    fake.throttle_next("carbon", 2, {"Retry-After": "1"})
    run = tap_runner(EXECUTABLE, tap_config(fake))
    assert run.returncode == 0, run.stderr[-3000:]
    assert sum("throttled" in line for line in run.stderr.splitlines()) == 2
    assert loaded_totals(run.records("emissions_by_resource")) == expected_totals(fake.carbon_rows)
    times = [t for t, path in fake.request_times if "Microsoft.Carbon" in path]
    assert times[2] - times[0] >= 2.0, "each retry must wait the Retry-After second"


def test_missing_role_fails_fast_naming_carbon_optimization_reader(fake, tap_runner):
    fake.faults.carbon_forbidden = True
    run = tap_runner(EXECUTABLE, tap_config(fake))
    assert run.returncode == 1
    assert len(fake.carbon_bodies()) == 1, "authorization errors must not be retried"
    assert len([line for line in run.error_lines if "What to do" in line]) == 1
    assert "Carbon Optimization Reader" in run.error_lines[-1]
    assert "Traceback" not in run.stderr


def test_unknown_data_types_and_extra_fields_are_tolerated(tap_runner):
    extra = {"dataType": "FutureItemDetailsData", "futureMetricKg": 1.5, "nested": {"a": 1}}
    with make_fake(2, extra_item_fields=extra) as fake:
        run = tap_runner(EXECUTABLE, tap_config(fake))
        assert run.returncode == 0, run.stderr[-3000:]
        records = run.records("emissions_by_location")
        assert records and {r["data_type"] for r in records} == {"FutureItemDetailsData"}
        assert all("futureMetricKg" not in r for r in records)


def test_a_row_without_its_key_stops_the_run_with_one_line(tap_runner):
    with make_fake(2, extra_item_fields={"itemName": None}) as fake:
        run = tap_runner(EXECUTABLE, tap_config(fake))
        assert run.returncode == 1
        assert any("key cannot be formed" in line for line in run.error_lines), run.stderr[-2000:]
        assert "Traceback" not in run.stderr


def test_a_failed_month_never_moves_a_bookmark_past_it_and_the_rerun_fills_it(tap_runner):
    with make_fake(2, failing_months=["2026-01-01"]) as fake:
        config = tap_config(fake, max_attempts=1)
        failed = tap_runner(EXECUTABLE, config)
        assert failed.returncode == 1
        assert "transient, 500" in failed.error_lines[-1]
        bookmarks = (failed.final_state or {}).get("bookmarks", {})
        for stream in ITEM_STREAMS:
            value = bookmarks.get(stream, {}).get("replication_key_value")
            assert value is None or value < "2026-01-01", (stream, value)

        fake.failing_months.clear()
        rerun = tap_runner(EXECUTABLE, config, state=failed.final_state)
        assert rerun.returncode == 0, rerun.stderr[-3000:]
        for stream in ITEM_STREAMS:
            months = {r["month"] for r in rerun.records(stream)}
            assert {"2026-01-01", "2026-03-01"} <= months, stream


def test_a_chunk_of_only_denied_subscriptions_is_not_asked_for(tap_runner):
    """101 subscriptions: the second chunk of the item-detail reports would hold only the
    denied one, which the service may refuse as a whole (the fake does)."""
    with make_fake(101, window=(date(2026, 3, 1), date(2026, 3, 1)), item_page_cap=50) as fake:
        denied = fake.subscriptions[100]
        fake.denied = {denied}
        run = tap_runner(EXECUTABLE, {**tap_config(fake), "cost_start_date": "2026-03-01"})
        assert run.returncode == 0, run.stderr[-3000:]
        bodies = fake.carbon_bodies("ItemDetailsReport")
        assert bodies and all(denied not in b["subscriptionList"] for b in bodies)
        assert {len(b["subscriptionList"]) for b in bodies} == {100}
        expected = expected_totals(fake.carbon_rows, denied={denied}, months={date(2026, 3, 1)})
        assert loaded_totals(run.records("emissions_by_resource")) == expected
        access = {r["subscription_id"]: r["decision"] for r in run.records("subscription_access")}
        assert access[denied] == "Denied" and len(access) == 101
