"""What the emissions report shows, read from the dbt marts in one pass.

Kept apart from the drawing (report.py) so the page's content is plain data: figures per
provider x scope x month, each provider's coverage from publication_status, the calendar-year
inventory, and the estimate models' figures when they are built.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass
class ProviderCoverage:
    """Where one provider's data stops, from publication_status."""

    last_loaded: date | None = None
    awaiting: list[date] = field(default_factory=list)  # not yet published
    missing: list[date] = field(default_factory=list)  # past its publication day, not loaded
    restatable: list[date] = field(default_factory=list)  # loaded, may still be restated


@dataclass
class ReportData:
    """Everything the page shows, read from the warehouse once."""

    monthly: dict[str, dict[int, dict[date, float]]]  # provider -> scope -> month -> kgCO2e
    coverage: dict[str, ProviderCoverage]
    inventory: list[tuple[Any, ...]]  # calendar year x provider, as report.INVENTORY_COLUMNS
    reported: dict[str, dict[date, float]] | None  # None: the estimate models are not built
    estimated: dict[str, dict[str, dict[date, float]]] | None  # provider -> method -> month
    provisional: dict[str, dict[date, float]] = field(default_factory=dict)  # nowcast, per month


def _relation_exists(conn: Any, name: str) -> bool:
    return bool(
        conn.execute(
            "select 1 from information_schema.tables"
            " where table_schema = 'analytics' and table_name = %s",
            (name,),
        ).fetchall()
    )


def read(conn: Any) -> ReportData:
    """Read the report's figures from the marts (a psycopg connection to the warehouse)."""
    monthly: dict[str, dict[int, dict[date, float]]] = defaultdict(lambda: defaultdict(dict))
    for provider, month, *scopes in conn.execute(
        "select provider, period_start, sum(scope_1_kgco2e),"
        " sum(coalesce(scope_2_market_based_kgco2e, scope_2_unsplit_kgco2e)),"
        " sum(coalesce(scope_3_market_based_kgco2e, scope_3_unsplit_kgco2e))"
        " from analytics.fct_ghg_inventory where period_kind = 'month' group by 1, 2"
    ):
        for scope, kg in enumerate(scopes, start=1):
            if kg is not None:
                monthly[provider][scope][month] = float(kg)
    coverage: dict[str, ProviderCoverage] = defaultdict(ProviderCoverage)
    for provider, month, status, loaded in conn.execute(
        "select provider, usage_month, status, is_loaded from analytics.publication_status"
        " order by 1, 2"
    ):
        entry = coverage[provider]
        if loaded:
            entry.last_loaded = month
        if status == "not_yet_published":
            entry.awaiting.append(month)
        elif status == "missing":
            entry.missing.append(month)
        elif status == "restatable":
            entry.restatable.append(month)
    inventory = conn.execute(
        "select period_label, provider, max(months_loaded), sum(scope_1_kgco2e),"
        " sum(scope_2_location_based_kgco2e), sum(scope_2_market_based_kgco2e),"
        " sum(scope_2_unsplit_kgco2e), sum(scope_3_location_based_kgco2e),"
        " sum(scope_3_market_based_kgco2e), sum(scope_3_unsplit_kgco2e),"
        " sum(total_location_based_kgco2e), sum(total_market_based_kgco2e),"
        " max(scope_2_methods_supplied)"
        " from analytics.fct_ghg_inventory where period_kind = 'calendar_year'"
        " group by 1, 2 order by 1, 2"
    ).fetchall()
    reported = estimated = None
    if _relation_exists(conn, "rpt_reported_vs_estimated"):
        reported, estimated = _read_estimates(conn)
    provisional: dict[str, dict[date, float]] = defaultdict(dict)
    if _relation_exists(conn, "fct_cloud_emissions_nowcast"):
        for provider, month, kg in conn.execute(
            "select provider, usage_month, sum(emissions_kgco2e)"
            " from analytics.fct_cloud_emissions_nowcast where is_provisional group by 1, 2"
        ):
            provisional[provider][month] = float(kg)
    return ReportData(
        {p: dict(s) for p, s in monthly.items()},
        dict(coverage),
        inventory,
        reported,
        estimated,
        dict(provisional),
    )


def _read_estimates(
    conn: Any,
) -> tuple[dict[str, dict[date, float]], dict[str, dict[str, dict[date, float]]]]:
    """Reported and estimated kgCO2e per provider x month: the estimate in all and per method."""
    reported: dict[str, dict[date, float]] = defaultdict(dict)
    estimated: dict[str, dict[str, dict[date, float]]] = defaultdict(lambda: defaultdict(dict))
    for provider, month, method, reported_kg, estimated_kg in conn.execute(
        "select provider, usage_month, coalesce(estimate_method, 'none'), sum(reported_kgco2e),"
        " sum(estimated_kgco2e) from analytics.rpt_reported_vs_estimated group by 1, 2, 3"
    ):
        if reported_kg is not None:
            reported[provider][month] = reported[provider].get(month, 0.0) + float(reported_kg)
        if estimated_kg is not None:
            by_method = estimated[provider]
            by_method[method][month] = float(estimated_kg)
            by_method["all"][month] = by_method["all"].get(month, 0.0) + float(estimated_kg)
    return dict(reported), {p: dict(m) for p, m in estimated.items()}
