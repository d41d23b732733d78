"""tap-azure-emissions' settings: the schema `--about` shows, and the rules it cannot state."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from carbon_taps_shared.config import endpoint_problem
from carbon_taps_shared.listsettings import repeats
from carbon_taps_shared.settings import FirstMonth, LookBack, history_settings, resilience_settings
from singer_sdk import typing as th

from tap_azure_emissions.auth import ARM_SCOPE
from tap_azure_emissions.subscriptions import is_subscription_id

SCOPES = ["Scope1", "Scope2", "Scope3"]

CONFIG_SCHEMA = th.PropertiesList(
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
    *history_settings(
        FirstMonth(
            "start_month",
            "First month to read on a first run (YYYY-MM-DD, day ignored). Default and "
            "floor: the first month the Carbon API serves (about 12 months back).",
        ),
        LookBack(
            "Months before the bookmark re-read each run: Azure fills the last month by the "
            "19th and may restate.",
            default=2,
            maximum=12,
        ),
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


def setting_errors(config: Mapping[str, Any]) -> list[str]:
    """Rules a JSON schema cannot state, reported as what to change."""
    errors: list[str] = []
    if config.get("client_secret") and config.get("client_certificate_path"):
        errors.append("set client_secret or client_certificate_path, not both")
    if config.get("client_secret") or config.get("client_certificate_path"):
        errors += [
            f"{name} is required with client_secret / client_certificate_path"
            for name in ("tenant_id", "client_id")
            if not config.get(name)
        ]
    for index, value in enumerate(config.get("subscription_ids") or []):
        if not is_subscription_id(str(value)):
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
    return errors
