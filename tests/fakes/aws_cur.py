"""Writes Cost and Usage Reports of both generations from line items, reproducible from a seed.

Legacy CUR: `<prefix>/<report>/<yyyymmdd-yyyymmdd>/<assemblyId>/<report>-<n>.csv.gz` (or
`.snappy.parquet`), `category/Name` headers (snake_case in Parquet), a period-level manifest
(rewritten per delivery, the current one) and a frozen copy inside the assembly folder.
CUR 2.0: `data/BILLING_PERIOD=YYYY-MM/[<ts>-<executionId>/]<name>-00001.snappy.parquet|.csv.gz`
and `metadata/BILLING_PERIOD=YYYY-MM/[<ts>-<executionId>/]<name>-Manifest.json`; `product` is a
map column (a JSON object in CSV), and so is `resource_tags` (keys `user_team` for the tag
`user:team`; a key only where the line item has a value). Line items of Savings Plans and
Reserved Instances carry the columns AWS fills for them (effective cost, commitments, unused
fees), so the amortized cost can be checked. Tests, the benchmarks' generator and the demo
share this.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

PAYER = "999988887777"
ACCOUNTS = ["012345678901", "123456789012", "000987654321"]
REGIONS = ["us-east-1", "eu-central-1", "eu-north-1"]
# (product code, usage type suffix, pricing unit, instance type, vcpu, memory, volume, media)
PRODUCTS = [
    ("AmazonEC2", "BoxUsage:m5.large", "Hrs", "m5.large", "2", "8 GiB", "", ""),
    ("AmazonEC2", "BoxUsage:c6g.xlarge", "Hrs", "c6g.xlarge", "4", "8 GiB", "", ""),
    ("AmazonEC2", "EBS:VolumeUsage.gp3", "GB-Mo", "", "", "", "General Purpose", "SSD-backed"),
    ("AmazonS3", "TimedStorage-ByteHrs", "GB-Mo", "", "", "", "Standard", ""),
    ("AmazonRDS", "InstanceUsage:db.r5.large", "Hrs", "db.r5.large", "2", "16 GiB", "", ""),
    ("AWSLambda", "Lambda-GB-Second", "Lambda-GB-Second", "", "", "", "", ""),
]
LINE_ITEM_TYPES = [
    "Usage",
    "Usage",
    "Usage",
    "DiscountedUsage",
    "SavingsPlanCoveredUsage",
    "SavingsPlanNegation",
    "RIFee",
    "SavingsPlanRecurringFee",
    "Tax",
    "Credit",
]
RESERVATION_ARN = "arn:aws:ec2:us-east-1:999988887777:reserved-instances/4f1c2d3e-ri"
SAVINGS_PLAN_ARN = "arn:aws:savingsplans::999988887777:savingsplan/7a8b9c0d-sp"
REGION_PREFIX = {"us-east-1": "USE1-", "eu-central-1": "EUC1-", "eu-north-1": "EUN1-"}

# The columns a line item's values go to, by legacy header.
VALUE_HEADERS = {
    "identity/LineItemId": "line_item_id",
    "identity/TimeInterval": "time_interval",
    "bill/PayerAccountId": "payer",
    "bill/BillingPeriodStartDate": "period_start",
    "bill/BillingPeriodEndDate": "period_end",
    "lineItem/UsageAccountId": "account",
    "lineItem/LineItemType": "line_item_type",
    "lineItem/UsageStartDate": "usage_start",
    "lineItem/UsageEndDate": "usage_end",
    "lineItem/ProductCode": "product_code",
    "lineItem/UsageType": "usage_type",
    "lineItem/UsageAmount": "usage_amount",
    "lineItem/CurrencyCode": "currency",
    "lineItem/UnblendedCost": "unblended_cost",
    "lineItem/BlendedCost": "unblended_cost",
    "lineItem/NetUnblendedCost": "net_unblended_cost",
    "pricing/publicOnDemandCost": "public_on_demand_cost",
    "reservation/EffectiveCost": "ri_effective_cost",
    "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod": "ri_unused_upfront_fee",
    "reservation/UnusedRecurringFee": "ri_unused_recurring_fee",
    "reservation/ReservationARN": "reservation_arn",
    "savingsPlan/SavingsPlanEffectiveCost": "sp_effective_cost",
    "savingsPlan/TotalCommitmentToDate": "sp_total_commitment",
    "savingsPlan/UsedCommitment": "sp_used_commitment",
    "savingsPlan/SavingsPlanARN": "savings_plan_arn",
    "product/region": "region",
    "product/regionCode": "region",
    "product/instanceType": "instance_type",
    "product/vcpu": "vcpu",
    "product/memory": "memory",
    "product/volumeType": "volume_type",
    "product/storageMedia": "storage_media",
    "pricing/unit": "pricing_unit",
}
# Columns a real CUR carries that the stream does not need: filled with plausible constants.
FILLER = {
    "bill": ["InvoiceId", "BillingEntity", "BillType", "InvoicingEntity"],
    "lineItem": [
        "Operation",
        "AvailabilityZone",
        "ResourceId",
        "NormalizationFactor",
        "NormalizedUsageAmount",
        "UnblendedRate",
        "BlendedRate",
        "LineItemDescription",
        "TaxType",
        "LegalEntity",
        "NetUnblendedRate",
    ],
    "product": [
        "ProductName",
        "availability",
        "capacitystatus",
        "clockSpeed",
        "currentGeneration",
        "dedicatedEbsThroughput",
        "ecu",
        "enhancedNetworkingSupported",
        "fromLocation",
        "fromLocationType",
        "group",
        "groupDescription",
        "instanceFamily",
        "intelAvxAvailable",
        "intelAvx2Available",
        "intelTurboAvailable",
        "licenseModel",
        "location",
        "locationType",
        "marketoption",
        "maxIopsvolume",
        "maxThroughputvolume",
        "maxVolumeSize",
        "networkPerformance",
        "normalizationSizeFactor",
        "operatingSystem",
        "operation",
        "physicalProcessor",
        "preInstalledSw",
        "processorArchitecture",
        "processorFeatures",
        "productFamily",
        "servicecode",
        "servicename",
        "sku",
        "storage",
        "tenancy",
        "toLocation",
        "toLocationType",
        "transferType",
        "usagetype",
        "vpcnetworkingsupport",
        "volumeApiName",
        "durability",
        "storageClass",
        "databaseEngine",
        "deploymentOption",
        "engineCode",
        "instanceTypeFamily",
        "memorytype",
        "routingTarget",
        "routingType",
    ],
    "pricing": [
        "LeaseContractLength",
        "OfferingClass",
        "PurchaseOption",
        "RateCode",
        "RateId",
        "currency",
        "publicOnDemandRate",
        "term",
    ],
    "reservation": [
        "AmortizedUpfrontCostForUsage",
        "AmortizedUpfrontFeeForBillingPeriod",
        "EndTime",
        "ModificationStatus",
        "NormalizedUnitsPerReservation",
        "NumberOfReservations",
        "RecurringFeeForUsage",
        "StartTime",
        "SubscriptionId",
        "TotalReservedNormalizedUnits",
        "TotalReservedUnits",
        "UnitsPerReservation",
        "UnusedNormalizedUnitQuantity",
        "UnusedQuantity",
        "UpfrontValue",
    ],
    "savingsPlan": [
        "SavingsPlanRate",
        "AmortizedUpfrontCommitmentForBillingPeriod",
        "RecurringCommitmentForBillingPeriod",
        "StartTime",
        "EndTime",
        "OfferingType",
        "PaymentOption",
        "PurchaseTerm",
        "Region",
    ],
    "resourceTags": ["user:team", "user:cost-center", "aws:createdBy"],
}
FILLER_HEADERS = [f"{category}/{name}" for category, names in FILLER.items() for name in names]
LEGACY_HEADERS = sorted(VALUE_HEADERS, key=lambda h: h.split("/")[0]) + FILLER_HEADERS
# Amounts CUR 2.0 types as double (text in legacy CSV).
CUR2_DOUBLES = [
    "lineItem/UsageAmount",
    "lineItem/UnblendedCost",
    "lineItem/BlendedCost",
    "lineItem/NetUnblendedCost",
    "pricing/publicOnDemandCost",
    "reservation/EffectiveCost",
    "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod",
    "reservation/UnusedRecurringFee",
    "savingsPlan/SavingsPlanEffectiveCost",
    "savingsPlan/TotalCommitmentToDate",
    "savingsPlan/UsedCommitment",
]
# CUR 2.0 keeps these in the `product` map rather than as columns.
CUR2_PRODUCT_MAP = {
    "product/vcpu": "vcpu",
    "product/memory": "memory",
    "product/volumeType": "volume_type",
    "product/storageMedia": "storage_media",
    "product/region": "region",
}


def snake(header: str) -> str:
    """`lineItem/UsageAmount` -> `line_item_usage_amount`; tags -> `resource_tags_user_team`;
    `reservation/ReservationARN` -> `reservation_reservation_a_r_n` (Athena's rule, which CUR
    2.0 shares: `_` before every capital, runs of `_` collapsed)."""
    category, name = header.split("/", 1)
    text = f"{category}_{name}"
    text = re.sub(r"[^0-9A-Za-z]+", "_", text)
    text = re.sub(r"(?<=.)(?=[A-Z])", "_", text)
    return re.sub(r"_+", "_", text).lower().strip("_")


def cur2_tag_key(tag: str) -> str:
    """A tag's key in CUR 2.0's `resource_tags` map: `user:team` -> `user_team`."""
    return re.sub(r"[^0-9A-Za-z]+", "_", tag)


@dataclass(frozen=True)
class LineItem:
    usage_start: datetime
    account: str
    region: str
    product_code: str
    usage_type: str
    line_item_type: str
    pricing_unit: str
    instance_type: str
    usage_amount: Decimal
    unblended_cost: Decimal
    vcpu: str
    memory: str
    volume_type: str
    storage_media: str
    payer: str = PAYER
    currency: str = "USD"
    net_unblended_cost: Decimal | None = None
    public_on_demand_cost: Decimal | None = None
    ri_effective_cost: Decimal | None = None
    ri_unused_upfront_fee: Decimal | None = None
    ri_unused_recurring_fee: Decimal | None = None
    reservation_arn: str = ""
    sp_effective_cost: Decimal | None = None
    sp_total_commitment: Decimal | None = None
    sp_used_commitment: Decimal | None = None
    savings_plan_arn: str = ""
    tags: tuple[tuple[str, str], ...] = (("user:team", "platform"),)

    @property
    def day(self) -> date:
        return self.usage_start.date()

    @property
    def amortized_cost(self) -> Decimal | None:
        """The line item's amortized cost by AWS's rules ("Understanding your amortized
        costs", CUR user guide), written out here independently of the tap's SQL."""
        kind = self.line_item_type
        if kind == "SavingsPlanCoveredUsage":
            return self.sp_effective_cost
        if kind in ("SavingsPlanNegation", "SavingsPlanUpfrontFee"):
            return Decimal(0)
        if kind == "SavingsPlanRecurringFee":
            total, used = self.sp_total_commitment, self.sp_used_commitment
            return None if total is None or used is None else total - used
        if kind == "DiscountedUsage":
            return self.ri_effective_cost
        if kind == "RIFee":
            upfront, recurring = self.ri_unused_upfront_fee, self.ri_unused_recurring_fee
            return None if upfront is None or recurring is None else upfront + recurring
        if kind == "Fee" and self.reservation_arn:
            return Decimal(0)
        return self.unblended_cost

    @property
    def period(self) -> str:
        return f"{self.usage_start:%Y-%m}"


def line_items(month: date, count: int, *, seed: int = 7, days: int = 28) -> list[LineItem]:
    """`count` hourly line items spread over the first `days` days of `month`."""
    rng = random.Random(seed)
    items = []
    for _ in range(count):
        code, usage, unit, itype, vcpu, memory, volume, media = rng.choice(PRODUCTS)
        region = rng.choice(REGIONS)
        start = datetime(month.year, month.month, 1, tzinfo=UTC) + timedelta(
            hours=rng.randrange(days * 24)
        )
        kind = rng.choice(LINE_ITEM_TYPES)
        amount = Decimal(rng.randrange(1, 10_000_000)) / Decimal(10**6)
        cost = Decimal(rng.randrange(1, 10_000_000_000)) / Decimal(10**10)
        items.append(
            priced_item(
                kind,
                cost,
                usage_start=start,
                account=rng.choice(ACCOUNTS),
                region=region,
                product_code=code,
                usage_type=REGION_PREFIX[region] + usage,
                pricing_unit=unit,
                instance_type=itype,
                usage_amount=amount,
                vcpu=vcpu,
                memory=memory,
                volume_type=volume,
                storage_media=media,
            )
        )
    return items


def priced_item(kind: str, on_demand: Decimal, **fields: Any) -> LineItem:
    """A line item of `kind` whose usage costs `on_demand` at public rates, with the cost
    columns AWS fills for that kind: RI usage is free in unblended cost and costs its
    effective cost; Savings Plan usage is billed on demand and cancelled by its negation;
    recurring fees leave part of the commitment unused; net cost is after a 5% discount."""
    net = on_demand * Decimal("0.95")
    values: dict[str, Any] = {"unblended_cost": on_demand, "net_unblended_cost": net}
    if kind in ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage"):
        values["public_on_demand_cost"] = on_demand
    if kind == "DiscountedUsage":
        values.update(
            unblended_cost=Decimal(0),
            net_unblended_cost=Decimal(0),
            ri_effective_cost=on_demand * Decimal("0.6"),
            reservation_arn=RESERVATION_ARN,
        )
    elif kind == "SavingsPlanCoveredUsage":
        values.update(
            sp_effective_cost=on_demand * Decimal("0.7"), savings_plan_arn=SAVINGS_PLAN_ARN
        )
    elif kind == "SavingsPlanNegation":
        values.update(
            unblended_cost=-on_demand, net_unblended_cost=-net, savings_plan_arn=SAVINGS_PLAN_ARN
        )
    elif kind == "RIFee":
        values.update(
            ri_unused_upfront_fee=on_demand * Decimal("0.1"),
            ri_unused_recurring_fee=on_demand * Decimal("0.2"),
            reservation_arn=RESERVATION_ARN,
        )
    elif kind == "SavingsPlanRecurringFee":
        values.update(
            sp_total_commitment=on_demand,
            sp_used_commitment=on_demand * Decimal("0.8"),
            savings_plan_arn=SAVINGS_PLAN_ARN,
        )
    elif kind == "Credit":
        values.update(unblended_cost=-on_demand, net_unblended_cost=-net)
    return LineItem(line_item_type=kind, **values, **fields)


def _period_bounds(period: str) -> tuple[datetime, datetime]:
    start = datetime.strptime(period + "-01", "%Y-%m-%d").replace(tzinfo=UTC)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def legacy_row(item: LineItem, number: int) -> dict[str, str]:
    """One legacy CSV row, every value as text, keyed by `category/Name` header."""
    start, end = _period_bounds(item.period)
    values = {
        "line_item_id": f"li{number:012d}",
        "time_interval": f"{_iso(item.usage_start)}/{_iso(item.usage_start + timedelta(hours=1))}",
        "payer": item.payer,
        "period_start": _iso(start),
        "period_end": _iso(end),
        "usage_end": _iso(item.usage_start + timedelta(hours=1)),
        **{k: getattr(item, k) for k in LineItem.__dataclass_fields__},
    }
    values["usage_start"] = _iso(item.usage_start)
    row = {header: _text(values[key]) for header, key in VALUE_HEADERS.items()}
    for header in FILLER_HEADERS:
        row[header] = "x" if header.startswith(("product/", "pricing/")) else ""
    for tag, value in item.tags:
        row[f"resourceTags/{tag}"] = value
    return row


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def cur2_row(item: LineItem, number: int) -> dict[str, Any]:
    """One CUR 2.0 row: snake_case names, typed values, product attributes in a map."""
    legacy = legacy_row(item, number)
    row: dict[str, Any] = {
        snake(h): v
        for h, v in legacy.items()
        if h not in CUR2_PRODUCT_MAP
        and h != "product/regionCode"
        and not h.startswith("resourceTags/")
    }
    row["product_region_code"] = item.region
    for header in ("lineItem/UsageStartDate", "lineItem/UsageEndDate"):
        row[snake(header)] = datetime.fromisoformat(legacy[header].replace("Z", "+00:00"))
    for header in CUR2_DOUBLES:
        row[snake(header)] = float(legacy[header]) if legacy[header] else None
    row["product"] = [(key, legacy[h]) for h, key in CUR2_PRODUCT_MAP.items() if legacy[h]]
    row["resource_tags"] = [(cur2_tag_key(tag), value) for tag, value in item.tags if value]
    return row


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


def encode_csv(rows: list[dict[str, Any]], headers: list[str], *, compress: bool = True) -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=headers, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                k: (
                    _iso(v)
                    if isinstance(v, datetime)
                    else json.dumps(dict(v))
                    if isinstance(v, list)
                    else v
                )
                for k, v in row.items()
            }
        )
    data = text.getvalue().encode()
    return gzip.compress(data, compresslevel=6, mtime=0) if compress else data


