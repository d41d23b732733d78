"""Query-result page tokens that loop (A -> B -> A) or lead to endless empty pages, read by the
real BigQuery client over HTTP: one line after a bounded number of requests, never a hang."""

from __future__ import annotations

import pytest
from carbon_taps_shared.paging import MAX_EMPTY_PAGES

from tests.gcp.conftest import gcp_config, make_fake
from tests.gcp.test_carbon_footprint import source_rows

PAGE = 150


@pytest.mark.parametrize("paging", ["cycle", "endless_empty"])
def test_looping_query_pages_end_in_one_line(tap_runner, paging):
    fake, key = make_fake(page_rows=PAGE, paging=paging)
    try:
        run = tap_runner(
            "tap-gcp-carbon", gcp_config(fake, key, billing_export_table=None), timeout=60
        )
        pages = [r for r in fake.api_requests() if "/queries/" in r.path and "pageToken" in r.query]
    finally:
        fake.stop()
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    lines = [line for line in run.error_lines if "carbon_footprint: the query on" in line]
    assert lines, run.stderr[-3000:]
    assert "Google Cloud support" in lines[0]
    data_pages = (len(source_rows(fake)) - 1) // PAGE  # requests with a token, as in normal runs
    if paging == "cycle":
        assert "already sent" in lines[0]
        assert len(pages) == data_pages  # the looping token is never sent
    else:
        assert "empty pages in a row" in lines[0]
        assert len(pages) == data_pages + MAX_EMPTY_PAGES + 1
