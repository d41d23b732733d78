"""What one run of tap-gcp-carbon builds once: the suite's services and the BigQuery reader.

The tap builds a `GcpServices` per run and hands it to every stream, so streams never reach back
into the tap for their client.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from carbon_taps_shared.services import RunServices

if TYPE_CHECKING:
    from tap_gcp_carbon.client import BigQueryReader


class GcpServices(RunServices):
    """The run's retry policy, pacer and telemetry, plus its one BigQuery reader."""

    @cached_property
    def reader(self) -> BigQueryReader:
        """One BigQuery reader for the run, built when a stream first reads BigQuery."""
        # Imported here: google-cloud-bigquery takes ~0.7 s to import, which --about,
        # discovery and file mode do not need.
        from tap_gcp_carbon.client import BigQueryReader

        return BigQueryReader(
            self.config,
            policy=self.retry_policy,
            limiter=self.rate_limiter,
            telemetry=self.telemetry,
            logger=self.logger,
        )
