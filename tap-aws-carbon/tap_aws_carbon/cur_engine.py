"""Aggregates CUR line items to daily rows with DuckDB, in bounded memory.

DuckDB scans gzip CSV and Parquet column by column, reading only the columns the aggregate needs,
in parallel across files, and spills to a temporary folder beyond its memory limit, so memory
depends on the number of daily groups, never on file size. Columns are found by name (legacy
`category/Name` headers, snake_case in Parquet and CUR 2.0), never by position. Amounts are
summed as DECIMAL(38,18): CSV text is parsed exactly, Parquet doubles through their shortest text
(most of them summed as whole units of 1e-10 that provably equal that text, see `double_units`).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
from carbon_taps_shared.tapbase import TapUserError

if TYPE_CHECKING:
    import pyarrow as pa

AMOUNT = "DECIMAL(38,18)"
FETCH_ROWS = 10_000
# DuckDB reads CSV in buffers of 32 MB by default, one per file being read; 8 MB keeps
# the reader's memory small at no measured cost in speed (benchmarks/run.py).
CSV_BUFFER_BYTES = 8 * 2**20
# A Parquet double is summed as the exact value of its shortest text. Formatting and parsing
# that text for every line item cost as much as the rest of the query, so a double whose
# shortest text has at most UNITS_SCALE decimals is summed as a whole number of units of
# 10^-UNITS_SCALE instead (`double_units`); others still go through their text.
UNITS_SCALE = 10
# Below 2^19 a double's spacing is at most 2^-34 < 10^-UNITS_SCALE: see `double_units`.
UNITS_LIMIT = 2**19
# Partial aggregates beyond this many rows (and twice the last merge) are merged in place.
COMPACT_ROWS = 200_000

# Output dimension -> column names that may hold it, most specific first.
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "payer_account_id": ("bill/PayerAccountId", "bill_payer_account_id"),
    "usage_account_id": ("lineItem/UsageAccountId", "line_item_usage_account_id"),
    "region": ("product/regionCode", "product_region_code", "product/region", "product_region"),
    "product_code": ("lineItem/ProductCode", "line_item_product_code"),
    "usage_type": ("lineItem/UsageType", "line_item_usage_type"),
    "line_item_type": ("lineItem/LineItemType", "line_item_line_item_type"),
    "pricing_unit": ("pricing/unit", "pricing_unit"),
    "instance_type": ("product/instanceType", "product_instance_type"),
    "currency_code": ("lineItem/CurrencyCode", "line_item_currency_code"),
}
USAGE_START = ("lineItem/UsageStartDate", "line_item_usage_start_date")
SUMS: dict[str, tuple[str, ...]] = {
    "usage_amount": ("lineItem/UsageAmount", "line_item_usage_amount"),
    "unblended_cost": ("lineItem/UnblendedCost", "line_item_unblended_cost"),
}
# Amounts a report has only when the account has them (discounts, Reserved Instances, Savings
# Plans): read when present, NULL when the file lacks the column. Legacy header, then the
# snake_case name of legacy Parquet and CUR 2.0.
OPTIONAL_AMOUNTS: dict[str, tuple[str, ...]] = {
    "net_unblended_cost": ("lineItem/NetUnblendedCost", "line_item_net_unblended_cost"),
    "public_on_demand_cost": ("pricing/publicOnDemandCost", "pricing_public_on_demand_cost"),
    "ri_effective_cost": ("reservation/EffectiveCost", "reservation_effective_cost"),
    "ri_unused_upfront_fee": (
        "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod",
        "reservation_unused_amortized_upfront_fee_for_billing_period",
    ),
    "ri_unused_recurring_fee": (
        "reservation/UnusedRecurringFee",
        "reservation_unused_recurring_fee",
    ),
    "sp_effective_cost": (
        "savingsPlan/SavingsPlanEffectiveCost",
        "savings_plan_savings_plan_effective_cost",
    ),
    "sp_total_commitment": (
        "savingsPlan/TotalCommitmentToDate",
        "savings_plan_total_commitment_to_date",
    ),
    "sp_used_commitment": ("savingsPlan/UsedCommitment", "savings_plan_used_commitment"),
}
RESERVATION_ARN = ("reservation/ReservationARN", "reservation_reservation_a_r_n")
# The measures summed per daily group besides usage_amount and unblended_cost.
MEASURES = ("amortized_cost", "net_unblended_cost", "public_on_demand_cost")
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "vcpu": ("product/vcpu", "product_vcpu"),
    "memory": ("product/memory", "product_memory"),
    "volume_type": ("product/volumeType", "product_volume_type"),
    "storage_media": ("product/storageMedia", "product_storage_media"),
}
# CUR 2.0 keeps most product attributes in the `product` map column.
PRODUCT_MAP_KEYS = {
    "region": "region",
    "vcpu": "vcpu",
    "memory": "memory",
    "volume_type": "volume_type",
    "storage_media": "storage_media",
}
REQUIRED = ("usage_account_id", "product_code", "usage_type", "line_item_type")


class CurFileError(TapUserError):
    """A CUR file the tap cannot aggregate as it is; the message names the file and row."""


@dataclass(frozen=True)
class CurFile:
    """One CUR data file as the engine reads it."""

    path: Path  # a local, seekable copy
    uri: str  # where the user finds it
    format: str  # csv | csv.gz | parquet


def double_units(column: str) -> tuple[str, str]:
    """(units, rest) of a DOUBLE amount: whole units of 10^-UNITS_SCALE where that equals the
    exact value of the double's shortest text, else NULL; and that text's DECIMAL where not.

    n = round(d * 10^k) is a candidate; n / 10^k, one correctly rounded IEEE division of
    exact operands (|n| < 2^53), equals d exactly when the decimal n * 10^-k reads back as d.
    For |d| < 2^19 the doubles are spaced at most 2^-34 < 10^-k apart, so at most one multiple
    of 10^-k reads back as d. The shortest text is the decimal reading back as d on the
    coarsest power-of-ten grid, so it is on the 10^-k grid too and is that one multiple:
    n * 10^-k. NULL, NaN, infinities and larger values fail the test and take the text route.
    """
    scale = f"1e{UNITS_SCALE}"
    units = f"TRY_CAST(round({column} * {scale}) AS BIGINT)"  # both sides of AND are evaluated
    exact = f"(abs({column}) < {UNITS_LIMIT} AND {units} / {scale} = {column})"
    return (
        f"CASE WHEN {exact} THEN {units} END",
        f"CASE WHEN NOT {exact} THEN CAST(CAST({column} AS VARCHAR) AS {AMOUNT}) END",
    )


def units_to_amount(units: str) -> str:
    """A sum of units of 10^-UNITS_SCALE as an exact AMOUNT (decimal multiplication is exact)."""
    one = "0." + "0" * (UNITS_SCALE - 1) + "1"
    return (
        f"CAST(CAST({units} AS DECIMAL(38,0)) * CAST({one} AS DECIMAL({UNITS_SCALE + 1},"
        f"{UNITS_SCALE})) AS {AMOUNT})"
    )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def file_columns(file: CurFile) -> dict[str, str]:
    """Column name -> DuckDB type family (VARCHAR for CSV) of one file."""
    if file.format == "parquet":
        import pyarrow as pa  # imported on first use: ~50 MB a CSV-only run does not need
        import pyarrow.parquet as pq

        try:
            schema = pq.read_schema(file.path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise CurFileError(
                f"{file.uri}: not a readable Parquet file ({_reason(str(exc))[:120]}); "
                "re-deliver the file or remove it"
            ) from None
        return {field.name: _family(field.type) for field in schema}
    try:
        opener = gzip.open if file.format == "csv.gz" else open
        with opener(file.path, "rb") as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            header = next(csv.reader(text), None)
    except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
        raise CurFileError(
            f"{file.uri}: the header cannot be read ({type(exc).__name__}); re-deliver the file"
        ) from None
    if not header:
        raise CurFileError(f"{file.uri}: the file is empty (no header row); re-deliver it")
    return {name.strip(): "VARCHAR" for name in header}


def _family(kind: pa.DataType) -> str:
    import pyarrow as pa

    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        return "TIMESTAMP"
    if pa.types.is_floating(kind):
        return "DOUBLE"
    if pa.types.is_integer(kind) or pa.types.is_decimal(kind):
        return "NUMBER"
    if pa.types.is_map(kind):
        return "MAP"
    return "VARCHAR"


def tag_columns(tag: str) -> tuple[str, ...]:
    """Where a resource tag key lives: legacy header, then its snake_case Parquet name."""
    return (f"resourceTags/{tag}", "resource_tags_" + re.sub(r"[^0-9A-Za-z]+", "_", tag).lower())


def tag_map_keys(tag: str) -> tuple[str, ...]:
    """Keys a tag may have in CUR 2.0's `resource_tags` map, most specific first: the key as
    given (`user:team`), then CUR 2.0's form with `:` and other separators as `_`
    (`user_team`), then that form in lower case."""
    flat = re.sub(r"[^0-9A-Za-z]+", "_", tag)
    return tuple(dict.fromkeys((tag, flat, flat.lower())))


def scan_aliases(names: Sequence[str]) -> dict[str, str]:
    """A name per column that DuckDB's case-insensitive binder tells apart: AWS tags differ by
    case (`resourceTags/user:team`, `resourceTags/user:Team`), DuckDB names do not."""
    aliases: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        alias, number = name, 1
        while alias.lower() in taken:
            number += 1
            alias = f"{name}#{number}"
        taken.add(alias.lower())
        aliases[name] = alias
    return aliases


class _Projection:
    """The SELECT list that turns one file layout into canonical columns."""

    def __init__(
        self,
        columns: dict[str, str],
        tags: Sequence[str],
        uri: str,
        aliases: dict[str, str] | None = None,
    ) -> None:
        self.columns = columns
        self.aliases = aliases or {name: name for name in columns}
        self.uri = uri
        missing = [
            n
            for n, names in {**{k: DIMENSIONS[k] for k in REQUIRED}, **SUMS}.items()
            if self._find(names) is None
        ]
        if self._find(USAGE_START) is None:
            missing.insert(0, "usage start date")
        if missing:
            raise CurFileError(
                f"{uri}: missing column(s) for {', '.join(missing)} (looked for e.g. "
                f"{USAGE_START[0]} / {USAGE_START[1]}); this is not a Cost and Usage Report "
                "file — check cur_uri"
            )
        self.tags = list(tags)

    def _find(self, names: Sequence[str]) -> str | None:
        return next((n for n in names if n in self.columns), None)

    def col(self, name: str) -> str:
        """The quoted name of a file column as the scan exposes it."""
        return _quote(self.aliases[name])

    def _map(self, column: str, keys: Sequence[str]) -> str | None:
        """The first of `keys` present in a CUR 2.0 map column, or None without the column."""
        kind = self.columns.get(column)
        if kind == "MAP":
            lookups = [f"{self.col(column)}[{_literal(key)}]" for key in keys]
        elif kind == "VARCHAR":  # CUR 2.0 CSV writes a map as a JSON object
            text = f"NULLIF(trim({self.col(column)}), '')"
            lookups = [f"json_extract_string({text}, {_literal(_json_path(key))})" for key in keys]
        else:
            return None
        return lookups[0] if len(lookups) == 1 else f"coalesce({', '.join(lookups)})"

    def _text(self, field: str, names: Sequence[str]) -> str:
        name = self._find(names)
        if name is not None:
            return f"CAST({self.col(name)} AS VARCHAR)"
        mapped = (
            self._map("product", [PRODUCT_MAP_KEYS[field]]) if field in PRODUCT_MAP_KEYS else None
        )
        return mapped or "NULL"

    def _tag(self, tag: str) -> str:
        """A tag's value: its own column (legacy CUR), else its key in `resource_tags`."""
        name = self._find(tag_columns(tag))
        if name is not None:
            return f"CAST({self.col(name)} AS VARCHAR)"
        return self._map("resource_tags", tag_map_keys(tag)) or "NULL"

    def _amount(self, names: Sequence[str]) -> tuple[str, str] | None:
        """(expression, bad-value predicate) of an amount column; None when the file lacks it."""
        name = self._find(names)
        if name is None:
            return None
        column = self.col(name)
        kind = self.columns[name]
        if kind == "DOUBLE":
            return double_units(column)[1], "false"
        if kind == "NUMBER":
            return f"CAST({column} AS {AMOUNT})", "false"
        # TRY_CAST skips surrounding whitespace and gives NULL for '' itself; trim() runs
        # only on the rare value that did not cast, to tell a blank from a bad number.
        return (
            f"TRY_CAST({column} AS {AMOUNT})",
            f"({column} IS NOT NULL AND TRY_CAST({column} AS {AMOUNT}) IS NULL"
            f" AND trim({column}) <> '')",
        )

    def _day(self) -> tuple[str, str]:
        name = self._find(USAGE_START)
        assert name is not None
        column = self.col(name)
        if self.columns[name] == "TIMESTAMP":
            # epoch_us is time-zone free, so the day is the UTC day whatever DuckDB's TimeZone.
            expression = f"CAST(make_timestamp(epoch_us({column})) AS DATE)"
        else:
            expression = f"TRY_CAST(left(trim({column}), 10) AS DATE)"
        return expression, f"({expression} IS NULL)"

    def _amount_fields(self) -> dict[str, tuple[str, ...]]:
        return {**SUMS, **OPTIONAL_AMOUNTS}

    def has_units(self, field: str) -> bool:
        """Whether the amount is a DOUBLE column, read in two parts: `<field>_units` (see
        `double_units`) and `<field>`, the rest as AMOUNT; a line item's amount is their sum."""
        name = self._find({**SUMS, **OPTIONAL_AMOUNTS}[field])
        return name is not None and self.columns[name] == "DOUBLE"

    def units_measures(self) -> set[str]:
        """The summed measures that have a `_units` part."""
        found = {f for f in (*SUMS, *MEASURES) if f in self._amount_fields() and self.has_units(f)}
        if any(self.has_units(f) for f in self._amount_fields()):
            found.add("amortized_cost")
        return found

    def select(self) -> tuple[str, str]:
        """(SELECT list of canonical columns, predicate that is true for a malformed row)."""
        day, bad_day = self._day()
        parts = [f"{day} AS usage_date"]
        bad = [bad_day]
        for field, names in DIMENSIONS.items():
            parts.append(f"coalesce({self._text(field, names)}, '') AS {field}")
        for index, tag in enumerate(self.tags):
            parts.append(f"coalesce({self._tag(tag)}, '') AS tag_{index}")
        for field, names in self._amount_fields().items():
            read = self._amount(names)
            if read is None:
                parts.append(f"CAST(NULL AS {AMOUNT}) AS {field}")
                continue
            expression, is_bad = read
            parts.append(f"{expression} AS {field}")
            if self.has_units(field):
                units = double_units(self.col(self._find(names) or ""))[0]
                parts.append(f"{units} AS {field}_units")
            bad.append(is_bad)
            if is_bad != "false":
                parts.append(f"{self.col(self._find(names) or '')} AS {field}_raw")
        arn = self._find(RESERVATION_ARN)
        reservation = f"coalesce(CAST({self.col(arn)} AS VARCHAR), '')" if arn else "''"
        parts.append(f"{reservation} AS reservation_arn")
        for field, names in ATTRIBUTES.items():
            parts.append(f"NULLIF({self._text(field, names)}, '') AS {field}")
        return ", ".join(parts), " OR ".join(bad)

    def amortized(self, part: str = "") -> str:
        """Amortized (effective) cost of one line item, as AWS defines it ("Understanding
        your amortized costs", CUR user guide): a Reserved Instance's usage costs its
        reservation/EffectiveCost, a Savings Plan's covered usage its SavingsPlanEffectiveCost;
        the negation that cancels covered usage and the upfront fees (spread into those
        effective costs) count 0; recurring fees count only their unused part. Every other
        line item costs its unblended cost. NULL where the report lacks the column needed.

        `part` "_units" gives the same choice over the `_units` parts of DOUBLE amounts (0 or
        NULL where an amount has none), so the two parts of a line item add up to its cost."""

        def present(*fields: str) -> bool:
            return all(self._find(OPTIONAL_AMOUNTS[f]) is not None for f in fields)

        def column(field: str) -> str:
            if part and not self.has_units(field):
                return "NULL"
            return field + part

        def one(field: str) -> str:
            return column(field) if present(field) else "NULL"

        def total(*fields: str, sign: str = "+") -> str:
            if not present(*fields):
                return "NULL"
            return f" {sign} ".join(f"coalesce({column(f)}, 0)" for f in fields)

        sp_unused = total("sp_total_commitment", "sp_used_commitment", sign="-")
        ri_unused = total("ri_unused_upfront_fee", "ri_unused_recurring_fee")
        unblended = column("unblended_cost")
        fee = f"CASE WHEN reservation_arn <> '' THEN 0 ELSE {unblended} END"
        return (
            "CASE line_item_type"
            f" WHEN 'SavingsPlanCoveredUsage' THEN {one('sp_effective_cost')}"
            " WHEN 'SavingsPlanNegation' THEN 0"
            " WHEN 'SavingsPlanUpfrontFee' THEN 0"
            f" WHEN 'SavingsPlanRecurringFee' THEN {sp_unused}"
            f" WHEN 'DiscountedUsage' THEN {one('ri_effective_cost')}"
            f" WHEN 'RIFee' THEN {ri_unused}"
            f" WHEN 'Fee' THEN {fee}"
            f" ELSE {unblended} END"
        )

    def bad_count(self) -> str:
        """Aggregate counting malformed rows without casting twice: a value that was there
        but did not cast is a raw text, not blank, with a NULL result. One filtered count,
        not a pair of counts per column: it is evaluated for every line item."""
        bad = ["usage_date IS NULL"]
        for field, names in self._amount_fields().items():
            name = self._find(names)
            if name is not None and self.columns[name] == "VARCHAR":
                raw = f"{field}_raw"
                bad.append(f"({field} IS NULL AND {raw} IS NOT NULL AND trim({raw}) <> '')")
        return f"count(*) FILTER (WHERE {' OR '.join(bad)})"


