"""Auth is google-auth's: service-account key, Application Default Credentials, impersonation."""

from __future__ import annotations

import json

from google.auth import impersonated_credentials
from google.oauth2 import service_account
from tap_gcp_carbon.auth import SCOPES, make_credentials

from tests.conftest import assert_no_secrets
from tests.fakes.gcp_key import PRIVATE_PEM
from tests.gcp.conftest import PROJECT, gcp_config

NO_ADC = {"GOOGLE_APPLICATION_CREDENTIALS": "", "NO_GCE_CHECK": "True", "HOME": "/nonexistent"}


def test_application_default_credentials_are_used_when_no_key_is_set(
    fake_and_key, tap_runner, tmp_path
):
    fake, key = fake_and_key
    key_file = tmp_path / "adc.json"
    key_file.write_text(json.dumps(key))
    config = gcp_config(fake, key, billing_export_table=None, project_id=None)
    del config["credentials_json"]
    run = tap_runner(
        "tap-gcp-carbon", config, env={"GOOGLE_APPLICATION_CREDENTIALS": str(key_file)}
    )
    assert run.returncode == 0, run.stderr
    assert run.records("carbon_footprint")
    # the project comes from the credentials when project_id is unset
    assert all(f"/projects/{PROJECT}/" in r.path for r in fake.api_requests())


def test_without_any_credentials_the_error_says_how_to_provide_them(fake_and_key, tap_runner):
    fake, key = fake_and_key
    config = gcp_config(fake, key, billing_export_table=None)
    del config["credentials_json"]
    run = tap_runner("tap-gcp-carbon", config, env=NO_ADC)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert "no Google credentials" in run.stderr and "application-default login" in run.stderr
    assert fake.requests == []


def test_the_token_is_fetched_once_and_reused_for_every_call(fake_and_key, tap_runner):
    fake, key = fake_and_key
    run = tap_runner("tap-gcp-carbon", gcp_config(fake, key))
    assert run.returncode == 0, run.stderr
    assert len([r for r in fake.requests if r.path == "/token"]) == 1
    assert len(fake.api_requests()) > 5
    assert_no_secrets(run.stderr)


def test_impersonation_wraps_the_key_with_the_target_account_and_cloud_platform_scope():
    info = {
        "type": "service_account",
        "client_email": "base@p.iam.gserviceaccount.com",
        "private_key": PRIVATE_PEM,
        "token_uri": "http://127.0.0.1:9/token",
        "project_id": "base-project",
    }
    target = "reader@carbon-fake-project.iam.gserviceaccount.com"
    credentials, project = make_credentials(
        {"credentials_json": json.dumps(info), "impersonate_service_account": target}
    )
    assert isinstance(credentials, impersonated_credentials.Credentials)
    assert credentials.service_account_email == target
    assert isinstance(credentials._source_credentials, service_account.Credentials)
    assert list(credentials._target_scopes) == list(SCOPES)
    assert project == "base-project"
