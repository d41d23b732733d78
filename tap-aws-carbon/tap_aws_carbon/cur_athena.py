"""The CUR daily aggregation as one Athena (Trino) query per billing period.

The query is built from the table's own columns (Glue GetTable), because a CUR's columns vary
by account and month, and it computes exactly what `cur_engine.DailyAggregator` computes: the
same grain, the same column names, the same amortized-cost rule (taken from the local engine),
amounts summed as DECIMAL(38,18) and returned as text, so the records are identical. Only the
columns the aggregate needs are read, and the partition columns are compared with `?`
parameters, so Athena scans one billing period. Legacy CUR tables (from AWS's CUR Athena
integration) are partitioned by `year`/`month` with one snake_case column per attribute and
tag; CUR 2.0 tables by `billing_period`, with `product` and `resource_tags` map columns.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from carbon_taps_shared.tapbase import TapUserError

from tap_aws_carbon.athena_client import AthenaQueries
from tap_aws_carbon.cur_engine import (
    ATTRIBUTES,
    DIMENSIONS,
    MEASURES,
    OPTIONAL_AMOUNTS,
    PRODUCT_MAP_KEYS,
    REQUIRED,
    RESERVATION_ARN,
    SUMS,
    USAGE_START,
    _plain,
    _Projection,
    tag_columns,
    tag_map_keys,
)
from tap_aws_carbon.cur_layout import Delivery

AMOUNT = "decimal(38,18)"
LEGACY_PARTITIONS = ("year", "month")
# The legacy CUR Athena integration's status table: READY, or UPDATING while AWS rewrites the
# report's files (a query then may read old and new files mixed; CUR user guide).
STATUS_TABLE = "cost_and_usage_data_status"
CUR2_PARTITIONS = ("billing_period",)
NUMERIC = ("double", "float", "real", "decimal", "bigint", "int", "smallint", "tinyint")


class AthenaTableError(TapUserError):
    """The Athena table is not a CUR table the tap can aggregate; the message says what to fix."""


@dataclass(frozen=True)
class AthenaTable:
    """A CUR table as Glue describes it: column name -> Hive type, and its partition keys."""

    database: str
    name: str
    columns: dict[str, str]
    partition_keys: tuple[str, ...]

    @property
    def generation(self) -> str:
        """`legacy` (year/month partitions) or `2.0` (billing_period)."""
        keys = tuple(k.lower() for k in self.partition_keys)
        if keys == LEGACY_PARTITIONS:
            return "legacy"
        if keys == CUR2_PARTITIONS:
            return "2.0"
        raise AthenaTableError(
            f"athena_table {self.database}.{self.name} is partitioned by "
            f"{', '.join(self.partition_keys) or 'nothing'}; a CUR table is partitioned by "
            "year, month (legacy CUR Athena integration) or billing_period (CUR 2.0): point "
            "athena_database / athena_table at the CUR table the integration created"
        )

    def period_of(self, values: Sequence[str]) -> str | None:
        """YYYY-MM of a partition's values, None when they name no billing period."""
        try:
            if self.generation == "legacy":
                year, month = (int(v) for v in values)
                return f"{year:04d}-{month:02d}" if 1 <= month <= 12 else None
            (text,) = values
            year, month = (int(part) for part in text.split("-"))
            return f"{year:04d}-{month:02d}" if 1 <= month <= 12 else None
        except ValueError:
            return None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def parameter(value: str) -> str:
    """An ExecutionParameters value: Athena substitutes it as written, so a string carries its
    own single quotes (AWS, "Querying with prepared statements")."""
    return _literal(value)