def encode_parquet(rows: list[dict[str, Any]], schema: pa.Schema | None = None) -> bytes:
    buffer = io.BytesIO()
    table = pa.Table.from_pylist(rows, schema=schema)
    pq.write_table(table, buffer, compression="snappy")
    return buffer.getvalue()


def _cur2_schema(columns: list[str]) -> pa.Schema:
    types = {
        "line_item_usage_start_date": pa.timestamp("ms", tz="UTC"),
        "line_item_usage_end_date": pa.timestamp("ms", tz="UTC"),
        **{snake(h): pa.float64() for h in CUR2_DOUBLES},
        "product": pa.map_(pa.string(), pa.string()),
        "resource_tags": pa.map_(pa.string(), pa.string()),
    }
    return pa.schema([(c, types.get(c, pa.string())) for c in columns])


def write_legacy_cur(
    root: Path,
    items: Iterable[LineItem],
    *,
    assembly_id: str = "asm-0001",
    fmt: str = "csv.gz",
    report: str = "daily",
    prefix: str = "cur",
    chunk_rows: int = 50,
    manifest: bool = True,
    s3_bucket: str = "cur-bucket",
    headers: list[str] | None = None,
) -> list[Path]:
    """One versioned delivery per billing period of the items; returns the data files."""
    headers = headers or LEGACY_HEADERS
    by_period: dict[str, list[LineItem]] = defaultdict(list)
    for item in items:
        by_period[item.period].append(item)
    written = []
    for period, period_items in sorted(by_period.items()):
        start, end = _period_bounds(period)
        folder_name = f"{start:%Y%m%d}-{end:%Y%m%d}"
        period_folder = root / prefix / report / folder_name
        assembly = period_folder / assembly_id
        assembly.mkdir(parents=True, exist_ok=True)
        keys = []
        rows = [legacy_row(item, n) for n, item in enumerate(period_items)]
        for number, chunk in enumerate(_chunks(rows, chunk_rows), start=1):
            if fmt == "parquet":
                name = f"{report}-{number:05d}.snappy.parquet"
                body = encode_parquet([{snake(h): v for h, v in r.items()} for r in chunk])
            else:
                name = f"{report}-{number}.csv.gz"
                body = encode_csv(chunk, headers)
            (assembly / name).write_bytes(body)
            written.append(assembly / name)
            keys.append(f"{prefix}/{report}/{folder_name}/{assembly_id}/{name}")
        if manifest:
            document = {
                "assemblyId": assembly_id,
                "account": PAYER,
                "reportName": report,
                "bucket": s3_bucket,
                "compression": "Parquet" if fmt == "parquet" else "GZIP",
                "contentType": "Parquet" if fmt == "parquet" else "text/csv",
                "billingPeriod": {
                    "start": f"{start:%Y%m%d}T000000.000Z",
                    "end": f"{end:%Y%m%d}T000000.000Z",
                },
                "columns": [
                    {"category": h.split("/")[0], "name": h.split("/", 1)[1]} for h in headers
                ],
                "reportKeys": keys,
                "additionalArtifactKeys": [],
            }
            text = json.dumps(document)
            (period_folder / f"{report}-Manifest.json").write_text(text)
            (assembly / f"{report}-Manifest.json").write_text(text)
    return written


