"""Synthetic CURs of a given compressed size, reproducible from a seed.

Legacy CUR (gzip CSV): the same 135 `category/Name` columns as the tests' generator
(tests/fakes/aws_cur.py). CUR 2.0 (snappy Parquet): the same line items under the tests' CUR 2.0
layout: snake_case columns, timestamps and doubles typed, product attributes in the `product`
map and tags in the `resource_tags` map (`user_team`, a key only where the item has a value).
Written by DuckDB so gigabytes take minutes, not hours. Values are hash-derived from (seed, row,
column): 50 accounts, 10 regions, the tests' products, hourly usage over 28 days, unique line
item ids.

    uv run python benchmarks/generate.py --size-gb 1 --out benchmarks/data/cur-1gb
    uv run python benchmarks/generate.py --size-gb 1 --format parquet --out /tmp/cur2-1gb
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.fakes.aws_cur import (
    CUR2_DOUBLES,
    CUR2_PRODUCT_MAP,
    FILLER_HEADERS,
    LEGACY_HEADERS,
    PRODUCTS,
    cur2_tag_key,
    snake,
)

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
CUR2_PERIOD = "BILLING_PERIOD=2026-01"
CUR2_NAME = "cur2"
# Bytes per written row, to size the first file: gzip CSV, snappy Parquet (measured).
ROW_BYTES = {"csv": 44, "parquet": 62}


def _list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _pick(values: list[str], salt: int, seed: int) -> str:
    return (
        f"list_element({_list(values)}, CAST(hash(i, {seed}, {salt}) % {len(values)} AS INT) + 1)"
    )


def _columns(seed: int, offset: int) -> dict[str, str]:
    """Every legacy column as a text expression, row `i` fully determined by the seed."""
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
    return columns


def _select(seed: int, offset: int) -> str:
    """The legacy CSV's SELECT: every column as text under its `category/Name` header."""
    columns = _columns(seed, offset)
    return ", ".join(f'{columns[h]} AS "{h}"' for h in LEGACY_HEADERS)


def _select_cur2(seed: int, offset: int) -> str:
    """The CUR 2.0 SELECT, column for column as tests/fakes/aws_cur.py's `write_cur2` writes
    it: typed timestamps and doubles, `product` and `resource_tags` as maps holding only the
    keys a line item has a value for."""
    text = _columns(seed, offset)
    columns: dict[str, str] = {}
    for header in LEGACY_HEADERS:
        if header in CUR2_PRODUCT_MAP or header == "product/regionCode":
            continue
        if header.startswith("resourceTags/"):
            continue
        expression = text[header]
        if header in ("lineItem/UsageStartDate", "lineItem/UsageEndDate"):
            expression = f"CAST({expression} AS TIMESTAMPTZ)"
        elif header in CUR2_DOUBLES:
            expression = f"CAST(NULLIF({expression}, '') AS DOUBLE)"
        columns[snake(header)] = expression
    columns["product_region_code"] = text["product/regionCode"]

    def entries(pairs: dict[str, str]) -> str:
        listed = ", ".join(f"{{'k': '{key}', 'v': {value}}}" for key, value in pairs.items())
        return f"map_from_entries(list_filter([{listed}], lambda e: e.v <> ''))"

    columns["product"] = entries({key: text[h] for h, key in CUR2_PRODUCT_MAP.items()})
    columns["resource_tags"] = entries({cur2_tag_key("user:team"): text["resourceTags/user:team"]})
    return ", ".join(f'{expression} AS "{name}"' for name, expression in columns.items())


