"""carbon_footprint from exported files gives the same records as from BigQuery."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import ROOT, run_tap
from tests.fakes.gcp_bigquery import load_tables
from tests.fakes.gcp_data import CARBON_SCHEMA, to_json_row, write_ndjson
from tests.gcp.conftest import DATASET, PROJECT, gcp_config, make_fake
from tests.gcp.test_carbon_footprint import keyed

STREAM = "carbon_footprint"
START = "2023-06-01"  # later than the fake's first month: both modes filter alike


def _flat(prefix: str, value: object, out: dict[str, object]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flat(f"{prefix}.{k}" if prefix else k, v, out)
    else:
        out[prefix] = value


def write_csv(path: Path, rows: list[dict]) -> None:
    """CSV cannot hold RECORDs: a flattening query's export, with dotted headers."""
    flat = []
    for row in rows:
        out: dict[str, object] = {}
        _flat("", to_json_row(CARBON_SCHEMA, row), out)
        flat.append(out)
    with gzip.open(path, "wt", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(flat[0]))
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in r.items()} for r in flat)


def write_parquet(path: Path, rows: list[dict]) -> None:
    pq.write_table(pa.Table.from_pylist(rows), path)


@pytest.fixture(scope="module")
def from_bigquery(tmp_path_factory):
    """The fake's carbon rows and what BigQuery mode emits for them, run once per module."""
    fake, key = make_fake(page_rows=500)
    try:
        settings = {"billing_export_table": None, "start_month": START}
        run = run_tap(
            "tap-gcp-carbon", gcp_config(fake, key, **settings), tmp_path_factory.mktemp("bq")
        )
    finally:
        fake.stop()
    assert run.returncode == 0, run.stderr
    return fake.tables[f"{PROJECT}.{DATASET}.carbon_footprint"].rows, run


@pytest.mark.parametrize("kind", ["ndjson", "csv", "parquet"])
def test_files_give_the_same_records_as_bigquery(from_bigquery, tap_runner, tmp_path, kind):
    rows, bigquery_run = from_bigquery
    folder = tmp_path / "extract"
    folder.mkdir()
    half = len(rows) // 2  # `bq extract` shards: two files, read in name order
    for number, part in enumerate((rows[half:], rows[:half])):
        name = f"carbon_footprint-{number:012d}"
        if kind == "ndjson":
            write_ndjson(folder / f"{name}.json", CARBON_SCHEMA, part)
        elif kind == "csv":
            write_csv(folder / f"{name}.csv.gz", part)
        else:
            write_parquet(folder / f"{name}.parquet", part)
    from_files = tap_runner(
        "tap-gcp-carbon", {"carbon_footprint_uri": str(folder), "start_month": START}
    )
    assert from_files.returncode == 0, from_files.stderr
    files, bigquery = from_files.records(STREAM), bigquery_run.records(STREAM)
    assert files and keyed(files) == keyed(bigquery)
    # Both come sorted by month (the replication key); order within a month is not a contract.
    assert [r["usage_month"] for r in files] == [r["usage_month"] for r in bigquery]
    assert from_files.final_state == bigquery_run.final_state


def test_the_sample_extract_is_the_demo_fake_carbon_table():
    """The demo serves the very rows file mode reads, so both modes load the same data."""
    tables = load_tables(ROOT / "sample_data/gcp/bigquery")
    rows = tables["carbon_export.carbon_footprint"].rows
    extract = ROOT / "sample_data/gcp/carbon_footprint/carbon_footprint-000000000000.json"
    lines = [json.loads(line) for line in extract.read_text().splitlines()]
    assert [to_json_row(CARBON_SCHEMA, r) for r in rows] == lines


def test_a_file_missing_a_column_names_the_column_in_one_line(tap_runner, tmp_path):
    row = {
        "billing_account_id": "01A2B3-C4D5E6-F7A8B9",
        "usage_month": "2024-01-01",
        "project": {"id": "p1", "number": "1"},
        "service": {"id": "S", "description": "Compute Engine"},
        "location": {"location": "us", "region": None},
        "carbon_footprint_kgCO2e": {"scope1": 1.0, "scope2": {"location_based": 1.0}},
        "carbon_footprint_total_kgCO2e": {"location_based": 2.0},
        "carbon_model_version": "10",
    }  # no scope3
    (tmp_path / "cf.json").write_text(json.dumps(row) + "\n")
    run = tap_runner("tap-gcp-carbon", {"carbon_footprint_uri": str(tmp_path)})
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert any("no carbon_footprint_kgCO2e.scope3 column" in e for e in run.error_lines)


def test_a_non_numeric_value_names_the_file_row_and_column(tap_runner, tmp_path):
    path = tmp_path / "cf.csv"
    path.write_text(
        "usage_month,billing_account_id,project_id,project_number,service_id,"
        "service_description,location,region,carbon_model_version,scope1_kgco2e,"
        "scope2_location_based_kgco2e,scope3_kgco2e,total_location_based_kgco2e\n"
        "2024-01-01,A,p,1,S,Compute,us,,10,lots,1,1,2\n"
    )
    run = tap_runner("tap-gcp-carbon", {"carbon_footprint_uri": str(tmp_path)})
    assert run.returncode == 1
    assert any(f"{path} row 1: scope1_kgco2e is 'lots'" in e for e in run.error_lines)
