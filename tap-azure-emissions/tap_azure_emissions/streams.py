"""Carbon Optimization streams: monthly summary, item details per category, access decisions.

Every request carries one scope (the API sums the scopes it is given) and at most 100
lower-case subscriptions; item-detail requests cover one month each (the API's rule) and are
paged by re-POSTing the same body with the answer's `skipToken`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

import requests
from carbon_taps_shared.messages import shown
from carbon_taps_shared.validation import UnexpectedDataError, number_field, text_field
from singer_sdk import typing as th
from singer_sdk.pagination import BaseAPIPaginator

from tap_azure_emissions.answers import ANSWER_HINT, json_object_answer, object_list
from tap_azure_emissions.client import AzureStream
from tap_azure_emissions.paginators import SkipTokenPaginator

PAGE_SIZE = 5000  # the API's maximum for ItemDetailsReport
MAX_RANGE_MONTHS = 12  # dateRange end - start for the summary reports
DECISIONS = "subscriptionAccessDecisionList"


def decisions(body: Mapping[str, Any], where: str) -> list[dict[str, Any]]:
    """The answer's access decisions, each naming its subscription in text."""
    found = object_list(body, DECISIONS, where)
    for item in found:
        text_field(item, "subscriptionId", where, hint=ANSWER_HINT, required=True)
        for key in ("decision", "denialReason"):
            text_field(item, key, where, hint=ANSWER_HINT)
    return found


def _emissions_properties() -> list[th.Property]:
    """The figures every report row carries, in kgCO2e as the API reports them."""
    return [
        th.Property(
            "latest_month_emissions_kgco2e",
            th.NumberType,
            description="`latestMonthEmissions`: emissions of the requested month, kgCO2e.",
        ),
        th.Property(
            "previous_month_emissions_kgco2e",
            th.NumberType,
            description="`previousMonthEmissions`: the month before, kgCO2e.",
        ),
        th.Property(
            "month_over_month_emissions_change_ratio",
            th.NumberType,
            description="`monthOverMonthEmissionsChangeRatio`; null when the API omits it.",
        ),
        th.Property(
            "monthly_emissions_change_value_kgco2e",
            th.NumberType,
            description="`monthlyEmissionsChangeValue`, kgCO2e; null when the API omits it.",
        ),
    ]


