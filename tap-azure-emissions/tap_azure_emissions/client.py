"""The REST base every Azure stream shares: ARM endpoint, bearer auth, our retry policy.

Also the two helper calls that are not streams: the subscriptions list (when no
`subscription_ids` are set) and the Carbon API's data window.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar, overload
from urllib.parse import urlsplit

import requests
from carbon_taps_shared.errors import ErrorClass, ProviderError
from carbon_taps_shared.messages import shown
from carbon_taps_shared.paging import PageGuard
from carbon_taps_shared.ratelimit import TokenBucket
from carbon_taps_shared.retry import RetryingRESTMixin, RetryPolicy
from carbon_taps_shared.telemetry import Telemetry
from carbon_taps_shared.validation import UnexpectedDataError, is_finite_json_number
from singer_sdk import typing as th
from singer_sdk.pagination import BaseAPIPaginator
from singer_sdk.streams import RESTStream

from tap_azure_emissions.auth import AzureIdentityAuthenticator

if TYPE_CHECKING:
    from tap_azure_emissions.tap import TapAzureEmissions

R = TypeVar("R")

SUBSCRIPTIONS_API_VERSION = "2022-12-01"
DEFAULT_ARM_ENDPOINT = "https://management.azure.com"
CARBON_ROLE = "Carbon Optimization Reader"
COST_ROLE = "Cost Management Reader"
EXPIRED_TOKEN = "ExpiredAuthenticationToken"  # ARM's 401 code for a token past its expiry


ANSWER_HINT = "check arm_endpoint and the api-version settings, and re-run later"


def answer(response: requests.Response, where: str) -> dict[str, Any]:
    """The JSON object an ARM answer must be; anything else ends the run in one line."""
    try:
        # From the bytes: JSON is UTF-8 (RFC 8259), so no guessed encoding turns a broken
        # answer into mojibake.
        body = json.loads(response.content.decode("utf-8")) if response.content else None
    except ValueError:  # not JSON, or not UTF-8
        body = ...
    if not isinstance(body, dict):
        what = (
            "empty"
            if body is None
            else "not JSON"
            if body is ...
            else f"JSON {type(body).__name__}, not an object"
        )
        raise UnexpectedDataError(f"{where}: the answer is {what}; {ANSWER_HINT}")
    return body


def objects(
    container: Mapping[str, Any], key: str, where: str, *, required: bool = False
) -> list[dict[str, Any]]:
    """`container[key]`: a list of objects; absent or null is an empty list unless required."""
    items = container.get(key)
    if items is None:
        if required:
            raise UnexpectedDataError(f"{where}: the answer has no `{key}` list; {ANSWER_HINT}")
        return []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        bad = (
            items
            if not isinstance(items, list)
            else next(i for i in items if not isinstance(i, dict))
        )
        raise UnexpectedDataError(
            f"{where}: `{key}` holds {shown(bad)}, not a list of objects; {ANSWER_HINT}"
        )
    return items


@overload
def text(item: Mapping[str, Any], key: str, where: str, *, required: Literal[True]) -> str: ...
@overload
def text(
    item: Mapping[str, Any], key: str, where: str, *, required: bool = False
) -> str | None: ...
def text(item: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
    """A text field of an answer item: a string, or None when absent (and not required).

    An empty string is a value, required or not: the caller decides what it means.
    """
    value = item.get(key)
    if value is None:
        if required:
            raise UnexpectedDataError(f"{where}: a row has no `{key}`; {ANSWER_HINT}")
        return None
    if not isinstance(value, str):
        raise UnexpectedDataError(f"{where}: `{key}` is {shown(value)}, not text; {ANSWER_HINT}")
    return value


def number(
    item: Mapping[str, Any], key: str, where: str, *, required: bool = False
) -> float | int | None:
    """A numeric field of an answer item: a finite JSON number, or None when absent."""
    value = item.get(key)
    if value is None:
        if required:
            raise UnexpectedDataError(f"{where}: a row has no `{key}`; {ANSWER_HINT}")
        return None
    if not is_finite_json_number(value):
        raise UnexpectedDataError(
            f"{where}: `{key}` is {shown(value)}, not a finite number; {ANSWER_HINT}"
        )
    return value


class _CheckedPaginator(BaseAPIPaginator[str | None]):
    """A next-page pointer must be new (the shared page guard remembers every one of the
    listing, and bounds empty pages in a row), and (for links) lead back to the same ARM
    endpoint: following one elsewhere would hand the bearer token to another host."""

    def __init__(self, where: str, endpoint: str | None = None) -> None:
        super().__init__(None)
        self.where = where
        self.endpoint = endpoint
        self.guard = PageGuard(where, support="Azure support")
        self._empty_page = False

    def pointer(self, response: requests.Response) -> Any:
        raise NotImplementedError

    def get_next(self, response: requests.Response) -> str | None:
        value = self._checked_pointer(response)
        rows = 0 if self._empty_page else 1  # the guard only asks whether the page was empty
        self._empty_page = False
        return self.guard.next_page(value, rows)

    def _checked_pointer(self, response: requests.Response) -> str | None:
        if not response.content:  # 204 No Content: the last (and only) page
            return None
        value = self.pointer(response)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise UnexpectedDataError(
                f"{self.where}: the next-page pointer is {shown(value)}, not text; {ANSWER_HINT}"
            )
        if self.endpoint is not None and _origin(value) != _origin(self.endpoint):
            raise UnexpectedDataError(
                f"{self.where}: the answer's nextLink {shown(value)} does not lead back to "
                f"arm_endpoint; not following it — {ANSWER_HINT}"
            )
        return value

    def continue_if_empty(self, response: requests.Response) -> bool:
        """An empty page with a next pointer is not the end (ARM may return one); the SDK then
        calls `advance`, where the guard counts it."""
        self._empty_page = True
        return self._checked_pointer(response) is not None


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


class NextLinkPaginator(_CheckedPaginator):
    """ARM paging: the answer's `nextLink` (top level or under `properties`) is the next URL."""

    def pointer(self, response: requests.Response) -> Any:
        """The answer's next-page pointer, if any."""
        body = answer(response, self.where)
        properties = body.get("properties")
        if "nextLink" not in body and isinstance(properties, Mapping):
            return properties.get("nextLink")
        return body.get("nextLink")


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
        """The tap that built this stream, for the run's services."""
        return self._tap  # type: ignore[return-value]  # SDK types it Tap; only this tap builds it

    @property
    def url_base(self) -> str:
        """The ARM endpoint from the settings."""
        return str(self.config.get("arm_endpoint") or DEFAULT_ARM_ENDPOINT).rstrip("/")

    @property
    def requests_session(self) -> requests.Session:
        """The environment's CA bundle (via the mixin), or the `ca_bundle` setting if set."""
        session = super().requests_session
        if self.config.get("ca_bundle"):
            session.verify = self.config["ca_bundle"]
        return session

    @property
    def authenticator(self) -> AzureIdentityAuthenticator:
        """The run's one credential."""
        return self.tap.authenticator

    @property
    def retry_policy(self) -> RetryPolicy:
        """The run's retry policy."""
        return self.tap.retry_policy

    @property
    def rate_limiter(self) -> TokenBucket:  # type: ignore[override]  # property for mixin attribute
        """The run's request pacer."""
        return self.tap.rate_limiter

    @property
    def telemetry(self) -> Telemetry:  # type: ignore[override]  # property for mixin attribute
        """The run's telemetry."""
        return self.tap.telemetry

    @property
    def timeout(self) -> int:
        """Seconds each request may take."""
        return int(self.config["request_timeout_seconds"])

    def get_new_paginator(self) -> BaseAPIPaginator | None:
        """None: streams that page say how."""
        return None

    def request_decorator(self, func: Callable[..., R]) -> Callable[..., R]:
        """The shared retry policy, then a hint that names the role a 401/403 needs."""
        inner = super().request_decorator(func)

        def wrapper(*args: Any, **kwargs: Any) -> R:
            try:
                try:
                    return inner(*args, **kwargs)
                except ProviderError as exc:
                    if exc.classification.code != EXPIRED_TOKEN or not self.authenticator.renew():
                        raise
                # ARM found the cached token expired although this machine's clock did not
                # (clock skew): one fresh token, one more try.
                self.logger.info(
                    "%s: ARM refused the access token as expired (clock skew?); retrying once "
                    "with a fresh token",
                    self.name,
                )
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
        if exc.classification.code == EXPIRED_TOKEN:
            return (
                "ARM refused a freshly issued access token as expired, so this machine's clock "
                "is probably wrong: sync it (NTP) and re-run; the credentials are not at fault"
            )
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
        for item in objects(answer(response, where), "value", where, required=True):
            text(item, "subscriptionId", where, required=True)
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
        yield answer(response, "the Carbon API's data window")
