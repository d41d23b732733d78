"""The two questions a run asks ARM once before reading: which subscriptions the identity can
see (when none are set) and which months the Carbon API serves now.

They live apart from the planning in subscriptions.py and window.py so that the run's services
(services.py), which every stream uses, can plan without importing a stream class.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import requests
from carbon_taps_shared.validation import text_field
from singer_sdk import typing as th
from singer_sdk.pagination import BaseAPIPaginator

from tap_azure_emissions.answers import ANSWER_HINT, json_object_answer, object_list
from tap_azure_emissions.client import AzureStream
from tap_azure_emissions.paginators import NextLinkPaginator

SUBSCRIPTIONS_API_VERSION = "2022-12-01"


class SubscriptionListStream(AzureStream):
    """`GET /subscriptions` following nextLink: what the identity can see, when none are set."""

    name = "subscription_list"
    path = "/subscriptions"
    http_method = "GET"
    role = "Reader"
    schema = th.PropertiesList(
        th.Property("subscriptionId", th.StringType), th.Property("state", th.StringType)
    ).to_dict()
    bad_request_hint = "check arm_endpoint"

    def get_url_params(self, context: Any, next_page_token: Any) -> dict[str, Any]:
        """The API version on the first page; a nextLink carries its own."""
        return {} if next_page_token else {"api-version": SUBSCRIPTIONS_API_VERSION}

    def get_http_request(self, *, page: Any) -> Any:
        """The first page's request, or the nextLink as it is."""
        request = super().get_http_request(page=page)
        if page.next_page_token:
            request.url = page.next_page_token
        return request

    def get_new_paginator(self) -> BaseAPIPaginator:
        """Pages by nextLink, checked to stay on the ARM endpoint."""
        return NextLinkPaginator(f"{self.name} (the subscriptions list)", self.url_base)

    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """The subscriptions of one page, each with its id checked."""
        where = f"{self.name} (the subscriptions list)"
        for item in object_list(json_object_answer(response, where), "value", where, required=True):
            text_field(item, "subscriptionId", where, hint=ANSWER_HINT, required=True)
            yield item


class DataWindowStream(AzureStream):
    """`queryCarbonEmissionDataAvailableDateRange`: the months the Carbon API can serve now."""

    name = "carbon_data_window"
    path = "/providers/Microsoft.Carbon/queryCarbonEmissionDataAvailableDateRange"
    http_method = "POST"
    schema = th.PropertiesList(
        th.Property("startDate", th.StringType), th.Property("endDate", th.StringType)
    ).to_dict()

    def get_url_params(self, context: Any, next_page_token: Any) -> dict[str, Any]:
        """The Carbon API version from the settings."""
        return {"api-version": self.config["api_version"]}

    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        """The one answer object, checked to be an object."""
        yield json_object_answer(response, "the Carbon API's data window")