def _emissions(item: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The figures, each a finite number or absent; the latest month's is always reported."""
    return {
        "latest_month_emissions_kgco2e": number_field(
            item, "latestMonthEmissions", where, hint=ANSWER_HINT, required=True
        ),
        "previous_month_emissions_kgco2e": number_field(
            item, "previousMonthEmissions", where, hint=ANSWER_HINT
        ),
        "month_over_month_emissions_change_ratio": number_field(
            item, "monthOverMonthEmissionsChangeRatio", where, hint=ANSWER_HINT
        ),
        "monthly_emissions_change_value_kgco2e": number_field(
            item, "monthlyEmissionsChangeValue", where, hint=ANSWER_HINT
        ),
    }


MONTH = th.Property(
    "month", th.DateType, required=True, description="First day of the month the row covers."
)
SCOPE = th.Property(
    "scope",
    th.StringType,
    required=True,
    description="GHG scope the figures cover (`Scope1`, `Scope2`, `Scope3`): one request each.",
)


class _CarbonReportStream(AzureStream):
    """A `carbonEmissionReports` POST; subclasses build the bodies and shape the rows."""

    path = "/providers/Microsoft.Carbon/carbonEmissionReports"
    http_method = "POST"
    replication_key: str | None = "month"
    is_sorted = True
    # The re-read window starts below the saved bookmark; see the AWS tap for the reasoning.
    check_sorted = False
    _body: dict[str, Any]

    def get_url_params(self, context: Any, next_page_token: Any) -> dict[str, Any]:
        return {"api-version": self.config["api_version"]}

    def prepare_request_payload(self, context: Any, next_page_token: Any) -> dict[str, Any]:
        body = dict(self._body)
        if next_page_token:
            body["skipToken"] = next_page_token
        return body

    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        body = json_object_answer(response, self.name)
        self.services.note_access(decisions(body, self.name))
        yield from object_list(body, "value", self.name, required=True)

    def fetch(self, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every row of one report request, all pages (the SDK drives paging and retries)."""
        self._body = body
        yield from self.request_records(None)

    def months(self, context: Mapping[str, Any] | None) -> list[date]:
        bookmark = self.get_context_state(context).get("replication_key_value")
        return self.services.months_to_read(bookmark)


class EmissionsMonthlyStream(_CarbonReportStream):
    """MonthlySummaryReport per subscription and scope: month, emissions, carbon intensity.

    One subscription per request: summing the rows of several subscriptions is only exact for
    emissions, not for carbon intensity, and chunk-level rows would have no stable key. Rows of
    the whole window are collected, then emitted oldest month first so the bookmark only moves
    past months that are complete. Subscriptions the API denies (see `subscription_access`) are
    skipped: a request listing only denied ones may be refused as a whole.
    """

    name = "emissions_monthly"
    primary_keys = ("month", "scope", "subscription_id")
    schema = th.PropertiesList(
        MONTH,
        SCOPE,
        th.Property("subscription_id", th.StringType, required=True, description="Lower-case id."),
        th.Property("data_type", th.StringType, description="`dataType` as reported."),
        *_emissions_properties(),
        th.Property(
            "carbon_intensity",
            th.NumberType,
            description="`carbonIntensity`: kgCO2e per normalized usage unit, as reported.",
        ),
    ).to_dict()

    def get_records(self, context: Mapping[str, Any] | None) -> Iterable[dict[str, Any]]:
        """One record per month, scope and subscription, from the look-back month on."""
        months = self.months(context)
        if not months:
            self.logger.info("No month to read for %s.", self.name)
            return
        rows: list[dict[str, Any]] = []
        denied = self.services.denied_subscriptions
        for subscription in self.services.subscriptions:
            if subscription in denied:
                continue  # asking for it alone may be refused outright; it is warned about
            for scope in self.config["carbon_scopes"]:
                for first, last in _ranges(months):
                    body = {
                        "reportType": "MonthlySummaryReport",
                        "dateRange": {"start": first.isoformat(), "end": last.isoformat()},
                        "subscriptionList": [subscription],
                        "carbonScopeList": [scope],
                    }
                    rows.extend(
                        self._record(item, scope, subscription, months) for item in self.fetch(body)
                    )
        rows.sort(key=lambda r: (r["month"], r["subscription_id"], r["scope"]))
        self.telemetry.record_records(provider="azure", stream=self.name, count=len(rows))
        yield from rows

    def _record(
        self, item: Mapping[str, Any], scope: str, subscription: str, months: list[date]
    ) -> dict[str, Any]:
        where = f"{self.name}: subscription {subscription} {scope}"
        raw = item.get("date")
        try:
            month = date.fromisoformat(raw[:10]).replace(day=1)  # type: ignore[index]  # non-text: TypeError below
        except (TypeError, ValueError):
            raise UnexpectedDataError(
                f"{where}: a MonthlySummaryData row has no valid `date` ({shown(raw)}); check "
                "arm_endpoint points at Azure Resource Manager"
            ) from None
        if month not in months:
            raise UnexpectedDataError(
                f"{where}: the API answered with month {month:%Y-%m}, outside the requested "
                f"{months[0]:%Y-%m}..{months[-1]:%Y-%m}; {ANSWER_HINT}"
            )
        return {
            "month": month.isoformat(),
            "scope": scope,
            "subscription_id": subscription,
            "data_type": text_field(item, "dataType", where, hint=ANSWER_HINT),
            **_emissions(item, where),
            "carbon_intensity": number_field(item, "carbonIntensity", where, hint=ANSWER_HINT),
        }


def _ranges(months: list[date]) -> Iterator[tuple[date, date]]:
    """Consecutive months cut into dateRanges of at most 12 months (end - start <= 11)."""
    for index in range(0, len(months), MAX_RANGE_MONTHS):
        part = months[index : index + MAX_RANGE_MONTHS]
        yield part[0], part[-1]


class _ItemDetailsStream(_CarbonReportStream):
    """ItemDetailsReport for one category: one month x scope x chunk of <=100 subscriptions.

    Item rows carry no month, so the requested month is stamped on them. Categories whose items
    span subscriptions (location, resource type) come back once per chunk; those parts are added
    up (emissions are additive; the ratio is then recomputed from the sums) so the key stays
    (month, scope, item).
    """

    category: ClassVar[str]
    identity: ClassVar[tuple[str, ...]]
    extra_properties: ClassVar[tuple[th.Property, ...]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "category" in cls.__dict__:
            # singer-sdk declares both as properties; a class attribute overrides them here as
            # it does in a class body (where mypy accepts it).
            keys = ("month", "scope", *cls.identity)
            cls.primary_keys = keys  # type: ignore[method-assign,assignment]  # SDK property
            cls.schema = th.PropertiesList(  # type: ignore[method-assign,assignment]  # SDK property
                MONTH,
                SCOPE,
                *cls.extra_properties,
                th.Property(
                    "item_name",
                    th.StringType,
                    description="`itemName` as reported (the category's value).",
                ),
                th.Property("category_type", th.StringType, description="`categoryType`."),
                th.Property("data_type", th.StringType, description="`dataType`."),
                *_emissions_properties(),
            ).to_dict()

    def get_new_paginator(self) -> BaseAPIPaginator:
        body = self._body  # the request being paged: its month and scope name the listing
        month, scope = body["dateRange"]["start"][:7], body["carbonScopeList"][0]
        return SkipTokenPaginator(f"{self.name} {month} {scope}")

    def get_records(self, context: Mapping[str, Any] | None) -> Iterable[dict[str, Any]]:
        for month in self.months(context):
            merged: dict[tuple[Any, ...], dict[str, Any]] = {}
            parts: dict[tuple[Any, ...], int] = {}
            for scope in self.config["carbon_scopes"]:
                for chunk in self.services.allowed_subscription_chunks:
                    body = {
                        "reportType": "ItemDetailsReport",
                        "dateRange": {"start": month.isoformat(), "end": month.isoformat()},
                        "subscriptionList": chunk,
                        "carbonScopeList": [scope],
                        "categoryType": self.category,
                        "orderBy": "ItemName",
                        "sortDirection": "Asc",
                        "pageSize": PAGE_SIZE,
                    }
                    for item in self.fetch(body):
                        record = self._record(item, month, scope)
                        key = tuple(record[k] for k in self.primary_keys)
                        parts[key] = parts.get(key, 0) + 1
                        merged[key] = _add(merged[key], record) if key in merged else record
            for key in sorted(merged, key=lambda k: tuple(str(p) for p in k)):
                yield merged[key]
            self.telemetry.record_records(provider="azure", stream=self.name, count=len(merged))

    def _record(self, item: Mapping[str, Any], month: date, scope: str) -> dict[str, Any]:
        where = f"{self.name} {month:%Y-%m} {scope}"
        for key in ITEM_TEXT:
            text_field(item, key, where, hint=ANSWER_HINT)
        record = {
            "month": month.isoformat(),
            "scope": scope,
            **self.identify(item),
            "item_name": item.get("itemName"),
            "category_type": item.get("categoryType"),
            "data_type": item.get("dataType"),
            **_emissions(item, where),
        }
        # An empty string is a value (Azure reports blank locations, for one) and is keyed as
        # reported; only an absent or null identity leaves the primary key without a part.
        missing = [k for k in self.identity if record.get(k) is None]
        if missing:
            raise UnexpectedDataError(
                f"{where}: the row with itemName {shown(item.get('itemName'))} has no "
                f"{', '.join(missing)} (absent or null), so its key cannot be formed; "
                f"{ANSWER_HINT}"
            )
        return record

    def identify(self, item: Mapping[str, Any]) -> dict[str, Any]:
        raise NotImplementedError


# Text fields an ItemDetails row may carry; each is a string when present.
ITEM_TEXT = (
    "itemName",
    "categoryType",
    "dataType",
    "subscriptionId",
    "resourceGroupUrl",
    "resourceId",
    "resourceGroup",
    "location",
    "resourceType",
)


def _lower(value: Any) -> str | None:
    """Lower-case text as reported; an empty string stays a value, only None is missing."""
    return None if value is None else str(value).lower()


def _first_text(*values: Any) -> Any:
    """The first non-empty value, else an empty string if one was reported, else None."""
    return next((v for v in values if v), next((v for v in values if v is not None), None))


def _add(total: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """Two chunks' rows of the same item: sum the kgCO2e figures, recompute the change fields.

    Sums go through Decimal so 0.1 + 0.2 stays 0.3: totals in the warehouse must match the
    API's figures exactly.
    """
    merged = dict(total)
    for column in ("latest_month_emissions_kgco2e", "previous_month_emissions_kgco2e"):
        merged[column] = _decimal_sum(total[column], part[column])
    latest = Decimal(repr(merged["latest_month_emissions_kgco2e"]))
    previous = Decimal(repr(merged["previous_month_emissions_kgco2e"]))
    merged["monthly_emissions_change_value_kgco2e"] = float(latest - previous) if previous else None
    merged["month_over_month_emissions_change_ratio"] = (
        float((latest - previous) / previous) if previous else None
    )
    return merged


def _decimal_sum(*values: Any) -> float:
    return float(sum((Decimal(repr(float(v))) for v in values if v is not None), Decimal(0)))


SUBSCRIPTION_ID = th.Property(
    "subscription_id", th.StringType, description="Subscription id, lower-case."
)


class EmissionsBySubscriptionStream(_ItemDetailsStream):
    """`emissions_by_subscription`: ItemDetailsReport by subscription."""

    name = "emissions_by_subscription"
    category = "Subscription"
    identity = ("subscription_id",)
    extra_properties = (
        th.Property("subscription_id", th.StringType, required=True, description="Lower-case."),
    )

    def identify(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """The key columns of one item row."""
        found = _first_text(item.get("subscriptionId"), item.get("itemName"))
        return {"subscription_id": _lower(found)}


class EmissionsByResourceGroupStream(_ItemDetailsStream):
    """`emissions_by_resource_group`: ItemDetailsReport by resource group."""

    name = "emissions_by_resource_group"
    category = "ResourceGroup"
    identity = ("resource_group_url",)
    extra_properties = (
        th.Property(
            "resource_group_url",
            th.StringType,
            required=True,
            description="`/subscriptions/<id>/resourcegroups/<name>`, lower-case (the API mixes "
            "cases).",
        ),
        SUBSCRIPTION_ID,
    )

    def identify(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """The key columns of one item row."""
        return {
            "resource_group_url": _lower(item.get("resourceGroupUrl")),
            "subscription_id": _lower(item.get("subscriptionId")),
        }


class EmissionsByResourceStream(_ItemDetailsStream):
    """`emissions_by_resource`: ItemDetailsReport by resource."""

    name = "emissions_by_resource"
    category = "Resource"
    identity = ("resource_id",)
    extra_properties = (
        th.Property(
            "resource_id",
            th.StringType,
            required=True,
            description="ARM resource id, lower-case (the API mixes cases).",
        ),
        SUBSCRIPTION_ID,
        th.Property("resource_group", th.StringType, description="`resourceGroup`."),
        th.Property("location", th.StringType, description="`location`; often blank."),
        th.Property("resource_type", th.StringType, description="`resourceType`, lower-case."),
    )

    def identify(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """The key columns of one item row."""
        return {
            "resource_id": _lower(item.get("resourceId")),
            "subscription_id": _lower(item.get("subscriptionId")),
            "resource_group": item.get("resourceGroup"),
            "location": item.get("location") or None,
            "resource_type": _lower(item.get("resourceType")),
        }


class EmissionsByResourceTypeStream(_ItemDetailsStream):
    """`emissions_by_resource_type`: ItemDetailsReport by resource type."""

    name = "emissions_by_resource_type"
    category = "ResourceType"
    identity = ("resource_type",)
    extra_properties = (
        th.Property(
            "resource_type",
            th.StringType,
            required=True,
            description="e.g. `microsoft.compute/virtualmachines`, lower-case.",
        ),
    )

    def identify(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """The key columns of one item row."""
        return {"resource_type": _lower(item.get("itemName"))}


class EmissionsByLocationStream(_ItemDetailsStream):
    """`emissions_by_location`: ItemDetailsReport by location."""

    name = "emissions_by_location"
    category = "Location"
    identity = ("location",)
    extra_properties = (
        th.Property(
            "location",
            th.StringType,
            required=True,
            description="Location display name as the API reports it, lower-case (`west europe`).",
        ),
    )

    def identify(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """The key columns of one item row."""
        return {"location": _lower(item.get("itemName"))}


ITEM_STREAMS: tuple[type[_ItemDetailsStream], ...] = (
    EmissionsBySubscriptionStream,
    EmissionsByResourceGroupStream,
    EmissionsByResourceStream,
    EmissionsByResourceTypeStream,
    EmissionsByLocationStream,
)


class SubscriptionAccessStream(_CarbonReportStream):
    """Each subscription's access decision this run (`subscriptionAccessDecisionList`).

    One OverallSummaryReport per chunk of <=100 subscriptions for the newest available month:
    the cheapest call that makes the API state its decisions. Appended per run (the run's start
    time is in the key) so a change of access shows up in history.
    """

    name = "subscription_access"
    primary_keys = ("checked_at", "subscription_id")
    replication_key = None
    is_sorted = False
    schema = th.PropertiesList(
        th.Property(
            "checked_at",
            th.DateTimeType,
            required=True,
            description="Start of the tap run that asked (UTC).",
        ),
        th.Property("subscription_id", th.StringType, required=True, description="Lower-case."),
        th.Property("decision", th.StringType, description="`Allowed` or `Denied` (as reported)."),
        th.Property("denial_reason", th.StringType, description="`denialReason`, if any."),
    ).to_dict()

    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """The access decisions of one answer, noted for the run's chunk planning."""
        found = decisions(json_object_answer(response, self.name), self.name)
        self.services.note_access(found)
        yield from found

    def decisions(self) -> Iterator[dict[str, Any]]:
        """Ask once per chunk for the newest available month; yield the raw decisions."""
        month = self.services.data_window[1]
        for chunk in self.services.subscription_chunks:
            body = {
                "reportType": "OverallSummaryReport",
                "dateRange": {"start": month.isoformat(), "end": month.isoformat()},
                "subscriptionList": chunk,
                "carbonScopeList": list(self.config["carbon_scopes"]),
            }
            yield from self.fetch(body)

    def get_records(self, context: Mapping[str, Any] | None) -> Iterable[dict[str, Any]]:
        """One record per access decision the run was given."""
        for decision in self.services.access_decisions:
            yield {
                "checked_at": self.services.run_started_at,
                "subscription_id": _lower(decision.get("subscriptionId")),
                "decision": decision.get("decision"),
                "denial_reason": decision.get("denialReason"),
            }
