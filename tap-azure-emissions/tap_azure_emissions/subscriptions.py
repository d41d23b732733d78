"""Which subscriptions a run reads, in which chunks, and what the API decided about each.

The subscriptions come from `subscription_ids` or, when none are set, from ARM's list of what
the identity can see. The Carbon API takes at most 100 per request and may deny some; its
decisions are kept once per run, and each newly denied subscription is warned about once.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import requests
from carbon_taps_shared.tapbase import TapUserError
from carbon_taps_shared.validation import text_field
from singer_sdk import typing as th
from singer_sdk.pagination import BaseAPIPaginator

from tap_azure_emissions.answers import ANSWER_HINT, json_object_answer, object_list
from tap_azure_emissions.client import AzureStream
from tap_azure_emissions.paginators import NextLinkPaginator

SUBSCRIPTIONS_API_VERSION = "2022-12-01"
MAX_SUBSCRIPTIONS_PER_REQUEST = 100  # the Carbon API's cap on subscriptionList
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def is_subscription_id(value: str) -> bool:
    """True for a GUID, the form of every Azure subscription id."""
    return bool(_GUID.match(value))


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


def subscriptions_to_read(
    configured: Iterable[Any] | None,
    listed: Callable[[], Iterable[Mapping[str, Any]]],
    logger: logging.Logger,
) -> list[str]:
    """The configured subscriptions, else every one `listed` returns; lower-case, each once."""
    if configured:
        ids = [str(s).lower() for s in configured]
    else:
        ids = [str(s["subscriptionId"]).lower() for s in listed()]
        bad = next((i for i in ids if not is_subscription_id(i)), None)
        if bad is not None:
            raise TapUserError(
                f"subscription_list (the subscriptions list) names {bad[:40]!r}, which is "
                "not a subscription id (a GUID); check arm_endpoint, or set subscription_ids"
            )
        logger.info("Listed %d subscription(s) the identity can see.", len(ids))
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise TapUserError(
            "no subscription to read: set subscription_ids, or give the identity Reader "
            "access to the subscriptions to report on"
        )
    return ids


def chunked(ids: list[str]) -> list[list[str]]:
    """`ids` in chunks the Carbon API accepts (at most 100 each), in order."""
    size = MAX_SUBSCRIPTIONS_PER_REQUEST
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def denied_in(decisions: Iterable[Mapping[str, Any]]) -> set[str]:
    """The subscriptions the decisions deny, lower-case."""
    return {
        str(d.get("subscriptionId") or "").lower()
        for d in decisions
        if str(d.get("decision") or "").lower() == "denied"
    }


class AccessRegistry:
    """Each subscription's latest access decision; streams on several threads may report."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._access: dict[str, tuple[str, str | None]] = {}
        self._lock = threading.Lock()

    def note(self, decisions: Iterable[Mapping[str, Any]]) -> None:
        """Remember each decision; warn once per run naming newly denied subscriptions."""
        denied = []
        with self._lock:
            for item in decisions:
                subscription = str(item.get("subscriptionId") or "").lower()
                decision = str(item.get("decision") or "")
                if not subscription:
                    continue
                known = self._access.get(subscription)
                self._access[subscription] = (decision, item.get("denialReason"))
                if decision.lower() == "denied" and (known is None or known[0] != decision):
                    denied.append(subscription)
        if denied:
            self._logger.warning(
                "Carbon Optimization access denied for %d subscription(s), their emissions are "
                "missing: %s. Grant the Carbon Optimization Reader role on them.",
                len(denied),
                ", ".join(sorted(denied)),
            )