class AthenaQuery:
    """The daily aggregate of one CUR table, as Trino SQL with `?` for the partition values."""

    def __init__(self, table: AthenaTable, tags: Sequence[str]) -> None:
        self.table = table
        self.tags = list(tags)
        self.columns = {name.lower(): kind.lower() for name, kind in table.columns.items()}
        self._check()
        self.group = ["usage_date", *DIMENSIONS, *(f"tag_{i}" for i in range(len(self.tags)))]
        self.names = [
            *self.group,
            "usage_amount",
            "unblended_cost",
            *MEASURES,
            "line_item_count",
            "vcpu",
            "memory",
            "volume_type",
            "storage_media",
        ]

    def _check(self) -> None:
        missing = [
            names[-1]
            for names in (USAGE_START, *(DIMENSIONS[k] for k in REQUIRED), *SUMS.values())
            if self._find(names) is None
        ]
        if missing:
            raise AthenaTableError(
                f"athena_table {self.table.database}.{self.table.name} lacks the column(s) "
                f"{', '.join(missing)} a Cost and Usage Report has; point athena_table at the "
                "CUR table, or re-run the integration's Glue crawler if the report gained them"
            )

    def _find(self, names: Sequence[str]) -> str | None:
        return next((n for n in names if n.lower() in self.columns), None)

    def _map(self, column: str, keys: Sequence[str]) -> str | None:
        if not self.columns.get(column, "").startswith("map<"):
            return None
        # element_at gives NULL for a missing key, where map[key] fails the query (Trino).
        lookups = [f"element_at({_quote(column)}, {_literal(k)})" for k in keys]
        return lookups[0] if len(lookups) == 1 else f"coalesce({', '.join(lookups)})"

    def _text(self, field: str, names: Sequence[str]) -> str:
        name = self._find(names)
        if name is not None:
            return f"CAST({_quote(name.lower())} AS varchar)"
        if field in PRODUCT_MAP_KEYS:
            return self._map("product", [PRODUCT_MAP_KEYS[field]]) or "NULL"
        return "NULL"

    def _tag(self, tag: str) -> str:
        name = self._find(tag_columns(tag))
        if name is not None:
            return f"CAST({_quote(name.lower())} AS varchar)"
        return self._map("resource_tags", tag_map_keys(tag)) or "NULL"

    def _amount(self, names: Sequence[str]) -> str:
        name = self._find(names)
        if name is None:
            return f"CAST(NULL AS {AMOUNT})"
        column = _quote(name.lower())
        if self.columns[name.lower()].startswith(NUMERIC):
            # Trino casts a double through its shortest text (Double.toString), which is
            # what the local engine does with Parquet doubles: the sums are identical.
            return f"CAST({column} AS {AMOUNT})"
        return f"CAST(NULLIF(trim({column}), '') AS {AMOUNT})"

    def _day(self) -> str:
        name = self._find(USAGE_START)
        assert name is not None
        column = _quote(name.lower())
        if self.columns[name.lower()].startswith(("timestamp", "date")):
            return f"CAST({column} AS date)"
        return f"CAST(substr(trim({column}), 1, 10) AS date)"

    def _amortized(self) -> str:
        """The local engine's amortized-cost rule, over the same inner column names."""
        present = dict.fromkeys(self.columns, "VARCHAR")
        return _Projection(present, [], f"{self.table.database}.{self.table.name}").amortized()

    def inner(self) -> str:
        """One row per line item: canonical columns only, as the local engine's projection."""
        parts = [f"{self._day()} AS usage_date"]
        for field, names in DIMENSIONS.items():
            parts.append(f"coalesce({self._text(field, names)}, '') AS {field}")
        for index, tag in enumerate(self.tags):
            parts.append(f"coalesce({self._tag(tag)}, '') AS tag_{index}")
        for field, names in {**SUMS, **OPTIONAL_AMOUNTS}.items():
            parts.append(f"{self._amount(names)} AS {field}")
        arn = self._find(RESERVATION_ARN)
        reservation = f"coalesce(CAST({_quote(arn.lower())} AS varchar), '')" if arn else "''"
        parts.append(f"{reservation} AS reservation_arn")
        for field, names in ATTRIBUTES.items():
            parts.append(f"NULLIF({self._text(field, names)}, '') AS {field}")
        keys = self.table.partition_keys
        where = " AND ".join(f"{_quote(key)} = ?" for key in keys)
        source = f"{_quote(self.table.database)}.{_quote(self.table.name)}"
        return f"SELECT {', '.join(parts)} FROM {source} WHERE {where}"

    def sql(self) -> str:
        """The whole query; its `?` are the partition values, in partition-key order."""
        group = ", ".join(self.group)
        measures = "".join(f"sum({m}) AS {m}, " for m in MEASURES)
        return (
            f"SELECT {group}, sum(usage_amount) AS usage_amount, "
            f"sum(unblended_cost) AS unblended_cost, {measures}"
            "count(*) AS line_item_count, max(try_cast(vcpu AS double)) AS vcpu, "
            "max(memory) AS memory, max(volume_type) AS volume_type, "
            "max(storage_media) AS storage_media "
            f"FROM (SELECT l.*, {self._amortized()} AS amortized_cost "
            f"FROM ({self.inner()}) l) a "
            f"GROUP BY {group} ORDER BY {group}"
        )

    def record(self, values: Sequence[str | None]) -> dict[str, Any]:
        """One result row (Athena's text values, None for NULL) as the local engine's record."""
        row: dict[str, Any] = dict(zip(self.names, values, strict=True))
        tags = {tag: row.pop(f"tag_{i}") or None for i, tag in enumerate(self.tags)}
        row["resource_tags"] = tags or None
        row["resource_tags_key"] = json.dumps(list(tags.values())) if tags else ""
        for field in ("usage_amount", "unblended_cost", *MEASURES):
            text = row[field]
            row[field] = None if text is None else _plain(Decimal(text))
        row["line_item_count"] = int(row["line_item_count"])
        vcpu = row["vcpu"]
        row["vcpu"] = None if vcpu is None else float(vcpu)
        if row["vcpu"] is not None and not math.isfinite(row["vcpu"]):
            row["vcpu"] = None  # a 'NaN' in the report; JSON has no such number
        return row


