"""tap-azure-emissions: Azure Carbon Optimization emissions and Cost Management daily cost.

The tap wires the parts together: settings (settings.py), the run's services (services.py: the
credential, which subscriptions and months to read) and the streams, each built with them.
"""

from __future__ import annotations

import logging
from typing import Any

from carbon_taps_shared.tapbase import CarbonTap
from singer_sdk import Stream

from tap_azure_emissions.cost import CostDailyStream, UsageDailyStream
from tap_azure_emissions.lookups import DataWindowStream, SubscriptionListStream
from tap_azure_emissions.services import AzureServices
from tap_azure_emissions.settings import CONFIG_SCHEMA, setting_errors
from tap_azure_emissions.streams import (
    ITEM_STREAMS,
    EmissionsMonthlyStream,
    SubscriptionAccessStream,
)


class TapAzureEmissions(CarbonTap[AzureServices]):
    """Reads the Carbon Optimization and Cost Management APIs with an azure-identity credential."""

    name = "tap-azure-emissions"
    provider = "azure"

    config_jsonschema = CONFIG_SCHEMA

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.logger.getEffectiveLevel() > logging.DEBUG:
            # azure-core logs every token request's headers at INFO; keep that for DEBUG runs.
            for name in ("azure.core.pipeline.policies.http_logging_policy", "azure.identity"):
                logging.getLogger(name).setLevel(logging.WARNING)

    def setting_errors(self) -> list[str]:
        """Rules a JSON schema cannot state (settings.py), reported as what to change."""
        return setting_errors(self.config)

    def build_services(self) -> AzureServices:
        """The run's services, asking ARM through this tap's helper streams when first needed."""
        return AzureServices(
            self.config,
            self.logger,
            self.name,
            list_subscriptions=lambda run: SubscriptionListStream(self, run).request_records(None),
            read_data_window=lambda run: DataWindowStream(self, run).request_records(None),
            check_access=lambda run: SubscriptionAccessStream(self, run).decisions(),
        )

    def discover_streams(self) -> list[Stream]:
        """Every stream, whatever the settings, so discovery needs none."""
        services = self.services
        return [
            SubscriptionAccessStream(self, services),
            EmissionsMonthlyStream(self, services),
            *(stream(self, services) for stream in ITEM_STREAMS),
            CostDailyStream(self, services),
            UsageDailyStream(self, services),
        ]

    def source_missing(self, stream_name: str) -> str | None:
        """`usage_daily` spends a QPU per scope and month: read it only when asked for."""
        if stream_name == "usage_daily" and not self.config.get("usage_quantities"):
            return "set usage_quantities to read usage quantities per meter (for estimates)"
        return None


if __name__ == "__main__":
    TapAzureEmissions.cli()
