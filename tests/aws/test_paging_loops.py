"""NextToken loops the Sustainability API could send: followed with boto3's paginator over HTTP,
they must end in one line after a bounded number of requests, never loop or duplicate rows."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from carbon_taps_shared.paging import MAX_EMPTY_PAGES

from tests.aws.conftest import ACCESS_KEY, tap_config
from tests.conftest import TEST_SECRETS
from tests.fakes.aws_data import synthetic_rows
from tests.fakes.aws_sustainability import SustainabilityFake, WaterRow

PAGE = 5  # rows per page: a month of synthetic data is several pages


def _fake(paging: str, **kwargs) -> SustainabilityFake:
    return SustainabilityFake(
        synthetic_rows(date(2024, 1, 1), 1),
        page_size_cap=PAGE,
        credentials={ACCESS_KEY: TEST_SECRETS["aws_secret_access_key"]},
        paging=paging,
        **kwargs,
    )


def _config(fake: SustainabilityFake) -> dict:
    return tap_config(fake, start_date="2024-01-01", end_date="2024-02-01")


def test_a_token_cycle_a_b_a_ends_in_one_line_without_rows_read_twice(tap_runner):
    with _fake("cycle") as fake:
        pages = -(-len(fake.rows) // PAGE)
        assert pages >= 3, "a cycle longer than botocore's own check needs three pages"
        run = tap_runner("tap-aws-carbon", _config(fake))
        requests = len(fake.carbon_requests())
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    lines = [line for line in run.error_lines if "points at the page token" in line]
    assert lines and "carbon_emissions month 2024-01" in lines[0], run.stderr
    assert "AWS Support" in lines[0]
    assert requests == pages  # the looping token is never sent
    records = run.records("carbon_emissions")
    keys = [(r["usage_account_id"], r["region"], r["service"]) for r in records]
    assert len(keys) == len(set(keys))


def test_endless_empty_pages_with_fresh_tokens_stop_at_the_bound(tap_runner):
    with _fake("endless_empty") as fake:
        pages = -(-len(fake.rows) // PAGE)
        run = tap_runner("tap-aws-carbon", _config(fake))
        requests = len(fake.carbon_requests())
    assert run.returncode == 1
    assert any("empty pages in a row" in line for line in run.error_lines), run.stderr
    assert requests == pages + MAX_EMPTY_PAGES + 1


@pytest.mark.parametrize("paging", ["cycle", "endless_empty"])
def test_water_allocation_pages_are_guarded_too(tap_runner, tmp_path, paging):
    rows = [
        WaterRow(
            date(2024, 1, 1),
            f"{index:012d}",
            "us-east-1",
            "AmazonEC2",
            "v1.0.0",
            {"TOTAL_WATER_WITHDRAWALS": (1.5 + index, "m3")},
        )
        for index in range(3 * PAGE)
    ]
    with _fake(paging, water_rows=rows) as fake:
        config = tap_config(fake, start_date="2024-01-01", end_date="2025-01-01")
        run = tap_runner("tap-aws-carbon", config, args=_only(tap_runner, config, tmp_path))
        requests = len(fake.water_requests())
    assert run.returncode == 1
    assert any("water_allocation year 2024" in line for line in run.error_lines), run.stderr
    assert requests == (3 if paging == "cycle" else 3 + MAX_EMPTY_PAGES + 1)


def _only(tap_runner, config: dict, tmp_path: Path, stream: str = "water_allocation") -> tuple:
    """`--catalog` arguments selecting one stream (as `meltano select` would)."""
    discovered = tap_runner("tap-aws-carbon", config, args=("--discover",))
    catalog = json.loads(discovered.stdout)
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] == stream
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalog))
    return ("--catalog", str(path))
