from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.conftest import TEST_SECRETS
from tests.fakes.azure_arm import AzureFake
from tests.fakes.azure_data import subscription_ids, synthetic_carbon_rows, synthetic_cost_rows

TENANT = "11111111-aaaa-bbbb-cccc-222222222222"
CLIENT_ID = "33333333-dddd-eeee-ffff-444444444444"
EXECUTABLE = "tap-azure-emissions"
FIRST_MONTH, MONTHS = date(2025, 4, 1), 12  # the data window: 2025-04 .. 2026-03
COST_FIRST, COST_DAYS = date(2026, 1, 20), 20


def make_fake(subscriptions: int = 3, **kwargs: Any) -> AzureFake:
    subs = subscription_ids(subscriptions)
    return AzureFake(
        synthetic_carbon_rows(subs, FIRST_MONTH, MONTHS),
        synthetic_cost_rows(subs, COST_FIRST, COST_DAYS),
        subscriptions=subs,
        tenant=TENANT,
        clients={CLIENT_ID: TEST_SECRETS["azure_client_secret"]},
        **kwargs,
    )


@pytest.fixture
def fake():
    """3 subscriptions, 12 months of carbon data, 20 days of cost, small pages everywhere."""
    with make_fake(item_page_cap=4, cost_page_size=7) as server:
        yield server


def tap_config(fake: AzureFake, **overrides: Any) -> dict[str, Any]:
    config = {
        "tenant_id": TENANT,
        "client_id": CLIENT_ID,
        "client_secret": TEST_SECRETS["azure_client_secret"],
        "authority_host": fake.url,
        "disable_instance_discovery": True,
        "arm_endpoint": fake.url,
        "ca_bundle": fake.ca_file,
        "cost_start_date": COST_FIRST.isoformat(),
        "max_requests_per_second": 0,
        "cost_max_requests_per_second": 0,
    }
    config.update(overrides)
    return config


def tap_env(fake: AzureFake) -> dict[str, str]:
    """The fake's CA, as a corporate CA bundle would be configured."""
    return {"REQUESTS_CA_BUNDLE": fake.ca_file}
