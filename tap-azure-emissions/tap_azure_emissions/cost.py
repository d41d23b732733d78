"""`cost_daily` and `usage_daily`: Cost Management Query, daily cost (and usage quantity).

`cost_daily` groups by location x service; `usage_daily` by location x meter with the usage
quantity beside the cost, for usage-based emission estimates. Each stream sends one query per
scope and calendar month (1 QPU each, the quota's unit), rows mapped by column
name (their order is not fixed), `nextLink` followed by POSTing the same body to it. The QPU
retry-after headers are honoured by the shared retry policy; a separate, slower rate limiter
keeps the run inside the per-tenant QPU quota.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from functools import cached_property
from typing import Any

import requests
from carbon_taps_shared.messages import shown
from carbon_taps_shared.periods import look_back_days
from carbon_taps_shared.ratelimit import TokenBucket
from carbon_taps_shared.validation import UnexpectedDataError, number_field, text_field
from singer_sdk import typing as th
from singer_sdk.pagination import BaseAPIPaginator

from tap_azure_emissions.answers import ANSWER_HINT, json_object_answer, object_list
from tap_azure_emissions.client import COST_ROLE, AzureStream
from tap_azure_emissions.paginators import NextLinkPaginator
from tap_azure_emissions.periods import add_months, month_segments, month_start, today

GROUPING = ("ResourceLocation", "ServiceName")  # the API allows two groupings
USAGE_GROUPING = ("ResourceLocation", "Meter")
COST_COLUMNS = ("Cost", "PreTaxCost")  # MCA / EA names of the summed cost column

# Properties both queries' records share (the scope, day and location they are keyed on, the
# query type, and the summed cost with its currency).
_KEY_HEAD = (
    th.Property(
        "scope",
        th.StringType,
        required=True,
        description="Cost Management scope queried, e.g. `subscriptions/<id>`.",
    ),
    th.Property("usage_date", th.DateType, required=True, description="`UsageDate`."),
    th.Property(
        "resource_location",
        th.StringType,
        required=True,
        description="`ResourceLocation` as reported (e.g. `westeurope`, may be empty).",
    ),
)
_COST_TYPE = th.Property(
    "cost_type",
    th.StringType,
    required=True,
    description="Query type: `ActualCost`, `AmortizedCost` or `Usage`.",
)
_COST_TAIL = (
    th.Property("cost", th.NumberType, description="Sum of cost in `currency`."),
    th.Property("currency", th.StringType, required=True, description="`Currency` (ISO 4217)."),
)


class CostDailyStream(AzureStream):
    """Daily cost per scope (subscription or configured billing scope), location and service.

    Incremental per scope by usage date: each run re-reads `cost_lookback_days` before the
    bookmark because cost data restates for a few days. A month's rows are collected, then
    emitted in date order, so the bookmark only passes days that were emitted.
    """

    name = "cost_daily"
    path = "/{scope}/providers/Microsoft.CostManagement/query"
    http_method = "POST"
    role = COST_ROLE
    bad_request_hint = (
        "check cost_scopes, cost_type and cost_start_date against the Cost Management Query API"
    )
    primary_keys = (
        "scope",
        "usage_date",
        "resource_location",
        "service_name",
        "currency",
        "cost_type",
    )
    replication_key = "usage_date"
    grouping: tuple[str, ...] = GROUPING
    is_sorted = True
    check_sorted = False
    schema = th.PropertiesList(
        *_KEY_HEAD,
        th.Property("service_name", th.StringType, required=True, description="`ServiceName`."),
        _COST_TYPE,
        *_COST_TAIL,
    ).to_dict()
    _window: tuple[date, date]

    @property
    def partitions(self) -> list[dict[str, Any]]:
        """One partition per cost scope: the configured ones, else each subscription."""
        scopes = self.config.get("cost_scopes") or [
            f"subscriptions/{s}" for s in self.services.subscriptions
        ]
        return [{"scope": str(s).strip("/")} for s in scopes]

    @cached_property
    def rate_limiter(self) -> TokenBucket:  # type: ignore[override]  # property for mixin attribute
        """A slower pace than the Carbon API's: the QPU quota is per tenant."""
        return TokenBucket(float(self.config["cost_max_requests_per_second"]))

    def get_url(self, context: Any) -> str:
        """The query URL of the partition's scope."""
        return f"{self.url_base}/{context['scope']}/providers/Microsoft.CostManagement/query"

    def get_url_params(self, context: Any, next_page_token: Any) -> dict[str, Any]:
        """The api-version, on the first page only (nextLink carries its own)."""
        return {} if next_page_token else {"api-version": self.config["cost_api_version"]}

    def get_http_request(self, *, page: Any) -> Any:
        """The same POST body, sent to nextLink for later pages."""
        request = super().get_http_request(page=page)
        if page.next_page_token:
            request.url = page.next_page_token  # nextLink: full URL, api-version included
        return request

    def get_new_paginator(self) -> BaseAPIPaginator:
        """A nextLink paginator named after the days being read (for loop errors)."""
        first, last = self._window  # the days being paged name the listing
        return NextLinkPaginator(f"{self.name} {first}..{last}", self.url_base)

    def prepare_request_payload(self, context: Any, next_page_token: Any) -> dict[str, Any]:
        """One Custom-timeframe Daily query over the current month segment."""
        first, last = self._window
        return {
            "type": self.config["cost_type"],
            "timeframe": "Custom",
            "timePeriod": {"from": f"{first}T00:00:00Z", "to": f"{last}T23:59:59Z"},
            "dataset": {
                "granularity": "Daily",
                "aggregation": self.aggregation(),
                "grouping": [{"type": "Dimension", "name": name} for name in self.grouping],
            },
        }

    def aggregation(self) -> dict[str, dict[str, str]]:
        """The summed columns (the API allows two)."""
        return {"totalCost": {"name": "Cost", "function": "Sum"}}

    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """Rows as dicts by column name (the order of columns is not fixed)."""
        if response.status_code == 204:  # the service's answer for a period without cost
            return
        body = json_object_answer(response, self.name)
        properties = body.get("properties")
        if not isinstance(properties, dict):
            raise UnexpectedDataError(
                f"{self.name}: the answer's `properties` is {shown(properties)}, not an object; "
                f"{ANSWER_HINT}"
            )
        columns = object_list(properties, "columns", self.name, required=True)
        names = [text_field(c, "name", self.name, hint=ANSWER_HINT, required=True) for c in columns]
        rows = properties.get("rows")
        if not isinstance(rows, list):
            raise UnexpectedDataError(
                f"{self.name}: the answer's `rows` is {shown(rows)}, not a list; {ANSWER_HINT}"
            )
        missing = [c for c in self.required_columns() if c not in names]
        if rows and (missing or not any(c in names for c in COST_COLUMNS)):
            what = ", ".join(missing) or " / ".join(COST_COLUMNS)
            raise UnexpectedDataError(
                f"{self.name}: the answer has no {what} column; check cost_api_version"
            )
        for row in rows:
            if not isinstance(row, list) or len(row) != len(names):
                raise UnexpectedDataError(
                    f"{self.name}: a row is {shown(row)}, not a list of {len(names)} values "
                    f"(one per column); {ANSWER_HINT}"
                )
            yield dict(zip(names, row, strict=True))

    def required_columns(self) -> tuple[str, ...]:
        """Columns every non-empty answer must carry (besides a cost column)."""
        return ("UsageDate", *self.grouping, "Currency")

    def days(self, context: Mapping[str, Any] | None) -> tuple[date, date] | None:
        """The days to read: from the start (or bookmark less the lookback) to today."""
        configured = self.config.get("cost_start_date")
        first = (
            date.fromisoformat(configured[:10])
            if configured
            else add_months(month_start(today()), -1)
        )
        first = look_back_days(
            first,
            self.get_context_state(context).get("replication_key_value"),
            self.config["cost_lookback_days"],
        )
        last = today()
        return (first, last) if first <= last else None

    def get_records(self, context: Mapping[str, Any] | None) -> Iterable[dict[str, Any]]:
        """Each month's rows, collected and emitted in key order so state passes only them."""
        assert context is not None
        days = self.days(context)
        if days is None:
            return
        for first, last in month_segments(*days):
            self._window = (first, last)
            rows = [
                self._record(row, context["scope"], first, last)
                for row in self.request_records(context)
            ]
            rows.sort(key=lambda r: tuple(str(r[k]) for k in self.primary_keys[1:]))
            self.telemetry.record_records(provider="azure", stream=self.name, count=len(rows))
            yield from rows

    def _record(
        self, row: Mapping[str, Any], scope: str, first: date, last: date
    ) -> dict[str, Any]:
        where = f"{self.name} {scope} {first}..{last}"
        return {
            "scope": scope,
            "usage_date": self._usage_date(row, where, first, last),
            "resource_location": text_field(row, "ResourceLocation", where, hint=ANSWER_HINT) or "",
            **self._own_fields(row, where),
            "cost_type": self.config["cost_type"],
            "cost": self._cost(row, where),
            "currency": text_field(row, "Currency", where, hint=ANSWER_HINT, required=True),
        }

    def _own_fields(self, row: Mapping[str, Any], where: str) -> dict[str, Any]:
        """The fields of this stream's second grouping (and measures) beside the shared ones."""
        return {"service_name": text_field(row, "ServiceName", where, hint=ANSWER_HINT) or ""}

    @staticmethod
    def _cost(row: Mapping[str, Any], where: str) -> float | int | None:
        cost_column = next((c for c in COST_COLUMNS if c in row), "Cost")
        return number_field(row, cost_column, where, hint=ANSWER_HINT, required=True)

    @staticmethod
    def _usage_date(row: Mapping[str, Any], where: str, first: date, last: date) -> str:
        raw = row.get("UsageDate")
        try:
            if isinstance(raw, bool) or not isinstance(raw, int):
                raise TypeError
            usage_date = datetime.strptime(str(raw), "%Y%m%d").date()
        except (TypeError, ValueError):
            raise UnexpectedDataError(
                f"{where}: a row's UsageDate is {shown(raw)}, not a yyyymmdd number; check "
                "cost_api_version"
            ) from None
        if not first <= usage_date <= last:
            raise UnexpectedDataError(
                f"{where}: the API answered with {usage_date}, outside the requested days; "
                f"{ANSWER_HINT}"
            )
        return usage_date.isoformat()


