"""The README's main command: all three taps on the bundled sample data, dbt, summary, chart.

The mart totals are checked against sums computed here straight from the sample files, per
provider x month x scope, so the whole path (fakes, taps, Meltano, loader, dbt) is verified
independently of dbt's own tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal

import psycopg
import pytest

from tests.conftest import CAPTURED_OUTPUT, ROOT

pytestmark = [pytest.mark.meltano]

SAMPLES = ROOT / "sample_data"
Totals = dict[tuple[str, str, int], Decimal]


def d(value: float | None) -> Decimal:
    return Decimal(repr(value)) if value is not None else Decimal(0)


def aws_totals() -> Totals:
    totals: Totals = defaultdict(Decimal)
    for line in (SAMPLES / "aws/carbon_emissions.jsonl").read_text().splitlines():
        item = json.loads(line)
        month = item["TimePeriod"]["Start"][:10]
        values = {k: v["Value"] for k, v in item["EmissionsValues"].items()}
        totals[("aws", month, 1)] += d(values["TOTAL_SCOPE_1_CARBON_EMISSIONS"]) * 1000
        for scope in (2, 3):
            for method in ("LBM", "MBM"):
                kg = d(values[f"TOTAL_SCOPE_{scope}_{method}_CARBON_EMISSIONS"]) * 1000
                totals[("aws", month, scope)] += kg
    return dict(totals)


def azure_totals() -> Totals:
    totals: Totals = defaultdict(Decimal)
    for line in (SAMPLES / "azure/carbon_resources.jsonl").read_text().splitlines():
        item = json.loads(line)
        scope = int(item["carbonScope"].removeprefix("Scope"))
        totals[("azure", item["date"][:10], scope)] += d(item["latestMonthEmissions"])
    return dict(totals)


def gcp_totals() -> Totals:
    totals: Totals = defaultdict(Decimal)
    for path in sorted((SAMPLES / "gcp/carbon_footprint").glob("*.json")):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            scopes = row["carbon_footprint_kgCO2e"]
            month = row["usage_month"][:10]
            totals[("gcp", month, 1)] += d(scopes["scope1"])
            totals[("gcp", month, 2)] += d(scopes["scope2"]["location_based"])
            totals[("gcp", month, 2)] += d(scopes["scope2"]["market_based"])
            totals[("gcp", month, 3)] += d(scopes["scope3"])
    return dict(totals)


@pytest.fixture
def stop_warehouse_after():
    """The demo leaves its warehouse running for people to explore; a test run must not."""
    yield
    subprocess.run(
        [sys.executable, str(ROOT / "scripts/warehouse.py"), "stop"],
        capture_output=True,
        check=False,
    )


def test_demo_loads_three_clouds_and_mart_totals_equal_the_sample_files(stop_warehouse_after):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TAP_", "TARGET_", "DBT_", "MELTANO_", "AWS_", "AZURE_", "GCP_"))
    }
    done = subprocess.run(
        ["bash", "scripts/demo.sh"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    CAPTURED_OUTPUT.extend((done.stdout, done.stderr))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for provider in ("aws", "azure", "gcp"):
        assert f"\n  {provider} " in done.stdout, f"{provider} missing from the summary"
    chart = ROOT / "output/emissions.html"
    assert chart.exists() and "<svg" in chart.read_text() and "gcp scope 2" in chart.read_text()

    expected = {**aws_totals(), **azure_totals(), **gcp_totals()}
    url = subprocess.run(
        [sys.executable, str(ROOT / "scripts/warehouse.py"), "url"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select provider, usage_month::text, scope, sum(emissions_kgco2e)"
            " from analytics.fct_cloud_emissions group by 1, 2, 3"
        ).fetchall()
    loaded = {(p, m, int(s)): kg for p, m, s, kg in rows}
    assert set(loaded) == set(expected)
    mismatches = {k: (loaded[k], expected[k]) for k in expected if loaded[k] != expected[k]}
    assert not mismatches, dict(list(mismatches.items())[:5])
