"""Unusual but valid Sustainability API rows load as reported instead of stopping the run."""

from __future__ import annotations

import dataclasses
from datetime import date

from tests.aws.conftest import ACCESS_KEY, tap_config
from tests.conftest import TEST_SECRETS
from tests.fakes.aws_data import synthetic_rows
from tests.fakes.aws_sustainability import SustainabilityFake


def test_an_empty_region_service_or_model_version_is_loaded_as_reported(tap_runner):
    rows = synthetic_rows(date(2024, 1, 1), 2)
    odd = [
        dataclasses.replace(rows[0], region="", model_version=""),
        dataclasses.replace(rows[1], service=""),
    ]
    rows = odd + rows[2:]
    with SustainabilityFake(
        rows, page_size_cap=25, credentials={ACCESS_KEY: TEST_SECRETS["aws_secret_access_key"]}
    ) as fake:
        run = tap_runner(
            "tap-aws-carbon", tap_config(fake, start_date="2024-01-01", end_date="2024-03-01")
        )
    assert run.returncode == 0, run.stderr[-3000:]
    records = {
        (r["usage_period_start"], r["usage_account_id"], r["region"], r["service"]): r
        for r in run.records("carbon_emissions")
    }
    assert len(records) == len(rows)  # nothing dropped, nothing merged
    for row in odd:
        record = records[(row.month.isoformat(), row.account, row.region, row.service)]
        assert record["model_version"] == row.model_version
        assert (
            record["total_lbm_carbon_emissions_mtco2e"]
            == row.values["TOTAL_LBM_CARBON_EMISSIONS"][0]
        )
