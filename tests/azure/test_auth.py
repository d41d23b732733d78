"""azure-identity against the fake Entra ID over HTTPS: secrets, CA trust and token refresh."""

from __future__ import annotations

import time

import trustme
from tap_azure_emissions.periods import today

from tests.azure.conftest import CLIENT_ID, EXECUTABLE, TENANT, make_fake, tap_config
from tests.conftest import TEST_SECRETS, assert_no_secrets


def test_a_run_longer_than_a_token_life_refreshes_the_token(tap_runner):
    with make_fake(2, token_lifetime=2) as fake:
        # One month of carbon data and this month's cost: ~25 requests at 4/s outlast 3 tokens.
        config = tap_config(
            fake,
            start_month="2026-03-01",
            cost_start_date=today().replace(day=1).isoformat(),
            max_requests_per_second=4,
        )
        started = time.monotonic()
        run = tap_runner(EXECUTABLE, config)
        elapsed = time.monotonic() - started
        assert run.returncode == 0, run.stderr[-3000:]
        assert elapsed > 2 * fake.token_lifetime
        assert len(fake.token_requests()) >= 3
        used = {r.header("Authorization") for r in fake.requests if "/providers/" in r.path}
        assert len(used) >= 3, "later requests must carry refreshed tokens"
        assert run.records("emissions_by_resource")


def test_a_wrong_client_secret_fails_with_one_line_naming_what_to_check(fake, tap_runner):
    run = tap_runner(EXECUTABLE, tap_config(fake, client_secret="wrong-secret-value-0000"))
    assert run.returncode == 1
    assert "AADSTS7000215" in run.error_lines[-1] and "client_secret" in run.error_lines[-1]
    assert "Traceback" not in run.stderr
    assert not [r for r in fake.requests if "/providers/" in r.path], "no ARM call without a token"


def test_the_environment_ca_bundle_is_trusted_for_entra_and_arm(fake, tap_runner):
    config = tap_config(fake)
    del config["ca_bundle"]
    untrusted = tap_runner(EXECUTABLE, config)
    assert untrusted.returncode == 1
    assert "REQUESTS_CA_BUNDLE" in untrusted.error_lines[-1]
    trusted = tap_runner(EXECUTABLE, config, env={"REQUESTS_CA_BUNDLE": fake.ca_file})
    assert trusted.returncode == 0, trusted.stderr[-3000:]
    assert trusted.records("emissions_monthly")


def test_debug_logs_state_and_about_never_show_the_client_secret(fake, tap_runner):
    fake.throttle_next("carbon", 1, {"Retry-After": "0"})
    run = tap_runner(
        EXECUTABLE,
        tap_config(fake),
        env={"TAP_AZURE_EMISSIONS_LOGLEVEL": "DEBUG", "LOGLEVEL": "DEBUG"},
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "oauth2/v2.0/token" in run.stderr, "debug logging must really be on"
    about = tap_runner(EXECUTABLE, tap_config(fake), args=("--about", "--format=json"))
    assert "client_secret" in about.stdout
    assert_no_secrets(run.stdout, run.stderr, about.stdout, about.stderr)
    token_form = fake.token_requests()[0].body.decode()
    assert "client_secret=" in token_form  # the secret did reach Entra, just not the logs
    assert TEST_SECRETS["azure_client_secret"] not in str(run.final_state)


def test_without_secret_settings_default_azure_credential_uses_the_environment(fake, tap_runner):
    config = tap_config(fake)
    for name in ("tenant_id", "client_id", "client_secret", "authority_host"):
        del config[name]
    env = {
        "AZURE_TENANT_ID": TENANT,
        "AZURE_CLIENT_ID": CLIENT_ID,
        "AZURE_CLIENT_SECRET": TEST_SECRETS["azure_client_secret"],
        "AZURE_AUTHORITY_HOST": fake.url,
    }
    run = tap_runner(EXECUTABLE, config, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    assert len(fake.token_requests()) == 1
    assert run.records("emissions_by_subscription")


def test_a_certificate_credential_signs_its_own_assertion(tmp_path, tap_runner):
    leaf = trustme.CA().issue_cert("tap-client", key_type=trustme.KeyType.RSA)
    key_and_cert = tmp_path / "client.pem"
    key_and_cert.write_bytes(leaf.private_key_and_cert_chain_pem.bytes())
    with make_fake(1) as fake:
        fake.certificate_clients = {CLIENT_ID: leaf.cert_chain_pems[0].bytes()}
        config = tap_config(fake, client_certificate_path=str(key_and_cert))
        del config["client_secret"]
        run = tap_runner(EXECUTABLE, config)
        assert run.returncode == 0, run.stderr[-3000:]
        form = fake.token_requests()[0].body.decode()
        assert "client_assertion=" in form and "client_secret" not in form
        assert run.records("emissions_monthly")

        other = tmp_path / "other.pem"
        other_leaf = trustme.CA().issue_cert("x", key_type=trustme.KeyType.RSA)
        other.write_bytes(other_leaf.private_key_and_cert_chain_pem.bytes())
        refused = tap_runner(EXECUTABLE, {**config, "client_certificate_path": str(other)})
        assert refused.returncode == 1
        assert "AADSTS700027" in refused.error_lines[-1]

        ec_key = tmp_path / "ec.pem"
        ec_key.write_bytes(trustme.CA().issue_cert("y").private_key_and_cert_chain_pem.bytes())
        unusable = tap_runner(EXECUTABLE, {**config, "client_certificate_path": str(ec_key)})
        assert unusable.returncode == 1
        assert "RSA" in unusable.error_lines[-1] and "Traceback" not in unusable.stderr