def write_cur2(
    root: Path,
    items: Iterable[LineItem],
    *,
    execution_id: str = "exec-0001",
    fmt: str = "parquet",
    name: str = "cur2",
    create_new: bool = False,
    delivered_at: str = "20260102T000000Z",
    chunk_rows: int = 50,
    manifest: bool = True,
    s3_root: str | None = None,
) -> list[Path]:
    """One delivery per billing period; `create_new` nests it in `<ts>-<executionId>/`."""
    by_period: dict[str, list[LineItem]] = defaultdict(list)
    for item in items:
        by_period[item.period].append(item)
    columns = [
        snake(h)
        for h in LEGACY_HEADERS
        if h not in CUR2_PRODUCT_MAP
        and h != "product/regionCode"
        and not h.startswith("resourceTags/")
    ] + ["product_region_code", "product", "resource_tags"]
    written = []
    base = s3_root.rstrip("/") if s3_root else str(root)
    for period, period_items in sorted(by_period.items()):
        partition = f"BILLING_PERIOD={period}" + (
            f"/{delivered_at}-{execution_id}" if create_new else ""
        )
        folder = root / "data" / partition
        folder.mkdir(parents=True, exist_ok=True)
        rows = [cur2_row(item, n) for n, item in enumerate(period_items)]
        files = []
        for number, chunk in enumerate(_chunks(rows, chunk_rows), start=1):
            if fmt == "parquet":
                path = folder / f"{name}-{number:05d}.snappy.parquet"
                path.write_bytes(encode_parquet(chunk, _cur2_schema(columns)))
            else:
                path = folder / f"{name}-{number:05d}.csv.gz"
                path.write_bytes(encode_csv(chunk, columns))
            files.append(path)
        written += files
        if manifest:
            meta = root / "metadata" / partition
            meta.mkdir(parents=True, exist_ok=True)
            start, end = _period_bounds(period)
            (meta / f"{name}-Manifest.json").write_text(
                json.dumps(
                    {
                        "exportName": name,
                        "executionId": execution_id,
                        "billingPeriod": {"start": f"{start:%Y-%m-%d}", "end": f"{end:%Y-%m-%d}"},
                        "columns": [{"name": c} for c in columns],
                        "dataFiles": [f"{base}/{p.relative_to(root).as_posix()}" for p in files],
                    }
                )
            )
    return written


