"""CA precedence for the Azure tap: the ca_bundle setting, then REQUESTS_CA_BUNDLE / SSL_CERT_FILE;
a machine-wide AWS_CA_BUNDLE never decides whom Entra ID and ARM are trusted with."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme

from tests.azure.conftest import EXECUTABLE, tap_config


@pytest.fixture
def other_ca(tmp_path: Path) -> str:
    """A CA that did not sign the fake's certificate (another team's, or the AWS proxy's)."""
    path = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


def test_aws_ca_bundle_does_not_override_requests_ca_bundle(fake, tap_runner, other_ca):
    config = tap_config(fake, start_month="2026-02-01")
    del config["ca_bundle"]
    env = {"AWS_CA_BUNDLE": other_ca, "REQUESTS_CA_BUNDLE": fake.ca_file}
    run = tap_runner(EXECUTABLE, config, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.records("emissions_monthly")


def test_aws_ca_bundle_alone_is_not_used_and_the_hint_names_azure_variables(
    fake, tap_runner, other_ca
):
    config = tap_config(fake, start_month="2026-02-01", max_attempts=1)
    del config["ca_bundle"]
    run = tap_runner(EXECUTABLE, config, env={"AWS_CA_BUNDLE": fake.ca_file})
    assert run.returncode == 1
    line = run.error_lines[-1]
    assert "REQUESTS_CA_BUNDLE" in line and "ca_bundle setting" in line, line
    assert "AWS_CA_BUNDLE" not in line
    assert "Traceback" not in run.stderr


def test_the_ca_bundle_setting_wins_over_every_variable(fake, tap_runner, other_ca):
    config = tap_config(fake, start_month="2026-02-01")  # ca_bundle = the fake's CA
    env = {"REQUESTS_CA_BUNDLE": other_ca, "SSL_CERT_FILE": other_ca, "AWS_CA_BUNDLE": other_ca}
    run = tap_runner(EXECUTABLE, config, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.records("emissions_monthly")


def test_a_bundle_without_the_ca_is_named_with_its_variable(fake, tap_runner, other_ca):
    config = tap_config(fake, start_month="2026-02-01", max_attempts=1)
    del config["ca_bundle"]
    run = tap_runner(EXECUTABLE, config, env={"REQUESTS_CA_BUNDLE": other_ca})
    assert run.returncode == 1
    line = run.error_lines[-1]
    assert other_ca in line and "REQUESTS_CA_BUNDLE" in line, line
    assert "AWS_CA_BUNDLE" not in line
