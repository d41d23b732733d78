"""cur_usage_daily: legacy CUR and CUR 2.0, CSV and Parquet, from local folders and S3 (moto)."""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from tap_aws_carbon.cur_stream import CurUsageDailyStream

from tests.conftest import TEST_SECRETS
from tests.fakes.aws_cur import (
    LEGACY_HEADERS,
    LineItem,
    daily_totals,
    line_items,
    write_cur2,
    write_legacy_cur,
)
from tests.fakes.aws_export import upload

STREAM = "cur_usage_daily"


@pytest.fixture(scope="module")
def items() -> list[LineItem]:
    """Two billing periods of hourly line items over 3 accounts, 3 regions and 4 services."""
    return line_items(date(2026, 1, 1), 400, seed=21) + line_items(date(2026, 2, 1), 250, seed=22)


def cur_config(uri: str, **overrides: Any) -> dict[str, Any]:
    # Only the CUR stream is selected; the API window is one the API never gets asked about.
    config = {
        "cur_uri": uri,
        "aws_access_key_id": "AKIDCURTEST000000001",
        "aws_secret_access_key": TEST_SECRETS["aws_secret_access_key"],
        "start_date": "2030-01-01",
        "end_date": "2030-02-01",
    }
    config.update(overrides)
    return config


def run_cur(tmp_path: Path, tap_runner, config, state=None):
    catalog = json.loads(tap_runner("tap-aws-carbon", config, args=("--discover",)).stdout)
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] == STREAM
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalog))
    return tap_runner("tap-aws-carbon", config, state=state, args=("--catalog", str(path)))


