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


def test_sample_cost_is_the_reported_emissions_over_the_stated_factor():
    """The last reported month's cost is its reported kgCO2e over the kgCO2e per currency unit
    stated in azure_meters.csv, exactly, per subscription x location x service; the next
    month's cost has no reported figure (the nowcast's provisional month)."""
    from collections import defaultdict
    from decimal import Decimal

    from tests.fakes.azure_data import LOCATIONS, RESOURCE_TYPES, meters

    _subscriptions, carbon, cost = load_sample(SAMPLE)
    last = max(r.month for r in carbon)
    arm = {display: name for name, display in LOCATIONS.items()}
    reported: dict[tuple, Decimal] = defaultdict(Decimal)
    for r in carbon:
        if r.month == last:
            reported[(r.subscription_id, arm[r.location], RESOURCE_TYPES[r.resource_type])] += (
                Decimal(repr(r.emissions))
            )
    spent: dict[tuple, Decimal] = defaultdict(Decimal)
    for r in cost:
        if (r.day.year, r.day.month) == (last.year, last.month):
            spent[(r.subscription_id, r.location, r.service)] += Decimal(repr(r.cost))
    factors = {s: Decimal(m["kgco2e_per_currency_unit"]) for s, m in meters().items()}
    assert spent.keys() == reported.keys()
    for (sub, location, service), kg in reported.items():
        assert spent[(sub, location, service)] * factors[service] == kg
    later = {r.day for r in cost if r.day > last.replace(day=28)} - {
        r.day for r in cost if r.day.month == last.month
    }
    assert len(later) == 14 and not [r for r in carbon if r.month > last]
    assert all(r.quantity > 0 and r.meter for r in cost)
