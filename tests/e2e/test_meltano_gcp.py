"""`meltano run tap-gcp-carbon target-postgres` against the fake BigQuery serving sample_data/gcp.

The fake is started here with the demo's own tables (the carbon table is the very `bq extract`
NDJSON file that file mode reads) and a service-account key generated for it; the tap reaches it
through the dev environment's `${GCP_BIGQUERY_ENDPOINT_URL}` / `${GCP_FAKE_CREDENTIALS_PATH}`.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, assert_no_secrets
from tests.e2e.conftest import Database, MeltanoRun, private_sys_dir, run_meltano
from tests.fakes.gcp_bigquery import BigQueryFake, generate_service_account, load_tables

pytestmark = [pytest.mark.postgres, pytest.mark.meltano]

PROJECT = "carbon-demo-project"  # meltano.yml dev: project_id
CARBON = f"{PROJECT}.carbon_export.carbon_footprint"
BILLING = f"{PROJECT}.billing_export.gcp_billing_export_v1_01A2B3_C4D5E6_F7A8B9"
CARBON_KEY = "usage_month, billing_account_id, project_key, service_id, location_key"
SCOPES = {
    "scope1_kgco2e": ("scope1",),
    "scope2_location_based_kgco2e": ("scope2", "location_based"),
    "scope2_market_based_kgco2e": ("scope2", "market_based"),
    "scope3_kgco2e": ("scope3",),
}


def serve_sample(key_file: Path) -> Iterator[BigQueryFake]:
    """The bundled billing export served by the fake; a service-account key for it in `key_file`."""
    server = BigQueryFake(load_tables(ROOT / "sample_data/gcp/bigquery"), project=PROJECT)
    server.start()
    try:
        key, public = generate_service_account(f"{server.url}/token", PROJECT)
        server.service_accounts[key["client_email"]] = public
        key_file.write_text(json.dumps(key))
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[BigQueryFake]:
    yield from serve_sample(tmp_path / "gcp-key.json")


def gcp_env(fake: BigQueryFake, tmp_path: Path, schema: str, *, bigquery: bool) -> dict[str, str]:
    state = tmp_path / f"state-{schema}"
    state.mkdir(exist_ok=True)
    env = {
        "MELTANO_STATE_BACKEND_URI": f"file://{state}",
        "MELTANO_SYS_DIR_ROOT": str(private_sys_dir(tmp_path)),
        "GCP_BIGQUERY_ENDPOINT_URL": fake.url,
        "GCP_FAKE_CREDENTIALS_PATH": str(tmp_path / "gcp-key.json"),
        "TARGET_POSTGRES_DATABASE": "test",
        "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schema,
    }
    if bigquery:  # the dev environment reads carbon_footprint from files; switch to BigQuery
        env["TAP_GCP_CARBON_CARBON_FOOTPRINT_URI"] = ""
        env["TAP_GCP_CARBON_CARBON_FOOTPRINT_DATASET"] = "carbon_export"
    return env


def load(env: dict[str, str]) -> MeltanoRun:
    run = run_meltano("run", "tap-gcp-carbon", "target-postgres", env=env).check()
    assert_no_secrets(run.stdout, run.stderr)
    return run


def expected_carbon_sums(fake: BigQueryFake) -> dict[tuple[str, str], Decimal]:
    """Per (month, column), the exact decimal sum of the values in the fake's table."""
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in fake.tables[CARBON].rows:
        month = row["usage_month"].isoformat()
        for column, path in SCOPES.items():
            value: Any = row["carbon_footprint_kgCO2e"]
            for part in path:
                value = value[part]
            if value is not None:
                sums[(month, column)] += Decimal(repr(value))
    return dict(sums)


def loaded_carbon_sums(db: Database, schema: str) -> dict[tuple[str, str], Decimal]:
    selects = ", ".join(f"sum({c})" for c in SCOPES)
    rows = db.rows(f'select usage_month, {selects} from "{schema}".carbon_footprint group by 1')
    out = {}
    for month, *values in rows:
        for column, value in zip(SCOPES, values, strict=True):
            if value is not None:
                out[(str(month), column)] = value
    return out


