"""The demo summary's estimates block: reported against estimated, and the nowcast's months."""

from __future__ import annotations

from typing import Any

import psycopg

Rows = list[tuple[Any, ...]]


def read_estimates(conn: psycopg.Connection) -> tuple[Rows, Rows]:
    """Reported vs estimated per provider x month, and the nowcast's provisional months."""
    compared = conn.execute(
        "select provider, usage_month, sum(reported_kgco2e), sum(estimated_kgco2e),"
        " string_agg(distinct estimate_method, '+'), count(*) filter (where differs_beyond_factor)"
        " from analytics.rpt_reported_vs_estimated where estimated_kgco2e is not null"
        " group by 1, 2 order by 1, 2"
    ).fetchall()
    nowcast = conn.execute(
        "select provider, usage_month, sum(emissions_kgco2e),"
        " sum(emissions_kgco2e) filter (where is_provisional),"
        " string_agg(distinct provisional_reason, ', ')"
        " from analytics.fct_cloud_emissions_nowcast"
        " where (provider, usage_month) in (select provider, usage_month"
        "   from analytics.fct_cloud_emissions_nowcast where is_provisional)"
        " group by 1, 2 order by 1, 2"
    ).fetchall()
    return compared, nowcast


def print_estimates(compared: Rows, nowcast: Rows) -> None:
    """Print both tables; kgCO2e, location-based or as reported."""
    print("\nReported against estimated, kgCO2e (rpt_reported_vs_estimated; location-based)")
    print(
        f"  {'month':<8} {'provider':<8} {'reported':>12} {'estimated':>12} {'ratio':>7}"
        f"  {'method':<24} services beyond the factor"
    )
    for provider, month, reported, estimated, method, flagged in compared:
        ratio = f"{estimated / reported:>7.2f}" if reported else f"{'-':>7}"
        shown = f"{reported:>12,.1f}" if reported is not None else f"{'-':>12}"
        print(
            f"  {month:%Y-%m}  {provider:<8} {shown} {estimated:>12,.1f} {ratio}"
            f"  {method:<24} {flagged}"
        )
    print("\nNowcast: months with provisional rows, kgCO2e (fct_cloud_emissions_nowcast)")
    for provider, month, total, provisional, reasons in nowcast:
        print(
            f"  {month:%Y-%m}  {provider:<8} {total:>12,.1f} total, {provisional:>12,.1f}"
            f" provisional ({reasons})"
        )
    if not nowcast:
        print("  none: every month with usage has the provider's own figure")
