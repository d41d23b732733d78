"""The REST base every Azure stream shares: ARM endpoint, bearer auth, our retry policy.

Also the two helper calls that are not streams: the subscriptions list (when no
`subscription_ids` are set) and the Carbon API's data window.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import requests
from carbon_taps_shared.errors import ErrorClass, ProviderError
from carbon_taps_shared.ratelimit import TokenBucket
from carbon_taps_shared.retry import RetryingRESTMixin, RetryPolicy
from carbon_taps_shared.telemetry import Telemetry
from singer_sdk import typing as th
from singer_sdk.authenticators import APIAuthenticatorBase
from singer_sdk.pagination import BaseAPIPaginator
from singer_sdk.streams import RESTStream

if TYPE_CHECKING:
    from tap_azure_emissions.tap import TapAzureEmissions

R = TypeVar("R")

SUBSCRIPTIONS_API_VERSION = "2022-12-01"
DEFAULT_ARM_ENDPOINT = "https://management.azure.com"
CARBON_ROLE = "Carbon Optimization Reader"
COST_ROLE = "Cost Management Reader"


class NextLinkPaginator(BaseAPIPaginator[str | None]):
    """ARM paging: the answer's `nextLink` (top level or under `properties`) is the next URL."""

    def __init__(self) -> None:
        super().__init__(None)

    def get_next(self, response: requests.Response) -> str | None:
        body = response.json() if response.content else {}
        link = body.get("nextLink") or (body.get("properties") or {}).get("nextLink")
        return link or None

    def continue_if_empty(self, response: requests.Response) -> bool:
        """An empty page with a nextLink is not the end (ARM may return one)."""
        return self.get_next(response) is not None


class AzureStream(RetryingRESTMixin, RESTStream):
    """ARM endpoint, azure-identity bearer auth, the tap's retry policy, pacing and telemetry."""

    provider_name = "azure"
    role: ClassVar[str] = CARBON_ROLE  # named in 401/403 messages
    bad_request_hint: ClassVar[str] = (
        "check start_month, subscription_ids and api_version against the Carbon Optimization "
        "API's limits"
    )

    @property
    def tap(self) -> TapAzureEmissions:
        return self._tap  # type: ignore[return-value]

    @property
    def url_base(self) -> str:
        return str(self.config.get("arm_endpoint") or DEFAULT_ARM_ENDPOINT).rstrip("/")

    @property
    def requests_session(self) -> requests.Session:
        """The environment's CA bundle (via the mixin), or the `ca_bundle` setting if set."""
        session = super().requests_session
        if self.config.get("ca_bundle"):
            session.verify = self.config["ca_bundle"]
        return session

    @property
    def authenticator(self) -> APIAuthenticatorBase:
        return self.tap.authenticator

    @property
    def retry_policy(self) -> RetryPolicy:
        return self.tap.retry_policy

    @property
    def rate_limiter(self) -> TokenBucket:  # type: ignore[override]
        return self.tap.rate_limiter

    @property
    def telemetry(self) -> Telemetry:  # type: ignore[override]
        return self.tap.telemetry

    @property
    def timeout(self) -> int:
        return int(self.config["request_timeout_seconds"])

    def get_new_paginator(self) -> BaseAPIPaginator | None:
        return None

    def request_decorator(self, func: Callable[..., R]) -> Callable[..., R]:
        """The shared retry policy, then a hint that names the role a 401/403 needs."""
        inner = super().request_decorator(func)

        def wrapper(*args: Any, **kwargs: Any) -> R:
            try:
                return inner(*args, **kwargs)
            except ProviderError as exc:
                raise ProviderError(
                    exc.classification,
                    provider=exc.provider,
                    operation=exc.operation,
                    hint=self._hint(exc),
                ) from None

        return wrapper

    def _hint(self, exc: ProviderError) -> str | None:
        if exc.error_class is ErrorClass.AUTH:
            if exc.classification.status == 403:
                return (
                    f"grant the {self.role} role to the identity the tap runs as, on each "
                    "subscription (or a management group above them)"
                )
            return (
                "check tenant_id, client_id and client_secret / client_certificate_path (or the "
                f"environment's Azure login); the identity needs the {self.role} role"
            )
        if exc.error_class is ErrorClass.BAD_REQUEST:
            return self.bad_request_hint
        return None


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
        return {} if next_page_token else {"api-version": SUBSCRIPTIONS_API_VERSION}

    def get_http_request(self, *, page: Any) -> Any:
        request = super().get_http_request(page=page)
        if page.next_page_token:
            request.url = page.next_page_token
        return request

    def get_new_paginator(self) -> BaseAPIPaginator:
        return NextLinkPaginator()

    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        yield from (response.json() or {}).get("value") or []


class DataWindowStream(AzureStream):
    """`queryCarbonEmissionDataAvailableDateRange`: the months the Carbon API can serve now."""

    name = "carbon_data_window"
    path = "/providers/Microsoft.Carbon/queryCarbonEmissionDataAvailableDateRange"
    http_method = "POST"
    schema = th.PropertiesList(
        th.Property("startDate", th.StringType), th.Property("endDate", th.StringType)
    ).to_dict()

    def get_url_params(self, context: Any, next_page_token: Any) -> dict[str, Any]:
        return {"api-version": self.config["api_version"]}

    def parse_response(self, response: requests.Response) -> Iterable[dict[str, Any]]:
        yield response.json()
