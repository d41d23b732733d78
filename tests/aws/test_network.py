"""Corporate networks: a private CA named by the standard variables is trusted, nothing else."""

from __future__ import annotations

import ssl
from datetime import date

import pytest
import trustme

from tests.aws.conftest import ACCESS_KEY, tap_config
from tests.conftest import TEST_SECRETS
from tests.fakes.aws_data import synthetic_rows
from tests.fakes.aws_sustainability import SustainabilityFake


@pytest.fixture
def tls_fake(tmp_path):
    """The fake behind HTTPS with a certificate from a private CA, like a TLS-inspecting proxy."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "corporate-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    fake = SustainabilityFake(
        synthetic_rows(date(2025, 1, 1), 3),
        credentials={ACCESS_KEY: TEST_SECRETS["aws_secret_access_key"]},
    )
    fake.start(tls=context)
    yield fake, ca_file
    fake.stop()


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "AWS_CA_BUNDLE"])
def test_the_ca_bundle_variable_is_honoured(tls_fake, tap_runner, variable):
    fake, ca_file = tls_fake
    config = tap_config(fake, start_date="2025-01-01", end_date="2025-04-01")
    run = tap_runner("tap-aws-carbon", config, env={variable: str(ca_file)})
    assert run.returncode == 0, run.stderr
    assert len(run.records("carbon_emissions")) == len(fake.rows)


def test_an_untrusted_certificate_fails_with_one_line(tls_fake, tap_runner):
    fake, _ = tls_fake
    config = tap_config(fake, start_date="2025-01-01", end_date="2025-04-01", max_attempts=1)
    run = tap_runner("tap-aws-carbon", config)
    assert run.returncode == 1
    assert any("REQUESTS_CA_BUNDLE" in line for line in run.error_lines), run.stderr
    assert len([r for r in fake.requests if r.path.startswith("/v1/")]) <= 1
    assert "Traceback" not in run.stderr


def test_aws_ca_bundle_wins_for_aws(tls_fake, tap_runner, tmp_path):
    fake, ca_file = tls_fake
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    config = tap_config(fake, start_date="2025-01-01", end_date="2025-04-01")
    env = {"AWS_CA_BUNDLE": str(ca_file), "REQUESTS_CA_BUNDLE": str(other)}
    run = tap_runner("tap-aws-carbon", config, env=env)
    assert run.returncode == 0, run.stderr
    assert len(run.records("carbon_emissions")) == len(fake.rows)


def test_the_role_is_assumed_over_https_with_the_environment_ca(tls_fake, tap_runner):
    """STS gets the same CA bundle as the Sustainability client (it had botocore's default)."""
    fake, ca_file = tls_fake
    config = tap_config(
        fake,
        start_date="2025-01-01",
        end_date="2025-04-01",
        role_arn="arn:aws:iam::123456789012:role/carbon-reader",
        sts_endpoint_url=fake.url,
    )
    # SSL_CERT_FILE: botocore itself falls back to REQUESTS_CA_BUNDLE, but not to this one.
    run = tap_runner("tap-aws-carbon", config, env={"SSL_CERT_FILE": str(ca_file)})
    assert run.returncode == 0, run.stderr[-2000:]
    assert fake.sts_requests() and run.records("carbon_emissions")


def test_the_hint_names_aws_ca_bundle_first(tls_fake, tap_runner):
    fake, _ = tls_fake
    config = tap_config(fake, start_date="2025-01-01", end_date="2025-04-01", max_attempts=1)
    run = tap_runner("tap-aws-carbon", config)
    assert run.returncode == 1
    assert any("point AWS_CA_BUNDLE" in line for line in run.error_lines), run.stderr
