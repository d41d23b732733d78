"""tap-azure-emissions: Azure Carbon Optimization emissions and Cost Management daily cost."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from carbon_taps_shared.config import endpoint_problem
from carbon_taps_shared.listsettings import repeats
from carbon_taps_shared.periods import look_back
from carbon_taps_shared.tapbase import CarbonTap, TapUserError, resilience_settings
from singer_sdk import Stream
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

from tap_azure_emissions.auth import ARM_SCOPE, AzureIdentityAuthenticator, make_credential
from tap_azure_emissions.client import DataWindowStream, SubscriptionListStream
from tap_azure_emissions.cost import CostDailyStream, UsageDailyStream
from tap_azure_emissions.periods import month_start, months_through
from tap_azure_emissions.streams import (
    ITEM_STREAMS,
    EmissionsMonthlyStream,
    SubscriptionAccessStream,
)

MAX_SUBSCRIPTIONS_PER_REQUEST = 100  # the Carbon API's cap on subscriptionList
SCOPES = ["Scope1", "Scope2", "Scope3"]
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


class TapAzureEmissions(CarbonTap):
    """Reads the Carbon Optimization and Cost Management APIs with an azure-identity credential."""

    name = "tap-azure-emissions"
    provider = "azure"

    config_jsonschema = th.PropertiesList(
        th.Property(
            "tenant_id",
            th.StringType,
            description="Microsoft Entra tenant (directory) id of the service principal.",
        ),
        th.Property(
            "client_id",
            th.StringType,
            description="Application (client) id of the service principal; with neither a "
            "secret nor a certificate, the user-assigned managed/workload identity to use.",
        ),
        th.Property(
            "client_secret",
            th.StringType,
            secret=True,
            description="Client secret of the service principal.",
        ),
        th.Property(
            "client_certificate_path",
            th.StringType,
            description="PEM or PKCS12 certificate (with private key) of the service principal.",
        ),
        th.Property(
            "client_certificate_password",
            th.StringType,
            secret=True,
            description="Password of client_certificate_path, if it has one.",
        ),
        th.Property(
            "authority_host",
            th.StringType,
            description="Entra ID authority, e.g. https://login.microsoftonline.us for Azure "
            "Government. Default: azure-identity's (public cloud, or AZURE_AUTHORITY_HOST).",
        ),
        th.Property(
            "disable_instance_discovery",
            th.BooleanType,
            default=False,
            description="Skip Entra instance discovery (private or disconnected authorities).",
        ),
        th.Property(
            "ca_bundle",
            th.StringType,
            description="PEM file of CAs to trust for Entra ID and ARM (TLS-inspecting proxies, "
            "tests). Default: REQUESTS_CA_BUNDLE / SSL_CERT_FILE, else the system store.",
        ),
        th.Property(
            "arm_endpoint",
            th.StringType,
            default="https://management.azure.com",
            description="Azure Resource Manager endpoint (sovereign clouds, private endpoints).",
        ),
        th.Property(
            "token_scope",
            th.StringType,
            default=ARM_SCOPE,
            description="Token scope; sovereign clouds use their own ARM audience.",
        ),
        th.Property(
            "subscription_ids",
            th.ArrayType(th.StringType),
            description="Subscriptions to read. Default: every subscription the identity can list.",
        ),
        th.Property(
            "start_month",
            th.DateType,
            description="First month to read on a first run (YYYY-MM-DD, day ignored). Default "
            "and floor: the first month the Carbon API serves (about 12 months back).",
        ),
        th.Property(
            "lookback_months",
            th.IntegerType(minimum=0, maximum=12),
            default=2,
            description="Months before the bookmark re-read each run: Azure fills the last "
            "month by the 19th and may restate.",
        ),
        th.Property(
            "api_version",
            th.StringType,
            default="2025-04-01",
            description="Carbon Optimization API version.",
        ),
        th.Property(
            "carbon_scopes",
            th.ArrayType(th.StringType(allowed_values=SCOPES)),
            default=SCOPES,
            description="GHG scopes to read, one request each so they stay apart.",
        ),
        th.Property(
            "cost_scopes",
            th.ArrayType(th.StringType),
            description="Cost Management scopes for cost_daily, e.g. "
            "`providers/Microsoft.Billing/billingAccounts/<id>`. Default: each subscription.",
        ),
        th.Property(
            "cost_type",
            th.StringType(allowed_values=["ActualCost", "AmortizedCost", "Usage"]),
            default="ActualCost",
            description="Cost Management query type.",
        ),
        th.Property(
            "cost_start_date",
            th.DateType,
            description="First usage day of cost_daily on a first run. Default: the first day "
            "of the previous month.",
        ),
        th.Property(
            "cost_lookback_days",
            th.IntegerType(minimum=0, maximum=31),
            default=3,
            description="Days before the cost_daily bookmark re-read each run (cost restates).",
        ),
        th.Property(
            "cost_api_version",
            th.StringType,
            default="2025-03-01",
            description="Cost Management API version.",
        ),
        th.Property(
            "cost_max_requests_per_second",
            th.NumberType(minimum=0),
            default=1.0,
            description="Pace of cost queries (each one month = 1 QPU; tenant quota 12 QPU/10 s, "
            "60/min, 600/h). 0 = unlimited.",
        ),
        th.Property(
            "usage_quantities",
            th.BooleanType,
            default=False,
            description="Read usage_daily: usage quantity and cost per location and meter, "
            "for usage-based emission estimates (one more Cost Management query, 1 QPU, per "
            "scope and month).",
        ),
        *resilience_settings(default_rps=10.0),
    ).to_dict()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._access: dict[str, tuple[str, str | None]] = {}
        self._access_lock = threading.Lock()
        self.run_started_at = datetime.now(UTC).isoformat(timespec="seconds")
        super().__init__(*args, **kwargs)
        self._check_settings()
        if self.logger.getEffectiveLevel() > logging.DEBUG:
            # azure-core logs every token request's headers at INFO; keep that for DEBUG runs.
            for name in ("azure.core.pipeline.policies.http_logging_policy", "azure.identity"):
                logging.getLogger(name).setLevel(logging.WARNING)

    def _check_settings(self) -> None:
        """Rules a JSON schema cannot state, reported as what to change."""
        config, errors = self.config, []
        if config.get("client_secret") and config.get("client_certificate_path"):
            errors.append("set client_secret or client_certificate_path, not both")
        if config.get("client_secret") or config.get("client_certificate_path"):
            errors += [
                f"{name} is required with client_secret / client_certificate_path"
                for name in ("tenant_id", "client_id")
                if not config.get(name)
            ]
        for index, value in enumerate(config.get("subscription_ids") or []):
            if not _GUID.match(str(value)):
                errors.append(f"subscription_ids[{index}] is not a subscription id (a GUID)")
        # Each listed value is its own request: a repeat would read (and for scopes, add) the
        # same data twice. Compared as ARM compares them: ids and scopes case-insensitively.
        errors += repeats(
            "subscription_ids",
            config.get("subscription_ids"),
            same=str.lower,
            why=" (subscription ids are case-insensitive)",
        )
        errors += repeats("carbon_scopes", config.get("carbon_scopes"))
        errors += repeats(
            "cost_scopes",
            config.get("cost_scopes"),
            same=lambda s: s.strip("/").lower(),
            why=" (scopes are case-insensitive)",
        )
        if config.get("carbon_scopes") == []:
            errors.append(
                "carbon_scopes is empty: list at least one of Scope1, Scope2, Scope3 (or unset "
                "it to read all three)"
            )
        if config.get("ca_bundle") and not Path(config["ca_bundle"]).is_file():
            errors.append("ca_bundle must name a readable PEM file")
        for name in ("arm_endpoint", "authority_host"):
            problem = endpoint_problem(name, config.get(name), ("https",))
            if problem:
                errors.append(problem)
        if errors:
            raise ConfigValidationError("Config validation failed", errors=errors)

    @cached_property
    def authenticator(self) -> AzureIdentityAuthenticator:
        """One credential for the run, so azure-identity's token cache is shared."""
        try:
            credential = make_credential(self.config)
        except (ValueError, OSError) as exc:  # e.g. an unreadable or non-RSA certificate
            raise TapUserError(
                f"cannot build the Azure credential: {exc}; check client_certificate_path (an RSA "
                "key and its certificate, PEM or PKCS12) and client_certificate_password"
            ) from None
        return AzureIdentityAuthenticator(
            credential, self.config["token_scope"], renew=lambda: make_credential(self.config)
        )

    @cached_property
    def subscriptions(self) -> list[str]:
        """The subscriptions to read: the configured ones, else every one the identity lists."""
        configured = self.config.get("subscription_ids")
        if configured:
            ids = [str(s).lower() for s in configured]
        else:
            ids = [
                str(s["subscriptionId"]).lower()
                for s in SubscriptionListStream(self).request_records(None)
            ]
            bad = next((i for i in ids if not _GUID.match(i)), None)
            if bad is not None:
                raise TapUserError(
                    f"subscription_list (the subscriptions list) names {bad[:40]!r}, which is "
                    "not a subscription id (a GUID); check arm_endpoint, or set subscription_ids"
                )
            self.logger.info("Listed %d subscription(s) the identity can see.", len(ids))
        ids = list(dict.fromkeys(ids))
        if not ids:
            raise TapUserError(
                "no subscription to read: set subscription_ids, or give the identity Reader "
                "access to the subscriptions to report on"
            )
        return ids

    @cached_property
    def subscription_chunks(self) -> list[list[str]]:
        """The subscriptions in chunks the API accepts (at most 100 each)."""
        ids, size = self.subscriptions, MAX_SUBSCRIPTIONS_PER_REQUEST
        return [ids[i : i + size] for i in range(0, len(ids), size)]

    @cached_property
    def allowed_subscription_chunks(self) -> list[list[str]]:
        """Chunks without the subscriptions the API denies: a data report listing only denied
        subscriptions may be refused as a whole, costing the run."""
        denied = self.denied_subscriptions
        ids = [s for s in self.subscriptions if s not in denied]
        size = MAX_SUBSCRIPTIONS_PER_REQUEST
        return [ids[i : i + size] for i in range(0, len(ids), size)]

    @cached_property
    def data_window(self) -> tuple[date, date]:
        """(first, last) month the Carbon API serves now, from the API itself."""
        answer = next(iter(DataWindowStream(self).request_records(None)), {})
        first: date | None
        last: date | None
        try:
            first, last = (
                month_start(date.fromisoformat(answer[key][:10]))
                for key in ("startDate", "endDate")
            )
        except (KeyError, TypeError, ValueError):
            first = last = None
        if first is None or last is None or last < first:
            raise TapUserError(
                "the Carbon API's data window answer has no valid startDate/endDate (YYYY-MM-DD, "
                "start before end); check arm_endpoint and api_version"
            )
        return first, last

    @cached_property
    def access_decisions(self) -> list[dict[str, Any]]:
        """The API's access decision per subscription, asked once per run."""
        return list(SubscriptionAccessStream(self).decisions())

    @cached_property
    def denied_subscriptions(self) -> set[str]:
        """The subscriptions the API denies this identity."""
        return {
            str(d.get("subscriptionId") or "").lower()
            for d in self.access_decisions
            if str(d.get("decision") or "").lower() == "denied"
        }

    def months_to_read(self, bookmark: str | None) -> list[date]:
        """Available months from start_month, or from the bookmark minus the lookback."""
        first, last = self.data_window
        if self.config.get("start_month"):
            first = max(first, month_start(date.fromisoformat(self.config["start_month"][:10])))
        first = look_back(first, bookmark, self.config["lookback_months"])
        return list(months_through(first, last)) if first <= last else []

    def note_access(self, decisions: Iterable[Mapping[str, Any]]) -> None:
        """Remember each decision; warn once per run naming newly denied subscriptions."""
        denied = []
        with self._access_lock:
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
            self.logger.warning(
                "Carbon Optimization access denied for %d subscription(s), their emissions are "
                "missing: %s. Grant the Carbon Optimization Reader role on them.",
                len(denied),
                ", ".join(sorted(denied)),
            )

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
