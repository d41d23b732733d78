"""Each stream's primary key, as the taps declare it in discovery, is the documented one.

Loaders upsert on these columns: a key that loses a column makes rows that differ only in that
column overwrite each other in the warehouse, while every record the tap emits still looks
right. Written out by hand from the READMEs, so a changed key fails here until the docs (and
the downstream models) are changed with it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_tap

AZURE_ITEMS = {
    "emissions_by_subscription": "subscription_id",
    "emissions_by_resource_group": "resource_group_url",
    "emissions_by_resource": "resource_id",
    "emissions_by_resource_type": "resource_type",
    "emissions_by_location": "location",
}
KEYS = {
    "tap-aws-carbon": {
        "carbon_emissions": ["usage_period_start", "usage_account_id", "region", "service"],
        "water_allocation": ["usage_period_start", "usage_account_id", "region", "service"],
        "carbon_emissions_export": [
            "usage_period",
            "model_version",
            "usage_account_id",
            "region_code",
            "product_code",
        ],
        "cur_usage_daily": [
            "billing_period",
            "delivery_id",
            "usage_date",
            "payer_account_id",
            "usage_account_id",
            "region",
            "product_code",
            "usage_type",
            "line_item_type",
            "pricing_unit",
            "instance_type",
            "currency_code",
            "resource_tags_key",
        ],
    },
    "tap-azure-emissions": {
        "emissions_monthly": ["month", "scope", "subscription_id"],
        **{stream: ["month", "scope", item] for stream, item in AZURE_ITEMS.items()},
        "subscription_access": ["checked_at", "subscription_id"],
        "cost_daily": [
            "scope",
            "usage_date",
            "resource_location",
            "service_name",
            "currency",
            "cost_type",
        ],
        "usage_daily": [
            "scope",
            "usage_date",
            "resource_location",
            "meter",
            "currency",
            "cost_type",
        ],
    },
    "tap-gcp-carbon": {
        "carbon_footprint": [
            "usage_month",
            "billing_account_id",
            "project_key",
            "service_id",
            "location_key",
        ],
        "billing_usage_daily": [
            "usage_date",
            "billing_account_id",
            "project_key",
            "service_id",
            "sku_id",
            "location_key",
            "usage_unit",
            "currency",
        ],
    },
}


@pytest.mark.parametrize("executable", sorted(KEYS))
def test_discovery_declares_the_documented_keys(executable: str, tmp_path: Path) -> None:
    run = run_tap(executable, {}, tmp_path, args=("--discover",))
    assert run.returncode == 0, run.stderr
    declared = {}
    for entry in json.loads(run.stdout)["streams"]:
        (top,) = [m["metadata"] for m in entry["metadata"] if m["breadcrumb"] == []]
        declared[entry["tap_stream_id"]] = top.get("table-key-properties")
        assert entry.get("key_properties", declared[entry["tap_stream_id"]]) == top.get(
            "table-key-properties"
        )
    assert declared == KEYS[executable]
