"""tap-azure-emissions: Azure Carbon Optimization emissions and Cost Management daily cost.

The tap wires the parts together: settings (settings.py), the credential (auth.py), which
subscriptions and months to read (subscriptions.py, window.py) and the streams.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from functools import cached_property
from typing import Any

from carbon_taps_shared.tapbase import CarbonTap
from singer_sdk import Stream
from singer_sdk.exceptions import ConfigValidationError

from tap_azure_emissions.auth import AzureIdentityAuthenticator, build_authenticator
from tap_azure_emissions.cost import CostDailyStream, UsageDailyStream
from tap_azure_emissions.settings import CONFIG_SCHEMA, setting_errors
from tap_azure_emissions.streams import (
    ITEM_STREAMS,
    EmissionsMonthlyStream,
    SubscriptionAccessStream,
)
from tap_azure_emissions.subscriptions import (
    AccessRegistry,
    SubscriptionListStream,
    chunked,
    denied_in,
    subscriptions_to_read,
)
from tap_azure_emissions.window import DataWindowStream, planned_months, window_of


class TapAzureEmissions(CarbonTap):
    """Reads the Carbon Optimization and Cost Management APIs with an azure-identity credential."""

    name = "tap-azure-emissions"
    provider = "azure"

    config_jsonschema = CONFIG_SCHEMA

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.run_started_at = datetime.now(UTC).isoformat(timespec="seconds")
        super().__init__(*args, **kwargs)
        self.access = AccessRegistry(self.logger)
        errors = setting_errors(self.config)
        if errors:
            raise ConfigValidationError("Config validation failed", errors=errors)
        if self.logger.getEffectiveLevel() > logging.DEBUG:
            # azure-core logs every token request's headers at INFO; keep that for DEBUG runs.
            for name in ("azure.core.pipeline.policies.http_logging_policy", "azure.identity"):
                logging.getLogger(name).setLevel(logging.WARNING)

    @cached_property
    def authenticator(self) -> AzureIdentityAuthenticator:
        """One credential for the run, so azure-identity's token cache is shared."""
        return build_authenticator(self.config)

    @cached_property
    def subscriptions(self) -> list[str]:
        """The subscriptions to read: the configured ones, else every one the identity lists."""
        return subscriptions_to_read(
            self.config.get("subscription_ids"),
            lambda: SubscriptionListStream(self).request_records(None),
            self.logger,
        )

    @cached_property
    def subscription_chunks(self) -> list[list[str]]:
        """The subscriptions in chunks the API accepts (at most 100 each)."""
        return chunked(self.subscriptions)

    @cached_property
    def allowed_subscription_chunks(self) -> list[list[str]]:
        """Chunks without the subscriptions the API denies: a data report listing only denied
        subscriptions may be refused as a whole, costing the run."""
        denied = self.denied_subscriptions
        return chunked([s for s in self.subscriptions if s not in denied])

    @cached_property
    def data_window(self) -> tuple[date, date]:
        """(first, last) month the Carbon API serves now, from the API itself."""
        return window_of(next(iter(DataWindowStream(self).request_records(None)), {}))

    @cached_property
    def access_decisions(self) -> list[dict[str, Any]]:
        """The API's access decision per subscription, asked once per run."""
        return list(SubscriptionAccessStream(self).decisions())

    @cached_property
    def denied_subscriptions(self) -> set[str]:
        """The subscriptions the API denies this identity."""
        return denied_in(self.access_decisions)

    def months_to_read(self, bookmark: str | None) -> list[date]:
        """Available months from start_month, or from the bookmark minus the lookback."""
        return planned_months(
            self.data_window,
            self.config.get("start_month"),
            bookmark,
            self.config["lookback_months"],
        )

    def note_access(self, decisions: Iterable[Mapping[str, Any]]) -> None:
        """Remember each decision; warn once per run naming newly denied subscriptions."""
        self.access.note(decisions)

    def discover_streams(self) -> list[Stream]:
        """Every stream, whatever the settings, so discovery needs none."""
        return [
            SubscriptionAccessStream(self),
            EmissionsMonthlyStream(self),
            *(stream(self) for stream in ITEM_STREAMS),
            CostDailyStream(self),
            UsageDailyStream(self),
        ]

    def source_missing(self, stream_name: str) -> str | None:
        """`usage_daily` spends a QPU per scope and month: read it only when asked for."""
        if stream_name == "usage_daily" and not self.config.get("usage_quantities"):
            return "set usage_quantities to read usage quantities per meter (for estimates)"
        return None


if __name__ == "__main__":
    TapAzureEmissions.cli()