class UsageDailyStream(CostDailyStream):
    """Daily usage quantity and cost per scope, location and meter, for usage-based estimates.

    A second query rather than a change to `cost_daily`: the estimate needs the meter (it
    names the VM size, disk tier, redundancy or data transfer, and implies the unit) and the
    location (the grid factor), while the cost mart is keyed on the service. Location, service
    and meter would be three groupings, beyond the two the API documents, and the meter
    category, subcategory and `UnitOfMeasure` would be more (`UnitOfMeasure` is groupable on
    Microsoft Customer Agreements only). The cost and the usage quantity are the query's two
    aggregations. Off unless `usage_quantities` is set, so runs that need no estimate spend no
    extra QPU; when on it costs one QPU per scope and month, as `cost_daily` does.
    """

    name = "usage_daily"
    grouping = USAGE_GROUPING
    primary_keys = (
        "scope",
        "usage_date",
        "resource_location",
        "meter",
        "currency",
        "cost_type",
    )
    schema = th.PropertiesList(
        *_KEY_HEAD,
        th.Property(
            "meter",
            th.StringType,
            required=True,
            description="`Meter`: the meter name, e.g. `D2s v3`, `P10 LRS Disk`, `Data "
            "Transfer Out`; it fixes the unit of the usage quantity.",
        ),
        _COST_TYPE,
        th.Property(
            "usage_quantity",
            th.NumberType,
            description="Sum of `UsageQuantity`, in the meter's unit of measure.",
        ),
        *_COST_TAIL,
    ).to_dict()

    def aggregation(self) -> dict[str, dict[str, str]]:
        """Cost and usage quantity: the two aggregations the API allows."""
        return {
            "totalCost": {"name": "Cost", "function": "Sum"},
            "totalQuantity": {"name": "UsageQuantity", "function": "Sum"},
        }

    def required_columns(self) -> tuple[str, ...]:
        """The cost query's columns and the usage quantity."""
        return (*super().required_columns(), "UsageQuantity")

    def _own_fields(self, row: Mapping[str, Any], where: str) -> dict[str, Any]:
        """The meter, which fixes the unit, and the usage quantity summed in that unit."""
        return {
            "meter": text_field(row, "Meter", where, hint=ANSWER_HINT) or "",
            "usage_quantity": number_field(
                row, "UsageQuantity", where, hint=ANSWER_HINT, required=True
            ),
        }
