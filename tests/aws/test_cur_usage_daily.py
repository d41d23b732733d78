"""cur_usage_daily: legacy CUR and CUR 2.0, CSV and Parquet, from local folders and S3 (moto)."""

from __future__ import annotations

import dataclasses
import gzip
import json
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from tap_aws_carbon.cur_stream import CurUsageDailyStream

from tests.conftest import TEST_SECRETS
from tests.fakes.aws_cur import (
    LEGACY_HEADERS,
    MEASURES,
    RESERVATION_ARN,
    LineItem,
    daily_measures,
    daily_totals,
    line_items,
    priced_item,
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


def loaded_measures(records) -> dict[tuple[str, str, str, str], dict[str, Decimal | None]]:
    """The cost measures per day x account x service x line item type, NULLs skipped."""
    sums: dict[tuple[str, str, str, str], dict[str, Decimal | None]] = {}
    for r in records:
        key = (r["usage_date"], r["usage_account_id"], r["product_code"], r["line_item_type"])
        entry = sums.setdefault(key, dict.fromkeys(MEASURES))
        for measure in MEASURES:
            if r[measure] is not None:
                entry[measure] = (entry[measure] or Decimal(0)) + Decimal(repr(r[measure]))
    return sums


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
    assert loaded_measures(records) == daily_measures(items)
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


LAYOUTS = [("legacy", "csv.gz"), ("legacy", "parquet"), ("2.0", "parquet"), ("2.0", "csv.gz")]


def write_report(root: Path, items: list[LineItem], generation: str, fmt: str, **kwargs: Any):
    if generation == "legacy":
        return write_legacy_cur(root, items, fmt=fmt, **kwargs)
    return write_cur2(root, items, fmt=fmt, **kwargs)


@pytest.mark.parametrize(("generation", "fmt"), [("2.0", "parquet"), ("2.0", "csv.gz")])
def test_cur2_tags_are_read_from_the_resource_tags_map_and_a_missing_key_warns(
    tap_runner, tmp_path, items, generation, fmt
):
    """CUR 2.0 has no tag columns: tags live in the `resource_tags` map (a JSON object in CSV)."""
    tagged = [
        dataclasses.replace(item, tags=(("user:team", "data"), ("user:cost-center", "cc-7")))
        if n % 3 == 0
        else item
        for n, item in enumerate(items)
    ]
    root = tmp_path / "cur"
    write_report(root, tagged, generation, fmt)
    config = cur_config(
        str(root), cur_include_tags=["user:team", "user:cost-center", "user:nowhere"]
    )
    run = run_cur(tmp_path, tap_runner, config)
    assert run.returncode == 0, run.stderr
    records = run.records(STREAM)
    assert_matches(records, tagged)
    cost: dict[str, Decimal] = defaultdict(Decimal)
    for r in records:
        assert set(r["resource_tags"]) == {"user:team", "user:cost-center", "user:nowhere"}
        assert r["resource_tags"]["user:nowhere"] is None
        cost[json.dumps(r["resource_tags"], sort_keys=True)] += Decimal(repr(r["unblended_cost"]))
    expected: dict[str, Decimal] = defaultdict(Decimal)
    for item in tagged:
        tags = {"user:cost-center": None, "user:nowhere": None, **dict(item.tags)}
        expected[json.dumps(tags, sort_keys=True)] += item.unblended_cost
    assert cost == expected and len(expected) == 2
    warnings = [line for line in run.stderr.splitlines() if "user:nowhere" in line]
    assert len(warnings) == 1 and "cost allocation tag" in warnings[0], run.stderr[-2000:]
    assert "'user:team'" not in warnings[0]


@pytest.mark.parametrize("include_tags", [[], ["user:team", "user:Team"]])
def test_legacy_tag_keys_that_differ_only_by_case_load_and_stay_distinct(
    tap_runner, tmp_path, items, include_tags
):
    """`user:team` and `user:Team` are two AWS tags; DuckDB's names ignore case."""
    both = [
        dataclasses.replace(item, tags=(("user:team", "platform"), ("user:Team", "Data")))
        for item in items
    ]
    root = tmp_path / "cur"
    write_legacy_cur(root, both, headers=[*LEGACY_HEADERS, "resourceTags/user:Team"])
    run = run_cur(tmp_path, tap_runner, cur_config(str(root), cur_include_tags=include_tags))
    assert run.returncode == 0, run.stderr
    records = run.records(STREAM)
    assert_matches(records, both)
    expected = {"user:team": "platform", "user:Team": "Data"} if include_tags else None
    assert all(r["resource_tags"] == expected for r in records)


def day_items() -> list[LineItem]:
    """One day of one account's EC2 usage, one line item of each kind a FinOps user meets."""
    start = datetime(2026, 3, 5, 10, tzinfo=UTC)
    common = {
        "usage_start": start,
        "account": "012345678901",
        "region": "us-east-1",
        "product_code": "AmazonEC2",
        "usage_type": "USE1-BoxUsage:m5.large",
        "pricing_unit": "Hrs",
        "instance_type": "m5.large",
        "usage_amount": Decimal(1),
        "vcpu": "2",
        "memory": "8 GiB",
        "volume_type": "",
        "storage_media": "",
    }
    kinds = {
        "Usage": "10",
        "DiscountedUsage": "5",
        "SavingsPlanCoveredUsage": "8",
        "SavingsPlanNegation": "8",
        "RIFee": "2",
        "SavingsPlanRecurringFee": "4",
        "Tax": "1",
    }
    items = [priced_item(kind, Decimal(cost), **common) for kind, cost in kinds.items()]
    # The upfront fee of a Reserved Instance: amortized into its usage, so 0 here.
    upfront = priced_item("Fee", Decimal(100), **common)
    return [*items, dataclasses.replace(upfront, reservation_arn=RESERVATION_ARN)]


# (unblended, amortized, net unblended, public on-demand) per line item type, worked by hand
# from day_items: RI usage costs 0.6 x on demand, SP usage 0.7 x, net is 0.95 x unblended,
# RIFee leaves 0.1 + 0.2 of it unused, SavingsPlanRecurringFee 1 - 0.8.
EXPECTED_DAY = {
    "Usage": ("10", "10", "9.5", "10"),
    "DiscountedUsage": ("0", "3", "0", "5"),
    "SavingsPlanCoveredUsage": ("8", "5.6", "7.6", "8"),
    "SavingsPlanNegation": ("-8", "0", "-7.6", None),
    "RIFee": ("2", "0.6", "1.9", None),
    "SavingsPlanRecurringFee": ("4", "0.8", "3.8", None),
    "Tax": ("1", "1", "0.95", None),
    "Fee": ("100", "0", "95", None),
}


@pytest.mark.parametrize(("generation", "fmt"), LAYOUTS)
def test_amortized_net_and_on_demand_costs_follow_aws_rules_exactly(
    tap_runner, tmp_path, generation, fmt
):
    root = tmp_path / "cur"
    write_report(root, day_items(), generation, fmt)
    run = run_cur(tmp_path, tap_runner, cur_config(str(root)))
    assert run.returncode == 0, run.stderr
    records = run.records(STREAM)
    got = {
        r["line_item_type"]: tuple(
            None if r[m] is None else str(Decimal(repr(r[m])).normalize()) for m in MEASURES
        )
        for r in records
    }
    expected = {
        kind: tuple(None if v is None else str(Decimal(v).normalize()) for v in values)
        for kind, values in EXPECTED_DAY.items()
    }
    assert got == expected
    # The day's totals: Savings Plan usage cancels against its negation in unblended cost.
    assert sum(Decimal(v[0]) for v in EXPECTED_DAY.values()) == Decimal(117)
    assert sum(Decimal(v[1]) for v in EXPECTED_DAY.values()) == Decimal("21.0")


def test_a_report_without_discount_ri_or_savings_plan_columns_gives_null_measures(
    tap_runner, tmp_path
):
    """Reports carry NetUnblendedCost, reservation/* and savingsPlan/* columns only when the
    account has discounts or commitments: without them those measures are null, not 0."""
    lacking = [
        h
        for h in LEGACY_HEADERS
        if not h.startswith(("reservation/", "savingsPlan/")) and h != "lineItem/NetUnblendedCost"
    ]
    root = tmp_path / "cur"
    write_legacy_cur(root, day_items(), headers=lacking)
    run = run_cur(tmp_path, tap_runner, cur_config(str(root)))
    assert run.returncode == 0, run.stderr
    by_type = {r["line_item_type"]: r for r in run.records(STREAM)}
    assert all(r["net_unblended_cost"] is None for r in by_type.values())
    assert by_type["Usage"]["amortized_cost"] == 10 and by_type["Tax"]["amortized_cost"] == 1
    assert by_type["Fee"]["amortized_cost"] == 100  # no reservation ARN column to tell
    for kind in ("DiscountedUsage", "SavingsPlanCoveredUsage", "RIFee", "SavingsPlanRecurringFee"):
        assert by_type[kind]["amortized_cost"] is None, kind
    assert by_type["SavingsPlanNegation"]["amortized_cost"] == 0
    assert by_type["Usage"]["public_on_demand_cost"] == 10