def daily_totals(
    items: Iterable[LineItem],
) -> dict[tuple[str, str, str], tuple[Decimal, Decimal]]:
    """(usage amount, unblended cost) per day x usage account x product code, computed directly."""
    sums: dict[tuple[str, str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for item in items:
        entry = sums[(item.day.isoformat(), item.account, item.product_code)]
        entry[0] += item.usage_amount
        entry[1] += item.unblended_cost
    return {k: (v[0], v[1]) for k, v in sums.items()}


MEASURES = ("unblended_cost", "amortized_cost", "net_unblended_cost", "public_on_demand_cost")


def daily_measures(
    items: Iterable[LineItem], measures: Iterable[str] = MEASURES
) -> dict[tuple[str, str, str, str], dict[str, Decimal | None]]:
    """Cost measures per day x usage account x product code x line item type, summed as SQL
    does: NULLs skipped, NULL when every line item of the group has none."""
    sums: dict[tuple[str, str, str, str], dict[str, Decimal | None]] = {}
    for item in items:
        key = (item.day.isoformat(), item.account, item.product_code, item.line_item_type)
        entry = sums.setdefault(key, dict.fromkeys(measures))
        for measure in entry:
            value = getattr(item, measure)
            if value is not None:
                entry[measure] = (entry[measure] or Decimal(0)) + value
    return sums