def carbon_since(fake: BigQueryFake) -> list[str]:
    return [
        p["parameterValue"]["value"]
        for q in fake.queries()
        if "carbon_footprint" in q["query"]
        for p in q["queryParameters"]
        if p["name"] == "since"
    ]


def test_bigquery_mode_loads_both_streams_with_exact_monthly_scope_totals(
    fake, tmp_path, test_db, raw_schema
):
    env = gcp_env(fake, tmp_path, raw_schema, bigquery=True)
    load(env)

    carbon_rows = fake.tables[CARBON].rows
    assert test_db.one(f'select count(*) from "{raw_schema}".carbon_footprint') == len(carbon_rows)
    assert loaded_carbon_sums(test_db, raw_schema) == expected_carbon_sums(fake)
    dupes = test_db.one(
        f'select count(*) from (select {CARBON_KEY} from "{raw_schema}".carbon_footprint '
        "group by 1, 2, 3, 4, 5 having count(*) > 1) as d"
    )
    assert dupes == 0
    types = test_db.column_types(raw_schema, "carbon_footprint")
    assert types["scope1_kgco2e"] == "numeric" and types["project_number"] == "text"

    billing_rows = fake.tables[BILLING].rows
    loaded = test_db.rows(
        f"select usage_date, sum(cost), sum(credits_amount), sum(source_row_count) "
        f'from "{raw_schema}".billing_usage_daily group by 1'
    )
    assert len(loaded) == len({r["usage_start_time"].date() for r in billing_rows})
    assert sum(r[3] for r in loaded) == len(billing_rows)
    expected_cost = sum(Decimal(repr(r["cost"])) for r in billing_rows)
    assert abs(sum(r[1] for r in loaded) - expected_cost) < Decimal("1e-9")


def test_a_rerun_reads_only_the_lookback_window_and_adds_nothing(
    fake, tmp_path, test_db, raw_schema
):
    env = gcp_env(fake, tmp_path, raw_schema, bigquery=True)
    load(env)
    counts = [
        test_db.one(f'select count(*) from "{raw_schema}".{t}')
        for t in ("carbon_footprint", "billing_usage_daily")
    ]
    fake.jobs.clear()

    load(env)

    assert carbon_since(fake) == ["2025-09-01"]  # bookmark 2025-12 minus lookback_months=3
    last_day = max(r["usage_start_time"] for r in fake.tables[BILLING].rows).date().isoformat()
    (aggregate,) = [q for q in fake.queries() if "GROUP BY 1" in q["query"]]
    days = next(p for p in aggregate["queryParameters"] if p["name"] == "days")
    assert [v["value"] for v in days["parameterValue"]["arrayValues"]] == [last_day]
    assert [
        test_db.one(f'select count(*) from "{raw_schema}".{t}')
        for t in ("carbon_footprint", "billing_usage_daily")
    ] == counts
    assert loaded_carbon_sums(test_db, raw_schema) == expected_carbon_sums(fake)


def test_file_mode_loads_the_same_carbon_records_as_bigquery_mode(
    fake, tmp_path, test_db, raw_schema
):
    files_schema = f"e2e_raw_{uuid.uuid4().hex[:12]}"
    try:
        load(gcp_env(fake, tmp_path, raw_schema, bigquery=True))
        load(gcp_env(fake, tmp_path, files_schema, bigquery=False))
        columns = (
            f"{CARBON_KEY}, project_id, project_number, service_description, location, region, "
            "carbon_model_version, scope1_kgco2e, scope2_location_based_kgco2e, "
            "scope2_market_based_kgco2e, scope3_kgco2e, total_location_based_kgco2e, "
            "total_market_based_kgco2e"
        )

        def table(schema: str) -> list[tuple]:
            return test_db.rows(
                f'select {columns} from "{schema}".carbon_footprint order by {CARBON_KEY}'
            )

        from_bigquery, from_files = table(raw_schema), table(files_schema)
        assert from_files and from_files == from_bigquery
        assert not [q for q in fake.queries() if "carbon_footprint" in q["query"]][1:]
    finally:
        test_db.drop_schema(files_schema)
