"""Issue 13 item 5: every tap lists every stream with no config at all.

`meltano select <tap> --list` runs discovery before any setting is made; a tap that needs settings
to list its streams leaves a new user with a traceback or a catalog missing streams.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CAPTURED_OUTPUT

ALL_STREAMS = {
    "tap-aws-carbon": {
        "carbon_emissions",
        "water_allocation",
        "carbon_emissions_export",
        "cur_usage_daily",
    },
    "tap-azure-emissions": {
        "emissions_monthly",
        "emissions_by_subscription",
        "emissions_by_resource_group",
        "emissions_by_resource",
        "emissions_by_resource_type",
        "emissions_by_location",
        "subscription_access",
        "cost_daily",
        "usage_daily",
    },
    "tap-gcp-carbon": {"carbon_footprint", "billing_usage_daily"},
}


def hermetic_env(tmp_path: Path) -> dict[str, str]:
    """No cloud identity reachable: no AWS/Azure/Google variables, files or metadata service."""
    clouds = ("AWS_", "AZURE_", "GOOGLE_", "GCLOUD_", "CLOUDSDK_", "TAP_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(clouds)}
    env.update(
        {
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
            "GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "no-such-key.json"),
            "HOME": str(tmp_path),
        }
    )
    return env


@pytest.mark.parametrize("tap", sorted(ALL_STREAMS))
def test_discover_without_config_lists_every_stream(tap, tmp_path):
    done = subprocess.run(
        [str(Path(sys.executable).parent / tap), "--discover"],
        capture_output=True,
        text=True,
        env=hermetic_env(tmp_path),
        timeout=120,
        check=False,
    )
    CAPTURED_OUTPUT.extend((done.stdout, done.stderr))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    catalog = json.loads(done.stdout)
    assert {entry["tap_stream_id"] for entry in catalog["streams"]} == ALL_STREAMS[tap]