def loaded_totals(records) -> dict[tuple[str, str, str], tuple[Decimal, Decimal]]:
    sums: dict[tuple[str, str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for r in records:
        entry = sums[(r["usage_date"], r["usage_account_id"], r["product_code"])]
        entry[0] += Decimal(repr(r["usage_amount"]))
        entry[1] += Decimal(repr(r["unblended_cost"]))
    return {k: (v[0], v[1]) for k, v in sums.items()}


def assert_matches(records, items: list[LineItem]) -> None:
    key = [tuple(r[k] for k in CurUsageDailyStream.primary_keys) for r in records]
    assert len(key) == len(set(key)), "the primary key repeats"
    assert loaded_totals(records) == daily_totals(items)
    assert sum(r["line_item_count"] for r in records) == len(items)


@pytest.mark.parametrize(
    ("generation", "fmt"),
    [("legacy", "csv.gz"), ("legacy", "parquet"), ("2.0", "parquet"), ("2.0", "csv.gz")],
)
def test_local_cur_daily_totals_per_account_and_service_equal_the_line_items(
    tap_runner, tmp_path, items, generation, fmt
):
    root = tmp_path / "cur"
    if generation == "legacy":
        write_legacy_cur(root, items, fmt=fmt, assembly_id="asm-1")
    else:
        write_cur2(root, items, fmt=fmt, execution_id="exec-1")
    run = run_cur(tmp_path, tap_runner, cur_config(str(root)))
    assert run.returncode == 0, run.stderr
    records = run.records(STREAM)
    assert_matches(records, items)
    assert {r["billing_period"] for r in records} == {"2026-01", "2026-02"}
    assert {r["cur_generation"] for r in records} == {generation}
    assert {r["delivery_id"] for r in records} == {"asm-1" if generation == "legacy" else "exec-1"}
    ec2 = [r for r in records if r["instance_type"] == "m5.large"]
    assert ec2 and all(r["vcpu"] == 2 and r["memory"] == "8 GiB" for r in ec2)
    assert all(r["currency_code"] == "USD" for r in records)
    assert all(r["resource_tags"] is None for r in records)


@pytest.mark.parametrize(("generation", "fmt"), [("legacy", "csv.gz"), ("2.0", "parquet")])
def test_s3_cur_is_read_through_boto3(tap_runner, tmp_path, items, moto_endpoint, generation, fmt):
    bucket = f"cur-{generation.replace('.', '-')}"
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    s3.create_bucket(Bucket=bucket)
    root = tmp_path / "cur"
    if generation == "legacy":
        write_legacy_cur(root, items, fmt=fmt, s3_bucket=bucket)
        uri = f"s3://{bucket}/cur/daily"
        upload(s3, bucket, "", root)
    else:
        uri = f"s3://{bucket}/exports/cur2"
        write_cur2(root, items, fmt=fmt, s3_root=uri)
        upload(s3, bucket, "exports/cur2", root)
    run = run_cur(tmp_path, tap_runner, cur_config(uri, s3_endpoint_url=moto_endpoint))
    assert run.returncode == 0, run.stderr
    assert_matches(run.records(STREAM), items)


def test_a_restated_legacy_period_replaces_the_old_delivery_and_a_rerun_reads_nothing_else(
    tap_runner, tmp_path, items
):
    root = tmp_path / "cur"
    write_legacy_cur(root, items, assembly_id="asm-1")
    config = cur_config(str(root))
    first = run_cur(tmp_path, tap_runner, config)
    assert first.returncode == 0, first.stderr

    unchanged = run_cur(tmp_path, tap_runner, config, state=first.final_state)
    assert unchanged.returncode == 0, unchanged.stderr
    assert unchanged.records(STREAM) == []

    # AWS restates January: a new assembly, the period manifest now names it.
    restated = line_items(date(2026, 1, 1), 420, seed=99)
    write_legacy_cur(root, restated, assembly_id="asm-2")
    again = run_cur(tmp_path, tap_runner, config, state=unchanged.final_state)
    assert again.returncode == 0, again.stderr
    records = again.records(STREAM)
    assert {(r["billing_period"], r["delivery_id"]) for r in records} == {("2026-01", "asm-2")}
    assert_matches(records, restated)


def test_a_new_cur2_execution_in_create_new_mode_replaces_the_period(tap_runner, tmp_path, items):
    root = tmp_path / "cur"
    write_cur2(root, items, create_new=True, execution_id="e1", delivered_at="20260203T0100Z")
    config = cur_config(str(root))
    first = run_cur(tmp_path, tap_runner, config)
    assert first.returncode == 0, first.stderr
    february = [i for i in items if i.period == "2026-02"]
    restated = february[:-30]
    write_cur2(root, restated, create_new=True, execution_id="e2", delivered_at="20260304T0100Z")
    again = run_cur(tmp_path, tap_runner, config, state=first.final_state)
    assert again.returncode == 0, again.stderr
    records = again.records(STREAM)
    assert {(r["billing_period"], r["delivery_id"]) for r in records} == {("2026-02", "e2")}
    assert_matches(records, restated)


def test_the_manifest_file_list_wins_over_stale_files_in_the_period(tap_runner, tmp_path, items):
    root = tmp_path / "cur"
    files = write_legacy_cur(root, items, assembly_id="asm-1")
    stale = files[0].with_name("daily-99.csv.gz")
    stale.write_bytes(files[0].read_bytes())
    old_assembly = files[0].parent.with_name("asm-0")  # an older assembly, still in the bucket
    old_assembly.mkdir()
    (old_assembly / "daily-1.csv.gz").write_bytes(files[0].read_bytes())
    run = run_cur(tmp_path, tap_runner, cur_config(str(root)))
    assert run.returncode == 0, run.stderr
    assert_matches(run.records(STREAM), items)


def test_headers_are_mapped_by_name_whatever_their_order(tap_runner, tmp_path, items):
    root = tmp_path / "cur"
    write_legacy_cur(root, items, headers=list(reversed(LEGACY_HEADERS)))
    run = run_cur(tmp_path, tap_runner, cur_config(str(root)))
    assert run.returncode == 0, run.stderr
    assert_matches(run.records(STREAM), items)


def test_tag_columns_become_dimensions_only_when_asked_for(tap_runner, tmp_path, items):
    root = tmp_path / "cur"
    write_legacy_cur(root, items)
    run = run_cur(tmp_path, tap_runner, cur_config(str(root), cur_include_tags=["user:team"]))
    assert run.returncode == 0, run.stderr
    records = run.records(STREAM)
    assert {json.dumps(r["resource_tags"]) for r in records} == {'{"user:team": "platform"}'}
    assert_matches(records, items)


def test_an_unreadable_amount_fails_in_one_line_naming_file_and_row(tap_runner, tmp_path, items):
    root = tmp_path / "cur"
    files = write_legacy_cur(root, items[:20], fmt="csv.gz")
    lines = gzip.decompress(files[0].read_bytes()).decode().splitlines()
    column = LEGACY_HEADERS.index("lineItem/UsageAmount")
    cells = lines[3].split(",")
    cells[column] = "12x"
    lines[3] = ",".join(cells)
    files[0].write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    run = run_cur(tmp_path, tap_runner, cur_config(str(root)))
    assert run.returncode != 0
    message = run.stderr.strip().splitlines()[-1]
    assert str(files[0]) in message and "row 3" in message, message
    assert run.records(STREAM) == []


def test_the_engine_keeps_stdout_for_singer_messages(tmp_path, items):
    """DuckDB's progress bar writes to stdout after two seconds of work; it must stay off."""
    from tap_aws_carbon.cur_engine import DailyAggregator

    aggregator = DailyAggregator()
    try:
        setting = aggregator._db.execute("SELECT current_setting('enable_progress_bar')")
        assert setting.fetchone()[0] is False
    finally:
        aggregator.close()


def test_too_little_memory_is_reported_as_the_setting_to_raise(tmp_path, items):
    from tap_aws_carbon.cur_engine import CurFile, CurFileError, DailyAggregator

    files = write_legacy_cur(tmp_path / "cur", items, fmt="csv.gz")
    aggregator = DailyAggregator(memory_limit_mb=1, threads=1)
    try:
        with pytest.raises(CurFileError) as failure:
            aggregator.add([CurFile(f, f"s3://bucket/{f.name}", "csv.gz") for f in files])
    finally:
        aggregator.close()
    message = str(failure.value)
    assert "raise cur_memory_limit_mb" in message and "\n" not in message, message


def test_merging_partial_aggregates_changes_no_total(tmp_path, items):
    """Deliveries read in many file groups merge their partial sums as they go."""
    from tap_aws_carbon.cur_engine import CurFile, DailyAggregator

    files = write_legacy_cur(tmp_path / "cur", items[:400], fmt="csv.gz", chunk_rows=40)
    assert len(files) >= 8
    results = []
    for compact_rows in (10**9, 1):  # never merge; merge after every group
        aggregator = DailyAggregator(threads=1, compact_rows=compact_rows)
        try:
            for start in range(0, len(files), 2):
                group = files[start : start + 2]
                aggregator.add([CurFile(f, str(f), "csv.gz") for f in group])
            results.append(list(aggregator.results()))
        finally:
            aggregator.close()
    assert results[0] == results[1]
    assert sum(r["line_item_count"] for r in results[1]) == 400
