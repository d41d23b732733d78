"""What tap-aws-carbon tells the user names the real cause (issue 14 item 12).

A refused STS AssumeRole used to ask for the Sustainability permission, an invalid region said
"report this as a bug", and a start_date before the API's history sent requests for months
that cannot have data, without a word.
"""

from __future__ import annotations

from datetime import datetime

from tests.aws.conftest import tap_config
from tests.conftest import free_port

ROLE = "arn:aws:iam::123456789012:role/carbon-reader"


def test_a_refused_assume_role_asks_for_sts_assume_role_and_the_trust_policy(fake, tap_runner):
    fake.faults.deny_assume_role = True
    run = tap_runner("tap-aws-carbon", tap_config(fake, role_arn=ROLE, sts_endpoint_url=fake.url))
    assert run.returncode == 1
    assert len(run.error_lines) == 1, run.error_lines
    line = run.error_lines[0]
    assert "STS AssumeRole" in line and "grant it sts:AssumeRole" in line, line
    assert "trust policy" in line
    assert "sustainability:GetEstimatedCarbonEmissions" not in line
    assert fake.carbon_requests() == []
    assert "Traceback" not in run.stderr


def test_an_invalid_region_names_the_setting_not_a_bug(fake, tap_runner):
    run = tap_runner("tap-aws-carbon", tap_config(fake, aws_region="us east 1"))
    assert run.returncode == 1
    assert len(run.error_lines) == 1, run.error_lines
    line = run.error_lines[0]
    assert "set aws_region to an AWS region code" in line, line
    assert "bug" not in line
    assert "Traceback" not in run.stderr


def test_an_unreachable_endpoint_points_at_region_endpoint_and_network(fake, tap_runner):
    dead = f"http://127.0.0.1:{free_port()}"
    config = tap_config(fake, sustainability_endpoint_url=dead, max_attempts=1)
    run = tap_runner("tap-aws-carbon", config)
    assert run.returncode == 1
    assert len(run.error_lines) == 1, run.error_lines
    line = run.error_lines[0]
    assert "EndpointConnectionError" in line and "check aws_region" in line, line
    assert "bug" not in line


def test_a_start_date_before_2022_is_clamped_to_the_first_month_with_one_notice(fake, tap_runner):
    run = tap_runner("tap-aws-carbon", tap_config(fake, start_date="2019-06-01"))
    assert run.returncode == 0, run.stderr[-2000:]
    starts = sorted(
        datetime.fromisoformat(b["TimePeriod"]["Start"].replace("Z", "+00:00")).date()
        for b in fake.carbon_requests() + fake.water_requests()
    )
    assert starts[0].isoformat() == "2022-01-01", starts[:3]
    firsts = [b for b in fake.carbon_requests() if "NextToken" not in b]
    assert len(firsts) == 48  # 2022-01 .. 2025-12, not 78 months from 2019-06
    notices = [line for line in run.stderr.splitlines() if "start_date 2019-06-01" in line]
    assert len(notices) == 2, notices  # one per API stream
    assert all("| WARNING" in line and "reading from" in line for line in notices)
    assert {n.split("start_date")[0].rsplit("| ", 1)[1] for n in notices} == {
        "carbon_emissions: ",
        "water_allocation: ",
    }
