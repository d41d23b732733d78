"""Bytes the Athena engine has Athena scan per billing period, against the table's full size.

Athena bills per byte scanned, so this row shows what partition pruning and reading only the
aggregate's columns save: the tap runs with `cur_engine: athena` against the local Athena fake
(tests/fakes/aws_athena.py), whose statistics count the Parquet column chunks a query reads in
the partitions it selects, the way Athena counts them for Parquet.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from datetime import date
from pathlib import Path

from tests.fakes.aws_athena import AthenaFake, Table, write_legacy_athena_cur
from tests.fakes.aws_cur import line_items

MONTHS = 12
ITEMS_PER_MONTH = 4000
TAP = Path(sys.executable).parent / "tap-aws-carbon"


def _tap(work: Path, config: dict, *args: str) -> subprocess.CompletedProcess:
    path = work / "athena-config.json"
    path.write_text(json.dumps(config))
    command = [str(TAP), "--config", str(path), *args]
    return subprocess.run(command, capture_output=True, text=True, check=True)


def athena_row(work: Path) -> str:
    """One Markdown row: mean (and range) bytes scanned per period vs the table's size."""
    root = work / "athena-cur"
    items = [
        item
        for month in range(MONTHS)
        for item in line_items(date(2025, month + 1, 1), ITEMS_PER_MONTH, seed=month)
    ]
    location = write_legacy_athena_cur(root, items, assembly_id="bench")
    table = Table("athenacurcfn_daily", "daily", location, ("year", "month"))
    with AthenaFake([table], queued_polls=0, running_polls=0) as fake:
        config = {
            "cur_uri": str(root / "cur" / "daily"),
            "cur_engine": "athena",
            "athena_database": table.database,
            "athena_table": table.name,
            "athena_output_location": "s3://bench-results/athena/",
            "athena_endpoint_url": fake.url,
            "glue_endpoint_url": fake.url,
            "aws_access_key_id": "AKIDBENCHMARK0000001",
            "aws_secret_access_key": "benchmark-only",
            "start_date": "2030-01-01",
        }
        catalog = json.loads(_tap(work, config, "--discover").stdout)
        for entry in catalog["streams"]:
            for item in entry["metadata"]:
                if item["breadcrumb"] == []:
                    item["metadata"]["selected"] = entry["tap_stream_id"] == "cur_usage_daily"
        (work / "athena-catalog.json").write_text(json.dumps(catalog))
        _tap(work, config, "--catalog", str(work / "athena-catalog.json"))
        scanned = [e.scanned for e in fake.started() if e.state == "SUCCEEDED"]
    if len(scanned) != MONTHS:
        raise RuntimeError(f"athena: {len(scanned)} of {MONTHS} queries succeeded")
    size = table.size
    mean = statistics.mean(scanned)
    return (
        f"| Athena bytes scanned per billing period vs the table's full size | legacy CUR "
        f"Parquet, {MONTHS} periods x {ITEMS_PER_MONTH:,} line items, {size / 1e6:.2f} MB | "
        f"{mean / 1e6:.3f} MB per period ({min(scanned) / 1e6:.3f}-{max(scanned) / 1e6:.3f}) | "
        f"{size / 1e6:.2f} MB (no pruning, every column) | {mean / size:.3f}x |"
    )


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/data/work")
    folder.mkdir(parents=True, exist_ok=True)
    print(athena_row(folder.resolve()))
