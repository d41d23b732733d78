"""Prints what the demo loaded and modelled, and writes the report page: read from the dbt marts."""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from estimates_summary import print_estimates, read_estimates
from report import write_report
from warehouse import DEFAULT_PORT, url

REPORT = Path(__file__).resolve().parents[1] / "output" / "emissions.html"
# Market-based where the provider splits methods, as reported where it does not (scope 1, Azure);
# the services ranking reads the long mart, which has no per-service inventory.
HEADLINE = "method in ('market_based', 'as_reported')"


def main() -> None:
    with psycopg.connect(url(DEFAULT_PORT)) as conn:
        providers = conn.execute(
            "select provider, count(*), min(usage_month), max(usage_month)"
            " from analytics.fct_cloud_emissions group by 1 order by 1"
        ).fetchall()
        # The inventory has each scope once per method; the headline is market-based, with the
        # as-reported figure where a provider gives no split (Azure).
        monthly = conn.execute(
            "select provider, period_start, sum(scope_1_kgco2e),"
            " sum(coalesce(scope_2_market_based_kgco2e, scope_2_unsplit_kgco2e)),"
            " sum(coalesce(scope_3_market_based_kgco2e, scope_3_unsplit_kgco2e))"
            " from analytics.fct_ghg_inventory where period_kind = 'month'"
            " group by 1, 2 order by 1, 2"
        ).fetchall()
        yearly = conn.execute(
            "select period_label, provider, sum(scope_1_kgco2e),"
            " sum(scope_2_location_based_kgco2e), sum(scope_2_market_based_kgco2e),"
            " sum(scope_2_unsplit_kgco2e),"
            " sum(coalesce(scope_3_market_based_kgco2e, scope_3_unsplit_kgco2e)),"
            " sum(total_location_based_kgco2e), sum(total_market_based_kgco2e)"
            " from analytics.fct_ghg_inventory where period_kind = 'calendar_year'"
            " group by 1, 2 order by 1, 2"
        ).fetchall()
        services = conn.execute(
            "select e.provider, e.service, coalesce(s.category, 'unmapped'),"
            " sum(e.emissions_kgco2e) as kg from analytics.fct_cloud_emissions e"
            " left join analytics.dim_cloud_service s"
            " on s.provider = e.provider and s.service = e.service"
            f" where {HEADLINE} group by 1, 2, 3 order by kg desc limit 8"
        ).fetchall()
        exported = conn.execute(
            "select model_version, count(*), count(distinct usage_month)"
            " from analytics.fct_aws_emissions_model_history group by 1 order by 1"
        ).fetchall()
        restated = conn.execute(
            "select provider, count(*), count(distinct usage_month)"
            " from analytics.fct_emissions_restatements group by 1 order by 1"
        ).fetchall()
        report = write_report(conn, REPORT)
        estimates = read_estimates(conn)
    print("\nRows in fct_cloud_emissions (month x account x region x service x scope x method)")
    for provider, rows, first, last in providers:
        print(f"  {provider:<6} {rows:>7} rows  {first:%Y-%m} .. {last:%Y-%m}")

    by_scope = [
        (provider, month, scope, kg)
        for provider, month, *scopes in monthly
        for scope, kg in enumerate(scopes, start=1)
        if kg is not None
    ]
    months = sorted({m for _, m, _, _ in by_scope})[-12:]
    print("\nLast twelve months, kgCO2e (market-based; scope 1 and Azure as reported)")
    print(f"  {'month':<8} {'provider':<8} {'scope 1':>12} {'scope 2':>12} {'scope 3':>12}")
    table = {(p, m, s): kg for p, m, s, kg in by_scope}
    for month in months:
        for provider in sorted({p for p, *_ in providers}):
            cells = [table.get((provider, month, s)) for s in (1, 2, 3)]
            if any(c is not None for c in cells):
                text = " ".join(f"{c:>12,.1f}" if c is not None else f"{'-':>12}" for c in cells)
                print(f"  {month:%Y-%m}  {provider:<8} {text}")

    print("\nGHG inventory by calendar year, tCO2e (fct_ghg_inventory; - = not supplied)")
    print(
        f"  {'year':<5} {'provider':<8} {'scope 1':>8} {'s2 loc':>9} {'s2 mkt':>9}"
        f" {'s2 unsplit':>10} {'s3 mkt':>9} {'total loc':>10} {'total mkt':>10}"
    )
    widths = (8, 9, 9, 10, 9, 10, 10)
    for year, provider, *figures in yearly:
        text = " ".join(
            f"{kg / 1000:>{w},.3f}" if kg is not None else f"{'-':>{w}}"
            for kg, w in zip(figures, widths, strict=True)
        )
        print(f"  {year:<5} {provider:<8} {text}")

    print("\nTop services over all months, kgCO2e")
    for provider, service, category, kg in services:
        print(f"  {provider:<6} {service:<42} {category:<9} {kg:>12,.1f}")
    print("\nAWS model versions kept from the CARBON_EMISSIONS export")
    for model, rows, periods in exported:
        print(f"  {model:<10} {rows:>6} rows over {periods} months")
    print("\nRestated figures seen by earlier runs (fct_emissions_restatements)")
    for provider, rows, months in restated:
        print(f"  {provider:<6} {rows:>6} figures over {months} months")
    if not restated:
        print("  none yet: each later run that sees a provider restate a month adds them")
    print_estimates(*estimates)
    print(f"\nReport (panels per provider, coverage, inventory): {report}")


if __name__ == "__main__":
    main()
