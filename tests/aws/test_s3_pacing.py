"""Reads from S3 are not paced by max_requests_per_second, which is the Sustainability API's.

The setting is set so low (one request per 100 s) that a single paced S3 request would hold a
run beyond 100 s; a run that reads many objects from moto S3 must finish well inside that.
Only a lower bound of the old behaviour is used, never a tight timing.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import boto3

from tests.aws.test_carbon_emissions_export import export_config, run_export
from tests.aws.test_cur_usage_daily import cur_config, run_cur
from tests.fakes.aws_cur import line_items, write_cur2
from tests.fakes.aws_data import synthetic_rows
from tests.fakes.aws_export import upload, write_export

SECONDS_PER_REQUEST = 100  # at max_requests_per_second = 0.01


def s3_bucket(moto_endpoint: str, bucket: str):
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    s3.create_bucket(Bucket=bucket)
    return s3


def test_a_many_object_export_read_from_s3_does_not_wait_on_the_api_rate_limit(
    fake, tap_runner, tmp_path: Path, moto_endpoint
):
    s3 = s3_bucket(moto_endpoint, "paced-export")
    root = tmp_path / "export"
    uri = "s3://paced-export/exports/carbon"
    written = write_export(root, synthetic_rows(date(2025, 1, 1), 9, seed=5), s3_root=uri)
    upload(s3, "paced-export", "exports/carbon", root)
    objects = s3.list_objects_v2(Bucket="paced-export")["KeyCount"]
    assert objects >= 18 and len(written) >= 9  # a data file and a manifest per month
    config = export_config(fake, uri, s3_endpoint_url=moto_endpoint, max_requests_per_second=0.01)
    started = time.monotonic()
    run = run_export(tmp_path, tap_runner, config)
    elapsed = time.monotonic() - started
    assert run.returncode == 0, run.stderr[-2000:]
    assert len(run.records("carbon_emissions_export")) > 0
    # Paced, the second of its 1 + `objects` requests alone would wait 100 s.
    assert elapsed < SECONDS_PER_REQUEST, f"{elapsed:.0f} s for {objects} objects"


def test_a_many_file_cur_read_from_s3_does_not_wait_on_the_api_rate_limit(
    tap_runner, tmp_path: Path, moto_endpoint
):
    s3 = s3_bucket(moto_endpoint, "paced-cur")
    root = tmp_path / "cur"
    uri = "s3://paced-cur/exports/cur2"
    items = line_items(date(2026, 1, 1), 120, seed=3)
    files = write_cur2(root, items, chunk_rows=20, s3_root=uri)
    upload(s3, "paced-cur", "exports/cur2", root)
    assert len(files) >= 6
    config = cur_config(uri, s3_endpoint_url=moto_endpoint, max_requests_per_second=0.01)
    started = time.monotonic()
    run = run_cur(tmp_path, tap_runner, config)
    elapsed = time.monotonic() - started
    assert run.returncode == 0, run.stderr[-2000:]
    assert sum(r["line_item_count"] for r in run.records("cur_usage_daily")) == len(items)
    assert elapsed < SECONDS_PER_REQUEST, f"{elapsed:.0f} s for {len(files)} files"
