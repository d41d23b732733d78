"""Rows with unusual but valid values load as reported; a row with no key fails in one line."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from tests.azure.conftest import EXECUTABLE, make_fake, tap_config
from tests.badinput import one_line_error

MONTH = "2026-03-01"
LATEST = "latest_month_emissions_kgco2e"


def test_an_empty_location_is_keyed_as_reported_and_every_stream_loads(tap_runner):
    with make_fake() as fake:
        blank = [r for r in fake.carbon_rows if r.month.isoformat() == MONTH][:2]
        fake.carbon_rows = [
            dataclasses.replace(r, location="") if r in blank else r for r in fake.carbon_rows
        ]
        run = tap_runner(EXECUTABLE, tap_config(fake, start_month=MONTH))
    assert run.returncode == 0, run.stderr[-3000:]
    by_location = {(r["scope"], r["location"]): r for r in run.records("emissions_by_location")}
    for scope in {r.scope for r in blank}:
        expected = sum(Decimal(repr(r.emissions)) for r in blank if r.scope == scope)
        assert Decimal(repr(by_location[(scope, "")][LATEST])) == expected
    for stream in ("emissions_by_resource", "emissions_by_subscription", "cost_daily"):
        assert run.records(stream), stream  # streams after it ran too


def test_an_item_without_its_identity_fails_in_one_line_naming_the_row(tap_runner):
    with make_fake(extra_item_fields={"itemName": None}) as fake:
        config = tap_config(fake, start_month=MONTH, subscription_ids=fake.subscriptions)
        run = tap_runner(EXECUTABLE, config)
    line = one_line_error(run, "(absent or null)")
    assert "itemName None" in line, run.stderr[-3000:]
    assert "check arm_endpoint" in line
