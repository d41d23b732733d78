"""Streams of tap-gcp-carbon: the Carbon Footprint export and daily billing usage."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any

from carbon_taps_shared.messages import shown_as_is
from carbon_taps_shared.periods import look_back, month_start
from carbon_taps_shared.services import ServiceStream
from carbon_taps_shared.tapbase import TapUserError
from carbon_taps_shared.validation import UnexpectedDataError, finite_float

from tap_gcp_carbon import billing, carbon
from tap_gcp_carbon.files import list_files, read_rows
from tap_gcp_carbon.identifiers import TableRef, check_table, dataset_ref, table_ref
from tap_gcp_carbon.services import GcpServices

# Rows land in the ingestion partition of their load day; the slack covers a partition day that
# is not the UTC day (unverified for the billing export).
PARTITION_SLACK = timedelta(days=2)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


class _GcpStream(ServiceStream[GcpServices]):
    """Built with the run's services: the BigQuery reader and telemetry come from there."""

    def _bookmark(self, context: Mapping[str, Any] | None) -> str | None:
        value = self.get_context_state(context).get("replication_key_value")
        return str(value) if value else None

    def _start_month(self) -> date:
        return month_start(date.fromisoformat(str(self.config["start_month"])[:10]))


class CarbonFootprintStream(_GcpStream):
    """Monthly kgCO2e per billing account x project x service x location, as Google exports it.

    Google rewrites a month whenever the user backfills it, so each run re-reads
    `lookback_months` before the bookmark; the key makes the re-read upsert. Rows arrive sorted
    by usage_month, so the bookmark only moves past months already emitted.
    """

    name = "carbon_footprint"
    primary_keys = carbon.KEY
    replication_key = "usage_month"
    is_sorted = True
    check_sorted = False  # the look-back starts below the saved bookmark on purpose
    schema = carbon.schema()

    def since(self, context: Mapping[str, Any] | None) -> date:
        """The first month to read: the bookmark's minus the look-back, or start_date's."""
        return look_back(
            self._start_month(), self._bookmark(context), self.config["lookback_months"]
        )

    def get_records(self, context: Mapping[str, Any] | None) -> Iterable[dict[str, Any]]:
        """Records from BigQuery or the export files, oldest month first."""
        since = self.since(context)
        if self.config.get("carbon_footprint_uri"):
            records = self._from_files(since)
        else:
            records = self._from_bigquery(since)
        yield from self.services.telemetry.counted(records, provider="gcp", stream=self.name)

    def _table(self, default_project: str) -> TableRef:
        project, dataset = dataset_ref(
            self.config["carbon_footprint_dataset"], default_project, "carbon_footprint_dataset"
        )
        table = check_table(self.config["carbon_footprint_table"], "carbon_footprint_table")
        return TableRef(project, dataset, table)

    def _from_bigquery(self, since: date) -> Iterable[dict[str, Any]]:
        reader = self.services.reader
        ref = self._table(reader.project)
        setting = "carbon_footprint_dataset / carbon_footprint_table"
        columns, _partitioning = reader.table_columns(ref, stream=self.name, setting=setting)
        missing = carbon.required_paths(columns)
        if missing:
            raise TapUserError(
                f"{self.name}: {ref} lacks column(s) {', '.join(missing)}; point {setting} at the "
                "Carbon Footprint export table (BigQuery Data Transfer Service writes it as "
                "`carbon_footprint`; the pre-2022-07 `carbon_footprint_export` is not supported)"
            )
        from google.cloud.bigquery import ArrayQueryParameter, ScalarQueryParameter

        market = "carbon_footprint_kgco2e.scope2.market_based" in columns
        accounts = list(self.config.get("billing_account_ids") or [])
        params: list[Any] = [ScalarQueryParameter("since", "DATE", since)]
        if accounts:
            params.append(ArrayQueryParameter("billing_account_ids", "STRING", accounts))
        sql = carbon.query(
            ref,
            market_based=market,
            accounts=bool(accounts),
            zero=self.config["include_zero_emissions"],
        )
        self.logger.info("%s: reading %s from %s.", self.name, ref, since)
        for row in reader.query(sql, params, stream=self.name, ref=ref, setting=setting):
            yield carbon.to_record(row, f"{self.name} {ref}")

    def _from_files(self, since: date) -> Iterable[dict[str, Any]]:
        """Same filters as the query; files may be in any order, so sort (the table is small)."""
        accounts = set(self.config.get("billing_account_ids") or [])
        zero = self.config["include_zero_emissions"]
        kept = []
        for path in list_files(self.config["carbon_footprint_uri"]):
            header_check = partial(carbon.check_header, where=str(path))
            for number, row in read_rows(path, header_check):
                record = carbon.to_record(row, f"{path} row {number}", from_file=True)
                if record["usage_month"] < since.isoformat():
                    continue
                if accounts and record["billing_account_id"] not in accounts:
                    continue
                if not zero and carbon.is_zero(record):
                    continue
                kept.append(record)
        self.logger.info("%s: %d rows from files since %s.", self.name, len(kept), since)
        kept.sort(key=lambda r: r["usage_month"])
        return kept


