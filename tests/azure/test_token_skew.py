"""ARM refusing a fresh token as expired (401 ExpiredAuthenticationToken, a clock behind ARM's):
the tap asks Entra ID for a new token and retries once, and if that fails too, the line points
at the clock, not at the client secret (issue 14 item 12)."""

from __future__ import annotations

from tap_azure_emissions.periods import today

from tests.azure.conftest import EXECUTABLE, tap_config


def _config(fake):
    # One month of carbon data and this month's cost keeps the run short.
    return tap_config(
        fake, start_month="2026-03-01", cost_start_date=today().replace(day=1).isoformat()
    )


def test_a_token_arm_finds_expired_is_renewed_and_the_request_retried_once(fake, tap_runner):
    fake.faults.skewed_tokens = 1
    run = tap_runner(EXECUTABLE, _config(fake))
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.error_lines == []
    assert len(fake.token_requests()) == 2, "one fresh token after the refusal"
    notes = [line for line in run.stderr.splitlines() if "retrying once with a fresh token" in line]
    assert len(notes) == 1 and "| INFO" in notes[0], notes
    assert run.records("emissions_monthly")


def test_a_clock_arm_always_disagrees_with_fails_in_one_line_about_the_clock(fake, tap_runner):
    fake.faults.skewed_tokens = 1000
    run = tap_runner(EXECUTABLE, _config(fake))
    assert run.returncode == 1
    assert len(run.error_lines) == 1, run.error_lines
    line = run.error_lines[0]
    assert "401 ExpiredAuthenticationToken" in line and "clock" in line, line
    assert "client_secret" not in line, "the secret is not at fault"
    arm = [r for r in fake.requests if fake.eligible(r)]
    assert len(arm) == 2, "one retry with a fresh token, then stop"
    assert "Traceback" not in run.stderr