def table_from_glue(database: str, answer: Mapping[str, Any]) -> AthenaTable:
    """An AthenaTable from a Glue GetTable answer."""
    table = answer["Table"]
    columns = {c["Name"]: c.get("Type", "string") for c in table["StorageDescriptor"]["Columns"]}
    keys = tuple(k["Name"] for k in table.get("PartitionKeys") or [])
    return AthenaTable(database, table["Name"], columns, keys)


class AthenaEngine:
    """`cur_usage_daily`'s rows of a delivery, aggregated by Athena over the CUR table.

    Which periods to read, and their delivery ids, still come from the report's manifests under
    cur_uri (the data's own change signal, kept in state exactly as the local engine keeps it);
    Athena only does the scanning. A period the table has no partition for fails in one line
    rather than reading as empty.
    """

    def __init__(self, queries: AthenaQueries, tags: Sequence[str], stream: str) -> None:
        self.queries = queries
        self.tags = list(tags)
        self.stream = stream
        self._query: AthenaQuery | None = None
        self._partitions: dict[str, list[str]] | None = None
        self._status_checked = False

    def query(self) -> AthenaQuery:
        """The aggregate for the table as Glue describes it now (looked up once per run)."""
        if self._query is None:
            table = table_from_glue(self.queries.database, self.queries.get_table())
            self._query = AthenaQuery(table, self.tags)
        return self._query

    def partition(self, period: str) -> list[str] | None:
        """The values of `period`'s partition (listed once per run), None if it has none."""
        if self._partitions is None:
            table = self.query().table
            self._partitions = {}
            for values in self.queries.partitions():
                found = table.period_of(values)
                if found is not None:
                    self._partitions.setdefault(found, values)
        return self._partitions.get(period)

    def _check_status(self) -> None:
        """Refuse to read while the integration says AWS is rewriting the report."""
        if self._status_checked:
            return
        self._status_checked = True
        queries = self.queries
        if not queries.has_table(STATUS_TABLE):
            return  # a table made by hand, without the integration's status table
        sql = f"SELECT status FROM {_quote(queries.database)}.{_quote(STATUS_TABLE)}"
        where = f"{self.stream} {STATUS_TABLE}"
        found = {str(row[0]).upper() for row in queries.rows(sql, [], where, ["status"])}
        if "UPDATING" in found:
            raise AthenaTableError(
                f"{where}: AWS is updating the report ({queries.database}.{STATUS_TABLE} "
                "says UPDATING), so a query could read old and new files mixed; nothing was "
                "read and the state is unchanged: re-run once it says READY"
            )

    def records(self, delivery: Delivery, unseen: set[str]) -> Iterator[dict[str, Any]]:
        """The delivery's daily rows; removes from `unseen` the tags some row had."""
        query = self.query()
        table = query.table
        name = f"{table.database}.{table.name}"
        if table.generation != delivery.generation:
            raise AthenaTableError(
                f"athena_table {name} is a {table.generation} CUR table but cur_uri holds a "
                f"{delivery.generation} report; point both at the same report"
            )
        where = f"{self.stream} {delivery.billing_period}"
        if table.generation == "legacy":
            self._check_status()
        values = self.partition(delivery.billing_period)
        if values is None:
            raise AthenaTableError(
                f"{where}: athena_table {name} has no partition for billing period "
                f"{delivery.billing_period}, which cur_uri has a delivery for; run the CUR "
                "integration's Glue crawler (or MSCK REPAIR TABLE) and re-run"
            )
        extra = {
            "billing_period": delivery.billing_period,
            "delivery_id": delivery.delivery_id,
            "cur_generation": delivery.generation,
        }
        params = [parameter(v) for v in values]
        for values_row in self.queries.rows(query.sql(), params, where, query.names):
            row = query.record(values_row)
            if unseen and row["resource_tags"]:
                unseen.difference_update(t for t, v in row["resource_tags"].items() if v)
            row.update(extra)
            yield row
