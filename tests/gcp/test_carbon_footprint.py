"""carbon_footprint against the fake BigQuery: the real client, real SQL, real JWT auth."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from typing import Any

import pytest

from tests.conftest import assert_no_secrets
from tests.fakes.gcp_bigquery import FakeTable
from tests.fakes.gcp_data import CARBON_PARTITIONING, CARBON_SCHEMA
from tests.gcp.conftest import DATASET, PROJECT, gcp_config, make_fake

STREAM = "carbon_footprint"
KEY = ("usage_month", "billing_account_id", "project_key", "service_id", "location_key")


def source_rows(fake) -> list[dict[str, Any]]:
    return fake.tables[f"{PROJECT}.{DATASET}.carbon_footprint"].rows


def carbon_queries(fake) -> list[dict[str, Any]]:
    return [q for q in fake.queries() if "carbon_footprint" in q["query"]]


def params(query: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    out = {}
    for p in query.get("queryParameters", []):
        kind = p["parameterType"]["type"]
        value = p["parameterValue"]
        out[p["name"]] = (kind, value.get("value", value.get("arrayValues")))
    return out


def expected_record(row: dict[str, Any]) -> dict[str, Any]:
    """Written out from the documented schema, independently of the tap's mapping."""
    scope = row["carbon_footprint_kgCO2e"]
    total = row["carbon_footprint_total_kgCO2e"]
    project, location = row["project"], row["location"]
    return {
        "usage_month": row["usage_month"].isoformat(),
        "billing_account_id": row["billing_account_id"],
        "project_id": project["id"],
        "project_number": project["number"],
        "service_id": row["service"]["id"],
        "service_description": row["service"]["description"],
        "location": location["location"],
        "region": location["region"],
        "carbon_model_version": row["carbon_model_version"],
        "scope1_kgco2e": scope["scope1"],
        "scope2_location_based_kgco2e": scope["scope2"]["location_based"],
        "scope2_market_based_kgco2e": scope["scope2"]["market_based"],
        "scope3_kgco2e": scope["scope3"],
        "total_location_based_kgco2e": total["location_based"],
        "total_market_based_kgco2e": total["market_based"],
        "project_key": project["number"] or project["id"] or "",
        "location_key": location["location"] or location["region"] or "",
    }


