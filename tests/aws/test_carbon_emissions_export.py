"""carbon_emissions_export: the Data Export read from a local folder and from S3 (moto)."""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import boto3
import pytest

from tests.aws.conftest import tap_config
from tests.fakes.aws_data import synthetic_rows
from tests.fakes.aws_export import VALUE_COLUMNS, totals, upload, write_export

STREAM = "carbon_emissions_export"
KEY = ("usage_period", "model_version", "usage_account_id", "region_code", "product_code")


@pytest.fixture(scope="module")
def rows():
    """Six months of v3.0.0 and, as after a model change, the last three again in v3.1.0."""
    old = synthetic_rows(date(2025, 7, 1), 6, seed=11)
    new = synthetic_rows(date(2025, 10, 1), 3, seed=12, model_version="v3.1.0")
    return old + new


def export_config(fake, uri: str, **overrides):
    # The API stream is not under test here: an end_date before start_date is refused, so give
    # it a one-month window the fake has no rows for.
    return tap_config(
        fake, carbon_export_uri=uri, start_date="2030-01-01", end_date="2030-02-01", **overrides
    )


def select_export_only(tmp_path: Path, tap_runner, config) -> Path:
    """A catalog selecting only the export stream, made by the tap's own discovery."""
    catalog = json.loads(tap_runner("tap-aws-carbon", config, args=("--discover",)).stdout)
    for entry in catalog["streams"]:
        selected = entry["tap_stream_id"] == STREAM
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = selected
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalog))
    return path


def run_export(tmp_path, tap_runner, config, state=None):
    catalog = select_export_only(tmp_path, tap_runner, config)
    return tap_runner("tap-aws-carbon", config, state=state, args=("--catalog", str(catalog)))


def loaded_totals(records) -> dict[tuple[str, str, str], Decimal]:
    sums: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for r in records:
        for column in VALUE_COLUMNS:
            sums[(r["model_version"], r["usage_period"], column)] += Decimal(repr(r[column]))
    return dict(sums)


@pytest.mark.parametrize(
    ("fmt", "spelling", "data_folder", "manifests"),
    [
        ("csv.gz", "model_version", True, True),
        ("parquet", "carbon_model_version", False, False),
        ("csv", "carbon_model_version", True, True),
    ],
)
def test_local_export_totals_per_model_version_and_month_match_the_files(
    fake, tap_runner, tmp_path, rows, fmt, spelling, data_folder, manifests
):
    root = tmp_path / "export"
    write_export(
        root, rows, fmt=fmt, spelling=spelling, data_folder=data_folder, manifests=manifests
    )
    run = run_export(tmp_path, tap_runner, export_config(fake, str(root)))
    assert run.returncode == 0, run.stderr
    records = run.records(STREAM)
    keys = [tuple(r[k] for k in KEY) for r in records]
    assert len(keys) == len(set(keys)) == len(rows)
    assert loaded_totals(records) == totals(rows)
    assert {r["model_version"] for r in records if r["usage_period"] == "2025-11"} == {
        "v3.0.0",
        "v3.1.0",
    }
    assert all(
        r["usage_account_id"].isdigit() and len(r["usage_account_id"]) == 12 for r in records
    )
    assert all(r["_source_file"].startswith(str(root)) for r in records)


@pytest.mark.parametrize(
    ("fmt", "spelling"), [("csv.gz", "model_version"), ("parquet", "carbon_model_version")]
)
def test_s3_export_is_read_through_boto3(
    fake, tap_runner, tmp_path, rows, moto_endpoint, fmt, spelling
):
    bucket = f"carbon-{fmt.replace('.', '-')}"
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    s3.create_bucket(Bucket=bucket)
    root = tmp_path / "export"
    uri = f"s3://{bucket}/exports/carbon"
    write_export(root, rows, fmt=fmt, spelling=spelling, s3_root=uri)
    upload(s3, bucket, "exports/carbon", root)
    run = run_export(tmp_path, tap_runner, export_config(fake, uri, s3_endpoint_url=moto_endpoint))
    assert run.returncode == 0, run.stderr
    records = run.records(STREAM)
    assert len(records) == len(rows)
    assert loaded_totals(records) == totals(rows)
    assert all(r["_source_file"].startswith(uri + "/data/") for r in records)


