"""List settings of the three taps: a repeated value (compared as the provider compares it) and
an empty `carbon_scopes` are refused in one settings line, before any request is sent."""

from __future__ import annotations

from typing import Any

import pytest

from tests.aws.conftest import tap_config as aws_config
from tests.azure.conftest import make_fake
from tests.azure.conftest import tap_config as azure_config
from tests.conftest import assert_no_secrets
from tests.fakes.aws_sustainability import SustainabilityFake

GUID = "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"


def _refused(tap_runner, executable: str, config: dict[str, Any], *needles: str) -> None:
    run = tap_runner(executable, config)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    lines = [line for line in run.error_lines if "Config validation failed" in line]
    assert len(lines) == 1, run.stderr[-2000:]
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert_no_secrets(run.stdout, run.stderr)


@pytest.fixture(scope="module")
def azure_fake():
    with make_fake(1) as fake:
        yield fake


@pytest.mark.parametrize(
    ("setting", "value", "needles"),
    [
        ("carbon_scopes", ["Scope1", "Scope2", "Scope1"], ["carbon_scopes[2] repeats"]),
        ("carbon_scopes", [], ["carbon_scopes is empty"]),
        (
            "subscription_ids",
            [GUID, GUID.upper()],
            ["subscription_ids[1] repeats subscription_ids[0]", "case-insensitive"],
        ),
        (
            "cost_scopes",
            [
                "providers/Microsoft.Billing/billingAccounts/123",
                "/providers/microsoft.billing/billingAccounts/123/",
            ],
            ["cost_scopes[1] repeats cost_scopes[0]"],
        ),
    ],
)
def test_azure_list_settings(tap_runner, azure_fake, setting, value, needles):
    before = len(azure_fake.requests)
    _refused(
        tap_runner, "tap-azure-emissions", azure_config(azure_fake, **{setting: value}), *needles
    )
    assert len(azure_fake.requests) == before  # refused before any request


def test_distinct_values_of_every_azure_list_pass(tap_runner, azure_fake):
    config = azure_config(
        azure_fake,
        subscription_ids=azure_fake.subscriptions,
        carbon_scopes=["Scope2", "Scope1"],
        cost_scopes=[f"subscriptions/{azure_fake.subscriptions[0]}"],
        start_month="2026-03-01",
    )
    run = tap_runner("tap-azure-emissions", config)
    assert run.returncode == 0, run.stderr[-2000:]


def test_aws_cur_include_tags_repeats_are_refused_but_case_variants_are_distinct(tap_runner):
    with SustainabilityFake() as fake:
        _refused(
            tap_runner,
            "tap-aws-carbon",
            aws_config(fake, cur_include_tags=["user:team", "user:Team", "user:team"]),
            "cur_include_tags[2] repeats cur_include_tags[0]",
        )
        assert not fake.requests  # refused before any request
        run = tap_runner("tap-aws-carbon", aws_config(fake, cur_include_tags=["a", "A"]))
        assert "cur_include_tags" not in run.stderr  # case variants are distinct AWS tags


def test_gcp_billing_account_ids_repeats_are_refused(tap_runner):
    config = {
        "project_id": "carbon-fake-project",
        "carbon_footprint_dataset": "carbon_export",
        "billing_account_ids": ["01A2B3-C4D5E6-F7A8B9", "01A2B3-C4D5E6-F7A8B9"],
    }
    _refused(tap_runner, "tap-gcp-carbon", config, "billing_account_ids[1] repeats")