def keyed(records: list[dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
    out = {tuple(r[k] for k in KEY): r for r in records}
    assert len(out) == len(records), "primary key is not unique"
    return out


def only_carbon(fake, key, **overrides):
    return gcp_config(fake, key, billing_export_table=None, **overrides)


def test_every_row_is_loaded_exactly_as_exported_with_units_in_the_column_names(
    fake_and_key, tap_runner
):
    fake, key = fake_and_key
    run = tap_runner("tap-gcp-carbon", only_carbon(fake, key))
    assert run.returncode == 0, run.stderr
    records = run.records(STREAM)
    expected = [expected_record(r) for r in source_rows(fake)]
    assert keyed(records) == keyed(expected)
    assert all(None not in (r[k] for k in KEY) for r in records)
    assert "carbon_offsets_kgco2e" not in records[0] and "after_offsets" not in json.dumps(records)
    assert [r["usage_month"] for r in records] == sorted(r["usage_month"] for r in records)
    assert run.final_state["bookmarks"][STREAM]["replication_key_value"] == "2025-03-01"
    assert_no_secrets(run.stdout, run.stderr)


def test_null_rules_are_kept_and_the_key_still_has_no_null_part(fake_and_key, tap_runner):
    fake, key = fake_and_key
    records = tap_runner("tap-gcp-carbon", only_carbon(fake, key)).records(STREAM)
    deleted = [r for r in records if r["project_id"] is None and r["project_number"]]
    no_project = [r for r in records if r["project_id"] is None and r["project_number"] == ""]
    assert deleted and all(r["project_key"] == r["project_number"] for r in deleted)
    assert no_project and all(r["project_key"] == "" for r in no_project)
    before_2023 = [r for r in records if r["usage_month"] < "2023-01-01"]
    assert before_2023 and all(r["scope2_market_based_kgco2e"] is None for r in before_2023)
    assert all(r["total_market_based_kgco2e"] is None for r in before_2023)
    no_location = [r for r in records if r["location"] is None]
    assert no_location and all(r["location_key"] == (r["region"] or "") for r in no_location)


def test_the_query_binds_typed_parameters_caps_bytes_and_uses_the_issued_token(
    fake_and_key, tap_runner
):
    fake, key = fake_and_key
    run = tap_runner("tap-gcp-carbon", only_carbon(fake, key, maximum_bytes_billed=20_000_000))
    assert run.returncode == 0, run.stderr
    (query,) = carbon_queries(fake)
    assert params(query) == {"since": ("DATE", "2022-10-01")}
    assert query["maximumBytesBilled"] == "20000000"
    assert query["useLegacySql"] is False
    assert "2022" not in query["query"] and "offsets" not in query["query"].lower()
    assert any(r.path == "/token" for r in fake.requests)
    bearers = {r.header("Authorization") for r in fake.api_requests()}
    assert len(bearers) == 1 and bearers.pop().removeprefix("Bearer ") in fake.tokens
    assert "processed" in run.stderr and "maximum_bytes_billed 20000000" in run.stderr


def test_results_are_read_page_by_page(fake_and_key, tap_runner):
    fake, key = fake_and_key
    run = tap_runner("tap-gcp-carbon", only_carbon(fake, key))
    pages = [r for r in fake.api_requests() if "/queries/" in r.path and "pageToken" in r.query]
    total = len(source_rows(fake))
    assert len(run.records(STREAM)) == total
    assert len(pages) == (total - 1) // 150  # page_rows=150; the first page has no token


def test_a_rerun_reads_only_the_lookback_window_and_sees_a_backfilled_month(
    fake_and_key, tap_runner
):
    fake, key = fake_and_key
    first = tap_runner("tap-gcp-carbon", only_carbon(fake, key))
    # Google backfills 2025-01: every value of that month changes.
    rows = source_rows(fake)
    for row in rows:
        if row["usage_month"] == date(2025, 1, 1):
            row["carbon_footprint_kgCO2e"]["scope1"] += 1.0
    fake.put_table(
        f"{PROJECT}.{DATASET}.carbon_footprint",
        FakeTable(CARBON_SCHEMA, rows, CARBON_PARTITIONING),
    )
    second = tap_runner(
        "tap-gcp-carbon", only_carbon(fake, key, lookback_months=2), state=first.final_state
    )
    assert second.returncode == 0, second.stderr
    assert params(carbon_queries(fake)[-1])["since"] == ("DATE", "2025-01-01")
    months = Counter(r["usage_month"] for r in second.records(STREAM))
    assert set(months) == {"2025-01-01", "2025-02-01", "2025-03-01"}
    backfilled = {
        tuple(r[k] for k in KEY): r["scope1_kgco2e"]
        for r in second.records(STREAM)
        if r["usage_month"] == "2025-01-01"
    }
    expected = {
        tuple(e[k] for k in KEY): e["scope1_kgco2e"]
        for e in map(expected_record, rows)
        if e["usage_month"] == "2025-01-01"
    }
    assert backfilled == expected


@pytest.mark.parametrize("include", [True, False])
def test_zero_rows_are_filtered_in_the_query_only_when_asked(fake_and_key, tap_runner, include):
    fake, key = fake_and_key
    run = tap_runner("tap-gcp-carbon", only_carbon(fake, key, include_zero_emissions=include))
    records = run.records(STREAM)
    scopes = ("scope1_kgco2e", "scope2_location_based_kgco2e", "scope3_kgco2e")
    zero = [r for r in records if not any(r[s] for s in scopes)]
    assert bool(zero) is include
    total = len(source_rows(fake))
    nonzero = [
        r
        for r in map(expected_record, source_rows(fake))
        if any(r[s] for s in scopes) or r["scope2_market_based_kgco2e"]
    ]
    assert len(records) == (total if include else len(nonzero))
    assert ("COALESCE" in carbon_queries(fake)[0]["query"]) is not include


def test_billing_account_filter_is_an_array_parameter(fake_and_key, tap_runner):
    fake, key = fake_and_key
    account = "0FEDCB-A98765-432100"
    run = tap_runner("tap-gcp-carbon", only_carbon(fake, key, billing_account_ids=[account]))
    records = run.records(STREAM)
    assert records and {r["billing_account_id"] for r in records} == {account}
    expected = [r for r in source_rows(fake) if r["billing_account_id"] == account]
    assert len(records) == len(expected)
    sent = params(carbon_queries(fake)[0])["billing_account_ids"]
    assert sent == ("ARRAY", [{"value": account}])
    assert account not in carbon_queries(fake)[0]["query"]


def test_a_key_file_path_works_like_the_inline_key(fake_and_key, tap_runner, tmp_path):
    fake, key = fake_and_key
    by_path = tap_runner(
        "tap-gcp-carbon", gcp_config(fake, key, tmp_path, billing_export_table=None)
    )
    assert by_path.returncode == 0, by_path.stderr
    assert len(by_path.records(STREAM)) == len(source_rows(fake))


def test_each_query_is_a_telemetry_span_with_the_bytes_it_processed(fake_and_key, tap_runner):
    fake, key = fake_and_key
    run = tap_runner(
        "tap-gcp-carbon",
        only_carbon(fake, key),
        env={"OTEL_TRACES_EXPORTER": "console", "OTEL_METRICS_EXPORTER": "none"},
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr.count('"name": "gcp bigquery query"') == 1
    assert '"carbon_taps.bytes_processed": ' in run.stderr
    assert '"carbon_taps.stream": "carbon_footprint"' in run.stderr


def test_a_job_still_running_is_polled_until_done(tap_runner):
    fake, key = make_fake(running_polls=3, page_rows=500)
    try:
        run = tap_runner("tap-gcp-carbon", only_carbon(fake, key))
    finally:
        fake.stop()
    assert run.returncode == 0, run.stderr
    assert len(run.records(STREAM)) == len(source_rows(fake))
    job_gets = [r for r in fake.api_requests() if r.method == "GET" and "/jobs/" in r.path]
    assert len(job_gets) >= 2  # the client reloaded the RUNNING job until it was DONE
