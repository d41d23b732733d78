"""The README's main command: all three taps on the bundled sample data, dbt, summary, report.

The mart totals are checked against sums computed here straight from the sample files, per
provider x month x scope, so the whole path (fakes, taps, Meltano, loader, dbt) is verified
independently of dbt's own tests. The report page the demo writes is then opened in headless
Chromium (Debian's package, driven by Playwright), which records every request the page makes.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal

import psycopg
import pytest
from playwright.sync_api import Page, sync_playwright

from tests.conftest import CAPTURED_OUTPUT, ROOT
from tests.fakes.aws_cur_sample import reported_location_based, sample_months, stated_factors

pytestmark = [pytest.mark.meltano]

SAMPLES = ROOT / "sample_data"
REPORT = ROOT / "output" / "emissions.html"
SCREENSHOT = ROOT / "output" / "emissions.png"
CHROMIUM = "/usr/bin/chromium"
PANEL_TITLES = {"AWS", "Azure", "Google Cloud"}
# A URL the page could load from outside itself, in an attribute that loads it.
OUTSIDE = re.compile(
    r"<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)\s*=\s*[\"']?https?:", re.I
)
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


@pytest.fixture(scope="module")
def demo() -> Iterator[subprocess.CompletedProcess[str]]:
    """The README's main command, run once for this module; its warehouse stopped afterwards.

    The demo leaves its warehouse running for people to explore; a test run must not.
    """
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
    yield done
    subprocess.run(
        [sys.executable, str(ROOT / "scripts/warehouse.py"), "stop"],
        capture_output=True,
        check=False,
    )


def warehouse_url() -> str:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts/warehouse.py"), "url"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_demo_loads_three_clouds_and_mart_totals_equal_the_sample_files(demo):
    done = demo
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for provider in ("aws", "azure", "gcp"):
        assert f"\n  {provider} " in done.stdout, f"{provider} missing from the summary"
    assert f"Report (panels per provider, coverage, inventory): {REPORT}" in done.stdout

    expected = {**aws_totals(), **azure_totals(), **gcp_totals()}
    with psycopg.connect(warehouse_url()) as conn:
        rows = conn.execute(
            "select provider, usage_month::text, scope, sum(emissions_kgco2e)"
            " from analytics.fct_cloud_emissions group by 1, 2, 3"
        ).fetchall()
    loaded = {(p, m, int(s)): kg for p, m, s, kg in rows}
    assert set(loaded) == set(expected)
    mismatches = {k: (loaded[k], expected[k]) for k in expected if loaded[k] != expected[k]}
    assert not mismatches, dict(list(mismatches.items())[:5])


def test_aws_sample_cur_calibrates_to_the_stated_factors_and_estimates_within_tolerance(demo):
    """The demo's sample CUR (tests/fakes/aws_cur_sample.py): spend per account x region x
    service is the reported location-based kgCO2e over the stated kgCO2e per USD, so the
    calibration recovers the stated factors exactly; the usage is scaled by stated kgCO2e per
    usage unit, so the usage-based estimate lands within the reference's tolerance (0.1x to
    10x of reported); the month after the last reported one is an AWS provisional month."""
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    stated = {f.category: f.kgco2e_per_currency_unit for f in stated_factors().values()}
    months, unpublished = sample_months()
    region_group = {
        "us-east-1": "North America",
        "eu-central-1": "Europe",
        "eu-north-1": "Europe",
        "ap-southeast-2": "Asia Pacific",
        "Global": "Global",
    }
    category = {f.product_code: f.category for f in stated_factors().values()}
    group_months: dict[tuple[str, str], set[str]] = defaultdict(set)
    for (month, _account, region, service), kg in reported_location_based().items():
        if month in months and kg:
            group_months[(category[service], region_group[region])].add(str(month))
    with psycopg.connect(warehouse_url()) as conn:
        calibration = conn.execute(
            "select service_category, region_group, sum(reported_kgco2e), min(spend), max(spend),"
            " min(first_month)::text, max(last_month)::text"
            " from analytics.estimate_spend_calibration"
            " where provider = 'aws' and calibration_level = 'category_region' group by 1, 2"
        ).fetchall()
        ratios = conn.execute(
            "select service, usage_month, ratio from analytics.rpt_reported_vs_estimated"
            " where provider = 'aws' and estimate_method = 'usage_based'"
            " and reported_kgco2e is not null"
        ).fetchall()
        provisional = conn.execute(
            "select distinct usage_month from analytics.fct_cloud_emissions_nowcast"
            " where provider = 'aws' and is_provisional"
        ).fetchall()
    assert {(c, g) for c, g, *_ in calibration} == set(group_months)
    for service_category, group, kg, spend, same_spend, first_month, last_month in calibration:
        assert spend == same_spend  # every scope calibrated on the same spend
        assert kg / spend == stated[service_category], (service_category, kg / spend)
        used = group_months[(service_category, group)]
        assert (first_month, last_month) == (min(used), max(used))
    usage_based = {"AmazonEC2", "AWSLambda", "AmazonS3", "AmazonRDS", "AmazonCloudFront"}
    assert {(s, m) for s, m, _ in ratios} == {(s, m) for s in usage_based for m in months}
    low, high = Decimal("0.1"), Decimal("10")
    assert all(low <= ratio <= high for _s, _m, ratio in ratios), ratios
    assert provisional == [(unpublished,)]


def _pixels(page: Page, png: bytes) -> dict[str, int]:
    """Decode `png` in the browser: its size and how many distinct colours it has."""
    page.set_content(f"<img src='data:image/png;base64,{base64.b64encode(png).decode()}'>")
    return page.eval_on_selector(
        "img",
        """img => { const c = document.createElement('canvas');
            c.width = img.naturalWidth; c.height = img.naturalHeight;
            const g = c.getContext('2d'); g.drawImage(img, 0, 0);
            const d = g.getImageData(0, 0, c.width, c.height).data, seen = new Set();
            for (let i = 0; i < d.length; i += 4 * 7) seen.add(d[i] << 16 | d[i+1] << 8 | d[i+2]);
            return {width: c.width, height: c.height, colours: seen.size}; }""",
    )


def test_the_report_draws_every_panel_loads_nothing_outside_and_is_screenshotted(demo):
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/test.sh does)")
    html = REPORT.read_text(encoding="utf-8")
    assert not OUTSIDE.findall(html), OUTSIDE.findall(html)[:3]
    with psycopg.connect(warehouse_url()) as conn:
        built = conn.execute(
            "select count(*) from information_schema.tables"
            " where table_schema = 'analytics' and table_name = 'rpt_reported_vs_estimated'"
        ).fetchone()[0]
        estimates = (
            built
            and conn.execute("select count(*) from analytics.rpt_reported_vs_estimated").fetchone()[
                0
            ]
        )

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto(REPORT.as_uri(), wait_until="load")
        page.wait_for_selector(".js-plotly-plot .main-svg")
        # Each provider panel: its title, and bars actually drawn in its own subplot.
        panels = page.evaluate(
            """() => { const gd = document.querySelector('.js-plotly-plot');
                const titles = gd._fullLayout.annotations.map(a => a.text);
                const axes = Object.keys(gd._fullLayout._plots);
                return {titles, bars: axes.map(id => gd.querySelectorAll(
                    `.subplot.${id} .barlayer .point path`).length),
                  traces: gd._fullData.map(t => [t.xaxis, t.name, t.y.length]),
                  lines: gd._fullLayout.shapes.filter(s => s.type === 'line').map(s => s.xref),
                  legend: [...gd.querySelectorAll('.legendtext')].map(e => e.textContent)}; }"""
        )
        figures = page.locator(".js-plotly-plot").count()
        note = page.locator("text=Reported against estimated: not drawn").count()
        png = page.screenshot(path=str(SCREENSHOT), full_page=True)
        pixels = _pixels(page, png)
        browser.close()

    outside = [u for u in requests if not u.startswith(("file:", "data:", "blob:"))]
    assert not outside, outside
    assert requests[0] == REPORT.as_uri()
    titles = {t.split(":")[0] for t in panels["titles"]}
    assert titles == PANEL_TITLES, panels["titles"]
    assert len(panels["bars"]) == 3 and all(n > 0 for n in panels["bars"]), panels["bars"]
    drawn = {(axis, name) for axis, name, points in panels["traces"] if points > 0}
    assert {axis for axis, _ in drawn} == {"x", "x2", "x3"}
    # The coverage marker on every panel, and the legend explaining scopes and coverage.
    assert sorted(panels["lines"]) == ["x", "x2", "x3"]
    legend = " ".join(panels["legend"])
    for text in ("Scope 1", "Scope 2", "Scope 3", "loaded data ends", "Awaiting publication"):
        assert text in legend, legend
    # Reported against estimated: drawn once the estimate models exist, otherwise one note.
    assert (figures, note) == ((2, 0) if estimates else (1, 1))
    assert "GHG inventory by calendar year" in html and "neither: one figure as reported" in html
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and SCREENSHOT.read_bytes() == png
    assert pixels["width"] == 1280 and pixels["height"] > 1200, pixels
    assert pixels["colours"] > 50, pixels  # not blank: bars, text and shading
