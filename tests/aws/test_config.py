"""Settings: errors that say what to fix, never a value, and meltano.yml kept in step."""

from __future__ import annotations

import json

import yaml
from tap_aws_carbon.tap import TapAwsCarbon

from tests.aws.conftest import tap_config
from tests.conftest import ROOT, SDK_BUILTIN, TEST_SECRETS, assert_no_secrets


def test_a_secret_of_the_wrong_type_is_named_but_never_echoed(fake, tap_runner):
    run = tap_runner("tap-aws-carbon", tap_config(fake, aws_secret_access_key=918273645546372819))
    assert run.returncode == 1
    assert "aws_secret_access_key" in run.stderr
    assert "918273645546372819" not in run.stderr + run.stdout
    assert "Traceback" not in run.stderr
    assert fake.carbon_requests() == []


def test_no_config_value_is_echoed_in_validation_errors(fake, tap_runner):
    run = tap_runner(
        "tap-aws-carbon", tap_config(fake, start_date="not-a-date-7f3a", lookback_months=-4)
    )
    assert run.returncode == 1
    assert "start_date" in run.stderr and "lookback_months" in run.stderr
    assert "not-a-date-7f3a" not in run.stderr


def test_end_before_start_is_refused_with_what_to_change(fake, tap_runner):
    run = tap_runner(
        "tap-aws-carbon", tap_config(fake, start_date="2025-06-01", end_date="2025-01-01")
    )
    assert run.returncode == 1
    assert "end_date must be after start_date" in run.stderr
    assert "Traceback" not in run.stderr


def test_an_access_key_without_its_secret_is_refused(fake, tap_runner):
    config = tap_config(fake)
    del config["aws_secret_access_key"]
    run = tap_runner("tap-aws-carbon", config)
    assert run.returncode == 1
    assert "aws_access_key_id and aws_secret_access_key together" in run.stderr


def test_about_lists_every_setting_and_no_secret_value(fake, tap_runner):
    run = tap_runner("tap-aws-carbon", tap_config(fake), args=("--about", "--format", "json"))
    assert run.returncode == 0, run.stderr
    about = json.loads(run.stdout)
    names = set(about["settings"]["properties"])
    assert set(TapAwsCarbon.config_jsonschema["properties"]) <= names
    assert_no_secrets(run.stdout, run.stderr)
    secrets = {n for n, p in about["settings"]["properties"].items() if p.get("secret")}
    assert {"aws_secret_access_key", "aws_session_token", "aws_access_key_id"} <= secrets


def test_meltano_yml_declares_every_tap_setting_with_matching_sensitivity():
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    plugin = next(p for p in project["plugins"]["extractors"] if p["name"] == "tap-aws-carbon")
    declared = {s["name"]: s for s in plugin["settings"]}
    schema = TapAwsCarbon.config_jsonschema["properties"]
    # meltano.yml is generated from --about, so it may also declare the SDK's own settings.
    assert set(declared) - SDK_BUILTIN == set(schema) - SDK_BUILTIN
    for name, prop in schema.items():
        if name in declared:
            assert bool(declared[name].get("sensitive")) == bool(prop.get("secret")), name


def test_secrets_are_not_written_to_the_state_or_records(fake, tap_runner):
    run = tap_runner(
        "tap-aws-carbon",
        tap_config(fake, aws_session_token=TEST_SECRETS["aws_session_token"]),
    )
    assert run.returncode == 0, run.stderr
    assert run.records("carbon_emissions")
    assert_no_secrets(run.stdout, json.dumps(run.final_state))
