"""Synthetic legacy CURs of a given compressed size, reproducible from a seed.

Same 135 `category/Name` columns as the tests' generator (tests/fakes/aws_cur.py), written by
DuckDB so gigabytes take minutes, not hours. Values are hash-derived from (seed, row, column):
50 accounts, 10 regions, the tests' products, hourly usage over 28 days, unique line item ids.

    uv run python benchmarks/generate.py --size-gb 1 --out benchmarks/data/cur-1gb
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.fakes.aws_cur import FILLER_HEADERS, LEGACY_HEADERS, PRODUCTS

REGIONS = [
    "us-east-1",
    "us-east-2",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "eu-north-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "ca-central-1",
    "sa-east-1",
]
ACCOUNTS = [f"{(n * 7919 + 12345) % 10**12:012d}" for n in range(50)]
ROWS_PER_FILE = 2_000_000
PERIOD = "20260101-20260201"


def _list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _pick(values: list[str], salt: int, seed: int) -> str:
    return (
        f"list_element({_list(values)}, CAST(hash(i, {seed}, {salt}) % {len(values)} AS INT) + 1)"
    )


def _select(seed: int, offset: int) -> str:
    """One SELECT producing every legacy column as text, row `i` fully determined by the seed."""
    product = f"CAST(hash(i, {seed}, 1) % {len(PRODUCTS)} AS INT) + 1"
    fields = {
        k: [p[n] for p in PRODUCTS]
        for n, k in enumerate(
            ["code", "usage", "unit", "itype", "vcpu", "memory", "volume", "media"]
        )
    }
    by_product = {k: f"list_element({_list(v)}, {product})" for k, v in fields.items()}
    hour = f"TIMESTAMP '2026-01-01' + to_hours(CAST(hash(i, {seed}, 2) % 672 AS INT))"
    region = _pick(REGIONS, 3, seed)
    columns = {
        "identity/LineItemId": f"printf('li%014d', i + {offset})",
        "identity/TimeInterval": f"strftime({hour}, '%Y-%m-%dT%H:00:00Z')",
        "bill/PayerAccountId": "'999988887777'",
        "bill/BillingPeriodStartDate": "'2026-01-01T00:00:00Z'",
        "bill/BillingPeriodEndDate": "'2026-02-01T00:00:00Z'",
        "lineItem/UsageAccountId": _pick(ACCOUNTS, 4, seed),
        "lineItem/LineItemType": _pick(
            ["Usage"] * 6 + ["DiscountedUsage", "Tax", "Credit"], 5, seed
        ),
        "lineItem/UsageStartDate": f"strftime({hour}, '%Y-%m-%dT%H:%M:%SZ')",
        "lineItem/UsageEndDate": f"strftime({hour} + INTERVAL 1 HOUR, '%Y-%m-%dT%H:%M:%SZ')",
        "lineItem/ProductCode": by_product["code"],
        "lineItem/UsageType": f"upper(left({region}, 2)) || '-' || {by_product['usage']}",
        "lineItem/UsageAmount": f"printf('%.6f', (hash(i, {seed}, 6) % 10000000) / 1e6)",
        "lineItem/CurrencyCode": "'USD'",
        "lineItem/UnblendedCost": f"printf('%.10f', (hash(i, {seed}, 7) % 10000000000) / 1e10)",
        "lineItem/BlendedCost": f"printf('%.10f', (hash(i, {seed}, 7) % 10000000000) / 1e10)",
        "product/region": region,
        "product/regionCode": region,
        "product/instanceType": by_product["itype"],
        "product/vcpu": by_product["vcpu"],
        "product/memory": by_product["memory"],
        "product/volumeType": by_product["volume"],
        "product/storageMedia": by_product["media"],
        "pricing/unit": by_product["unit"],
    }
    for header in FILLER_HEADERS:
        columns[header] = "'x'" if header.startswith(("product/", "pricing/")) else "''"
    columns["lineItem/ResourceId"] = f"printf('i-%017x', hash(i, {seed}, 8) % 100000)"
    columns["resourceTags/user:team"] = _pick(["platform", "data", "web", ""], 9, seed)
    # Cost columns a report has for discounts, RIs and Savings Plans: on-demand usage only.
    columns["lineItem/NetUnblendedCost"] = columns["lineItem/UnblendedCost"]
    columns["pricing/publicOnDemandCost"] = columns["lineItem/UnblendedCost"]
    for header in LEGACY_HEADERS:
        columns.setdefault(header, "''")
    return ", ".join(f'{columns[h]} AS "{h}"' for h in LEGACY_HEADERS)


def generate(out: Path, size_gb: float, seed: int = 42) -> list[Path]:
    """Write `<out>/cur/daily/<period>/<assembly>/daily-<n>.csv.gz` until `size_gb` is reached."""
    assembly = f"bench-{seed}"
    folder = out / "cur" / "daily" / PERIOD / assembly
    folder.mkdir(parents=True, exist_ok=True)
    target = size_gb * 1e9
    db = duckdb.connect(config={"threads": 2})
    db.execute("SET enable_progress_bar = false")
    files: list[Path] = []
    written = 0.0
    number = 0
    while written < target:
        number += 1
        rows = min(ROWS_PER_FILE, max(1000, int(target / 44)))  # ~44 bytes per gzip row
        if files:  # the last file only as large as needed, from the bytes per row so far
            rows = min(rows, max(1000, int((target - written) / (written / (number - 1) / rows))))
        path = folder / f"daily-{number}.csv.gz"
        offset = (number - 1) * ROWS_PER_FILE
        db.execute(
            f"COPY (SELECT {_select(seed, offset)} FROM range({rows}) t(i)) TO '{path}' "
            "(HEADER, COMPRESSION gzip)"
        )
        written += path.stat().st_size
        files.append(path)
    keys = [p.relative_to(out).as_posix() for p in files]
    manifest = {
        "assemblyId": assembly,
        "account": "999988887777",
        "reportName": "daily",
        "bucket": "cur-bench",
        "compression": "GZIP",
        "contentType": "text/csv",
        "billingPeriod": {"start": "20260101T000000.000Z", "end": "20260201T000000.000Z"},
        "columns": [
            {"category": h.split("/")[0], "name": h.split("/", 1)[1]} for h in LEGACY_HEADERS
        ],
        "reportKeys": keys,
    }
    (folder.parent / "daily-Manifest.json").write_text(json.dumps(manifest))
    return files


def replicate(base: Path, out: Path, size_gb: float) -> list[Path]:
    """A larger delivery assembled from a generated one by hard links, file by file.

    Generating gigabytes costs minutes per gigabyte on two cores; linking the 1 GB set's files
    round-robin gives a delivery of the requested size whose every file is a real generated
    file. Line item ids repeat across copies; neither the aggregation nor the scan reads them.
    """
    source = sorted(
        (base / "cur" / "daily" / PERIOD).glob("*/daily-*.csv.gz"),
        key=lambda p: int(p.name.split("-")[1].split(".")[0]),
    )
    assembly = source[0].parent.name
    folder = out / "cur" / "daily" / PERIOD / assembly
    folder.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    written = 0.0
    while written < size_gb * 1e9:
        original = source[len(files) % len(source)]
        path = folder / f"daily-{len(files) + 1}.csv.gz"
        path.unlink(missing_ok=True)
        path.hardlink_to(original)
        written += path.stat().st_size
        files.append(path)
    manifest = json.loads((base / "cur" / "daily" / PERIOD / "daily-Manifest.json").read_text())
    manifest["reportKeys"] = [p.relative_to(out).as_posix() for p in files]
    (folder.parent / "daily-Manifest.json").write_text(json.dumps(manifest))
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    started = time.perf_counter()
    files = generate(args.out, args.size_gb, args.seed)
    size = sum(p.stat().st_size for p in files) / 1e9
    print(f"{len(files)} files, {size:.2f} GB in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
