"""Writes CARBON_EMISSIONS Data Export deliveries (files, partitions, manifests) from rows.

The same writer makes the demo's sample export, the tests' local folders and the objects put
into moto's S3, so every path reads files laid out exactly as AWS delivers them.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tests.fakes.aws_sustainability import EmissionRow

# Region display names as the export's `location` column spells them (sample subset).
LOCATIONS = {
    "us-east-1": "US East (N. Virginia)",
    "eu-central-1": "Europe (Frankfurt)",
    "eu-north-1": "Europe (Stockholm)",
    "ap-southeast-2": "Asia Pacific (Sydney)",
    "Global": "Global",
}
VALUE_COLUMNS = {
    "total_lbm_emissions_value": "TOTAL_LBM_CARBON_EMISSIONS",
    "total_mbm_emissions_value": "TOTAL_MBM_CARBON_EMISSIONS",
    "total_scope_1_emissions_value": "TOTAL_SCOPE_1_CARBON_EMISSIONS",
    "total_scope_2_lbm_emissions_value": "TOTAL_SCOPE_2_LBM_CARBON_EMISSIONS",
    "total_scope_2_mbm_emissions_value": "TOTAL_SCOPE_2_MBM_CARBON_EMISSIONS",
    "total_scope_3_lbm_emissions_value": "TOTAL_SCOPE_3_LBM_CARBON_EMISSIONS",
    "total_scope_3_mbm_emissions_value": "TOTAL_SCOPE_3_MBM_CARBON_EMISSIONS",
}
PAYER = "999988887777"


def export_row(row: EmissionRow) -> dict[str, Any]:
    """One export row, in the table's own column names."""
    nxt = datetime(row.month.year + row.month.month // 12, row.month.month % 12 + 1, 1, tzinfo=UTC)
    record: dict[str, Any] = {
        "last_refresh_timestamp": datetime(2026, 11, 3, 4, 5, 6, tzinfo=UTC),
        "location": LOCATIONS.get(row.region, row.region),
        "model_version": row.model_version,
        "payer_account_id": PAYER,
        "usage_account_id": row.account,
        "product_code": row.service,
        "region_code": row.region,
        "usage_period_start": datetime(row.month.year, row.month.month, 1, tzinfo=UTC),
        "usage_period_end": nxt,
    }
    for column, kind in VALUE_COLUMNS.items():
        value, unit = row.values[kind]
        record[column] = value
        record[column.replace("_value", "_unit")] = unit
    return record


def write_export(
    root: Path,
    rows: Iterable[EmissionRow],
    *,
    fmt: str = "csv.gz",
    spelling: str = "model_version",
    data_folder: bool = True,
    manifests: bool = True,
    chunk_rows: int = 40,
    name: str = "carbon",
    s3_root: str | None = None,
) -> list[Path]:
    """Lay the rows out as one delivery per model version x month; returns the data files."""
    partitions: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        partitions[(row.model_version, f"{row.month:%Y-%m}")].append(export_row(row))
    written = []
    for (model, period), records in sorted(partitions.items()):
        partition = f"{spelling}={model}/usage_period={period}"
        folder = root / ("data/" if data_folder else "") / partition
        folder.mkdir(parents=True, exist_ok=True)
        chunks = [records[i : i + chunk_rows] for i in range(0, len(records), chunk_rows)]
        files = []
        for number, chunk in enumerate(chunks, start=1):
            suffix = ".snappy.parquet" if fmt == "parquet" else f".{fmt}"
            path = folder / f"{name}-{number:05d}{suffix}"
            path.write_bytes(encode(chunk, fmt))
            files.append(path)
        written += files
        if manifests:
            meta = root / "metadata" / partition
            meta.mkdir(parents=True, exist_ok=True)
            base = s3_root.rstrip("/") if s3_root else str(root)
            (meta / f"{name}-Manifest.json").write_text(
                json.dumps(
                    {
                        "exportName": name,
                        "executionId": f"exec-{model}-{period}",
                        "billingPeriod": {"start": f"{period}-01"},
                        "dataFiles": [f"{base}/{p.relative_to(root).as_posix()}" for p in files],
                    }
                )
            )
    return written


def encode(records: list[dict[str, Any]], fmt: str) -> bytes:
    if fmt == "parquet":
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pylist(records), buffer, compression="snappy")
        return buffer.getvalue()
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow(
            {
                k: v.strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(v, datetime) else v
                for k, v in record.items()
            }
        )
    data = text.getvalue().encode()
    return gzip.compress(data) if fmt == "csv.gz" else data


def totals(rows: Iterable[EmissionRow]) -> dict[tuple[str, str, str], Decimal]:
    """Exact sums per (model version, YYYY-MM, value column), as the files hold them."""
    sums: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for row in rows:
        for column, kind in VALUE_COLUMNS.items():
            sums[(row.model_version, f"{row.month:%Y-%m}", column)] += Decimal(
                repr(row.values[kind][0])
            )
    return dict(sums)


def upload(client: Any, bucket: str, prefix: str, root: Path) -> None:
    """Put a written export folder into S3 (moto) under s3://bucket/prefix/."""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        key = f"{prefix.strip('/')}/{path.relative_to(root).as_posix()}".lstrip("/")
        client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
