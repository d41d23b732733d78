"""Credentials come from botocore: explicit keys, profiles, and an assumed role via STS."""

from __future__ import annotations

from tests.aws.conftest import tap_config

ROLE_ARN = "arn:aws:iam::123456789012:role/carbon-reader"


def test_role_arn_is_assumed_through_sts_and_its_credentials_sign_the_calls(
    fake, tap_runner, moto_endpoint
):
    fake.credentials = None  # the role's temporary keys are issued by moto, not known upfront
    config = tap_config(
        fake, role_arn=ROLE_ARN, sts_endpoint_url=moto_endpoint, external_id="ext-42"
    )
    run = tap_runner("tap-aws-carbon", config)
    assert run.returncode == 0, run.stderr
    assert run.records("carbon_emissions")
    signed = [r for r in fake.requests if r.path == "/v1/estimated-carbon-emissions"]
    assert signed
    for request in signed:
        credential = request.header("Authorization").split("Credential=")[1].split("/")[0]
        assert credential.startswith("ASIA"), "calls must use the assumed role's temporary keys"
        assert request.header("X-Amz-Security-Token")


def test_a_named_profile_supplies_the_keys(fake, tap_runner, tmp_path):
    from tests.aws.conftest import ACCESS_KEY
    from tests.conftest import TEST_SECRETS

    credentials = tmp_path / "credentials"
    credentials.write_text(
        f"[carbon]\naws_access_key_id = {ACCESS_KEY}\n"
        f"aws_secret_access_key = {TEST_SECRETS['aws_secret_access_key']}\n"
    )
    config = tap_config(fake, aws_profile="carbon")
    del config["aws_access_key_id"], config["aws_secret_access_key"]
    run = tap_runner(
        "tap-aws-carbon", config, env={"AWS_SHARED_CREDENTIALS_FILE": str(credentials)}
    )
    assert run.returncode == 0, run.stderr
    assert run.records("carbon_emissions")  # the fake verified the SigV4 signature


def test_no_credentials_at_all_fails_with_one_line(fake, tap_runner):
    config = tap_config(fake)
    del config["aws_access_key_id"], config["aws_secret_access_key"]
    run = tap_runner("tap-aws-carbon", config, env={"AWS_EC2_METADATA_DISABLED": "true"})
    assert run.returncode == 1
    assert any("credentials" in line.lower() for line in run.error_lines), run.stderr
    assert "Traceback" not in run.stderr
