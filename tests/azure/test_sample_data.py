"""The demo path: the fake run as a program serves sample_data/azure and the tap reads it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.fakes.azure_data import load_sample

SAMPLE = ROOT / "sample_data" / "azure"


def test_sample_data_is_in_api_formats_and_covers_every_scope():
    subscriptions, carbon, cost = load_sample(SAMPLE)
    assert subscriptions and carbon and cost
    assert {r.scope for r in carbon} == {"Scope1", "Scope2", "Scope3"}
    assert {r.subscription_id for r in carbon} <= set(subscriptions)


def test_the_fake_program_prints_its_url_and_serves_the_sample(tmp_path: Path, tap_runner):
    ca_file = tmp_path / "ca.pem"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fakes.azure_arm",
            "--data",
            str(SAMPLE),
            "--port",
            "0",
            "--ca-file",
            str(ca_file),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        assert url.startswith("https://127.0.0.1:")
        config = {
            "tenant_id": "demo-tenant",
            "client_id": "demo-client",
            "client_secret": "demo-not-a-secret",
            "authority_host": url,
            "arm_endpoint": url,
            "ca_bundle": str(ca_file),
            "disable_instance_discovery": True,
            "max_requests_per_second": 0,
            "cost_max_requests_per_second": 0,
            "cost_start_date": "2026-03-01",  # the sample's cost days, as meltano.yml's dev env
        }
        run = tap_runner("tap-azure-emissions", config)
        assert run.returncode == 0, run.stderr[-3000:]
        assert len(run.records("emissions_by_resource")) > 100
        assert len(run.records("subscription_access")) == len(load_sample(SAMPLE)[0])
        assert run.records("cost_daily")
    finally:
        server.terminate()
        server.wait(timeout=10)
