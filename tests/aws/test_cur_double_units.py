"""Parquet doubles summed as units of 10^-10 must equal the sums of their shortest texts."""

from __future__ import annotations

import dataclasses
import math
import random
import struct
from collections import defaultdict
from datetime import date
from decimal import Decimal

import duckdb
import pytest
from tap_aws_carbon.cur_engine import (
    AMOUNT,
    UNITS_LIMIT,
    CurFile,
    DailyAggregator,
    double_units,
    units_to_amount,
)

from tests.fakes.aws_cur import LineItem, daily_measures, line_items, write_cur2

COSTS = (
    "unblended_cost",
    "net_unblended_cost",
    "public_on_demand_cost",
    "ri_effective_cost",
    "ri_unused_upfront_fee",
    "ri_unused_recurring_fee",
    "sp_effective_cost",
    "sp_total_commitment",
    "sp_used_commitment",
)
# Amounts on both routes: up to 10 decimals below 2^19 (units), more decimals, larger values,
# and values whose shortest text is in exponent form (text).
TRICKY = (
    "0.1",
    "0.3",
    "-0.0000000001",
    "3",
    "-42.5",
    "0.9776994954",
    "524287.9999999999",
    "524288.0000000001",
    "1234567.891",
    "9876543210.123",
    "0.123456789012345",
    "0.00000000001234",
    "1E-7",
    "-7.25E-11",
)


def shortest(text: str) -> Decimal:
    """The value a Parquet file holds for `text`, as its shortest text reads (Python's repr)."""
    return Decimal(repr(float(text)))


def edge_doubles() -> list[float]:
    rng = random.Random(11)
    values = [0.0, -0.0, 0.1, 0.3, 1e-10, 5e-11, 1e-5, 123456.789012345678, 1 / 3, 2.0**-34]
    for base in (float(UNITS_LIMIT), 1.0, 0.5, 1e5):
        values += [base, -base, math.nextafter(base, 0), math.nextafter(base, math.inf)]
    for _ in range(20_000):
        digits = rng.randrange(0, 14)
        values.append(rng.randrange(-(10**13), 10**13) / 10**digits)
        values.append(rng.uniform(-(2.0**20), 2.0**20))
        raw = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
        if math.isfinite(raw) and abs(raw) < 1e19:
            values.append(raw)
    return values


def test_units_equal_the_shortest_text_for_every_double():
    """Each double is read on exactly one route, and both give its shortest text's value."""
    db = duckdb.connect()
    db.execute("CREATE TABLE v (d DOUBLE)")
    db.executemany("INSERT INTO v VALUES (?)", [(v,) for v in edge_doubles()])
    units, rest = double_units("d")
    text = f"CAST(CAST(d AS VARCHAR) AS {AMOUNT})"
    wrong, both, neither, fast = db.execute(
        f"SELECT count(*) FILTER (WHERE coalesce({units_to_amount(f'({units})')}, {rest})"
        f" IS DISTINCT FROM {text}), count(*) FILTER (WHERE ({units}) IS NOT NULL AND"
        f" ({rest}) IS NOT NULL), count(*) FILTER (WHERE ({units}) IS NULL AND ({rest}) IS NULL),"
        f" count(*) FILTER (WHERE ({units}) IS NOT NULL) FROM v"
    ).fetchone()
    assert (wrong, both, neither) == (0, 0, 0)
    assert fast > 5_000  # many of them take the units route
    for special in ("'NaN'", "'Infinity'", "'-Infinity'", "NULL"):
        units, rest = double_units(f"CAST({special} AS DOUBLE)")
        assert db.execute(f"SELECT {units}").fetchone()[0] is None


def tricky_items() -> list[LineItem]:
    """Line items whose amounts mix both routes within and across daily groups."""
    items = []
    for n, item in enumerate(line_items(date(2026, 3, 1), 300, seed=5, days=3)):
        changes: dict[str, Decimal] = {"usage_amount": shortest(TRICKY[(n * 7) % len(TRICKY)])}
        for k, field in enumerate(COSTS):
            if getattr(item, field) is not None:
                changes[field] = shortest(TRICKY[(n + k) % len(TRICKY)])
        items.append(dataclasses.replace(item, **changes))
    return items


def aggregate(files, fmt: str) -> list[dict]:
    aggregator = DailyAggregator(threads=2)
    try:
        aggregator.add([CurFile(f, str(f), fmt) for f in files])
        return list(aggregator.results())
    finally:
        aggregator.close()


@pytest.mark.parametrize("chunk_rows", [40, 1000])
def test_parquet_doubles_sum_as_their_text_on_both_routes(tmp_path, chunk_rows):
    items = tricky_items()
    parquet = aggregate(write_cur2(tmp_path / "pq", items, chunk_rows=chunk_rows), "parquet")
    text = aggregate(write_cur2(tmp_path / "csv", items, fmt="csv.gz"), "csv.gz")
    assert parquet == text  # CSV text is parsed exactly
    found: dict[tuple[str, ...], dict[str, Decimal | None]] = defaultdict(dict)
    usage: dict[tuple[str, ...], Decimal] = defaultdict(Decimal)
    for row in parquet:
        key = (row["usage_date"], row["usage_account_id"], row["product_code"])
        usage[key] += row["usage_amount"]
        entry = found[(*key, row["line_item_type"])]
        for measure in ("unblended_cost", "amortized_cost", "net_unblended_cost"):
            if row[measure] is not None:
                entry[measure] = (entry.get(measure) or Decimal(0)) + row[measure]
            else:
                entry.setdefault(measure, None)
    expected = daily_measures(items, ("unblended_cost", "amortized_cost", "net_unblended_cost"))
    assert dict(found) == expected
    expected_usage: dict[tuple[str, ...], Decimal] = defaultdict(Decimal)
    for item in items:
        expected_usage[(item.day.isoformat(), item.account, item.product_code)] += item.usage_amount
    assert usage == expected_usage
