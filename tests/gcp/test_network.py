"""Corporate networks: a private CA named by the standard variables is trusted, nothing else."""

from __future__ import annotations

import ssl

import pytest
import trustme

from tests.gcp.conftest import gcp_config, make_fake


@pytest.fixture
def tls_fake(tmp_path):
    """BigQuery and its token endpoint behind HTTPS with a private CA's certificate."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "corporate-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    fake, key = make_fake(tls=context)
    yield fake, key, ca_file
    fake.stop()


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
def test_the_ca_bundle_variable_is_honoured_for_token_and_api(tls_fake, tap_runner, variable):
    fake, key, ca_file = tls_fake
    assert key["token_uri"].startswith("https://")
    run = tap_runner(
        "tap-gcp-carbon",
        gcp_config(fake, key, billing_export_table=None, start_month="2025-01-01"),
        env={variable: str(ca_file)},
    )
    assert run.returncode == 0, run.stderr
    assert run.records("carbon_footprint")
    assert any(r.path == "/token" for r in fake.requests)


def test_an_untrusted_certificate_fails_with_one_line_naming_the_variables(tls_fake, tap_runner):
    fake, key, _ = tls_fake
    run = tap_runner("tap-gcp-carbon", gcp_config(fake, key, billing_export_table=None))
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert any("REQUESTS_CA_BUNDLE" in line for line in run.error_lines), run.stderr[-2000:]
    assert fake.requests == []  # the TLS handshake failed: nothing reached the fake


def test_aws_ca_bundle_does_not_override_ssl_cert_file(tls_fake, tap_runner, tmp_path):
    """A machine-wide AWS_CA_BUNDLE is for AWS; Google's clients trust SSL_CERT_FILE's CA."""
    fake, key, ca_file = tls_fake
    other = tmp_path / "aws-proxy-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    run = tap_runner(
        "tap-gcp-carbon",
        gcp_config(fake, key, billing_export_table=None, start_month="2025-01-01"),
        env={"AWS_CA_BUNDLE": str(other), "SSL_CERT_FILE": str(ca_file)},
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.records("carbon_footprint")


def test_the_hint_names_the_bundle_in_use_not_aws_ca_bundle(tls_fake, tap_runner, tmp_path):
    fake, key, _ = tls_fake
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    run = tap_runner(
        "tap-gcp-carbon",
        gcp_config(fake, key, billing_export_table=None),
        env={"SSL_CERT_FILE": str(other)},
    )
    assert run.returncode == 1
    line = run.error_lines[-1]
    assert str(other) in line and "SSL_CERT_FILE" in line, line
    assert "AWS_CA_BUNDLE" not in line
