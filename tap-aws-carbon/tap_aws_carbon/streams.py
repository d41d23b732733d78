"""Streams of tap-aws-carbon: one class per provider data set."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from carbon_taps_shared.messages import shown
from carbon_taps_shared.periods import (
    add_months,
    add_years,
    current_month,
    look_back,
    month_start,
    year_start,
)
from carbon_taps_shared.services import ServiceStream
from carbon_taps_shared.validation import UnexpectedDataError, is_finite_json_number
from singer_sdk import Stream
from singer_sdk import typing as th
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_aws_carbon.client import EMISSIONS_TYPES, GROUP_BY, WATER_ALLOCATION_TYPES
from tap_aws_carbon.services import AwsServices

if TYPE_CHECKING:
    from tap_aws_carbon.client import SustainabilityClient

API_UNIT = "MTCO2e"
# The Sustainability API's first month (its docs: history from January 2022); earlier periods
# cannot have data, so asking for them would only cost requests.
API_FIRST_MONTH = date(2022, 1, 1)
WATER_UNIT = "m3"  # the model's only WaterAllocationUnit
ACCOUNT_ID = re.compile(r"\d{12}")
_SHAPE_HINT = (
    "the API answer does not match its documented shape; check that "
    "sustainability_endpoint_url (if set) points at the Sustainability API, and re-run later"
)


def value_column(kind: str, unit: str) -> str:
    """Type and unit in the column name: `TOTAL_WATER_WITHDRAWALS`, `m3` -> `…_withdrawals_m3`."""
    return f"{kind.lower()}_{unit.lower()}"


def emissions_column(emissions_type: str) -> str:
    """`TOTAL_SCOPE_1_CARBON_EMISSIONS` -> `total_scope_1_carbon_emissions_mtco2e`."""
    return value_column(emissions_type, API_UNIT)


def _schema(
    period: str, period_end: str, kinds: tuple[str, ...], unit: str, unit_text: str
) -> dict[str, Any]:
    """Period, dimensions and model version, then one `<type>_<unit>` column per value type."""
    return th.PropertiesList(
        *_key_properties(period, period_end),
        *(
            th.Property(
                value_column(kind, unit),
                th.NumberType,
                description=f"`{kind}` in {unit_text}; "
                "null when the API did not report this type for the row.",
            )
            for kind in kinds
        ),
    ).to_dict()


def _key_properties(period: str, period_end: str) -> list[th.Property]:
    """The columns every Sustainability API stream shares: its period, dimensions and model."""
    return [
        th.Property(
            "usage_period_start",
            th.DateType,
            required=True,
            description=f"First day of the {period} the estimate covers (inclusive).",
        ),
        th.Property(
            "usage_period_end",
            th.DateType,
            required=True,
            description=f"{period_end} (exclusive), as the API reports it.",
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
    ]


def _checked_value(values: Mapping[str, Any], kind: str, unit: str, column: str, where: str) -> Any:
    """The value reported for `kind` (None if absent); a unit other than `unit` is an error."""
    value = values.get(kind)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise UnexpectedDataError(
            f"{where}: {kind} is {shown(value)}, not a {{Value, Unit}} object; {_SHAPE_HINT}"
        )
    if value.get("Unit") != unit:
        raise UnexpectedDataError(
            f"{where}: {kind} is in {shown(value.get('Unit'))}, not {unit}; refusing to "
            f"load it under {column} (a {unit} column) — upgrade the tap"
        )
    number = value.get("Value")
    if number is not None and not is_finite_json_number(number):
        raise UnexpectedDataError(
            f"{where}: {kind} is {shown(number)}, not a finite number; {_SHAPE_HINT}"
        )
    return number


class _SustainabilityStream(ServiceStream[AwsServices], Stream):
    """A Sustainability API data set: one record per period x usage account x region x service.

    The API returns only the latest model version of each period and restates recent ones, so
    every run re-reads a look-back window before the bookmark; the key makes re-reads upsert.
    Periods are requested one at a time, oldest first, so records arrive sorted by the
    replication key and the bookmark advances as they are emitted. The re-read window starts
    below the saved bookmark, so the SDK's sort check (which compares against the saved value) is
    off; the bookmark then moves back to the period being re-read, which is conservative: an
    interrupted run resumes from there, never past a period it did not finish.
    """

    # _record builds every record from checked JSON values (ISO text, finite numbers), so
    # singer-sdk's per-value conformance pass would only cost time (benchmarks/run.py).
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    primary_keys = ("usage_period_start", "usage_account_id", "region", "service")
    replication_key = "usage_period_start"
    is_sorted = True
    check_sorted = False
    period: ClassVar[str]  # "month" / "year", for messages and logs
    values_key: ClassVar[str]  # the result item's key holding the typed values
    value_types: ClassVar[tuple[str, ...]]  # the types requested, one column each
    unit: ClassVar[str]  # the only unit the columns may hold
    lookback_setting: ClassVar[str]  # periods before the bookmark re-read each run

    @staticmethod
    def _align(day: date) -> date:
        """The first day of the period holding `day`."""
        raise NotImplementedError

    @staticmethod
    def _shift(start: date, count: int, /) -> date:
        """The first day of the period `count` periods after the one starting at `start`."""
        raise NotImplementedError

    def _fetch(
        self, client: SustainabilityClient, start: date, end: date
    ) -> Iterable[dict[str, Any]]:
        raise NotImplementedError

    def _label(self, start: date) -> str:
        raise NotImplementedError

    def periods_to_read(self, context: Mapping[str, Any] | None) -> list[tuple[date, date]]:
        """(start, end) per request, oldest first: from the bookmark's period minus the
        look-back (or start_date's period) while a period starts before the range end, each
        request ending at the next period or the range end, whichever comes first."""
        start = look_back(
            self._align(self._first_day()),
            self._bookmark(context),
            self.config[self.lookback_setting],
            align=self._align,
            shift=self._shift,
        )
        end = self._range_end()
        periods = []
        while start < end:
            following = self._shift(start, 1)
            periods.append((start, min(following, end)))
            start = following
        return periods

    def _first_day(self) -> date:
        """start_date, clamped (with a one-line notice) to the first month the API serves."""
        configured = date.fromisoformat(self.config["start_date"][:10])
        if configured >= API_FIRST_MONTH:
            return configured
        if not getattr(self, "_clamp_noted", False):
            self._clamp_noted = True
            self.logger.warning(
                "%s: start_date %s is before %s, the first month the AWS Sustainability API "
                "serves; reading from %s instead (set start_date to %s or later to silence this).",
                self.name,
                configured,
                f"{API_FIRST_MONTH:%Y-%m}",
                self._label(self._align(API_FIRST_MONTH)),
                API_FIRST_MONTH,
            )
        return API_FIRST_MONTH

    def _value_columns(self, values: Mapping[str, Any], where: str) -> dict[str, Any]:
        return {
            value_column(kind, self.unit): _checked_value(
                values, kind, self.unit, value_column(kind, self.unit), where
            )
            for kind in self.value_types
        }

    def _bookmark(self, context: Mapping[str, Any] | None) -> date | None:
        bookmark = self.get_context_state(context).get("replication_key_value")
        return date.fromisoformat(str(bookmark)[:10]) if bookmark else None

    def _range_end(self) -> date:
        """The current month (which cannot have data yet), or end_date's month if earlier."""
        end = current_month()
        if self.config.get("end_date"):
            end = min(end, month_start(date.fromisoformat(self.config["end_date"][:10])))
        return end

    def get_records(self, context: Mapping[str, Any] | None) -> Iterable[dict[str, Any]]:
        periods = self.periods_to_read(context)
        if not periods:
            self.logger.info("No complete %s to read yet for %s.", self.period, self.name)
            return
        self.logger.info(
            "Reading %s from %s to %s (%d %ss).",
            self.name,
            periods[0][0],
            periods[-1][0],
            len(periods),
            self.period,
        )
        client = self.services.sustainability_client(self.name)
        for start, end in periods:
            yield from self.services.telemetry.counted(
                (self._record(item, start) for item in self._fetch(client, start, end)),
                provider="aws",
                stream=self.name,
            )

    def _record(self, item: Mapping[str, Any], expected_start: date) -> dict[str, Any]:
        where = f"{self.name} {self.period} {self._label(expected_start)}"
        if not isinstance(item, Mapping):
            raise UnexpectedDataError(
                f"{where}: a result is {shown(item)}, not an object; {_SHAPE_HINT}"
            )
        expected = {
            "DimensionsValues": Mapping,
            "TimePeriod": Mapping,
            self.values_key: Mapping,
            "ModelVersion": str,
        }
        for key, kind in expected.items():
            if key not in item:
                raise UnexpectedDataError(f"{where}: a result lacks {key!r}; {_SHAPE_HINT}")
            if not isinstance(item[key], kind):
                raise UnexpectedDataError(
                    f"{where}: a result's {key} is {shown(item[key])}; {_SHAPE_HINT}"
                )
        dims, period = item["DimensionsValues"], item["TimePeriod"]
        values, model_version = item[self.values_key], item["ModelVersion"]
        # An empty REGION or SERVICE (or ModelVersion) is a value and loads as reported; only
        # an absent or null dimension leaves the primary key without a part.
        missing = [d for d in GROUP_BY if dims.get(d) is None]
        if missing:
            raise UnexpectedDataError(
                f"{where}: the result {shown(dict(dims))} has no value for {', '.join(missing)}, "
                f"so its primary key cannot be formed; {_SHAPE_HINT}"
            )
        not_text = [d for d in GROUP_BY if not isinstance(dims[d], str)]
        account = dims["USAGE_ACCOUNT_ID"]
        if not_text or not ACCOUNT_ID.fullmatch(account):
            name = not_text[0] if not_text else "USAGE_ACCOUNT_ID"
            raise UnexpectedDataError(
                f"{where}: a result's {name} is {shown(dims[name])}, not "
                f"{'text' if not_text else 'a 12-digit account id'}; {_SHAPE_HINT}"
            )
        start, end = (_period_day(period, part, where) for part in ("Start", "End"))
        if start != expected_start:
            raise UnexpectedDataError(
                f"{where}: the API answered with period {start}, not the {self.period} asked "
                f"for; {_SHAPE_HINT}"
            )
        if end <= start:
            raise UnexpectedDataError(
                f"{where}: a result's period ends ({end}) before it starts; {_SHAPE_HINT}"
            )
        row = f"{where}, account {account}, region {dims['REGION']}, service {dims['SERVICE']}"
        return {
            # ISO text, not date objects: bookmarks from state are text and must compare.
            "usage_period_start": start.isoformat(),
            "usage_period_end": end.isoformat(),
            "usage_account_id": account,
            "region": dims["REGION"],
            "service": dims["SERVICE"],
            "model_version": model_version,
            **self._value_columns(values, row),
        }


class CarbonEmissionsStream(_SustainabilityStream):
    """Monthly estimated emissions per usage account x region x service (Sustainability API).

    Months are read from the bookmark minus `lookback_months` (or start_date) to the last
    complete month, one request each; values in MTCO2e, one column per emissions type.
    """

    name = "carbon_emissions"
    period = "month"
    values_key = "EmissionsValues"
    value_types = EMISSIONS_TYPES
    unit = API_UNIT
    lookback_setting = "lookback_months"
    schema = _schema(
        "month",
        "First day of the following month",
        EMISSIONS_TYPES,
        API_UNIT,
        "metric tons of CO2-equivalent (MTCO2e)",
    )
    _align = staticmethod(month_start)
    _shift = staticmethod(add_months)

    def _fetch(
        self, client: SustainabilityClient, start: date, end: date
    ) -> Iterable[dict[str, Any]]:
        return client.carbon_emissions(start, end)

    def _label(self, start: date) -> str:
        return f"{start:%Y-%m}"


class WaterAllocationStream(_SustainabilityStream):
    """Yearly estimated water withdrawals per usage account x region x service.

    `GetEstimatedWaterAllocation` serves calendar years only (`YEARLY_CALENDAR`) and returns a
    year whenever the requested range contains its 1 January. Years are read from the bookmark
    minus `water_lookback_years` (or start_date's year), one request each; a complete year is
    asked for as [1 January, next 1 January), the year in progress as [1 January, first day of
    the current month) — never a range ending in the future — so whatever AWS reports for it is
    loaded and re-read on later runs until the year is complete.
    """

    name = "water_allocation"
    period = "year"
    values_key = "AllocationValues"
    value_types = WATER_ALLOCATION_TYPES
    unit = WATER_UNIT
    lookback_setting = "water_lookback_years"
    schema = _schema(
        "calendar year",
        "1 January of the following year",
        WATER_ALLOCATION_TYPES,
        WATER_UNIT,
        "cubic metres (m3)",
    )
    _align = staticmethod(year_start)
    _shift = staticmethod(add_years)

    def _fetch(
        self, client: SustainabilityClient, start: date, end: date
    ) -> Iterable[dict[str, Any]]:
        return client.water_allocation(start, end)

    def _label(self, start: date) -> str:
        return str(start.year)


def _period_day(period: Mapping[str, Any], part: str, where: str) -> date:
    """boto3 parses the API's ISO timestamps into datetimes; keep the calendar day only."""
    value = period.get(part)
    if isinstance(value, datetime):
        return value.date()
    raise UnexpectedDataError(
        f"{where}: a result's TimePeriod.{part} is {shown(value)}, not a timestamp; {_SHAPE_HINT}"
    )
