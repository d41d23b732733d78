"""The Carbon Footprint export's columns, its query, and its rows flattened into records.

One definition serves both modes: BigQuery rows (RECORDs as nested dicts) and exported files
(nested NDJSON/Parquet, or CSV with dotted or flat headers) become the same record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from carbon_taps_shared.messages import shown
from carbon_taps_shared.validation import UnexpectedDataError, checked_text, finite_float
from singer_sdk import typing as th

from tap_gcp_carbon.identifiers import TableRef


@dataclass(frozen=True)
class Column:
    """One column of the Carbon Footprint export as the stream loads it."""

    name: str  # record column
    path: str  # column path in the export table (case as Google documents it)
    kind: str  # date / string / integer / number
    description: str
    required: bool = False  # must exist in the table (else the table is not the export)


_SCOPE = "carbon_footprint_kgCO2e"
_TOTAL = "carbon_footprint_total_kgCO2e"

COLUMNS: tuple[Column, ...] = (
    Column("usage_month", "usage_month", "date", "First day of the month of usage.", True),
    Column("billing_account_id", "billing_account_id", "string", "Cloud Billing account.", True),
    Column(
        "project_id",
        "project.id",
        "string",
        "Project id; NULL when there is no project or the project was deleted.",
        True,
    ),
    Column(
        "project_number",
        "project.number",
        "string",
        "Project number (text); empty when the usage belongs to no project.",
        True,
    ),
    Column("service_id", "service.id", "string", "Cloud Billing service id.", True),
    Column(
        "service_description",
        "service.description",
        "string",
        "Service name, e.g. `Compute Engine`.",
        True,
    ),
    Column(
        "location",
        "location.location",
        "string",
        "Country, region or zone of the usage; `global` from model v10, may be NULL earlier.",
        True,
    ),
    Column("region", "location.region", "string", "Region of the usage, e.g. `us-central1`.", True),
    Column(
        "carbon_model_version",
        "carbon_model_version",
        "integer",
        "Version of Google's carbon model that produced the row.",
        True,
    ),
    Column("scope1_kgco2e", f"{_SCOPE}.scope1", "number", "Scope 1 emissions, kgCO2e.", True),
    Column(
        "scope2_location_based_kgco2e",
        f"{_SCOPE}.scope2.location_based",
        "number",
        "Scope 2 emissions, location-based, kgCO2e.",
        True,
    ),
    Column(
        "scope2_market_based_kgco2e",
        f"{_SCOPE}.scope2.market_based",
        "number",
        "Scope 2 emissions, market-based, kgCO2e; NULL before January 2023 data.",
    ),
    Column("scope3_kgco2e", f"{_SCOPE}.scope3", "number", "Scope 3 emissions, kgCO2e.", True),
    Column(
        "total_location_based_kgco2e",
        f"{_TOTAL}.location_based",
        "number",
        "Scope 1 + scope 2 location-based + scope 3, kgCO2e, as Google reports it.",
        True,
    ),
    Column(
        "total_market_based_kgco2e",
        f"{_TOTAL}.market_based",
        "number",
        "Scope 1 + scope 2 market-based + scope 3, kgCO2e; NULL where market-based is NULL.",
    ),
)

# Every scope figure; a row is "zero" when all of them are zero or NULL.
SCOPE_PATHS = (
    f"{_SCOPE}.scope1",
    f"{_SCOPE}.scope2.location_based",
    f"{_SCOPE}.scope2.market_based",
    f"{_SCOPE}.scope3",
)
# CSV cannot tell NULL from '': only project_number uses '' as a value (usage with no project).
EMPTY_IS_VALUE = frozenset({"project_number"})
KEY = ("usage_month", "billing_account_id", "project_key", "service_id", "location_key")

_TYPES = {
    "date": th.DateType,
    "string": th.StringType,
    "integer": th.IntegerType,
    "number": th.NumberType,
}


def schema() -> dict[str, Any]:
    """The stream's JSON schema."""
    properties: list[th.Property[Any]] = [
        th.Property(c.name, _TYPES[c.kind], required=c.name in KEY, description=c.description)
        for c in COLUMNS
    ]
    properties += [
        th.Property(
            "project_key",
            th.StringType,
            required=True,
            description="Key part: project_number, else project_id, else '' (no project).",
        ),
        th.Property(
            "location_key",
            th.StringType,
            required=True,
            description="Key part: location, else region, else '' (both NULL).",
        ),
    ]
    return th.PropertiesList(*properties).to_dict()


def required_paths(available: set[str]) -> list[str]:
    """Documented columns the table lacks (the market-based ones are optional: older tables)."""
    return [c.path for c in COLUMNS if c.required and c.path.lower() not in available]


