"""Estimates beside the reported figures, end to end on Google's sample data.

Google's sample billing export is derived from its carbon rows by the factors stated in
tests/fakes/gcp_sample_factors.csv (usage and spend per reported kgCO2e), for October to
December 2025, plus January 2026, a month Google has not published. A first load without
December's carbon rows gives provisional rows for December and January; a second load brings
December's reported rows, which replace the provisional ones: no month is counted twice. The
calibration recovers the stated factors exactly, and the usage-based estimate lands within the
tolerance the README states (0.1x to 10x of the reported figure) where both exist.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import Database, private_sys_dir, run_meltano
from tests.e2e.test_meltano_gcp import serve_sample
from tests.fakes.gcp_bigquery import BigQueryFake
from tests.fakes.gcp_data import SAMPLE_FACTORS_FILE

pytestmark = [pytest.mark.postgres, pytest.mark.meltano]

CARBON_FILE = ROOT / "sample_data/gcp/carbon_footprint/carbon_footprint-000000000000.json"
MODELS = "+fct_cloud_emissions_nowcast +rpt_reported_vs_estimated +estimate_unknown_usage"
# Estimate / reported may span 0.1x-10x per service and region (Cloud Carbon Footprint
# against provider figures; README, "Estimates beside the reported figures").
TOLERANCE = (Decimal("0.1"), Decimal("10"))


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[BigQueryFake]:
    yield from serve_sample(tmp_path / "gcp-key.json")


def carbon_folder(tmp_path: Path, *, without_month: str | None) -> Path:
    """The sample carbon export, less one month's rows (as before Google publishes it)."""
    folder = tmp_path / f"carbon-{without_month or 'all'}"
    folder.mkdir()
    lines = [
        line
        for line in CARBON_FILE.read_text().splitlines()
        if line and json.loads(line)["usage_month"] != without_month
    ]
    (folder / CARBON_FILE.name).write_text("\n".join(lines) + "\n")
    return folder


