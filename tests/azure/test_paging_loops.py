"""Page-pointer loops ARM could send (item-details `skipToken`, Cost Management and subscriptions
`nextLink`): followed over HTTPS, they must end in one line after a bounded number of requests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from carbon_taps_shared.paging import MAX_EMPTY_PAGES

from tests.azure.conftest import COST_FIRST, EXECUTABLE, make_fake, tap_config
from tests.fakes.azure_arm import AzureFake

LAST_MONTH = "2026-03-01"  # one month of the fake's window keeps runs short


def _config(fake: AzureFake, **overrides: Any) -> dict[str, Any]:
    return tap_config(fake, start_month=LAST_MONTH, carbon_scopes=["Scope1"], **overrides)


def _one_line(run, *needles: str) -> str:
    assert run.returncode == 1, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    lines = [line for line in run.error_lines if all(n in line for n in needles)]
    assert lines, run.stderr[-3000:]
    return lines[0]


@pytest.mark.parametrize("paging", ["cycle", "endless_empty"])
def test_skip_token_loops_end_in_one_line_naming_stream_month_and_scope(
    tap_runner, tmp_path, paging
):
    # 3 subscriptions, one item per page: the Subscription category is three pages.
    with make_fake(item_page_cap=1, paging=paging) as fake:
        config = _config(fake, subscription_ids=fake.subscriptions)
        only = _only(tap_runner, config, tmp_path, "emissions_by_subscription")
        run = tap_runner(EXECUTABLE, config, args=only)
        pages = len(fake.carbon_bodies("ItemDetailsReport"))
    line = _one_line(run, "emissions_by_subscription 2026-03 Scope1")
    if paging == "cycle":
        assert "points at the page token page 1 already sent" in line
        assert pages == 3  # the looping token is never sent
    else:
        assert "empty pages in a row" in line
        assert pages == 3 + MAX_EMPTY_PAGES + 1
    assert "Azure support" in line
    assert not run.records("emissions_by_subscription")  # the month's rows are never emitted


@pytest.mark.parametrize("paging", ["cycle", "endless_empty"])
def test_subscriptions_list_loops_end_in_one_line(tap_runner, paging):
    with make_fake(subscription_page_size=1, paging=paging) as fake:
        run = tap_runner(EXECUTABLE, _config(fake))
        pages = [r for r in fake.requests if r.path == "/subscriptions"]
    _one_line(run, "subscription_list (the subscriptions list)")
    assert len(pages) == (3 if paging == "cycle" else 3 + MAX_EMPTY_PAGES + 1)


@pytest.mark.parametrize("paging", ["cycle", "endless_empty"])
def test_cost_next_link_loops_end_in_one_line(tap_runner, tmp_path, paging):
    with make_fake(1, cost_page_size=2, paging=paging) as fake:
        config = _config(
            fake, subscription_ids=fake.subscriptions, cost_start_date=COST_FIRST.isoformat()
        )
        run = tap_runner(EXECUTABLE, config, args=_only(tap_runner, config, tmp_path))
        cost = fake.cost_requests()
    line = _one_line(run, f"cost_daily {COST_FIRST}..")
    assert ("already sent" if paging == "cycle" else "empty pages in a row") in line
    pages = len(cost)
    assert pages < 40 + MAX_EMPTY_PAGES + 1  # one month's rows, 2 per page, then the loop


def _only(tap_runner, config: dict[str, Any], tmp_path: Path, stream: str = "cost_daily"):
    """`--catalog` arguments selecting one stream (as `meltano select` would)."""
    discovered = tap_runner(EXECUTABLE, config, args=("--discover",))
    catalog = json.loads(discovered.stdout)
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] == stream
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalog))
    return ("--catalog", str(path))
