"""Prints what the demo loaded: the dbt mart's monthly totals and the top services."""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from chart import write_chart
from warehouse import DEFAULT_PORT, url

CHART = Path(__file__).resolve().parents[1] / "output" / "emissions.html"


def main() -> None:
    with psycopg.connect(url(DEFAULT_PORT)) as conn:
        raw = conn.execute("select count(*) from carbon_raw.carbon_emissions").fetchone()[0]
        months = conn.execute(
            "select usage_month, rows_reported, total_market_based_kgco2e,"
            " total_location_based_kgco2e from analytics.aws_emissions_by_month"
            " order by usage_month"
        ).fetchall()
        exported = conn.execute(
            "select model_version, count(*), count(distinct usage_period)"
            " from carbon_raw.carbon_emissions_export group by 1 order by 1"
        ).fetchall()
        water = conn.execute(
            "select extract(year from usage_period_start)::int, sum(total_water_withdrawals_m3)"
            " from carbon_raw.water_allocation group by 1 order by 1"
        ).fetchall()
        by_scope = conn.execute(
            "select provider, usage_month, scope, sum(emissions_kgco2e)"
            " from analytics.fct_cloud_emissions where method in ('market_based', 'as_reported')"
            " group by 1, 2, 3 order by 1, 2, 3"
        ).fetchall()
        services = conn.execute(
            "select service, sum(total_market_based_kgco2e) as kg"
            " from analytics.stg_aws__carbon_emissions group by service order by kg desc limit 5"
        ).fetchall()
    chart = write_chart(by_scope, CHART)
    print(f"\nLoaded {raw} AWS rows (month x account x region x service) into carbon_raw.")
    print("\nAWS emissions by month (kgCO2e)")
    print(f"{'month':<10} {'rows':>6} {'market-based':>14} {'location-based':>15}")
    for month, rows, mbm, lbm in months:
        print(f"{month:%Y-%m}    {rows:>6} {mbm:>14,.1f} {lbm:>15,.1f}")
    print("\nCARBON_EMISSIONS export rows kept per model version")
    for model, rows, periods in exported:
        print(f"  {model:<10} {rows:>6} rows over {periods} months")
    print("\nAWS water withdrawals (m3)")
    for year, m3 in water:
        print(f"  {year}  {m3:>14,.1f}")
    print("\nTop services, market-based kgCO2e over all months")
    for service, kg in services:
        print(f"  {service:<20} {kg:>12,.1f}")
    print(f"\nChart of monthly emissions by provider and scope: {chart}")


if __name__ == "__main__":
    main()
