"""Settings: errors that say what to fix, never a value; --about and meltano.yml in step."""

from __future__ import annotations

import json

import yaml
from tap_gcp_carbon.tap import TapGcpCarbon

from tests.conftest import ROOT, SDK_BUILTIN, assert_no_secrets
from tests.gcp.conftest import gcp_config


def test_about_lists_every_setting_flags_the_key_secret_and_shows_no_key(fake_and_key, tap_runner):
    fake, key = fake_and_key
    run = tap_runner("tap-gcp-carbon", gcp_config(fake, key), args=("--about", "--format", "json"))
    assert run.returncode == 0, run.stderr
    about = json.loads(run.stdout)
    properties = about["settings"]["properties"]
    assert set(TapGcpCarbon.config_jsonschema["properties"]) <= set(properties)
    assert {n for n, p in properties.items() if p.get("secret")} == {"credentials_json"}
    assert_no_secrets(run.stdout, run.stderr)
    assert fake.requests == []


def test_meltano_yml_declares_every_tap_setting_with_matching_sensitivity():
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    plugin = next(p for p in project["plugins"]["extractors"] if p["name"] == "tap-gcp-carbon")
    declared = {s["name"]: s for s in plugin["settings"]}
    schema = TapGcpCarbon.config_jsonschema["properties"]
    # meltano.yml is generated from --about, so it may also declare the SDK's own settings.
    assert set(declared) - SDK_BUILTIN == set(schema) - SDK_BUILTIN
    for name, prop in schema.items():
        if name in declared:
            assert bool(declared[name].get("sensitive")) == bool(prop.get("secret")), name
    assert all(s.get("kind") != "decimal" for s in plugin["settings"])


def test_a_key_of_the_wrong_type_is_named_but_never_echoed(fake_and_key, tap_runner):
    fake, key = fake_and_key
    run = tap_runner("tap-gcp-carbon", gcp_config(fake, key, credentials_json=918273645546372819))
    assert run.returncode == 1
    assert "credentials_json" in run.stderr
    assert "918273645546372819" not in run.stderr + run.stdout
    assert fake.requests == []


def test_a_key_that_is_not_a_service_account_key_says_what_to_use(fake_and_key, tap_runner):
    fake, key = fake_and_key
    user_key = json.dumps({"type": "authorized_user", "client_secret": "s3cr3t-9f8e7d"})
    run = tap_runner("tap-gcp-carbon", gcp_config(fake, key, credentials_json=user_key))
    assert run.returncode == 1
    assert "not a service-account key" in run.stderr and "Traceback" not in run.stderr
    assert "s3cr3t-9f8e7d" not in run.stderr + run.stdout


def test_dataset_and_files_together_are_refused(fake_and_key, tap_runner, tmp_path):
    fake, key = fake_and_key
    run = tap_runner("tap-gcp-carbon", gcp_config(fake, key, carbon_footprint_uri=str(tmp_path)))
    assert run.returncode == 1
    assert "not both" in run.stderr
    assert fake.requests == []


def test_secrets_are_not_written_to_state_or_records(fake_and_key, tap_runner):
    fake, key = fake_and_key
    run = tap_runner("tap-gcp-carbon", gcp_config(fake, key))
    assert run.returncode == 0, run.stderr
    assert run.records("carbon_footprint") and run.records("billing_usage_daily")
    assert_no_secrets(run.stdout, json.dumps(run.final_state))
    assert key["private_key_id"] not in run.stdout + run.stderr
