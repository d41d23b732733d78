"""Synthetic Azure Carbon Optimization and Cost Management data, reproducible from a seed.

Used by the tests, the e2e run and the demo's sample data (`python -m tests.fakes.azure_data
--out sample_data/azure`), so all of them exercise the same shapes: mixed-case resource ids
(`resourceGroups` / `resourcegroups`), location display names, resources that appear in some
months only, kgCO2e values with 6 decimals and several currencies.

The files are in the APIs' own formats:
- `subscriptions.json`: an ARM subscriptions list answer (`{"value": [...]}`).
- `carbon_resources.jsonl`: one `ResourceItemDetailsData` row per month x scope x resource,
  plus the month (`date`, as MonthlySummaryData carries it), the scope (`carbonScope`) and the
  resource's normalized usage (`normalizedUsage`, behind `carbonIntensity`) — the finest grain
  the API reports, from which the fake aggregates every report.
- `cost_daily.json`: a Cost Management query answer (`properties.columns` / `rows`) grouped by
  SubscriptionId, ResourceLocation, ServiceName and Meter per UsageDate, with Cost and
  UsageQuantity. Each service is billed on one meter (`azure_meters.csv`, beside this file):
  the quantity is the cost divided by the meter's stated unit price. In the demo's sample the
  last month's cost is derived from its carbon rows by the kgCO2e per currency unit stated
  there (`consistent_cost_rows`), so usage, cost and reported emissions agree; the tests' own
  cost rows (`synthetic_cost_rows`) are random.
"""

from __future__ import annotations

import argparse
import calendar
import csv
import json
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

SCOPES = ("Scope1", "Scope2", "Scope3")
LOCATIONS = {  # ARM name -> display name the Carbon API reports (lower-case)
    "westeurope": "west europe",
    "northeurope": "north europe",
    "eastus": "east us",
    "swedencentral": "sweden central",
}
RESOURCE_TYPES = {
    "Microsoft.Compute/virtualMachines": "Virtual Machines",
    "Microsoft.Storage/storageAccounts": "Storage",
    "Microsoft.Sql/servers": "SQL Database",
    "Microsoft.Web/sites": "Azure App Service",
}
NAME_PREFIXES = {
    "Microsoft.Compute/virtualMachines": "vm",
    "Microsoft.Storage/storageAccounts": "st",
    "Microsoft.Sql/servers": "sql",
    "Microsoft.Web/sites": "app",
}
CURRENCIES = ("EUR", "USD")
METERS_FILE = Path(__file__).with_name("azure_meters.csv")


def meters() -> dict[str, dict[str, str]]:
    """Service -> its sample meter, unit of measure and unit price (`azure_meters.csv`)."""
    with METERS_FILE.open(newline="") as handle:
        return {row["service"]: row for row in csv.DictReader(handle)}


@dataclass(frozen=True)
class CarbonRow:
    """One month x scope x resource, as ResourceItemDetailsData reports it."""

    month: date
    scope: str
    subscription_id: str
    resource_group: str
    resource_name: str
    resource_type: str  # as in ARM ids, mixed case
    location: str  # display name
    resource_id: str  # as reported (mixed case)
    emissions: float  # kgCO2e
    usage: float  # normalized usage units

    @property
    def resource_group_url(self) -> str:
        return f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"

    def to_item(self) -> dict[str, Any]:
        return {
            "dataType": "ResourceItemDetailsData",
            "itemName": self.resource_name,
            "categoryType": "Resource",
            "subscriptionId": self.subscription_id,
            "resourceGroup": self.resource_group,
            "resourceId": self.resource_id,
            "location": self.location,
            "resourceType": self.resource_type.lower(),
            "latestMonthEmissions": self.emissions,
            "previousMonthEmissions": 0.0,
            "date": self.month.isoformat(),
            "carbonScope": self.scope,
            "normalizedUsage": self.usage,
        }

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> CarbonRow:
        rid = item["resourceId"]
        rtype = "/".join(rid.split("/providers/", 1)[1].split("/")[:-1])
        return cls(
            month=date.fromisoformat(item["date"]),
            scope=item["carbonScope"],
            subscription_id=item["subscriptionId"],
            resource_group=item["resourceGroup"],
            resource_name=item["itemName"],
            resource_type=rtype,
            location=item["location"],
            resource_id=rid,
            emissions=item["latestMonthEmissions"],
            usage=item["normalizedUsage"],
        )


@dataclass(frozen=True)
class CostRow:
    """One day x subscription x location x service, as a grouped Daily query row."""

    day: date
    subscription_id: str
    location: str
    service: str
    cost: float
    currency: str
    meter: str = ""
    unit: str = ""
    quantity: float = 0.0


