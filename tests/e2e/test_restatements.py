"""A restated publication is kept as history: fct_emissions_restatements lists exactly its changes.

AWS publishes a month, then restates it: some figures change, some rows come back under a new
model version, the rest are re-read unchanged, and a new month arrives. The real tap reads each
publication from the Sustainability fake (the demo's sample rows), the real target-postgres
upserts it into a raw schema, and the real `dbt build` (through Meltano's dbt utility) runs the
snapshot and the restatement model after each load.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, TEST_SECRETS, run_tap
from tests.e2e.conftest import Database, run_meltano
from tests.e2e.test_dbt_docs import create_raw_tables, dbt_env, load_messages
from tests.fakes.aws_sustainability import EmissionRow, SustainabilityFake, load_rows

pytestmark = [pytest.mark.postgres, pytest.mark.meltano]

ACCESS_KEY = "AKIDRESTATE000000001"
SNAPSHOT_DOCS = ROOT / "transform" / "snapshots" / "_snapshots.yml"
FIRST, RESTATED, NEW = date(2025, 10, 1), date(2025, 11, 1), date(2025, 12, 1)
# The fct_cloud_emissions rows of one API row: (scope, method, emissions type).
PARTS = (
    (1, "as_reported", "TOTAL_SCOPE_1_CARBON_EMISSIONS"),
    (2, "location_based", "TOTAL_SCOPE_2_LBM_CARBON_EMISSIONS"),
    (2, "market_based", "TOTAL_SCOPE_2_MBM_CARBON_EMISSIONS"),
    (3, "location_based", "TOTAL_SCOPE_3_LBM_CARBON_EMISSIONS"),
    (3, "market_based", "TOTAL_SCOPE_3_MBM_CARBON_EMISSIONS"),
)
RESTATEMENTS = (
    "select provider, usage_month, account_id, region, service, scope, method, old_kgco2e,"
    " new_kgco2e, old_model_version, new_model_version, restated_by_invocation_id"
    ' from "{schema}".fct_emissions_restatements'
)


def sample_rows(*months: date) -> list[EmissionRow]:
    rows = load_rows(ROOT / "sample_data/aws/carbon_emissions.jsonl")
    return [r for r in rows if r.month in months]


def restate(rows: list[EmissionRow]) -> list[EmissionRow]:
    """The same month again: one figure changed, one row under a new model version, one both."""
    changed = list(rows)
    values = dict(changed[0].values)
    value, unit = values["TOTAL_SCOPE_2_MBM_CARBON_EMISSIONS"]
    values["TOTAL_SCOPE_2_MBM_CARBON_EMISSIONS"] = (round(value * 1.25, 6), unit)
    changed[0] = dataclasses.replace(changed[0], values=values)
    changed[1] = dataclasses.replace(changed[1], model_version="v3.1.0")
    values = dict(changed[2].values)
    value, unit = values["TOTAL_SCOPE_3_LBM_CARBON_EMISSIONS"]
    values["TOTAL_SCOPE_3_LBM_CARBON_EMISSIONS"] = (round(value * 0.5, 6), unit)
    changed[2] = dataclasses.replace(changed[2], model_version="v3.1.0", values=values)
    return changed


def figures(rows: list[EmissionRow]) -> dict[tuple, tuple[Decimal, str]]:
    """fct_cloud_emissions as the API rows make it: key -> (kgCO2e, model version)."""
    return {
        ("aws", r.month, r.account, r.region, r.service, scope, method): (
            Decimal(repr(r.values[kind][0])) * 1000,
            r.model_version,
        )
        for r in rows
        for scope, method, kind in PARTS
        if r.values.get(kind) is not None
    }


def load(fake: SustainabilityFake, tmp_path: Path, raw_schema: str) -> None:
    """One publication: the tap reads the fake, target-postgres upserts into `raw_schema`."""
    config = {
        "sustainability_endpoint_url": fake.url,
        "aws_access_key_id": ACCESS_KEY,
        "aws_secret_access_key": TEST_SECRETS["aws_secret_access_key"],
        "start_date": FIRST.isoformat(),
        "end_date": "2026-01-01",
        "max_requests_per_second": 0,
    }
    tap = run_tap("tap-aws-carbon", config, tmp_path)
    assert tap.returncode == 0, tap.stderr[-2000:]
    load_messages(tap.stdout, raw_schema, tmp_path)


def build(env: dict[str, str]) -> None:
    """The real `dbt build` of the restatement model and everything upstream of it.

    The snapshot, the marts it reads and their data tests; tests that also read models outside
    that path (seeds, other marts) are left to the project's full builds (`cautious`).
    """
    args = ("build", "--select", "+fct_emissions_restatements", "--indirect-selection", "cautious")
    run = run_meltano("invoke", "dbt-postgres", *args, env=env, timeout=600)
    assert run.returncode == 0, run.stdout[-4000:]


def test_a_restated_publication_lists_exactly_the_changed_figures(
    tmp_path, test_db: Database, raw_schema, analytics_schema
):
    published = sample_rows(FIRST, RESTATED)
    restated = [r for r in published if r.month == FIRST] + restate(
        [r for r in published if r.month == RESTATED]
    )
    restated += sample_rows(NEW)  # a month loaded for the first time is no restatement
    env = {**dbt_env(tmp_path, raw_schema, analytics_schema), "DBT_POSTGRES_PROVIDERS": "aws"}
    query = RESTATEMENTS.format(schema=analytics_schema)
    create_raw_tables(tmp_path, raw_schema, taps=("tap-aws-carbon",))  # the export's, empty

    with SustainabilityFake(
        published, credentials={ACCESS_KEY: TEST_SECRETS["aws_secret_access_key"]}
    ) as fake:
        load(fake, tmp_path, raw_schema)
        build(env)
        assert test_db.rows(query) == []

        fake.rows = restated
        load(fake, tmp_path, raw_schema)
        build(env)

    before, after = figures(published), figures(restated)
    expected = {
        (*key, old[0], after[key][0], old[1], after[key][1])
        for key, old in before.items()
        if after[key] != old
    }
    found = test_db.rows(query)
    assert {row[:-1] for row in found} == expected
    assert len(found) == len(expected) == 1 + 5 + 5  # one figure; two rows' every part
    invocations = {row[-1] for row in found}
    assert len(invocations) == 1 and invocations != {""}

    build(env)  # nothing changed since: no new version, no row counted twice
    assert sorted(test_db.rows(query)) == sorted(found)
    versions = test_db.one(f'select count(*) from "{analytics_schema}".snp_reported_emissions')
    assert versions == len(after) + len(expected)
    # The snapshot has exactly the columns its YAML documents (the docs test covers models).
    built = set(test_db.column_types(analytics_schema, "snp_reported_emissions"))
    (snapshot,) = yaml.safe_load(SNAPSHOT_DOCS.read_text())["snapshots"]
    assert built == {c["name"] for c in snapshot["columns"] if c["description"].strip()}
