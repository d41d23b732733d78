"""Settings errors: one line that says what to change, never echoing a value."""

from __future__ import annotations

from tests.azure.conftest import EXECUTABLE, tap_config
from tests.conftest import TEST_SECRETS, assert_no_secrets


def _fails_with(tap_runner, config, text: str) -> None:
    run = tap_runner(EXECUTABLE, config)
    assert run.returncode != 0
    assert text in run.stderr, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    assert_no_secrets(run.stdout, run.stderr)


def test_secret_and_certificate_together_are_refused(fake, tap_runner):
    config = tap_config(fake, client_certificate_path="/tmp/cert.pem")
    _fails_with(tap_runner, config, "set client_secret or client_certificate_path, not both")


def test_a_secret_without_tenant_is_refused(fake, tap_runner):
    config = tap_config(fake)
    del config["tenant_id"]
    _fails_with(tap_runner, config, "tenant_id is required")


def test_a_subscription_id_that_is_not_a_guid_is_named_by_position(fake, tap_runner):
    config = tap_config(fake, subscription_ids=[fake.subscriptions[0], "my-subscription"])
    _fails_with(tap_runner, config, "subscription_ids[1] is not a subscription id")


def test_plain_http_endpoints_are_refused(fake, tap_runner):
    _fails_with(tap_runner, tap_config(fake, arm_endpoint="http://127.0.0.1:1"), "https://")


def test_a_mistyped_secret_is_reported_without_its_value(fake, tap_runner):
    config = tap_config(fake, client_secret=[TEST_SECRETS["azure_client_secret"]])
    _fails_with(tap_runner, config, "client_secret")


def test_configured_subscriptions_are_lower_cased_and_the_list_call_is_skipped(fake, tap_runner):
    upper = [s.upper() for s in fake.subscriptions[:2]]
    run = tap_runner(EXECUTABLE, tap_config(fake, subscription_ids=upper))
    assert run.returncode == 0, run.stderr[-2000:]
    assert not [r for r in fake.requests if r.path == "/subscriptions"]
    bodies = fake.carbon_bodies("ItemDetailsReport")
    assert {tuple(b["subscriptionList"]) for b in bodies} == {tuple(s.lower() for s in upper)}
