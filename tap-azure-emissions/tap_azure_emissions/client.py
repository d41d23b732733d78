"""The REST base every Azure stream shares: ARM endpoint, bearer auth, our retry policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import requests
from carbon_taps_shared.errors import ErrorClass, ProviderError
from carbon_taps_shared.ratelimit import TokenBucket
from carbon_taps_shared.retry import RetryingRESTMixin, RetryPolicy
from carbon_taps_shared.services import ServiceStream
from carbon_taps_shared.telemetry import Telemetry
from singer_sdk.pagination import BaseAPIPaginator
from singer_sdk.streams import RESTStream

from tap_azure_emissions.auth import AzureIdentityAuthenticator
from tap_azure_emissions.services import AzureServices

R = TypeVar("R")

DEFAULT_ARM_ENDPOINT = "https://management.azure.com"
CARBON_ROLE = "Carbon Optimization Reader"
COST_ROLE = "Cost Management Reader"
EXPIRED_TOKEN = "ExpiredAuthenticationToken"  # ARM's 401 code for a token past its expiry


class AzureStream(ServiceStream[AzureServices], RetryingRESTMixin, RESTStream):
    """ARM endpoint, azure-identity bearer auth, the run's retry policy, pacing and telemetry."""

    provider_name = "azure"
    role: ClassVar[str] = CARBON_ROLE  # named in 401/403 messages
    bad_request_hint: ClassVar[str] = (
        "check start_month, subscription_ids and api_version against the Carbon Optimization "
        "API's limits"
    )

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
        return self.services.authenticator

    @property
    def retry_policy(self) -> RetryPolicy:
        """The run's retry policy."""
        return self.services.retry_policy

    @property
    def rate_limiter(self) -> TokenBucket:  # type: ignore[override]  # property for mixin attribute
        """The run's request pacer."""
        return self.services.rate_limiter

    @property
    def telemetry(self) -> Telemetry:  # type: ignore[override]  # property for mixin attribute
        """The run's telemetry."""
        return self.services.telemetry

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
