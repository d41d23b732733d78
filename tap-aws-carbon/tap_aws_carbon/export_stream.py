"""Stream `carbon_emissions_export`: the CARBON_EMISSIONS Data Export, file by file."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from typing import Any

from carbon_taps_shared.messages import shown_as_is
from carbon_taps_shared.services import ServiceStream
from carbon_taps_shared.validation import finite_float
from singer_sdk import Stream
from singer_sdk import typing as th

from tap_aws_carbon.export_layout import ExportFile, plan_files
from tap_aws_carbon.export_readers import ExportFileError, open_rows
from tap_aws_carbon.services import AwsServices

TYPES = {"string": th.StringType, "number": th.NumberType, "date-time": th.DateTimeType}


@dataclass(frozen=True)
class Column:
    """One export column as the bundled column table describes it."""

    name: str
    type: str
    required: bool
    description: str


@cache
def export_columns() -> tuple[Column, ...]:
    """The table's documented columns, from the data file that names its source."""
    text = files("tap_aws_carbon").joinpath("data/carbon_emissions_export_columns.csv").read_text()
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return tuple(
        Column(r["name"], r["type"], r["required"] == "true", r["description"]) for r in rows
    )


def _schema() -> dict[str, Any]:
    properties: list[th.Property[Any]] = [
        th.Property(c.name, TYPES[c.type], required=c.required, description=c.description)
        for c in export_columns()
    ]
    properties += [
        th.Property(
            "usage_period",
            th.StringType,
            required=True,
            description="Month of the row (YYYY-MM), from usage_period_start or the partition.",
        ),
        th.Property(
            "_source_file",
            th.StringType,
            required=True,
            description="The export file the row was read from (s3:// URI or local path).",
        ),
        th.Property(
            "_extra_columns",
            th.ObjectType(additional_properties=True),
            description="Columns the export added that this tap does not know yet, as text.",
        ),
    ]
    return th.PropertiesList(*properties).to_dict()


class CarbonEmissionsExportStream(ServiceStream[AwsServices], Stream):
    """Rows of the CARBON_EMISSIONS export, keeping every model version AWS delivered.

    The state remembers each file read (key, size, ETag or mtime) and is written after every
    finished file, so an interrupted run resumes at the first unfinished file and a re-run reads
    only new or rewritten files. Rows of a file that fails part-way may already be emitted; the
    key makes the re-read after the fix upsert them.
    """

    name = "carbon_emissions_export"
    primary_keys = (
        "usage_period",
        "model_version",
        "usage_account_id",
        "region_code",
        "product_code",
    )
    replication_key = None
    schema = _schema()

    def get_records(self, context: Mapping[str, Any] | None) -> Iterable[dict[str, Any]]:
        """Records of every file of the current delivery of each period from the bookmark on."""
        source = self.services.export_source(self.name)
        state = self.get_context_state(context)
        done: dict[str, str] = state.setdefault("files", {})
        planned = plan_files(source)
        todo = [f for f in planned if done.get(f.info.key) != f.bookmark]
        self.logger.info(
            "%s: %d files under %s, %d new or changed.",
            self.name,
            len(planned),
            source.uri,
            len(todo),
        )
        for file in todo:
            with open_rows(source, file) as (columns, rows):
                self._check_columns(file, columns)
                yield from self.services.telemetry.counted(
                    (self._record(file, number, row) for number, row in rows),
                    provider="aws",
                    stream=self.name,
                )
            done[file.info.key] = file.bookmark
            # State goes out only after every record of the file: resume never skips rows.
            self._write_state_message()

    def _check_columns(self, file: ExportFile, columns: list[str]) -> None:
        known = export_columns()
        missing = [c.name for c in known if c.required and c.name not in columns]
        if not any(c.name.endswith("_emissions_value") for c in known if c.name in columns):
            missing.append("an …_emissions_value column")
        if missing:
            raise ExportFileError(
                f"{file.uri}: missing required column(s) {', '.join(missing)}; add them to the "
                "export's SELECT (AWS Data Exports, table CARBON_EMISSIONS)"
            )
        extra = [c for c in columns if c not in {k.name for k in known}]
        if extra:
            self.logger.info("%s: carrying unknown columns %s in _extra_columns", file.uri, extra)

    def _record(self, file: ExportFile, number: int, row: Mapping[str, Any]) -> dict[str, Any]:
        record: dict[str, Any] = {}
        for column in export_columns():
            value = row.get(column.name)
            record[column.name] = _convert(file, number, column, value)
        record["model_version"] = record["model_version"] or file.model_version
        start = record.get("usage_period_start")
        record["usage_period"] = start[:7] if start else file.usage_period
        for key in ("usage_account_id", "region_code", "product_code"):
            if not record[key]:
                raise ExportFileError(
                    f"{file.uri} row {number}: {key} is empty, so the row cannot be keyed; "
                    "fix or re-deliver the file"
                )
        known = {c.name for c in export_columns()}
        extra = {k: _text(v) for k, v in row.items() if k not in known}
        record["_extra_columns"] = extra or None
        record["_source_file"] = file.uri
        return record


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _convert(file: ExportFile, number: int, column: Column, value: Any) -> Any:
    """CSV gives text, Parquet gives typed values; both end up as the schema's type."""
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    if column.type == "number":
        number_value = finite_float(value)
        if number_value is None:
            raise ExportFileError(
                f"{file.uri} row {number}: {column.name} is {shown_as_is(value)}, not a number; "
                "fix or re-deliver the file"
            )
        return number_value
    if column.type == "date-time":
        return _timestamp(file, number, column.name, value)
    if not isinstance(value, str):  # Parquet: a typed value where the table has text
        raise ExportFileError(
            f"{file.uri} row {number}: {column.name} is {shown_as_is(value)}, not text; fix or "
            "re-deliver the file (the export writes this column as a string)"
        )
    return value.strip()


def _timestamp(file: ExportFile, number: int, name: str, value: Any) -> str:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise ExportFileError(
                f"{file.uri} row {number}: {name} is {shown_as_is(value)}, not an ISO timestamp; "
                "fix or re-deliver the file"
            ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the export's timestamps are UTC
    return moment.astimezone(UTC).isoformat()
