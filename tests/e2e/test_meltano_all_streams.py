"""All three tap-aws-carbon streams through `meltano run` into PostgreSQL.

The API streams come from the Sustainability fake; the export from moto's S3 in server mode,
laid out as AWS delivers it (data/, metadata/ manifests, two model versions side by side).
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from decimal import Decimal

import boto3
import pytest

from tests.conftest import TEST_SECRETS, assert_no_secrets
from tests.e2e.conftest import ACCESS_KEY, run_meltano, tap_env
from tests.fakes.aws_data import synthetic_rows, synthetic_water_rows
from tests.fakes.aws_export import VALUE_COLUMNS, totals, upload, write_export
from tests.fakes.aws_sustainability import SustainabilityFake

pytestmark = [pytest.mark.postgres, pytest.mark.meltano]

BUCKET, PREFIX = "carbon-exports", "exports/carbon"


@pytest.fixture
def export_rows():
    return synthetic_rows(date(2025, 4, 1), 6, seed=21) + synthetic_rows(
        date(2025, 7, 1), 3, seed=22, model_version="v3.1.0"
    )


@pytest.fixture
def s3(tmp_path, export_rows, moto_endpoint):
    endpoint = moto_endpoint
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=TEST_SECRETS["aws_secret_access_key"],
    )
    client.create_bucket(Bucket=BUCKET)
    root = tmp_path / "delivery"
    write_export(root, export_rows, fmt="parquet", s3_root=f"s3://{BUCKET}/{PREFIX}")
    upload(client, BUCKET, PREFIX, root)
    return endpoint


@pytest.fixture
def fake():
    with SustainabilityFake(
        synthetic_rows(date(2024, 1, 1), 24),
        water_rows=synthetic_water_rows(2024, 2),
        page_size_cap=50,
        credentials={ACCESS_KEY: TEST_SECRETS["aws_secret_access_key"]},
    ) as server:
        yield server


def test_all_three_streams_load_with_exact_totals_and_rerun_reads_no_file_twice(
    fake, s3, export_rows, tmp_path, test_db, raw_schema
):
    env = {
        **tap_env(fake, tmp_path),
        "TAP_AWS_CARBON_CARBON_EXPORT_URI": f"s3://{BUCKET}/{PREFIX}",
        "TAP_AWS_CARBON_S3_ENDPOINT_URL": s3,
        "TARGET_POSTGRES_DATABASE": "test",
        "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": raw_schema,
    }
    first = run_meltano("run", "tap-aws-carbon", "target-postgres", env=env).check()
    assert_no_secrets(first.stdout, first.stderr)

    count = lambda table: test_db.one(f'select count(*) from "{raw_schema}".{table}')  # noqa: E731
    assert count("carbon_emissions") == len(fake.rows)
    assert count("water_allocation") == len(fake.water_rows)
    assert count("carbon_emissions_export") == len(export_rows)

    columns = list(VALUE_COLUMNS)
    sums = test_db.rows(
        f"select model_version, usage_period, {', '.join(f'sum({c})' for c in columns)} "
        f'from "{raw_schema}".carbon_emissions_export group by 1, 2'
    )
    loaded: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for model, period, *values in sums:
        for column, value in zip(columns, values, strict=True):
            loaded[(model, period, column)] = value
    assert dict(loaded) == totals(export_rows)  # exact, per model version x month x column

    water = test_db.one(
        f'select sum(total_water_withdrawals_m3) from "{raw_schema}".water_allocation'
    )
    assert water == sum(
        Decimal(repr(r.values["TOTAL_WATER_WITHDRAWALS"][0])) for r in fake.water_rows
    )

    second = run_meltano("run", "tap-aws-carbon", "target-postgres", env=env).check()
    files = re.search(
        r"carbon_emissions_export: (\d+) files under .*?, (\d+) new or changed", second.stderr
    )
    assert files and int(files[1]) > 0 and files[2] == "0", second.stderr[-3000:]
    assert count("carbon_emissions_export") == len(export_rows)