def reported_lb_totals(*, without_month: str | None = None) -> dict[str, Decimal]:
    """Per month, the sample file's scope 1 + scope 2 location-based + scope 3 total."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for line in CARBON_FILE.read_text().splitlines():
        row = json.loads(line)
        if row["usage_month"] == without_month:
            continue
        figures = row["carbon_footprint_kgCO2e"]
        for value in (figures["scope1"], figures["scope2"]["location_based"], figures["scope3"]):
            if value is not None:
                totals[row["usage_month"]] += Decimal(repr(value))
    return dict(totals)


def nowcast(db: Database, schema: str) -> dict[tuple[str, bool], tuple[Decimal, set[str]]]:
    rows = db.rows(
        "select usage_month::text, is_provisional, sum(emissions_kgco2e),"
        " string_agg(distinct coalesce(provisional_reason, ''), ',')"
        f' from "{schema}".fct_cloud_emissions_nowcast group by 1, 2'
    )
    return {(m, p): (kg, set(reasons.split(","))) for m, p, kg, reasons in rows}


def estimated(db: Database, schema: str, month: str) -> Decimal:
    return db.one(
        f'select sum(emissions_kgco2e) from "{schema}".fct_cloud_emissions_estimated'
        " where usage_month = %s",
        (month,),
    )


def test_provisional_months_are_replaced_when_the_reported_month_loads(
    fake, tmp_path, test_db, raw_schema, analytics_schema
):
    state = tmp_path / "state"
    state.mkdir()
    env = {
        "MELTANO_STATE_BACKEND_URI": f"file://{state}",
        "MELTANO_SYS_DIR_ROOT": str(private_sys_dir(tmp_path)),
        "GCP_BIGQUERY_ENDPOINT_URL": fake.url,
        "GCP_FAKE_CREDENTIALS_PATH": str(tmp_path / "gcp-key.json"),
        "TARGET_POSTGRES_DATABASE": "test",
        "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": raw_schema,
        "DBT_POSTGRES_DBNAME": "test",
        "DBT_POSTGRES_SCHEMA": analytics_schema,
        "DBT_POSTGRES_SOURCE_SCHEMA": raw_schema,
        "DBT_POSTGRES_PROVIDERS": "gcp",
        "DBT_TARGET_PATH": str(tmp_path / "dbt-target"),
        "DBT_LOG_PATH": str(tmp_path / "dbt-logs"),
    }

    def load_and_build(carbon: Path, as_of: str) -> None:
        run_meltano(
            "run", "tap-gcp-carbon", "target-postgres",
            env={**env, "TAP_GCP_CARBON_CARBON_FOOTPRINT_URI": str(carbon)},
        ).check()  # fmt: skip
        run_meltano(
            "invoke", "dbt-postgres", "build", "--select", MODELS,
            "--indirect-selection", "cautious",
            "--vars", f"{{as_of_date: '{as_of}'}}",
            env=env, timeout=600,
        ).check()  # fmt: skip

    # 10 January 2026: December is not published (Google: the 15th), January is running.
    load_and_build(carbon_folder(tmp_path, without_month="2025-12-01"), "2026-01-10")
    first = nowcast(test_db, analytics_schema)
    reported = reported_lb_totals(without_month="2025-12-01")
    assert {m for m, provisional in first if not provisional} == set(reported)
    assert {m for m, provisional in first if provisional} == {"2025-12-01", "2026-01-01"}
    assert first[("2025-12-01", True)] == (
        estimated(test_db, analytics_schema, "2025-12-01"),
        {"not_yet_published"},
    )
    assert first[("2026-01-01", True)][1] == {"month_in_progress"}
    for month, kg in reported.items():
        assert first[(month, False)][0] == kg

    # 20 January 2026: December has loaded and replaces its provisional rows.
    load_and_build(carbon_folder(tmp_path, without_month=None), "2026-01-20")
    second = nowcast(test_db, analytics_schema)
    reported = reported_lb_totals()
    assert {m for m, provisional in second if not provisional} == set(reported)
    assert {m for m, provisional in second if provisional} == {"2026-01-01"}
    assert second[("2025-12-01", False)][0] == reported["2025-12-01"]
    twice = test_db.one(
        "select count(*) from (select usage_month from"
        f' "{analytics_schema}".fct_cloud_emissions_nowcast'
        " group by usage_month having count(distinct is_provisional) > 1) as m"
    )
    assert twice == 0
    everything = sum(reported.values()) + estimated(test_db, analytics_schema, "2026-01-01")
    assert (
        test_db.one(
            f'select sum(emissions_kgco2e) from "{analytics_schema}".fct_cloud_emissions_nowcast'
        )
        == everything
    )

    # The calibration recovers the stated kgCO2e per currency unit exactly, per category and
    # region group (the scopes' factors add up to the stated one).
    with SAMPLE_FACTORS_FILE.open(newline="") as handle:
        stated = {
            row["service"]: Decimal(row["kgco2e_per_currency_unit"])
            for row in csv.DictReader(handle)
        }
    category = {"Compute Engine": "compute", "Cloud Storage": "storage", "BigQuery": "analytics"}
    rows = test_db.rows(
        "select service_category, region_group, sum(reported_kgco2e), min(spend), max(spend),"
        " min(first_month)::text, max(last_month)::text"
        f' from "{analytics_schema}".estimate_spend_calibration'
        " where calibration_level = 'category_region' group by 1, 2"
    )
    assert {(c, g) for c, g, *_ in rows} == {
        (c, g) for c in category.values() for g in ("Europe", "North America")
    }
    for service_category, _group, kg, spend, same_spend, first_month, last_month in rows:
        assert spend == same_spend  # every scope calibrated on the same spend
        factor = next(k for s, k in stated.items() if category[s] == service_category)
        assert kg / spend == factor
        assert (first_month, last_month) == ("2025-10-01", "2025-12-01")

    # The usage-based estimate lands within the tolerance where both exist.
    ratios = test_db.rows(
        "select service, usage_month::text, ratio"
        f' from "{analytics_schema}".rpt_reported_vs_estimated'
        " where estimate_method = 'usage_based' and reported_kgco2e is not null"
    )
    assert {(s, m) for s, m, _ in ratios} == {
        (s, m)
        for s in ("Compute Engine", "Cloud Storage")
        for m in ("2025-10-01", "2025-11-01", "2025-12-01")
    }
    low, high = TOLERANCE
    assert all(low <= ratio <= high for _s, _m, ratio in ratios), ratios
    # BigQuery analysis bytes are unknown usage: listed with their spend, estimated from spend.
    unknown = test_db.rows(
        "select distinct service, usage_class, has_spend_based_estimate"
        f' from "{analytics_schema}".estimate_unknown_usage'
    )
    assert unknown == [("BigQuery", "unknown", True)]
