"""Prints what the demo loaded and modelled, and writes the chart: read from the dbt marts."""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chart import write_chart
from warehouse import DEFAULT_PORT, url

CHART = Path(__file__).resolve().parents[1] / "output" / "emissions.html"
# Market-based where the provider splits methods, as reported where it does not (scope 1, Azure).
HEADLINE = "method in ('market_based', 'as_reported')"


def main() -> None:
    with psycopg.connect(url(DEFAULT_PORT)) as conn:
        providers = conn.execute(
            "select provider, count(*), min(usage_month), max(usage_month)"
            " from analytics.fct_cloud_emissions group by 1 order by 1"
        ).fetchall()
        by_scope = conn.execute(
            "select provider, usage_month, scope, sum(emissions_kgco2e)"
            f" from analytics.fct_cloud_emissions where {HEADLINE}"
            " group by 1, 2, 3 order by 1, 2, 3"
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
    print("\nRows in fct_cloud_emissions (month x account x region x service x scope x method)")
    for provider, rows, first, last in providers:
        print(f"  {provider:<6} {rows:>7} rows  {first:%Y-%m} .. {last:%Y-%m}")

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

    print("\nTop services over all months, kgCO2e")
    for provider, service, category, kg in services:
        print(f"  {provider:<6} {service:<42} {category:<9} {kg:>12,.1f}")
    print("\nAWS model versions kept from the CARBON_EMISSIONS export")
    for model, rows, periods in exported:
        print(f"  {model:<10} {rows:>6} rows over {periods} months")
    chart = write_chart(by_scope, CHART)
    print(f"\nChart of monthly emissions by provider and scope: {chart}")


if __name__ == "__main__":
    main()
