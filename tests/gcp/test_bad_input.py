"""Bad settings and provider failures: one line saying what to fix, no traceback, no secret."""

from __future__ import annotations

from tests.badinput import one_line_error
from tests.fakes._http import Reply
from tests.fakes.gcp_bigquery import FakeTable, error_body
from tests.fakes.gcp_data import CARBON_SCHEMA
from tests.gcp.conftest import DATASET, PROJECT, gcp_config, make_fake


def test_a_table_missing_a_column_names_the_column_and_the_setting(fake_and_key, tap_runner):
    fake, key = fake_and_key
    schema = [f for f in CARBON_SCHEMA if f["name"] != "carbon_model_version"]
    rows = [
        {k: v for k, v in r.items() if k != "carbon_model_version"}
        for r in fake.tables[f"{PROJECT}.{DATASET}.carbon_footprint"].rows
    ]
    fake.put_table(f"{PROJECT}.{DATASET}.wrong_table", FakeTable(schema, rows))
    run = tap_runner(
        "tap-gcp-carbon",
        gcp_config(fake, key, carbon_footprint_table="wrong_table", billing_export_table=None),
    )
    line = one_line_error(run)
    assert "lacks column(s) carbon_model_version" in line
    assert "carbon_footprint_table" in line
    assert fake.queries() == []  # refused before any query is billed


def test_a_wrong_dataset_name_says_which_setting_to_check(fake_and_key, tap_runner):
    fake, key = fake_and_key
    run = tap_runner(
        "tap-gcp-carbon",
        gcp_config(fake, key, carbon_footprint_dataset="carbon_exprot", billing_export_table=None),
    )
    line = one_line_error(run)
    assert "Not found: Dataset carbon-fake-project:carbon_exprot" in line
    assert "carbon_footprint_dataset" in line and "does not exist" in line


def test_a_query_over_maximum_bytes_billed_says_how_to_raise_the_cap(tap_runner):
    fake, key = make_fake(bytes_per_cell=20_000)
    try:
        run = tap_runner(
            "tap-gcp-carbon",
            gcp_config(fake, key, billing_export_table=None, maximum_bytes_billed=10485760),
        )
    finally:
        fake.stop()
    line = one_line_error(run)
    assert "would bill more than maximum_bytes_billed=10485760" in line
    assert "or higher required" in line and "raise maximum_bytes_billed" in line
    assert len(fake.queries()) == 1  # not retried


def test_a_permission_error_names_the_roles_to_grant(tap_runner):
    fake, key = make_fake(denied={DATASET})
    try:
        run = tap_runner("tap-gcp-carbon", gcp_config(fake, key, billing_export_table=None))
    finally:
        fake.stop()
    line = one_line_error(run)
    assert "403" in line and "Access Denied" in line
    assert "roles/bigquery.dataViewer" in line and "roles/bigquery.jobUser" in line
    assert len([r for r in fake.api_requests() if "/tables/" in r.path]) == 1  # not retried


def test_an_unknown_service_account_fails_at_the_token_endpoint_in_one_line(
    fake_and_key, tap_runner
):
    fake, key = fake_and_key
    fake.service_accounts.clear()
    run = tap_runner("tap-gcp-carbon", gcp_config(fake, key, billing_export_table=None))
    line = one_line_error(run)
    assert "rejected the credentials" in line and "credentials_json" in line
    assert fake.api_requests() == []


def test_an_identifier_that_could_escape_the_sql_is_refused_before_any_request(
    fake_and_key, tap_runner
):
    fake, key = fake_and_key
    run = tap_runner(
        "tap-gcp-carbon",
        gcp_config(fake, key, carbon_footprint_table="carbon_footprint` WHERE 1=1 --"),
    )
    assert run.returncode == 1
    assert "carbon_footprint_table" in run.stderr and "not a BigQuery table name" in run.stderr
    assert fake.requests == []


def test_a_transient_backend_error_is_retried_and_the_run_succeeds(fake_and_key, tap_runner):
    fake, key = fake_and_key
    fake.fail_next = [Reply(503, error_body(500, "backendError", "Backend error, retry."))]
    run = tap_runner(
        "tap-gcp-carbon", gcp_config(fake, key, billing_export_table=None, max_retry_seconds=5)
    )
    assert run.returncode == 0, run.stderr
    assert run.records("carbon_footprint")
    first, second = fake.api_requests()[:2]
    assert first.path == second.path  # the same request, sent again


def test_a_server_error_with_a_permanent_reason_fails_at_once(fake_and_key, tap_runner):
    fake, key = fake_and_key
    fake.fail_next = [Reply(500, error_body(500, "invalid", "Invalid table definition."))] * 3
    run = tap_runner("tap-gcp-carbon", gcp_config(fake, key, billing_export_table=None))
    line = one_line_error(run)
    assert "Invalid table definition" in line
    assert len(fake.api_requests()) == 1