def generate(out: Path, size_gb: float, seed: int = 42, fmt: str = "csv") -> list[Path]:
    """Write one delivery of `size_gb` under `out`: legacy gzip CSV
    (`cur/daily/<period>/<assembly>/daily-<n>.csv.gz`) or CUR 2.0 Parquet
    (`data/BILLING_PERIOD=2026-01/cur2-<nnnnn>.snappy.parquet`), with its manifest."""
    folder = _data_folder(out, fmt, seed)
    folder.mkdir(parents=True, exist_ok=True)
    target = size_gb * 1e9
    db = duckdb.connect(config={"threads": 2})
    db.execute("SET enable_progress_bar = false")
    files: list[Path] = []
    written = 0.0
    number = 0
    while written < target:
        number += 1
        rows = min(ROWS_PER_FILE, max(1000, int(target / ROW_BYTES[fmt])))
        if files:  # the last file only as large as needed, from the bytes per row so far
            rows = min(rows, max(1000, int((target - written) / (written / (number - 1) / rows))))
        offset = (number - 1) * ROWS_PER_FILE
        if fmt == "parquet":
            path = folder / f"{CUR2_NAME}-{number:05d}.snappy.parquet"
            query = f"SELECT {_select_cur2(seed, offset)} FROM range({rows}) t(i)"
            db.execute(f"COPY ({query}) TO '{path}' (FORMAT parquet, COMPRESSION snappy)")
        else:
            path = folder / f"daily-{number}.csv.gz"
            query = f"SELECT {_select(seed, offset)} FROM range({rows}) t(i)"
            db.execute(f"COPY ({query}) TO '{path}' (HEADER, COMPRESSION gzip)")
        written += path.stat().st_size
        files.append(path)
    _write_manifest(out, fmt, seed, files)
    return files


def _data_folder(out: Path, fmt: str, seed: int) -> Path:
    if fmt == "parquet":
        return out / "data" / CUR2_PERIOD
    return out / "cur" / "daily" / PERIOD / f"bench-{seed}"


def _write_manifest(out: Path, fmt: str, seed: int, files: list[Path]) -> None:
    """The delivery's manifest, naming `files`: legacy `reportKeys` or CUR 2.0 `dataFiles`."""
    if fmt == "parquet":
        columns = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{files[0]}')").fetchall()
        meta = out / "metadata" / CUR2_PERIOD
        meta.mkdir(parents=True, exist_ok=True)
        manifest = {
            "exportName": CUR2_NAME,
            "executionId": f"bench-{seed}",
            "billingPeriod": {"start": "2026-01-01", "end": "2026-02-01"},
            "columns": [{"name": c[0]} for c in columns],
            "dataFiles": [str(p) for p in files],
        }
        (meta / f"{CUR2_NAME}-Manifest.json").write_text(json.dumps(manifest))
        return
    manifest = {
        "assemblyId": f"bench-{seed}",
        "account": "999988887777",
        "reportName": "daily",
        "bucket": "cur-bench",
        "compression": "GZIP",
        "contentType": "text/csv",
        "billingPeriod": {"start": "20260101T000000.000Z", "end": "20260201T000000.000Z"},
        "columns": [
            {"category": h.split("/")[0], "name": h.split("/", 1)[1]} for h in LEGACY_HEADERS
        ],
        "reportKeys": [p.relative_to(out).as_posix() for p in files],
    }
    (files[0].parent.parent / "daily-Manifest.json").write_text(json.dumps(manifest))


def data_files(root: Path) -> list[Path]:
    """A generated delivery's data files in the order they were written."""
    found = [*root.rglob("*.csv.gz"), *root.rglob("*.parquet")]
    return sorted(found, key=lambda p: (p.parent, int("".join(filter(str.isdigit, p.name)))))


def replicate(base: Path, out: Path, size_gb: float, seed: int = 42) -> list[Path]:
    """A larger delivery assembled from a generated one by hard links, file by file.

    Generating gigabytes costs minutes per gigabyte on two cores; linking the 1 GB set's files
    round-robin gives a delivery of the requested size whose every file is a real generated
    file. Line item ids repeat across copies; neither the aggregation nor the scan reads them.
    """
    source = data_files(base)
    fmt = "parquet" if source[0].suffix == ".parquet" else "csv"
    folder = _data_folder(out, fmt, seed)
    folder.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    written = 0.0
    while written < size_gb * 1e9:
        original = source[len(files) % len(source)]
        number = len(files) + 1
        name = f"{CUR2_NAME}-{number:05d}.snappy.parquet" if fmt == "parquet" else None
        path = folder / (name or f"daily-{number}.csv.gz")
        path.unlink(missing_ok=True)
        path.hardlink_to(original)
        written += path.stat().st_size
        files.append(path)
    _write_manifest(out, fmt, seed, files)
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-gb", type=float, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--format", choices=["csv", "parquet"], default="csv")
    args = parser.parse_args()
    started = time.perf_counter()
    files = generate(args.out, args.size_gb, args.seed, args.format)
    size = sum(p.stat().st_size for p in files) / 1e9
    print(f"{len(files)} files, {size:.2f} GB in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
