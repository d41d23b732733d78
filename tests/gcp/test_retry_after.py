"""A BigQuery 429 with Retry-After, through the real google-cloud-bigquery client and the tap.

The shared unit tests classify stand-ins for google-api-core's errors; this one lets the
installed library raise its own error from a real HTTP answer, so a library change in where it
keeps the response (and so the header) would show here. BigQuery itself sends no Retry-After,
but Google's front end may, and the policy obeys it: without it, the first retry would wait at
most `base_delay` (1 s), so a gap of at least the header's 2 s can only come from the header.
"""

from __future__ import annotations

from tests.fakes._http import Reply
from tests.fakes.gcp_bigquery import error_body
from tests.gcp.conftest import DATASET, PROJECT, gcp_config

WAIT = 2  # seconds the answer asks for


def test_a_429_with_retry_after_is_waited_out_then_nothing_is_lost(fake_and_key, tap_runner):
    fake, key = fake_and_key
    config = gcp_config(fake, key, billing_export_table=None)
    message = "Exceeded rate limits: too many api requests per user per method."
    fake.fail_next.append(
        Reply(429, error_body(429, "rateLimitExceeded", message), {"Retry-After": str(WAIT)})
    )
    run = tap_runner("tap-gcp-carbon", config)
    assert run.returncode == 0, run.stderr
    rows = fake.tables[f"{PROJECT}.{DATASET}.carbon_footprint"].rows
    assert len(run.records("carbon_footprint")) == len(rows)
    api = [r for r in fake.requests if r.path.startswith("/bigquery/v2/")]
    refused, retried = api[0], api[1]
    assert refused.status == 429
    assert (retried.method, retried.path) == (refused.method, refused.path)
    # A lower bound only: a busy machine can make the gap longer, never shorter.
    assert retried.at - refused.at >= WAIT - 0.05