class BillingUsageDailyStream(_GcpStream):
    """Usage, cost and credits per day x project x service x SKU x location x unit.

    Incremental on the billing export's `export_time`: each run re-aggregates, in BigQuery, the
    whole usage days that received rows exported at or after the bookmark. Rows exported at the
    bookmark's exact instant are read again (one export batch shares one export_time), so an
    interrupted run never skips them; the key makes re-emitted days upsert.

    Records come sorted by their group's latest export_time. A re-aggregated day also holds
    groups with no new rows, whose export_time is below the saved bookmark, so the SDK's sort
    check is off: the bookmark may step back during a run (an interrupted run then re-reads
    more, never less) and ends at the newest export_time read.
    """

    name = "billing_usage_daily"
    primary_keys = billing.KEY
    replication_key = "last_export_time"
    is_sorted = True
    check_sorted = False
    schema = billing.schema()

    def get_records(self, context: Mapping[str, Any] | None) -> Iterable[dict[str, Any]]:
        """Records of the days whose billing rows changed since the bookmark."""
        from google.cloud.bigquery import ArrayQueryParameter, ScalarQueryParameter

        reader = self.services.reader
        setting = "billing_export_table"
        ref = table_ref(self.config[setting], reader.project, setting)
        columns, partitioning = reader.table_columns(ref, stream=self.name, setting=setting)
        missing = [c for c in billing.REQUIRED if c.lower() not in columns]
        if missing:
            raise TapUserError(
                f"{self.name}: {ref} lacks column(s) {', '.join(missing)}; point {setting} at "
                "the standard usage cost export (gcp_billing_export_v1_<ACCOUNT>)"
            )
        # Ingestion-time partitioning (no field) can be pruned with _PARTITIONTIME.
        guard = partitioning is not None and not getattr(partitioning, "field", None)
        bookmark = self._bookmark(context)
        first_usage = _midnight(self._start_month())
        since = datetime.fromisoformat(bookmark) if bookmark else first_usage
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        params: list[Any] = [
            ScalarQueryParameter("since", "TIMESTAMP", since),
            ScalarQueryParameter("first_usage", "TIMESTAMP", first_usage),
        ]
        if guard:
            floor = _midnight((since - PARTITION_SLACK).date())
            params.append(ScalarQueryParameter("partition_floor", "TIMESTAMP", floor))
        rows = reader.query(
            billing.changed_days_query(ref, partition_guard=guard),
            params,
            stream=self.name,
            ref=ref,
            setting=setting,
        )
        days = [r["usage_date"] for r in rows]
        if not all(isinstance(day, date) for day in days):
            raise UnexpectedDataError(
                f"{self.name} {ref}: a changed usage day is not a date; check "
                "billing_export_table is the standard usage cost export"
            )
        self.logger.info(
            "%s: %d usage days have rows exported since %s.", self.name, len(days), since
        )
        if not days:
            return
        params = [
            ArrayQueryParameter("days", "DATE", days),
            ScalarQueryParameter("first_day_ts", "TIMESTAMP", _midnight(min(days))),
        ]
        if guard:
            floor = _midnight(min(days) - PARTITION_SLACK)
            params.append(ScalarQueryParameter("partition_floor", "TIMESTAMP", floor))
        sql = billing.aggregate_query(ref, partition_guard=guard)
        rows = reader.query(sql, params, stream=self.name, ref=ref, setting=setting)
        yield from self.services.telemetry.counted(
            (self._record(row, f"{self.name} {ref}") for row in rows),
            provider="gcp",
            stream=self.name,
        )

    def _record(self, row: Mapping[str, Any], where: str) -> dict[str, Any]:
        record = dict(row)
        # An empty string is a value (keyed as reported); only a NULL key part fails.
        for name in ("service_id", "sku_id", "usage_unit", "currency", "billing_account_id"):
            if record.get(name) is None:
                keys = ("usage_date", "service_id", "sku_id")
                row_is = ", ".join(f"{n} {shown_as_is(record.get(n))}" for n in keys)
                raise UnexpectedDataError(
                    f"{where}: the row with {row_is} has no {name}, so it cannot be keyed; check "
                    "billing_export_table is the standard usage cost export"
                )
        for name in BILLING_TEXT:
            if record.get(name) is not None and not isinstance(record[name], str):
                raise UnexpectedDataError(
                    f"{where}: {name} is {shown_as_is(record[name])}, not text; check "
                    "billing_export_table is the standard usage cost export"
                )
        moment, day = record.get("last_export_time"), record.get("usage_date")
        if not isinstance(moment, datetime) or not isinstance(day, date):
            raise UnexpectedDataError(
                f"{where}: a row has no usage_date or last_export_time, so it cannot be keyed; "
                "check billing_export_table is the standard usage cost export"
            )
        record["usage_date"] = _as_date(day).isoformat()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        record["last_export_time"] = moment.astimezone(UTC).isoformat()
        for name in ("usage_amount", "cost", "credits_amount"):
            if record.get(name) is not None:
                record[name] = _finite(record[name], name, where)
        record["project_key"] = record.get("project_number") or record.get("project_id") or ""
        record["location_key"] = record.get("location") or record.get("region") or ""
        return record


BILLING_TEXT = (
    "billing_account_id",
    "project_id",
    "project_number",
    "service_id",
    "service_description",
    "sku_id",
    "sku_description",
    "location",
    "region",
    "usage_unit",
    "currency",
)


def _finite(value: Any, name: str, where: str) -> float:
    number = finite_float(value)
    if number is None:
        raise UnexpectedDataError(
            f"{where}: {name} is {shown_as_is(value)}, not a finite number; check "
            "billing_export_table is the standard usage cost export"
        )
    return number


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
