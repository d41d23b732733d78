"""water_allocation against the local Sustainability fake, through the real CLI and boto3."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.aws.conftest import ACCESS_KEY, tap_config
from tests.conftest import TEST_SECRETS
from tests.fakes.aws_data import synthetic_rows, synthetic_water_rows
from tests.fakes.aws_sustainability import SustainabilityFake, WaterRow

STREAM = "water_allocation"
KEY = ("usage_period_start", "usage_account_id", "region", "service")
THIS_YEAR = datetime.now(UTC).year


@pytest.fixture
def fake():
    """Water data for 2022 to the current year, two months of carbon data, tiny pages."""
    with SustainabilityFake(
        synthetic_rows(date(2025, 1, 1), 2),
        water_rows=synthetic_water_rows(2022, THIS_YEAR - 2022 + 1),
        page_size_cap=25,
        credentials={ACCESS_KEY: TEST_SECRETS["aws_secret_access_key"]},
    ) as server:
        yield server


@pytest.fixture
def water_only(tap_runner, tmp_path: Path, fake):
    """`--catalog` arguments selecting water_allocation alone (as `meltano select` would)."""
    discovered = tap_runner("tap-aws-carbon", tap_config(fake), args=("--discover",))
    assert discovered.returncode == 0, discovered.stderr
    catalog = json.loads(discovered.stdout)
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"]["selected"] = stream["tap_stream_id"] == STREAM
    path = tmp_path / "water-only-catalog.json"
    path.write_text(json.dumps(catalog))
    return ("--catalog", str(path))


def _expected(rows: list[WaterRow], first: int, last: int) -> dict[tuple, WaterRow]:
    return {
        (r.year_start.isoformat(), r.account, r.region, r.service): r
        for r in rows
        if first <= r.year_start.year <= last
    }


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_every_row_is_emitted_once_with_exact_values_beside_carbon(fake, tap_runner):
    run = tap_runner("tap-aws-carbon", tap_config(fake))  # start 2024-01, end 2026-01
    assert run.returncode == 0, run.stderr
    records = run.records(STREAM)
    expected = _expected(fake.water_rows, 2024, 2025)
    keys = [tuple(r[k] for k in KEY) for r in records]
    assert len(keys) == len(set(keys)) == len(expected)
    for record in records:
        row = expected[tuple(record[k] for k in KEY)]
        assert record["usage_period_end"] == f"{row.year_start.year + 1}-01-01"
        assert record["model_version"] == row.model_version
        assert record["total_water_withdrawals_m3"] == row.values["TOTAL_WATER_WITHDRAWALS"][0]
    accounts = {r["usage_account_id"] for r in records}
    assert "012345678901" in accounts and "000987654321" in accounts
    assert "Global" in {r["region"] for r in records}
    assert len(run.records("carbon_emissions")) == len(fake.rows)  # both streams, one run


def test_requests_follow_the_api_contract_one_year_each(fake, tap_runner, water_only):
    run = tap_runner("tap-aws-carbon", tap_config(fake), args=water_only)
    assert run.returncode == 0, run.stderr
    assert fake.carbon_requests() == []
    bodies = fake.water_requests()
    firsts = [b for b in bodies if "NextToken" not in b]
    assert [b["TimePeriod"]["Start"][:4] for b in firsts] == ["2024", "2025"]  # oldest first
    assert any("NextToken" in b for b in bodies), "pages must be followed"
    for body in bodies:
        assert body["Granularity"] == "YEARLY_CALENDAR"
        assert body["GroupBy"] == ["USAGE_ACCOUNT_ID", "REGION", "SERVICE"]
        assert body["AllocationTypes"] == ["TOTAL_WATER_WITHDRAWALS"]
        assert body["MaxResults"] == 5000
        start, end = _when(body["TimePeriod"]["Start"]), _when(body["TimePeriod"]["End"])
        assert (start.month, start.day, end.month, end.day) == (1, 1, 1, 1)
        assert end.year == start.year + 1


def test_the_year_in_progress_is_asked_up_to_the_current_month_only(fake, tap_runner, water_only):
    config = tap_config(fake, start_date="2025-06-01")  # years count from start_date's year
    del config["end_date"]
    run = tap_runner("tap-aws-carbon", config, args=water_only)
    assert run.returncode == 0, run.stderr
    this_month = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    periods = {
        (_when(b["TimePeriod"]["Start"]), _when(b["TimePeriod"]["End"]))
        for b in fake.water_requests()
    }
    assert max(end for _, end in periods) <= this_month
    assert all((start.month, start.day) == (1, 1) for start, _ in periods)
    years = sorted({r["usage_period_start"][:4] for r in run.records(STREAM)})
    # The API returns a year when the range holds its 1 January; in January that range is empty.
    in_progress = [str(THIS_YEAR)] if this_month.month > 1 else []
    assert years == [str(y) for y in range(2025, THIS_YEAR)] + in_progress


def test_bookmark_is_the_last_emitted_year_and_rerun_reads_only_the_lookback(
    fake, tap_runner, water_only
):
    config = tap_config(fake, start_date="2022-01-01")
    first = tap_runner("tap-aws-carbon", config, args=water_only)
    assert first.returncode == 0, first.stderr
    assert {r["usage_period_start"] for r in first.records(STREAM)} == {
        "2022-01-01",
        "2023-01-01",
        "2024-01-01",
        "2025-01-01",
    }
    bookmark = first.final_state["bookmarks"][STREAM]
    assert bookmark["replication_key"] == "usage_period_start"
    assert bookmark["replication_key_value"] == "2025-01-01"

    fake.requests.clear()
    second = tap_runner("tap-aws-carbon", config, state=first.final_state, args=water_only)
    assert second.returncode == 0, second.stderr
    years = sorted({b["TimePeriod"]["Start"][:4] for b in fake.water_requests()})
    assert years == ["2024", "2025"]  # water_lookback_years=1 before the bookmark, and it
    assert {r["usage_period_start"] for r in second.records(STREAM)} == {
        "2024-01-01",
        "2025-01-01",
    }
    assert second.final_state["bookmarks"][STREAM]["replication_key_value"] == "2025-01-01"

    fake.requests.clear()
    config["water_lookback_years"] = 0
    third = tap_runner("tap-aws-carbon", config, state=second.final_state, args=water_only)
    assert third.returncode == 0, third.stderr
    assert sorted({b["TimePeriod"]["Start"][:4] for b in fake.water_requests()}) == ["2025"]


def test_restated_year_is_emitted_again_with_its_new_values(fake, tap_runner, water_only):
    first = tap_runner("tap-aws-carbon", tap_config(fake), args=water_only)
    fake.water_rows = [
        WaterRow(
            r.year_start,
            r.account,
            r.region,
            r.service,
            "v1.1.0",
            {k: (v * 2, u) for k, (v, u) in r.values.items()},
        )
        if r.year_start.year == 2024
        else r
        for r in fake.water_rows
    ]
    second = tap_runner(
        "tap-aws-carbon", tap_config(fake), state=first.final_state, args=water_only
    )
    restated = [r for r in second.records(STREAM) if r["usage_period_start"] == "2024-01-01"]
    assert restated and all(r["model_version"] == "v1.1.0" for r in restated)
    before = {tuple(r[k] for k in KEY): r for r in first.records(STREAM)}
    for record in restated:
        old = before[tuple(record[k] for k in KEY)]["total_water_withdrawals_m3"]
        assert record["total_water_withdrawals_m3"] == pytest.approx(old * 2)


def test_access_denied_fails_fast_naming_the_water_iam_action(fake, tap_runner, water_only):
    fake.faults.deny_access = True
    run = tap_runner("tap-aws-carbon", tap_config(fake), args=water_only)
    assert run.returncode == 1
    assert len(fake.water_requests()) == 1, "authorization errors must not be retried"
    lines = [
        line for line in run.error_lines if "sustainability:GetEstimatedWaterAllocation" in line
    ]
    assert len(lines) == 1, run.stderr
    assert "sustainability:GetEstimatedCarbonEmissions" not in run.stderr
    assert "Traceback" not in run.stderr
    assert run.records(STREAM) == []


def test_a_unit_other_than_m3_stops_the_run_instead_of_mislabelling(fake, tap_runner, water_only):
    index = next(i for i, r in enumerate(fake.water_rows) if r.year_start.year == 2024)
    row = fake.water_rows[index]
    fake.water_rows[index] = WaterRow(
        row.year_start,
        row.account,
        row.region,
        row.service,
        row.model_version,
        {"TOTAL_WATER_WITHDRAWALS": (812.0, "kL")},
    )
    run = tap_runner("tap-aws-carbon", tap_config(fake), args=water_only)
    assert run.returncode == 1
    lines = [line for line in run.error_lines if "'kL'" in line and "m3" in line]
    assert len(lines) == 1, run.stderr
    assert row.account in lines[0] and "total_water_withdrawals_m3" in lines[0]
    assert "Traceback" not in run.stderr
    assert all(r["total_water_withdrawals_m3"] != 812.0 for r in run.records(STREAM))
    assert run.final_state is None or STREAM not in run.final_state.get("bookmarks", {})


def test_throttling_is_retried_and_no_record_is_lost(fake, tap_runner, water_only):
    fake.throttle_next(2, retry_after_ms=50)
    run = tap_runner("tap-aws-carbon", tap_config(fake), args=water_only)
    assert run.returncode == 0, run.stderr
    records = run.records(STREAM)
    assert len(records) == len(_expected(fake.water_rows, 2024, 2025))
    first_year = [b for b in fake.water_requests() if b["TimePeriod"]["Start"].startswith("2024")]
    assert len(first_year) >= 4  # two throttled attempts, then at least two pages


def test_the_fake_answers_like_the_model_says(fake):
    """The fake itself, driven by a plain boto3 client: the rules the tap relies on."""
    client = boto3.client(
        "sustainability",
        region_name="us-east-1",
        endpoint_url=fake.url,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=TEST_SECRETS["aws_secret_access_key"],
    )
    partial = client.get_estimated_water_allocation(
        TimePeriod={
            "Start": datetime(2024, 4, 1, tzinfo=UTC),
            "End": datetime(2025, 4, 1, tzinfo=UTC),
        },
        MaxResults=5000,
    )
    # Only the year whose 1 January is in range, all of it, ungrouped, default allocation type.
    assert [r["TimePeriod"]["Start"].year for r in partial["Results"]] == [2025]
    total = sum(
        r.values["TOTAL_WATER_WITHDRAWALS"][0] for r in fake.water_rows if r.year_start.year == 2025
    )
    value = partial["Results"][0]["AllocationValues"]["TOTAL_WATER_WITHDRAWALS"]
    assert value["Unit"] == "m3" and value["Value"] == pytest.approx(total)
    assert partial["Results"][0]["DimensionsValues"] == {}

    period = {"Start": datetime(2024, 1, 1, tzinfo=UTC), "End": datetime(2025, 1, 1, tzinfo=UTC)}
    with pytest.raises(ClientError) as refused:
        client.get_estimated_water_allocation(TimePeriod=period, Granularity="MONTHLY")
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "YEARLY_CALENDAR" in refused.value.response["Error"]["Message"]

    page = client.get_estimated_water_allocation(
        TimePeriod=period, GroupBy=["REGION"], MaxResults=2
    )
    with pytest.raises(ClientError) as foreign:  # a token is bound to the request it came from
        client.get_estimated_carbon_emissions(
            TimePeriod=period, GroupBy=["REGION"], MaxResults=2, NextToken=page["NextToken"]
        )
    assert foreign.value.response["Error"]["Code"] == "ValidationException"