def priced(row: CostRow) -> CostRow:
    """`row` on its service's sample meter, with the usage quantity its cost buys."""
    meter = meters().get(row.service)
    if meter is None:
        return row
    quantity = round(row.cost / float(meter["unit_price"]), 6)
    return CostRow(
        row.day,
        row.subscription_id,
        row.location,
        row.service,
        row.cost,
        row.currency,
        meter["meter"],
        meter["unit_of_measure"],
        quantity,
    )


def subscription_ids(count: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    return [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(count)]


def subscriptions_answer(ids: list[str], tenant: str = "demo-tenant") -> dict[str, Any]:
    return {
        "value": [
            {
                "id": f"/subscriptions/{sub}",
                "subscriptionId": sub,
                "tenantId": tenant,
                "displayName": f"sub-{index:03d}",
                "state": "Enabled",
            }
            for index, sub in enumerate(ids)
        ]
    }


def _months(first: date, count: int) -> list[date]:
    index = first.year * 12 + first.month - 1
    return [date((index + i) // 12, (index + i) % 12 + 1, 1) for i in range(count)]


def synthetic_carbon_rows(
    subscriptions: list[str], first: date, months: int, *, seed: int = 7, resources: int = 3
) -> list[CarbonRow]:
    """`resources` resources per subscription, each present in ~85% of months, all scopes."""
    rng = random.Random(seed)
    catalogue = []
    for sub in subscriptions:
        for index in range(resources):
            rtype = rng.choice(list(RESOURCE_TYPES))
            group = f"rg-{rng.choice(['data', 'web', 'ops'])}"
            name = f"{NAME_PREFIXES[rtype]}-{group[3:]}-{index}"
            segment = "resourceGroups" if rng.random() < 0.6 else "resourcegroups"
            rid = f"/subscriptions/{sub}/{segment}/{group}/providers/{rtype}/{name}"
            catalogue.append((sub, group, name, rtype, rng.choice(list(LOCATIONS.values())), rid))
    rows = []
    for month in _months(first, months):
        for sub, group, name, rtype, location, rid in catalogue:
            if rng.random() > 0.85:
                continue
            usage = round(rng.uniform(1, 500), 3)
            for scope in SCOPES:
                scale = {"Scope1": 0.002, "Scope2": 4.0, "Scope3": 1.5}[scope]
                emissions = round(rng.uniform(0, scale), 6)
                rows.append(
                    CarbonRow(
                        month, scope, sub, group, name, rtype, location, rid, emissions, usage
                    )
                )
    return rows


def synthetic_cost_rows(
    subscriptions: list[str], first: date, days: int, *, seed: int = 5
) -> list[CostRow]:
    rng = random.Random(seed)
    rows = []
    for sub_index, sub in enumerate(subscriptions):
        currency = CURRENCIES[sub_index % len(CURRENCIES)]
        places = [
            (loc, service)
            for loc in LOCATIONS
            for service in RESOURCE_TYPES.values()
            if rng.random() < 0.4
        ] or [("westeurope", "Storage")]
        for offset in range(days):
            day = first + timedelta(days=offset)
            for loc, service in places:
                cost = round(rng.uniform(0, 40), 4)
                rows.append(priced(CostRow(day, sub, loc, service, cost, currency)))
    return rows


def consistent_cost_rows(
    carbon: list[CarbonRow], subscriptions: list[str], month: date, nowcast_days: int
) -> list[CostRow]:
    """Daily cost rows derived from `month`'s carbon rows by the stated factors, so usage,
    cost and reported emissions agree: per subscription x location x service, the month's cost
    is the reported kgCO2e (all scopes) divided by the service's kgCO2e per currency unit
    (`azure_meters.csv`), spread over the days in exact decimal shares (0.03 a day, the rest
    on the last day); the usage quantity is the cost over the meter's unit price. The first
    `nowcast_days` days of the next month repeat the daily cost: usage Azure has not yet
    reported emissions for."""
    by_display = {display: arm for arm, display in LOCATIONS.items()}
    stated = meters()
    totals: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for row in carbon:
        if row.month == month:
            service = RESOURCE_TYPES[row.resource_type]
            key = (row.subscription_id, by_display[row.location], service)
            totals[key] += Decimal(repr(row.emissions))
    days = calendar.monthrange(month.year, month.month)[1]
    share = Decimal("0.03")
    currency = {sub: CURRENCIES[i % len(CURRENCIES)] for i, sub in enumerate(subscriptions)}
    rows = []
    for (sub, location, service), kg in sorted(totals.items()):
        cost = kg / Decimal(stated[service]["kgco2e_per_currency_unit"])
        daily = cost * share
        last = cost - daily * (days - 1)
        for offset in range(days):
            amount = last if offset == days - 1 else daily
            day = month + timedelta(days=offset)
            rows.append(priced(CostRow(day, sub, location, service, float(amount), currency[sub])))
        for offset in range(nowcast_days):
            day = month + timedelta(days=days + offset)
            rows.append(priced(CostRow(day, sub, location, service, float(daily), currency[sub])))
    return rows


COST_COLUMNS = [
    "UsageDate",
    "SubscriptionId",
    "ResourceLocation",
    "ServiceName",
    "Meter",
    "Cost",
    "UsageQuantity",
    "Currency",
]


def cost_answer(rows: list[CostRow]) -> dict[str, Any]:
    types = {"UsageDate": "Number", "Cost": "Number", "UsageQuantity": "Number"}
    return {
        "properties": {
            "columns": [{"name": c, "type": types.get(c, "String")} for c in COST_COLUMNS],
            "rows": [
                [
                    int(r.day.strftime("%Y%m%d")),
                    r.subscription_id,
                    r.location,
                    r.service,
                    r.meter,
                    r.cost,
                    r.quantity,
                    r.currency,
                ]
                for r in rows
            ],
        }
    }


def cost_rows_from_answer(answer: dict[str, Any]) -> list[CostRow]:
    names = [c["name"] for c in answer["properties"]["columns"]]
    rows = []
    for values in answer["properties"]["rows"]:
        row = dict(zip(names, values, strict=True))
        day = str(row["UsageDate"])
        cost = CostRow(
            date(int(day[:4]), int(day[4:6]), int(day[6:])),
            row["SubscriptionId"],
            row["ResourceLocation"],
            row["ServiceName"],
            row["Cost"],
            row["Currency"],
        )
        # Older sample files carry no meter: price them on the service's sample meter.
        if "Meter" in row:
            unit = meters().get(cost.service, {}).get("unit_of_measure", "")
            cost = CostRow(*astuple_fields(cost), row["Meter"], unit, row["UsageQuantity"])
        else:
            cost = priced(cost)
        rows.append(cost)
    return rows


def astuple_fields(row: CostRow) -> tuple:
    """The day-to-currency fields of a cost row, in order."""
    return (row.day, row.subscription_id, row.location, row.service, row.cost, row.currency)


def write_sample(out: Path, *, subscriptions: int, first_month: date, months: int) -> None:
    """The demo's inputs: subscriptions list, carbon rows and cost rows, in API formats."""
    out.mkdir(parents=True, exist_ok=True)
    ids = subscription_ids(subscriptions)
    (out / "subscriptions.json").write_text(json.dumps(subscriptions_answer(ids), indent=1))
    carbon = synthetic_carbon_rows(ids, first_month, months)
    with (out / "carbon_resources.jsonl").open("w") as handle:
        for row in carbon:
            handle.write(json.dumps(row.to_item()) + "\n")
    # Cost and usage of the last reported month, derived from its carbon rows, and 14 days
    # of the next month, which Azure has not reported yet.
    last = _months(first_month, months)[-1]
    cost = consistent_cost_rows(carbon, ids, last, nowcast_days=14)
    (out / "cost_daily.json").write_text(json.dumps(cost_answer(cost)))


def load_sample(folder: Path) -> tuple[list[str], list[CarbonRow], list[CostRow]]:
    subs = [
        s["subscriptionId"]
        for s in json.loads((folder / "subscriptions.json").read_text())["value"]
    ]
    with (folder / "carbon_resources.jsonl").open() as handle:
        carbon = [CarbonRow.from_item(json.loads(line)) for line in handle if line.strip()]
    cost = cost_rows_from_answer(json.loads((folder / "cost_daily.json").read_text()))
    return subs, carbon, cost


def main() -> None:
    parser = argparse.ArgumentParser(description="Write the Azure demo sample data.")
    parser.add_argument("--out", type=Path, default=Path("sample_data/azure"))
    parser.add_argument("--subscriptions", type=int, default=5)
    parser.add_argument("--first-month", type=date.fromisoformat, default=date(2025, 4, 1))
    parser.add_argument("--months", type=int, default=12)
    args = parser.parse_args()
    write_sample(
        args.out, subscriptions=args.subscriptions, first_month=args.first_month, months=args.months
    )


if __name__ == "__main__":
    main()
