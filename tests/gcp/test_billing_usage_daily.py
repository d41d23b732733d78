"""billing_usage_daily: the aggregation runs in (fake) BigQuery; incremental on export_time."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.fakes.gcp_bigquery import FakeTable
from tests.fakes.gcp_data import BILLING_PARTITIONING, BILLING_SCHEMA
from tests.gcp.conftest import BILLING, PROJECT, gcp_config
from tests.gcp.test_carbon_footprint import params

STREAM = "billing_usage_daily"
KEY = (
    "usage_date",
    "billing_account_id",
    "project_key",
    "service_id",
    "sku_id",
    "location_key",
    "usage_unit",
    "currency",
)


def billing_rows(fake) -> list[dict[str, Any]]:
    return fake.tables[f"{PROJECT}.{BILLING}"].rows


def expected_days(rows: list[dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
    """Per key: usage, cost, credits and the latest export_time, summed in Python."""
    out: dict[tuple, dict[str, Any]] = defaultdict(
        lambda: {"usage": [], "cost": [], "credits": [], "rows": 0, "export": None}
    )
    for r in rows:
        project, location = r["project"], r["location"]
        key = (
            r["usage_start_time"].date().isoformat(),
            r["billing_account_id"],
            project["number"] or project["id"] or "",
            r["service"]["id"],
            r["sku"]["id"],
            location["location"] or location["region"] or "",
            r["usage"]["unit"],
            r["currency"],
        )
        agg = out[key]
        agg["usage"].append(r["usage"]["amount"])
        agg["cost"].append(r["cost"])
        agg["credits"] += [c["amount"] for c in r["credits"]]
        agg["rows"] += 1
        agg["export"] = max(filter(None, (agg["export"], r["export_time"])))
    return dict(out)


def assert_matches(records: list[dict[str, Any]], rows: list[dict[str, Any]]) -> None:
    expected = expected_days(rows)
    got = {tuple(r[k] for k in KEY): r for r in records}
    assert len(got) == len(records), "primary key is not unique"
    assert set(got) == set(expected)
    for key, agg in expected.items():
        record = got[key]
        assert math.isclose(record["usage_amount"], math.fsum(agg["usage"]), rel_tol=1e-12)
        assert math.isclose(record["cost"], math.fsum(agg["cost"]), rel_tol=1e-12, abs_tol=1e-12)
        assert math.isclose(record["credits_amount"], math.fsum(agg["credits"]), abs_tol=1e-12)
        assert record["source_row_count"] == agg["rows"]
        assert datetime.fromisoformat(record["last_export_time"]) == agg["export"]


def only_billing(fake, key, **overrides):
    return gcp_config(fake, key, carbon_footprint_dataset=None, **overrides)


def test_days_are_aggregated_in_bigquery_per_project_service_sku_location_and_unit(
    fake_and_key, tap_runner
):
    fake, key = fake_and_key
    run = tap_runner("tap-gcp-carbon", only_billing(fake, key))
    assert run.returncode == 0, run.stderr
    records = run.records(STREAM)
    assert_matches(records, billing_rows(fake))
    assert len(records) < len(billing_rows(fake))  # aggregated in SQL, not row by row
    assert all(q["query"].count("GROUP BY") == 1 for q in fake.queries())
    last = max(r["export_time"] for r in billing_rows(fake)).isoformat()
    assert run.final_state["bookmarks"][STREAM]["replication_key_value"] == last


def test_queries_bind_the_bookmark_as_a_timestamp_and_prune_ingestion_partitions(
    fake_and_key, tap_runner
):
    fake, key = fake_and_key
    run = tap_runner("tap-gcp-carbon", only_billing(fake, key))
    days_query, aggregate = fake.queries()
    sent = params(days_query)
    assert sent["since"] == ("TIMESTAMP", "2022-10-01 00:00:00+00:00")
    assert sent["partition_floor"] == ("TIMESTAMP", "2022-09-29 00:00:00+00:00")
    assert "_PARTITIONTIME >= @partition_floor" in days_query["query"]
    days = params(aggregate)["days"]
    assert days[0] == "ARRAY" and len(days[1]) == 10
    assert all(q["maximumBytesBilled"] for q in fake.queries())
    assert run.returncode == 0


def test_late_rows_re_emit_only_their_whole_days_with_complete_totals(fake_and_key, tap_runner):
    fake, key = fake_and_key
    first = tap_runner("tap-gcp-carbon", only_billing(fake, key))
    bookmark = first.final_state["bookmarks"][STREAM]["replication_key_value"]
    # A credit for an old day (2025-03-02) arrives in a later export.
    rows = billing_rows(fake)
    late = dict(rows[60])
    late_export = datetime.fromisoformat(bookmark) + timedelta(hours=5)
    late.update(
        export_time=late_export,
        cost=0.0,
        credits=[{"name": "Promo", "amount": -2.5, "type": "PROMOTION"}],
    )
    late["usage"] = {**late["usage"], "amount": 0.0}
    rows.append(late)
    fake.put_table(f"{PROJECT}.{BILLING}", FakeTable(BILLING_SCHEMA, rows, BILLING_PARTITIONING))
    fake.jobs.clear()

    second = tap_runner("tap-gcp-carbon", only_billing(fake, key), state=first.final_state)
    assert second.returncode == 0, second.stderr
    records = second.records(STREAM)
    late_day = late["usage_start_time"].date().isoformat()
    last_day = max(r["usage_start_time"] for r in rows).date().isoformat()
    # the late row's day, plus the day exported at the bookmark's instant (read again)
    assert {r["usage_date"] for r in records} == {late_day, last_day}
    same_days = [
        r for r in rows if r["usage_start_time"].date().isoformat() in (late_day, last_day)
    ]
    assert_matches(records, same_days)
    assert params(fake.queries()[0])["since"][1].startswith(bookmark[:19].replace("T", " "))
    assert second.final_state["bookmarks"][STREAM]["replication_key_value"] == (
        late_export.astimezone(UTC).isoformat()
    )


def test_nothing_new_since_the_bookmark_runs_no_aggregation(fake_and_key, tap_runner):
    fake, key = fake_and_key
    first = tap_runner("tap-gcp-carbon", only_billing(fake, key))
    state = first.final_state
    bookmark = datetime.fromisoformat(state["bookmarks"][STREAM]["replication_key_value"])
    state["bookmarks"][STREAM]["replication_key_value"] = (
        bookmark + timedelta(seconds=1)
    ).isoformat()
    fake.jobs.clear()
    second = tap_runner("tap-gcp-carbon", only_billing(fake, key), state=state)
    assert second.returncode == 0, second.stderr
    assert second.records(STREAM) == []
    assert len(fake.queries()) == 1


def test_the_aggregation_prunes_partitions_below_the_first_changed_day(fake_and_key, tap_runner):
    fake, key = fake_and_key
    run = tap_runner("tap-gcp-carbon", only_billing(fake, key))
    assert run.returncode == 0, run.stderr
    aggregate = fake.queries()[1]
    assert "_PARTITIONTIME >= @partition_floor" in aggregate["query"]
    first_day = min(r["usage_start_time"] for r in billing_rows(fake)).date()
    floor = datetime.combine(first_day - timedelta(days=2), datetime.min.time(), tzinfo=UTC)
    assert params(aggregate)["partition_floor"] == ("TIMESTAMP", str(floor))
