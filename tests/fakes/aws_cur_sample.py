"""The demo's AWS Cost and Usage Report, derived from the AWS sample's reported emissions.

For the last three months of `sample_data/aws/carbon_emissions.jsonl`, every account x region x
service gets one `Usage` line item per month whose cost is its reported location-based kgCO2e
(scope 1 + scope 2 LBM + scope 3 LBM) over the kgCO2e per USD stated for its service in
`aws_sample_factors.csv`, and whose usage amount is the same kgCO2e over the stated kgCO2e per
usage unit (instance-hours, GB-months, GB-seconds, GB out, queries), exact in decimals. The
month after them, which AWS has not published in the sample, repeats the last month's line
items, so the nowcast has an AWS month to estimate. The calibration then recovers the stated
factors exactly. Run `python -m tests.fakes.aws_cur_sample` to rewrite sample_data/aws/cur.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from tests.fakes.aws_cur import LineItem, priced_item, write_legacy_cur

SAMPLE_FACTORS_FILE = Path(__file__).with_name("aws_sample_factors.csv")
ROOT = Path(__file__).resolve().parents[2]
REPORTED_FILE = ROOT / "sample_data/aws/carbon_emissions.jsonl"
CUR_ROOT = ROOT / "sample_data/aws"  # the report at CUR_ROOT / PREFIX / REPORT
PREFIX = "cur"
REPORT = "daily"
REPORTED_MONTHS = 3
# Usage types carry the region's billing prefix; usage AWS bills without a region has none.
USAGE_PREFIX = {
    "us-east-1": "USE1-",
    "eu-central-1": "EUC1-",
    "eu-north-1": "EUN1-",
    "ap-southeast-2": "APS2-",
    "Global": "",
}
LOCATION_BASED = (
    "TOTAL_SCOPE_1_CARBON_EMISSIONS",
    "TOTAL_SCOPE_2_LBM_CARBON_EMISSIONS",
    "TOTAL_SCOPE_3_LBM_CARBON_EMISSIONS",
)


@dataclass(frozen=True)
class Factor:
    product_code: str
    usage_type: str
    pricing_unit: str
    instance_type: str
    vcpu: str
    category: str
    kgco2e_per_currency_unit: Decimal
    kgco2e_per_usage_unit: Decimal


def stated_factors() -> dict[str, Factor]:
    """The stated factors per service (product code)."""
    with SAMPLE_FACTORS_FILE.open(newline="") as handle:
        return {
            row["product_code"]: Factor(
                product_code=row["product_code"],
                usage_type=row["usage_type"],
                pricing_unit=row["pricing_unit"],
                instance_type=row["instance_type"],
                vcpu=row["vcpu"],
                category=row["category"],
                kgco2e_per_currency_unit=Decimal(row["kgco2e_per_currency_unit"]),
                kgco2e_per_usage_unit=Decimal(row["kgco2e_per_usage_unit"]),
            )
            for row in csv.DictReader(handle)
        }


def reported_location_based() -> dict[tuple[date, str, str, str], Decimal]:
    """Reported kgCO2e per month x account x region x service, location-based, exact."""
    totals: dict[tuple[date, str, str, str], Decimal] = defaultdict(Decimal)
    for line in REPORTED_FILE.read_text().splitlines():
        item = json.loads(line)
        month = date.fromisoformat(item["TimePeriod"]["Start"][:10])
        dims = item["DimensionsValues"]
        key = (month, dims["USAGE_ACCOUNT_ID"], dims["REGION"], dims["SERVICE"])
        for name in LOCATION_BASED:
            totals[key] += Decimal(repr(item["EmissionsValues"][name]["Value"])) * 1000
    return dict(totals)


def sample_months() -> tuple[list[date], date]:
    """The last reported months the sample CUR covers, and the unpublished month after them."""
    months = sorted({key[0] for key in reported_location_based()})
    last = months[-1]
    after = date(last.year + last.month // 12, last.month % 12 + 1, 1)
    return months[-REPORTED_MONTHS:], after


def plain(value: Decimal) -> Decimal:
    """The same number written without an exponent (217207, not 2.17207E+5)."""
    return Decimal(format(value, "f"))


def line_item(month: date, account: str, region: str, kg: Decimal, factor: Factor) -> LineItem:
    """One month's `Usage` line item for `kg` reported kgCO2e of `factor`'s service."""
    return priced_item(
        "Usage",
        plain(kg / factor.kgco2e_per_currency_unit),
        usage_start=datetime(month.year, month.month, 1, tzinfo=UTC),
        account=account,
        region="" if region == "Global" else region,
        product_code=factor.product_code,
        usage_type=USAGE_PREFIX[region] + factor.usage_type,
        pricing_unit=factor.pricing_unit,
        instance_type=factor.instance_type,
        usage_amount=plain(kg / factor.kgco2e_per_usage_unit),
        vcpu=factor.vcpu,
        memory="",
        volume_type="",
        storage_media="",
        tags=(),
    )


def sample_line_items() -> list[LineItem]:
    """The reported months' line items, then the unpublished month's (the last month's again)."""
    factors = stated_factors()
    months, unpublished = sample_months()
    reported = sorted(
        (key, kg) for key, kg in reported_location_based().items() if key[0] in months and kg
    )
    items = [
        line_item(month, account, region, kg, factors[service])
        for (month, account, region, service), kg in reported
    ]
    return items + [
        line_item(unpublished, account, region, kg, factors[service])
        for (month, account, region, service), kg in reported
        if month == months[-1]
    ]


def write_sample_cur(root: Path = CUR_ROOT) -> list[Path]:
    """Rewrite the sample CUR under `root / PREFIX / REPORT` (legacy CUR, gzip CSV)."""
    shutil.rmtree(root / PREFIX / REPORT, ignore_errors=True)
    return write_legacy_cur(
        root, sample_line_items(), prefix=PREFIX, report=REPORT, chunk_rows=1000
    )


if __name__ == "__main__":
    for path in write_sample_cur():
        print(path.relative_to(ROOT))
