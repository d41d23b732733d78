"""Streams of tap-aws-carbon: one class per provider data set."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from carbon_taps_shared.tapbase import TapUserError
from singer_sdk import Stream
from singer_sdk import typing as th

from tap_aws_carbon.client import EMISSIONS_TYPES, GROUP_BY
from tap_aws_carbon.periods import add_months, current_month, month_start, months_between

if TYPE_CHECKING:
    from tap_aws_carbon.tap import TapAwsCarbon

API_UNIT = "MTCO2e"


class UnexpectedDataError(TapUserError):
    """A provider answer the tap cannot load without inventing or mislabelling data."""


def emissions_column(emissions_type: str) -> str:
    """`TOTAL_SCOPE_1_CARBON_EMISSIONS` -> `total_scope_1_carbon_emissions_mtco2e`."""
    return f"{emissions_type.lower()}_mtco2e"


class CarbonEmissionsStream(Stream):
    """Monthly estimated emissions per usage account x region x service (Sustainability API).

    The API returns only the latest model version of each month and restates recent months, so
    every run re-reads `lookback_months` before the bookmark; the key makes re-reads upsert.
    Months are requested one at a time, oldest first, so records arrive sorted by the replication
    key and the bookmark advances as they are emitted. The re-read window starts below the saved
    bookmark, so the SDK's sort check (which compares against the saved value) is off; the
    bookmark then moves back to the month being re-read, which is conservative: an interrupted
    run resumes from there, never past a month it did not finish.
    """

    name = "carbon_emissions"
    primary_keys = ("usage_period_start", "usage_account_id", "region", "service")
    replication_key = "usage_period_start"
    is_sorted = True
    check_sorted = False
    schema = th.PropertiesList(
        th.Property(
            "usage_period_start",
            th.DateType,
            required=True,
            description="First day of the month the estimate covers (inclusive).",
        ),
        th.Property(
            "usage_period_end",
            th.DateType,
            required=True,
            description="First day of the following month (exclusive), as the API reports it.",
        ),
        th.Property(
            "usage_account_id",
            th.StringType,
            required=True,
            description="12-digit AWS account that used the resources; leading zeros kept.",
        ),
        th.Property(
            "region",
            th.StringType,
            required=True,
            description="AWS region code, or `Global` for global services such as CloudFront.",
        ),
        th.Property(
            "service",
            th.StringType,
            required=True,
            description="AWS service name as the API reports it (e.g. `AmazonEC2`).",
        ),
        th.Property(
            "model_version",
            th.StringType,
            required=True,
            description="Version of the AWS estimation model behind the figures (e.g. `v3.0.0`).",
        ),
        *(
            th.Property(
                emissions_column(kind),
                th.NumberType,
                description=f"`{kind}` in metric tons of CO2-equivalent (MTCO2e); "
                "null when the API did not report this type for the row.",
            )
            for kind in EMISSIONS_TYPES
        ),
    ).to_dict()

    @property
    def tap(self) -> TapAwsCarbon:
        return self._tap  # type: ignore[return-value]

    def months_to_read(self, context: Mapping[str, Any] | None) -> list[date]:
        """From the bookmark minus the lookback (or start_date) to the last complete month."""
        start = month_start(date.fromisoformat(self.config["start_date"][:10]))
        bookmark = self.get_context_state(context).get("replication_key_value")
        if bookmark:
            lookback = add_months(
                month_start(date.fromisoformat(str(bookmark)[:10])), -self.config["lookback_months"]
            )
            start = max(start, lookback)
        end = current_month()
        if self.config.get("end_date"):
            end = min(end, month_start(date.fromisoformat(self.config["end_date"][:10])))
        return list(months_between(start, end))

    def get_records(self, context: Mapping[str, Any] | None) -> Iterable[dict[str, Any]]:
        months = self.months_to_read(context)
        if not months:
            self.logger.info("No complete month to read yet for %s.", self.name)
            return
        self.logger.info(
            "Reading %s from %s to %s (%d months).", self.name, months[0], months[-1], len(months)
        )
        client = self.tap.sustainability_client(self.name)
        for month in months:
            count = 0
            for item in client.carbon_emissions(month, add_months(month, 1)):
                count += 1
                yield self._record(item, month)
            self.tap.telemetry.record_records(provider="aws", stream=self.name, count=count)

    def _record(self, item: Mapping[str, Any], month: date) -> dict[str, Any]:
        where = f"{self.name} month {month:%Y-%m}"
        try:
            dims = item["DimensionsValues"]
            period = item["TimePeriod"]
            values = item["EmissionsValues"]
            model_version = item["ModelVersion"]
        except (KeyError, TypeError) as exc:
            raise UnexpectedDataError(
                f"{where}: a result lacks {exc}; the API answer does not match its documented "
                "shape — check sustainability_endpoint_url points at the Sustainability API"
            ) from None
        missing = [d for d in GROUP_BY if not dims.get(d)]
        if missing:
            raise UnexpectedDataError(
                f"{where}: a result has no value for {', '.join(missing)}; "
                "the primary key cannot be formed"
            )
        start = _as_date(period.get("Start"))
        if start != month:
            raise UnexpectedDataError(
                f"{where}: the API answered with period {start}, not the month asked for"
            )
        record: dict[str, Any] = {
            # ISO text, not date objects: bookmarks from state are text and must compare.
            "usage_period_start": start.isoformat(),
            "usage_period_end": _as_date(period.get("End")).isoformat(),
            "usage_account_id": str(dims["USAGE_ACCOUNT_ID"]),
            "region": dims["REGION"],
            "service": dims["SERVICE"],
            "model_version": model_version,
        }
        for kind in EMISSIONS_TYPES:
            value = values.get(kind)
            if value is None:
                record[emissions_column(kind)] = None
                continue
            if value.get("Unit") != API_UNIT:
                raise UnexpectedDataError(
                    f"{where}, account {dims['USAGE_ACCOUNT_ID']}, region {dims['REGION']}, "
                    f"service {dims['SERVICE']}: {kind} is in {value.get('Unit')!r}, not "
                    f"{API_UNIT}; refusing to load it under an MTCO2e column — upgrade the tap"
                )
            record[emissions_column(kind)] = value.get("Value")
        return record


def _as_date(value: Any) -> date:
    """boto3 parses the API's ISO timestamps into datetimes; keep the calendar day only."""
    if hasattr(value, "date"):
        return value.date()
    return date.fromisoformat(str(value)[:10])