def test_a_rerun_reads_no_file_twice_and_picks_up_new_ones(fake, tap_runner, tmp_path, rows):
    root = tmp_path / "export"
    first_rows = [r for r in rows if r.month < date(2025, 12, 1)]
    write_export(root, first_rows)
    config = export_config(fake, str(root))
    first = run_export(tmp_path, tap_runner, config)
    assert len(first.records(STREAM)) == len(first_rows)

    again = run_export(tmp_path, tap_runner, config, state=first.final_state)
    assert again.returncode == 0, again.stderr
    assert again.records(STREAM) == []

    december = [r for r in rows if r.month == date(2025, 12, 1)]
    write_export(root, december)
    third = run_export(tmp_path, tap_runner, config, state=again.final_state)
    assert len(third.records(STREAM)) == len(december)
    assert {r["usage_period"] for r in third.records(STREAM)} == {"2025-12"}


def test_a_rewritten_file_is_read_again(fake, tap_runner, tmp_path, rows):
    root = tmp_path / "export"
    files = write_export(root, rows, manifests=False)
    config = export_config(fake, str(root))
    first = run_export(tmp_path, tap_runner, config)
    target = files[0]
    target.write_bytes(gzip.compress(gzip.decompress(target.read_bytes()) + b""))
    target.touch()
    again = run_export(tmp_path, tap_runner, config, state=first.final_state)
    assert {r["_source_file"] for r in again.records(STREAM)} == {str(target)}


def test_an_interrupted_run_resumes_at_the_first_unfinished_file(fake, tap_runner, tmp_path, rows):
    root = tmp_path / "export"
    files = write_export(root, rows, manifests=False)
    config = export_config(fake, str(root))
    full = run_export(tmp_path, tap_runner, config)
    states = [m["value"] for m in full.messages if m["type"] == "STATE"]
    # The state after the third file is what a run killed during the fourth file had saved.
    after_three = next(s for s in states if len(s["bookmarks"][STREAM]["files"]) == 3)
    resumed = run_export(tmp_path, tap_runner, config, state=after_three)
    read_again = {r["_source_file"] for r in resumed.records(STREAM)}
    assert len(read_again) == len(files) - 3
    assert read_again.isdisjoint(after_three["bookmarks"][STREAM]["files"])


def test_the_manifest_file_list_wins_over_stale_chunks(fake, tap_runner, tmp_path, rows):
    root = tmp_path / "export"
    files = write_export(root, rows)
    stale = files[0].with_name("carbon-00099.csv.gz")
    stale.write_bytes(files[0].read_bytes())  # left behind by an overwritten delivery
    run = run_export(tmp_path, tap_runner, export_config(fake, str(root)))
    assert run.returncode == 0, run.stderr
    assert len(run.records(STREAM)) == len(rows)
    assert str(stale) not in {r["_source_file"] for r in run.records(STREAM)}


def test_an_unknown_extra_column_is_carried_not_fatal(fake, tap_runner, tmp_path, rows):
    root = tmp_path / "export"
    files = write_export(root, rows[:5], fmt="csv", manifests=False)
    lines = files[0].read_text().splitlines()
    files[0].write_text(
        "\n".join([lines[0] + ",new_aws_column"] + [line + ",x1" for line in lines[1:]]) + "\n"
    )
    run = run_export(tmp_path, tap_runner, export_config(fake, str(root)))
    assert run.returncode == 0, run.stderr
    assert all(r["_extra_columns"] == {"new_aws_column": "x1"} for r in run.records(STREAM))


def test_a_local_copy_of_an_s3_delivery_follows_its_manifests(fake, tap_runner, tmp_path, rows):
    root = tmp_path / "synced"
    files = write_export(root, rows, s3_root="s3://their-bucket/exports/carbon")
    files[0].with_name("carbon-00077.csv.gz").write_bytes(files[0].read_bytes())  # not listed
    run = run_export(tmp_path, tap_runner, export_config(fake, str(root)))
    assert run.returncode == 0, run.stderr
    assert len(run.records(STREAM)) == len(rows)
