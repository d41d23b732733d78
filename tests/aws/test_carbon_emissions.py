"""carbon_emissions against the local Sustainability fake, through the real CLI and boto3."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tests.aws.conftest import tap_config
from tests.conftest import assert_no_secrets
from tests.fakes.aws_sustainability import EMISSIONS_TYPES, EmissionRow

STREAM = "carbon_emissions"
KEY = ("usage_period_start", "usage_account_id", "region", "service")


def _expected(rows: list[EmissionRow], first: date, end: date) -> dict[tuple, EmissionRow]:
    return {
        (r.month.isoformat(), r.account, r.region, r.service): r
        for r in rows
        if first <= r.month < end
    }


def test_every_row_is_emitted_once_with_units_in_column_names(fake, tap_runner):
    run = tap_runner("tap-aws-carbon", tap_config(fake))
    assert run.returncode == 0, run.stderr
    records = run.records(STREAM)
    expected = _expected(fake.rows, date(2024, 1, 1), date(2026, 1, 1))
    keys = [tuple(r[k] for k in KEY) for r in records]
    assert len(keys) == len(set(keys)) == len(expected)
    for record in records:
        row = expected[tuple(record[k] for k in KEY)]
        assert record["model_version"] == row.model_version
        for kind in EMISSIONS_TYPES:
            assert record[f"{kind.lower()}_mtco2e"] == row.values[kind][0]


def test_leading_zero_account_ids_are_kept_as_text(fake, tap_runner):
    records = tap_runner("tap-aws-carbon", tap_config(fake)).records(STREAM)
    accounts = {r["usage_account_id"] for r in records}
    assert "012345678901" in accounts and "000987654321" in accounts


def test_requests_follow_the_api_contract_one_month_each(fake, tap_runner):
    run = tap_runner("tap-aws-carbon", tap_config(fake))
    assert run.returncode == 0, run.stderr
    bodies = fake.carbon_requests()
    firsts = [b for b in bodies if "NextToken" not in b]
    assert len(firsts) == 24  # one request per month 2024-01 .. 2025-12, pages on top
    assert any("NextToken" in b for b in bodies), "pages must be followed"
    for body in bodies:
        assert body["Granularity"] == "MONTHLY"
        assert body["GroupBy"] == ["USAGE_ACCOUNT_ID", "REGION", "SERVICE"]
        assert sorted(body["EmissionsTypes"]) == sorted(EMISSIONS_TYPES)
        assert body["MaxResults"] == 5000
        start = datetime.fromisoformat(body["TimePeriod"]["Start"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(body["TimePeriod"]["End"].replace("Z", "+00:00"))
        assert start.day == end.day == 1
        assert (end.year * 12 + end.month) - (start.year * 12 + start.month) == 1


def test_the_month_in_progress_is_never_requested(fake, tap_runner):
    config = tap_config(fake, start_date="2025-06-01")
    del config["end_date"]
    assert tap_runner("tap-aws-carbon", config).returncode == 0
    this_month = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    ends = [
        datetime.fromisoformat(b["TimePeriod"]["End"].replace("Z", "+00:00"))
        for b in fake.carbon_requests()
    ]
    assert ends and max(ends) <= this_month


def test_bookmark_is_the_last_emitted_month_and_rerun_reads_only_the_lookback(fake, tap_runner):
    first = tap_runner("tap-aws-carbon", tap_config(fake))
    bookmark = first.final_state["bookmarks"][STREAM]
    assert bookmark["replication_key"] == "usage_period_start"
    assert bookmark["replication_key_value"] == "2025-12-01"

    fake.requests.clear()
    second = tap_runner("tap-aws-carbon", tap_config(fake), state=first.final_state)
    assert second.returncode == 0, second.stderr
    months = sorted({b["TimePeriod"]["Start"][:7] for b in fake.carbon_requests()})
    assert months == ["2025-09", "2025-10", "2025-11", "2025-12"]  # 3 months back + bookmark
    assert {r["usage_period_start"] for r in second.records(STREAM)} == {
        "2025-09-01",
        "2025-10-01",
        "2025-11-01",
        "2025-12-01",
    }
    assert second.final_state["bookmarks"][STREAM]["replication_key_value"] == "2025-12-01"


def test_restated_month_is_emitted_again_with_its_new_values(fake, tap_runner):
    first = tap_runner("tap-aws-carbon", tap_config(fake))
    restated = [
        EmissionRow(
            r.month,
            r.account,
            r.region,
            r.service,
            "v3.1.0",
            {k: (v * 2, u) for k, (v, u) in r.values.items()},
        )
        if r.month == date(2025, 11, 1)
        else r
        for r in fake.rows
    ]
    fake.rows = restated
    second = tap_runner("tap-aws-carbon", tap_config(fake), state=first.final_state)
    november = [r for r in second.records(STREAM) if r["usage_period_start"] == "2025-11-01"]
    assert november and all(r["model_version"] == "v3.1.0" for r in november)
    # The restated values themselves, not just the version: every figure doubled, none lost.
    expected = _expected(restated, date(2025, 11, 1), date(2025, 12, 1))
    assert len(november) == len(expected)
    for record in november:
        row = expected[tuple(record[k] for k in KEY)]
        for kind in EMISSIONS_TYPES:
            assert record[f"{kind.lower()}_mtco2e"] == row.values[kind][0]


def test_throttling_is_retried_and_no_record_is_lost(fake, tap_runner):
    fake.throttle_next(2, retry_after_ms=50)
    run = tap_runner("tap-aws-carbon", tap_config(fake))
    assert run.returncode == 0, run.stderr
    assert len(run.records(STREAM)) == len(_expected(fake.rows, date(2024, 1, 1), date(2026, 1, 1)))
    first_month = [
        b for b in fake.carbon_requests() if b["TimePeriod"]["Start"].startswith("2024-01")
    ]
    assert len(first_month) >= 3  # two throttled attempts, then the pages


def test_throttling_beyond_max_attempts_fails_with_one_line(fake, tap_runner):
    fake.throttle_next(10)
    run = tap_runner("tap-aws-carbon", tap_config(fake, max_attempts=3))
    assert run.returncode == 1
    assert len(fake.carbon_requests()) == 3
    assert any("throttled" in line for line in run.error_lines), run.stderr
    assert "Traceback" not in run.stderr


def test_access_denied_fails_fast_naming_the_iam_action(fake, tap_runner):
    fake.faults.deny_access = True
    run = tap_runner("tap-aws-carbon", tap_config(fake))
    assert run.returncode == 1
    assert len(fake.carbon_requests()) == 1, "authorization errors must not be retried"
    assert any("sustainability:GetEstimatedCarbonEmissions" in line for line in run.error_lines)
    assert "Traceback" not in run.stderr
    assert run.records(STREAM) == []


def test_a_wrong_secret_key_is_refused_by_signature_check(fake, tap_runner):
    run = tap_runner("tap-aws-carbon", tap_config(fake, aws_secret_access_key="wrong-but-long"))
    assert run.returncode == 1
    assert any("auth" in line and "403" in line for line in run.error_lines), run.stderr


def test_a_unit_other_than_mtco2e_stops_the_run_instead_of_mislabelling(fake, tap_runner):
    row = fake.rows[0]
    fake.rows[0] = EmissionRow(
        row.month,
        row.account,
        row.region,
        row.service,
        row.model_version,
        {**row.values, "TOTAL_SCOPE_1_CARBON_EMISSIONS": (812.0, "kgCO2e")},
    )
    run = tap_runner("tap-aws-carbon", tap_config(fake))
    assert run.returncode == 1
    assert any("kgCO2e" in line and "MTCO2e" in line for line in run.error_lines), run.stderr
    assert "Traceback" not in run.stderr
    assert run.final_state is None or STREAM not in run.final_state.get("bookmarks", {})


def test_transient_server_errors_are_retried(fake, tap_runner):
    fake.fail_next(2, status=503)
    run = tap_runner("tap-aws-carbon", tap_config(fake))
    assert run.returncode == 0, run.stderr
    assert len(run.records(STREAM)) == len(_expected(fake.rows, date(2024, 1, 1), date(2026, 1, 1)))


def test_debug_logs_never_show_secrets(fake, tap_runner):
    fake.throttle_next(1)
    config = tap_config(
        fake, aws_session_token="FQoGZXIvYXdzEXAMPLEtestSessionTokenValue0123456789"
    )
    run = tap_runner(
        "tap-aws-carbon", config, env={"TAP_AWS_CARBON_LOGLEVEL": "DEBUG", "LOGLEVEL": "DEBUG"}
    )
    assert run.returncode == 0, run.stderr
    assert "X-Amz-Security-Token" in run.stderr or "Sending http request" in run.stderr
    assert_no_secrets(run.stdout, run.stderr)