def query(ref: TableRef, *, market_based: bool, accounts: bool, zero: bool) -> str:
    """Deprecated always-NULL columns are never selected; values come in as parameters."""
    select = []
    for column in COLUMNS:
        if (
            column.path.startswith(f"{_SCOPE}.scope2.market")
            or column.path == f"{_TOTAL}.market_based"
        ):
            expr = f"cf.{column.path}" if market_based else "CAST(NULL AS FLOAT64)"
        else:
            expr = f"cf.{column.path}"
        select.append(f"  {expr} AS {column.name}")
    where = ["cf.usage_month >= @since"]
    if accounts:
        where.append("cf.billing_account_id IN UNNEST(@billing_account_ids)")
    if not zero:
        paths = SCOPE_PATHS if market_based else [p for p in SCOPE_PATHS if "market" not in p]
        any_nonzero = " OR ".join(f"COALESCE(cf.{p}, 0) != 0" for p in paths)
        where.append(f"({any_nonzero})")
    return (
        "SELECT\n"
        + ",\n".join(select)
        + f"\nFROM {ref.sql} AS cf\nWHERE "
        + "\n  AND ".join(where)
        + "\nORDER BY cf.usage_month"
    )


_MISSING = object()


def file_value(row: Mapping[str, Any], column: Column) -> Any:
    """A column's value in a file row: nested (NDJSON, Parquet), dotted or flat header (CSV)."""
    lowered = {str(k).lower(): v for k, v in row.items()}
    current: Any = lowered
    for part in column.path.lower().split("."):
        if current is None:
            return None  # a NULL RECORD: its fields are NULL
        if not isinstance(current, Mapping):
            current = _MISSING
            break
        current = {str(k).lower(): v for k, v in current.items()}.get(part, _MISSING)
        if current is _MISSING:
            break
    if current is not _MISSING:
        return current
    if column.path.lower() in lowered:
        return lowered[column.path.lower()]
    value = lowered.get(column.name, _MISSING)
    return _MISSING if isinstance(value, Mapping) else value


def check_header(header: list[str], where: str) -> None:
    """A CSV extract's header must hold every required column (dotted or flat name)."""
    names = {name.lower() for name in header}
    for column in COLUMNS:
        if column.required and column.path.lower() not in names and column.name not in names:
            raise UnexpectedDataError(
                f"{where}: the file has no {column.path} column; export the whole "
                "carbon_footprint table (CSV: a query selecting every documented column)"
            )


def _convert(value: Any, kind: str, column: str, where: str) -> Any:
    if value is None or (isinstance(value, str) and value == "" and kind != "string"):
        return None
    try:
        if kind == "date":
            if isinstance(value, datetime):
                return value.date().isoformat()
            if isinstance(value, date):
                return value.isoformat()
            return date.fromisoformat(str(value)[:10]).isoformat()
        if kind == "integer":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise TypeError(value)
            return int(value)
        if kind == "number":
            number = finite_float(value)
            if number is None:
                raise ValueError(value)
            return number
    except (TypeError, ValueError):
        raise UnexpectedDataError(
            f"{where}: {column} is {shown(value)}, not a {kind}; fix or re-export the data"
        ) from None
    return checked_text(value, f"{where}: {column}", "fix or re-export the data")


def is_zero(record: Mapping[str, Any]) -> bool:
    """True when every scope figure of the record is zero or NULL."""
    names = (
        "scope1_kgco2e",
        "scope2_location_based_kgco2e",
        "scope2_market_based_kgco2e",
        "scope3_kgco2e",
    )
    return all(not record.get(n) for n in names)


def to_record(row: Mapping[str, Any], where: str, *, from_file: bool = False) -> dict[str, Any]:
    """A BigQuery row (flat, aliased by the query) or a file row (nested or dotted) -> a record."""
    record: dict[str, Any] = {}
    for column in COLUMNS:
        value = file_value(row, column) if from_file else row.get(column.name)
        if value is _MISSING:
            if column.required:
                raise UnexpectedDataError(
                    f"{where}: the file has no {column.path} column; export the whole "
                    "carbon_footprint table (CSV: a query selecting every documented column)"
                )
            value = None
        if from_file and value == "" and column.name not in EMPTY_IS_VALUE:
            value = None  # CSV writes NULL as an empty field
        record[column.name] = _convert(value, column.kind, column.name, where)
    # An empty string from BigQuery is a value and is keyed as reported (CSV empties are NULL,
    # above); only a NULL key part leaves the row without a key.
    for name in ("usage_month", "billing_account_id", "service_id"):
        if record[name] is None:
            row_is = ", ".join(
                f"{n} {shown(record[n])}"
                for n in ("usage_month", "billing_account_id", "project_id", "service_id")
            )
            raise UnexpectedDataError(
                f"{where}: the row with {row_is} has no {name}, so it cannot be keyed; fix or "
                "re-export the data"
            )
    record["project_key"] = record["project_number"] or record["project_id"] or ""
    record["location_key"] = record["location"] or record["region"] or ""
    return record