def _json_path(key: str) -> str:
    """A JSON path naming one object key, quoted so `:`, `.` or `/` in tag keys are literal."""
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _cut(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _reason(message: str) -> str:
    """DuckDB's error on one line, without the quoted input line (data, possibly huge) and the
    reader options and fixes it lists after it."""
    head = message.split("Possible fixes:", 1)[0]
    kept = [line for line in head.splitlines() if not line.strip().startswith("Original Line:")]
    return " ".join(" ".join(kept).split())


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class DailyAggregator:
    """Partial aggregates of a delivery's files, merged into one row per daily group."""

    def __init__(
        self,
        *,
        tags: Sequence[str] = (),
        memory_limit_mb: int = 256,
        threads: int | None = None,
        temp_dir: str | None = None,
        compact_rows: int = COMPACT_ROWS,
    ) -> None:
        config: dict[str, Any] = {
            "memory_limit": f"{memory_limit_mb}MB",
            "threads": threads or os.cpu_count() or 1,
            "preserve_insertion_order": False,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
        if temp_dir:
            config["temp_directory"] = temp_dir
        self.tags = list(tags)
        self.memory_limit_mb = memory_limit_mb
        self._threads = int(config["threads"])
        self._compacted_rows = 0
        self._compact_rows = compact_rows
        self._db = duckdb.connect(":memory:", config=config)
        # DuckDB draws its progress bar on stdout, which carries the Singer messages.
        self._db.execute("SET enable_progress_bar = false")
        self._group = ["usage_date", *DIMENSIONS, *(f"tag_{i}" for i in range(len(self.tags)))]
        tag_columns_sql = "".join(f", tag_{i} VARCHAR" for i in range(len(self.tags)))
        self._db.execute(
            "CREATE TABLE partial (usage_date DATE, "
            + ", ".join(f"{d} VARCHAR" for d in DIMENSIONS)
            + tag_columns_sql
            + f", usage_amount {AMOUNT}, unblended_cost {AMOUNT}, "
            + "".join(f"{m} {AMOUNT}, " for m in MEASURES)
            + "line_item_count BIGINT,"
            " vcpu DOUBLE, memory VARCHAR, volume_type VARCHAR, storage_media VARCHAR,"
            " bad_rows BIGINT)"
        )

    def close(self) -> None:
        """Close the DuckDB connection (and its spill files)."""
        self._db.close()

    def add(self, files: Sequence[CurFile]) -> None:
        """Aggregate files that share one layout, in parallel scans of a few files each."""
        columns = file_columns(files[0])
        aliases = self._aliases(files[0], columns)
        projection = _Projection(columns, self.tags, files[0].uri, aliases)
        for group in self._scan_groups(files):
            self._add_scan(group, columns, aliases, projection)

    def _scan_groups(self, files: Sequence[CurFile]) -> Iterator[list[CurFile]]:
        """Files in scans of at most the memory limit's bytes, but one file per thread or more.

        One scan over a whole delivery gives DuckDB's hash aggregate more partial groups than
        the memory limit holds, so it spills them (5.7 GB written for half of the 1 GB
        benchmark CUR, a fifth more CPU); a scan of about one file per thread spills nothing,
        keeps every thread on a file of its own, and the partial table merges the scans."""
        budget = self.memory_limit_mb * 2**20
        group: list[CurFile] = []
        size = 0
        for file in files:
            length = file.path.stat().st_size
            if len(group) >= self._threads and size + length > budget:
                yield group
                group, size = [], 0
            group.append(file)
            size += length
        if group:
            yield group

    def _add_scan(
        self,
        files: list[CurFile],
        columns: dict[str, str],
        aliases: dict[str, str],
        projection: _Projection,
    ) -> None:
        """One parallel scan of files sharing a layout, its daily groups added to `partial`."""
        select, bad = projection.select()
        scan = self._scan(files, columns, aliases)
        group = ", ".join(self._group)
        with_units = projection.units_measures()
        sums: list[str] = []
        totals: list[str] = []
        for m in ("usage_amount", "unblended_cost", *MEASURES):
            sums.append(f"sum({m}) AS {m}")
            totals.append(m)
            if m in with_units:
                # NULL only where every line item's amount was NULL, as one sum would be.
                sums.append(f"sum({m}_units) AS {m}_units")
                totals[-1] = (
                    f"CASE WHEN {m} IS NULL AND {m}_units IS NULL THEN NULL ELSE "
                    f"coalesce({m}, 0) + coalesce({units_to_amount(f'{m}_units')}, 0) END"
                )
        amortized = f"{projection.amortized()} AS amortized_cost"
        if "amortized_cost" in with_units:
            amortized += f", {projection.amortized('_units')} AS amortized_cost_units"
        sql = (
            f"INSERT INTO partial SELECT {group}, {', '.join(totals)}, line_item_count, vcpu, "
            "memory, volume_type, storage_media, bad_rows "
            f"FROM (SELECT {group}, {', '.join(sums)}, count(*) AS line_item_count, "
            "max(TRY_CAST(vcpu AS DOUBLE)) AS vcpu, max(memory) AS memory, "
            "max(volume_type) AS volume_type, max(storage_media) AS storage_media, "
            f"{projection.bad_count()} AS bad_rows "
            f"FROM (SELECT *, {amortized} FROM (SELECT {select} FROM {scan})) GROUP BY {group})"
        )
        try:
            self._run(sql, files)
        except CurFileError:
            self._blame_one(files, columns, aliases)  # several files: name the broken one
            raise
        rows, bad_rows = self._single_row(
            "SELECT count(*), coalesce(sum(bad_rows), 0) FROM partial"
        )
        if bad_rows:
            self._report_bad_row(files, projection, select, bad)
        if rows > self._compact_rows and rows > 2 * self._compacted_rows:
            self._compact()

    def _compact(self) -> None:
        """Merge the partial aggregates of earlier scans so the table stays near the size of
        one delivery's daily groups, however many file groups the delivery has."""
        self._db.execute(f"CREATE TABLE merged AS {self._merge_sql(order=False)}")
        self._db.execute("DROP TABLE partial")
        self._db.execute("ALTER TABLE merged RENAME TO partial")
        self._compacted_rows = self._single_row("SELECT count(*) FROM partial")[0]

    def _single_row(self, sql: str) -> tuple[Any, ...]:
        """The one row an aggregate without GROUP BY always answers (DuckDB types it optional)."""
        row = self._db.execute(sql).fetchone()
        if row is None:
            raise RuntimeError(f"DuckDB answered no row to an aggregate: {sql}")
        return row

    def _merge_sql(self, *, order: bool) -> str:
        """The merged daily groups; ordered, with the amounts as text for `results`: DuckDB
        turns a DECIMAL into a Python Decimal more slowly than Python parses its text."""
        group = ", ".join(self._group)

        def total(m: str) -> str:
            return f"CAST(sum({m}) AS VARCHAR) AS {m}, " if order else f"sum({m}) AS {m}, "

        return (
            f"SELECT {group}, "
            + "".join(total(m) for m in ("usage_amount", "unblended_cost", *MEASURES))
            + "sum(line_item_count) AS line_item_count, "
            "max(vcpu) AS vcpu, max(memory) AS memory, max(volume_type) AS volume_type, "
            "max(storage_media) AS storage_media, sum(bad_rows) AS bad_rows FROM partial "
            f"GROUP BY {group}" + (f" ORDER BY {group}" if order else "")
        )

    def _blame_one(
        self, files: Sequence[CurFile], columns: dict[str, str], aliases: dict[str, str]
    ) -> None:
        """Read each file alone; the first that fails is reported by name. Error path only."""
        if len(files) < 2:
            return
        for file in files:
            self._run(f"SELECT count(*) FROM {self._scan([file], columns, aliases)}", [file])

    def _aliases(self, file: CurFile, columns: dict[str, str]) -> dict[str, str]:
        """Each column's name in the scan. CSV columns are named by us (names DuckDB tells
        apart); Parquet names come from DuckDB, which renames case-only duplicates, so they
        are matched to the file's columns by position."""
        if file.format != "parquet":
            return scan_aliases(list(columns))
        try:
            described = self._db.execute(
                f"DESCRIBE SELECT * FROM read_parquet({_literal(str(file.path))})"
            ).fetchall()
        except duckdb.Error as exc:
            raise CurFileError(
                f"{file.uri}: cannot be read ({_reason(str(exc))[:300]}); re-deliver the file "
                "or remove it"
            ) from None
        if len(described) != len(columns):  # not expected: read by name as before
            return {name: name for name in columns}
        return {name: row[0] for name, row in zip(columns, described, strict=True)}

    def _scan(
        self, files: Sequence[CurFile], columns: dict[str, str], aliases: dict[str, str]
    ) -> str:
        paths = "[" + ", ".join(_literal(str(f.path)) for f in files) + "]"
        if files[0].format == "parquet":
            return f"read_parquet({paths})"
        types = "{" + ", ".join(f"{_literal(aliases[c])}: 'VARCHAR'" for c in columns) + "}"
        compression = "gzip" if files[0].format == "csv.gz" else "none"
        return (
            f"read_csv({paths}, header = true, auto_detect = false, columns = {types}, "
            f"delim = ',', quote = '\"', escape = '\"', compression = '{compression}', "
            f"strict_mode = true, buffer_size = {CSV_BUFFER_BYTES})"
        )

    def _run(self, sql: str, files: Sequence[CurFile]) -> None:
        try:
            self._db.execute(sql)
        except duckdb.OutOfMemoryException:
            raise CurFileError(
                f"{files[0].uri}: aggregating this delivery needs more memory than "
                f"cur_memory_limit_mb={self.memory_limit_mb} allows; raise cur_memory_limit_mb"
            ) from None
        except duckdb.Error as exc:
            message = _reason(str(exc))
            for file in files:
                message = message.replace(str(file.path), file.uri)
            names = (
                files[0].uri if len(files) == 1 else f"{files[0].uri} (or {len(files) - 1} more)"
            )
            raise CurFileError(
                f"{names}: cannot be read ({message[:300]}); re-deliver the file or remove it"
            ) from None

    def _report_bad_row(
        self, files: Sequence[CurFile], projection: _Projection, select: str, bad: str
    ) -> None:
        """Name the first malformed row; only runs when a file already failed the check."""
        columns, aliases = projection.columns, projection.aliases
        for file in files:
            found = self._db.execute(
                f"SELECT row_number, usage_start, amount, cost FROM (SELECT row_number() OVER () "
                f"AS row_number, {select}, ({bad}) AS is_bad, "
                f"{self._raw(projection, USAGE_START)} AS usage_start, "
                f"{self._raw(projection, SUMS['usage_amount'])} AS amount, "
                f"{self._raw(projection, SUMS['unblended_cost'])} AS cost "
                f"FROM {self._scan([file], columns, aliases)}) WHERE is_bad "
                "ORDER BY row_number LIMIT 1"
            ).fetchone()
            if found:
                number, start, amount, cost = (_cut(repr(value)) for value in found)
                raise CurFileError(
                    f"{file.uri} row {number}: usage start {start}, usage amount {amount}, "
                    f"unblended cost {cost} — a date or number cannot be read; fix or "
                    "re-deliver the file"
                )

    @staticmethod
    def _raw(projection: _Projection, names: Sequence[str]) -> str:
        name = next(n for n in names if n in projection.columns)
        return f"CAST({projection.col(name)} AS VARCHAR)"

    def missing_tags(self) -> list[str]:
        """Requested tag keys no line item read so far had a value for."""
        if not self.tags:
            return []
        found = self._single_row(
            "SELECT "
            + ", ".join(f"coalesce(bool_or(tag_{i} <> ''), false)" for i in range(len(self.tags)))
            + " FROM partial"
        )
        return [tag for tag, seen in zip(self.tags, found, strict=True) if not seen]

    def results(self) -> Iterator[dict[str, Any]]:
        """One dict per daily group, in key order, fetched in bounded batches."""
        cursor = self._db.execute(self._merge_sql(order=True))
        names = [d[0] for d in cursor.description[:-1]]  # all but bad_rows, always 0 here
        while rows := cursor.fetchmany(FETCH_ROWS):
            for row in rows:
                yield self._record(dict(zip(names, row, strict=False)))

    def _record(self, row: dict[str, Any]) -> dict[str, Any]:
        tags = {tag: row.pop(f"tag_{i}") or None for i, tag in enumerate(self.tags)}
        row["resource_tags"] = tags or None
        row["resource_tags_key"] = json.dumps(list(tags.values())) if tags else ""
        for field in (*SUMS, *MEASURES):
            row[field] = _plain_text(row[field])
        if row["vcpu"] is not None and not math.isfinite(row["vcpu"]):
            row["vcpu"] = None  # a 'NaN' in the file; JSON has no such number
        day: date = row["usage_date"]
        row["usage_date"] = day.isoformat()
        return row


def _plain_text(text: str | None) -> Decimal | None:
    """An AMOUNT's text ('0.500000000000000000') -> what `_plain` makes of its value: the
    fixed decimals' trailing zeros, and a point left bare, dropped ('0.5', '12')."""
    if text is None:
        return None
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return Decimal(text)


def _plain(value: Decimal | None) -> Decimal | None:
    """18 fixed decimals -> the shortest exact form (0.5, not 0.500000000000000000)."""
    if value is None:
        return None
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral() else normal
