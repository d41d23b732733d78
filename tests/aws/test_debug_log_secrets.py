"""Debug logs never show a credential botocore obtained: assumed-role keys (first and refreshed),
environment keys with a session token, nor the SigV4 signatures made with them.

botocore's own debug lines print the AssumeRole answer body, the canonical request (with
`x-amz-security-token:`), the signed headers and `Signature:` + newline + hex. None of these
values is in the config, so only redaction that follows what botocore resolves can mask them.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.aws.conftest import ACCESS_KEY, tap_config
from tests.conftest import TEST_SECRETS, TapRun, assert_no_secrets
from tests.fakes.aws_data import synthetic_rows
from tests.fakes.aws_sustainability import BOTOCORE_ADVISORY_REFRESH, SustainabilityFake

ROLE_ARN = "arn:aws:iam::123456789012:role/carbon-reader"
DEBUG = {"TAP_AWS_CARBON_LOGLEVEL": "DEBUG"}


def signatures(fake: SustainabilityFake) -> list[str]:
    """The SigV4 signatures of every request the fake received."""
    found = []
    for request in fake.requests:
        auth = request.header("Authorization") or ""
        if "Signature=" in auth:
            found.append(auth.rsplit("Signature=", 1)[1])
    return found


def assert_debug_run_is_clean(run: TapRun, fake: SustainabilityFake) -> None:
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Signature:" in run.stderr and "CanonicalRequest" in run.stderr, "debug must be on"
    assert_no_secrets(run.stdout, run.stderr)
    for issued in fake.sessions.values():
        for value in (issued.secret, issued.token):
            assert value not in run.stderr and value not in run.stdout
    for signature in signatures(fake):
        assert signature not in run.stderr


@pytest.fixture
def role_fake():
    """The Sustainability fake whose own STS issues the role's keys (signed by the base keys)."""
    with SustainabilityFake(
        synthetic_rows(date(2025, 1, 1), 3),
        credentials={ACCESS_KEY: TEST_SECRETS["aws_secret_access_key"]},
    ) as server:
        yield server


def test_role_credentials_from_sts_never_reach_debug_logs(role_fake, tap_runner):
    config = tap_config(
        role_fake,
        role_arn=ROLE_ARN,
        sts_endpoint_url=role_fake.url,
        start_date="2025-01-01",
        end_date="2025-04-01",
    )
    run = tap_runner("tap-aws-carbon", config, env=DEBUG)
    assert role_fake.sts_requests() and role_fake.sessions
    assert "Response body" in run.stderr  # botocore logged the AssumeRole answer, masked
    assert_debug_run_is_clean(run, role_fake)


def test_refreshed_role_credentials_never_reach_debug_logs(tap_runner):
    # Role keys that live a little longer than botocore's refresh window: it fetches new ones
    # within seconds, and the run, paced at 4 requests/s, outlasts several of them.
    with SustainabilityFake(
        synthetic_rows(date(2025, 1, 1), 6),
        page_size_cap=25,
        credentials={ACCESS_KEY: TEST_SECRETS["aws_secret_access_key"]},
        role_lifetime=BOTOCORE_ADVISORY_REFRESH + timedelta(seconds=1),
    ) as fake:
        config = tap_config(
            fake,
            role_arn=ROLE_ARN,
            sts_endpoint_url=fake.url,
            start_date="2025-01-01",
            end_date="2025-07-01",
            max_requests_per_second=4,
        )
        run = tap_runner("tap-aws-carbon", config, env=DEBUG)
        assert len(fake.sts_requests()) >= 3, "botocore must have refreshed the role's keys"
        assert_debug_run_is_clean(run, fake)


def test_environment_keys_and_session_token_never_reach_debug_logs(role_fake, tap_runner):
    config = tap_config(role_fake, start_date="2025-01-01", end_date="2025-04-01")
    del config["aws_access_key_id"], config["aws_secret_access_key"]
    env = {
        **DEBUG,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": TEST_SECRETS["aws_secret_access_key"],
        "AWS_SESSION_TOKEN": TEST_SECRETS["aws_session_token"],
    }
    run = tap_runner("tap-aws-carbon", config, env=env)
    assert "x-amz-security-token" in run.stderr  # the token was signed in, and masked
    assert_debug_run_is_clean(run, role_fake)


def test_environment_keys_assuming_a_role_never_reach_debug_logs(role_fake, tap_runner):
    """The STS call itself is signed with the environment's session token."""
    config = tap_config(
        role_fake,
        role_arn=ROLE_ARN,
        sts_endpoint_url=role_fake.url,
        start_date="2025-01-01",
        end_date="2025-04-01",
    )
    del config["aws_access_key_id"], config["aws_secret_access_key"]
    env = {
        **DEBUG,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": TEST_SECRETS["aws_secret_access_key"],
        "AWS_SESSION_TOKEN": TEST_SECRETS["aws_session_token"],
    }
    run = tap_runner("tap-aws-carbon", config, env=env)
    assert role_fake.sts_requests()
    assert_debug_run_is_clean(run, role_fake)
