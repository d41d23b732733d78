"""Synthetic but realistic Sustainability API rows (carbon and water), reproducible from a seed.

Used for the demo's sample data, the tests and the benchmarks, so all three exercise the same
shapes: leading-zero account ids, the `Global` region, services present only in some regions,
scope values at the API's 1 g (0.000001 MTCO2e) resolution and months with no usage.
"""

from __future__ import annotations

import json
import random
from datetime import date
from pathlib import Path

from tests.fakes.aws_sustainability import (
    EMISSIONS_TYPES,
    WATER_ALLOCATION_TYPES,
    WATER_UNITS,
    EmissionRow,
    WaterRow,
)

ACCOUNTS = ["012345678901", "123456789012", "000987654321"]
REGIONAL_SERVICES = ["AmazonEC2", "AmazonS3", "AmazonRDS", "AWSLambda", "AmazonDynamoDB"]
GLOBAL_SERVICES = ["AmazonCloudFront", "AmazonRoute53"]
REGIONS = ["us-east-1", "eu-central-1", "eu-north-1", "ap-southeast-2"]


def _month(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def _places(rng: random.Random) -> list[tuple[str, str]]:
    """The (region, service) pairs one account used in one period: some regional, some Global."""
    places = [(r, s) for r in REGIONS for s in REGIONAL_SERVICES if rng.random() < 0.6]
    places += [("Global", s) for s in GLOBAL_SERVICES if rng.random() < 0.8]
    return places


def synthetic_rows(
    first: date = date(2024, 1, 1),
    months: int = 24,
    *,
    seed: int = 7,
    accounts: list[str] | None = None,
    model_version: str = "v3.0.0",
) -> list[EmissionRow]:
    rng = random.Random(seed)
    start = first.year * 12 + first.month - 1
    rows = []
    for offset in range(months):
        month = _month(start + offset)
        for account in accounts or ACCOUNTS:
            for region, service in _places(rng):
                scope1 = round(rng.uniform(0, 0.002), 6)
                scope2_lbm = round(rng.uniform(0, 1.5), 6)
                scope2_mbm = round(scope2_lbm * rng.uniform(0, 0.4), 6)
                scope3_lbm = round(rng.uniform(0, 0.8), 6)
                scope3_mbm = round(scope3_lbm * rng.uniform(0.5, 1.0), 6)
                values = {
                    "TOTAL_SCOPE_1_CARBON_EMISSIONS": scope1,
                    "TOTAL_SCOPE_2_LBM_CARBON_EMISSIONS": scope2_lbm,
                    "TOTAL_SCOPE_2_MBM_CARBON_EMISSIONS": scope2_mbm,
                    "TOTAL_SCOPE_3_LBM_CARBON_EMISSIONS": scope3_lbm,
                    "TOTAL_SCOPE_3_MBM_CARBON_EMISSIONS": scope3_mbm,
                    "TOTAL_LBM_CARBON_EMISSIONS": round(scope1 + scope2_lbm + scope3_lbm, 6),
                    "TOTAL_MBM_CARBON_EMISSIONS": round(scope1 + scope2_mbm + scope3_mbm, 6),
                }
                assert set(values) == set(EMISSIONS_TYPES)
                rows.append(
                    EmissionRow(
                        month=month,
                        account=account,
                        region=region,
                        service=service,
                        model_version=model_version,
                        values={k: (v, "MTCO2e") for k, v in values.items()},
                    )
                )
    return rows


def synthetic_water_rows(
    first_year: int = 2024,
    years: int = 2,
    *,
    seed: int = 13,
    accounts: list[str] | None = None,
    model_version: str = "v1.0.0",
) -> list[WaterRow]:
    """Yearly water withdrawals (m3) per account x region x service, like the carbon rows."""
    rng = random.Random(seed)
    rows = []
    for year in range(first_year, first_year + years):
        for account in accounts or ACCOUNTS:
            for region, service in _places(rng):
                values = {
                    kind: (round(rng.uniform(0, 900), 3), WATER_UNITS[0])
                    for kind in WATER_ALLOCATION_TYPES
                }
                rows.append(
                    WaterRow(
                        year_start=date(year, 1, 1),
                        account=account,
                        region=region,
                        service=service,
                        model_version=model_version,
                        values=values,
                    )
                )
    return rows


def to_result(row: EmissionRow | WaterRow) -> dict:
    """The row as one item of a GetEstimatedCarbonEmissions / …WaterAllocation answer."""
    return row.to_result()


def write_jsonl(rows: list[EmissionRow] | list[WaterRow], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        for row in rows:
            handle.write(json.dumps(to_result(row)) + "\n")


if __name__ == "__main__":
    sample = Path(__file__).resolve().parents[2] / "sample_data/aws"
    write_jsonl(synthetic_rows(date(2024, 1, 1), 33), sample / "carbon_emissions.jsonl")
    write_jsonl(synthetic_water_rows(2024, 2), sample / "water_allocation.jsonl")
    print(sample / "carbon_emissions.jsonl")
    print(sample / "water_allocation.jsonl")
