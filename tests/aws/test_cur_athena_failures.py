"""cur_engine athena when things go wrong: each failure ends in one line saying what to fix,
a running query is cancelled, and no period is emitted twice or half."""

# The fixtures are shared with test_cur_athena.py by import, which ruff reads as redefinition.
# ruff: noqa: F811

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
import botocore.session
import pyarrow.parquet as pq
import pytest
import requests
from botocore.parsers import create_parser

from tests.aws.test_cur_athena import (  # noqa: F401 - fixtures
    RESULTS,
    athena_config,
    catalog,
    cur2,
    items,
    legacy,
    run_cur,
    tap_runner_module,
)
from tests.aws.test_cur_usage_daily import STREAM, assert_matches, cur_config
from tests.conftest import CAPTURED_OUTPUT, assert_no_secrets
from tests.fakes._http import Faults
from tests.fakes.aws_athena import AthenaFake, Table, write_status_table


def one_error_line(run) -> str:
    """The run failed with exactly one ERROR line and no traceback; that line."""
    assert run.returncode != 0
    assert "Traceback" not in run.stderr, run.stderr
    assert len(run.error_lines) == 1, run.stderr
    assert_no_secrets(run.stdout, run.stderr)
    return run.error_lines[0]


def test_athena_engine_without_a_table_is_refused_before_any_request(run_cur, legacy):
    uri, _ = legacy
    run = run_cur(cur_config(str(uri), cur_engine="athena", athena_database="athenacurcfn_daily"))
    line = one_error_line(run)
    assert "cur_engine athena needs athena_table" in line


def test_a_missing_table_names_the_database_and_table_settings(run_cur, legacy):
    uri, table = legacy
    with AthenaFake([table]) as fake:
        run = run_cur(athena_config(fake, uri, table, athena_table="dialy"))
        assert fake.operations("StartQueryExecution") == []
    line = one_error_line(run)
    assert "EntityNotFoundException" in line and "athena_table (dialy)" in line


def test_a_period_without_partition_fails_after_the_periods_before_it(run_cur, legacy, tmp_path):
    uri, table = legacy
    january = tmp_path / "daily"
    shutil.copytree(table.location, january)
    shutil.rmtree(january / "year=2026" / "month=2")  # the crawler has not seen February
    partial = Table(table.database, table.name, january, table.partition_keys)
    with AthenaFake([partial]) as fake:
        run = run_cur(athena_config(fake, uri, partial))
    line = one_error_line(run)
    assert "no partition for billing period 2026-02" in line and "crawler" in line
    assert {r["billing_period"] for r in run.records(STREAM)} == {"2026-01"}
    assert list(run.final_state["bookmarks"][STREAM]["periods"]) == ["2026-01"]


def test_a_column_the_table_lacks_is_named(run_cur, legacy, tmp_path):
    uri, table = legacy
    location = tmp_path / "daily"
    for path in table.location.rglob("*.parquet"):
        target = location / path.relative_to(table.location)
        target.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pq.read_table(path).drop_columns(["line_item_usage_type"]), target)
    broken = Table(table.database, table.name, location, table.partition_keys)
    with AthenaFake([broken]) as fake:
        run = run_cur(athena_config(fake, uri, broken))
        assert fake.operations("StartQueryExecution") == []
    line = one_error_line(run)
    assert "lacks the column(s) line_item_usage_type" in line


def test_a_report_aws_is_updating_is_not_read(run_cur, legacy, tmp_path):
    uri, table = legacy
    status = write_status_table(tmp_path, table.database, "UPDATING")
    with AthenaFake([table, status]) as fake:
        run = run_cur(athena_config(fake, uri, table))
        queries = [e.request["QueryString"] for e in fake.started()]
    line = one_error_line(run)
    assert "says UPDATING" in line and "re-run once it says READY" in line
    assert len(queries) == 1 and "cost_and_usage_data_status" in queries[0]
    assert run.records(STREAM) == []


def test_an_output_location_without_write_access_says_what_to_grant(run_cur, legacy):
    uri, table = legacy
    with AthenaFake([table], denied_outputs=(RESULTS,)) as fake:
        run = run_cur(athena_config(fake, uri, table))
    line = one_error_line(run)
    assert "Access denied when writing output" in line and "s3:PutObject" in line
    assert run.records(STREAM) == []


def test_no_output_location_anywhere_is_athena_s_own_refusal_in_one_line(run_cur, legacy):
    uri, table = legacy
    with AthenaFake([table]) as fake:
        run = run_cur(athena_config(fake, uri, table, athena_output_location=None))
    line = one_error_line(run)
    assert "No output location provided" in line and "athena_output_location" in line


def test_a_query_cancelled_from_outside_is_reported_and_not_emitted(run_cur, legacy):
    uri, table = legacy
    with AthenaFake([table]) as fake:
        fake.script = ["cancel"]
        run = run_cur(athena_config(fake, uri, table))
    line = one_error_line(run)
    assert "was cancelled outside the tap" in line and "reads it again" in line
    assert run.records(STREAM) == []


def test_throttling_and_lost_answers_are_retried_without_starting_a_query_twice(
    run_cur, legacy, items
):
    uri, table = legacy
    # Seed 0 resets the first start after Athena took it, then throttles (TooManyRequests)
    # and fails (500) the second period's start before letting it through.
    faults = Faults(rate=0.6, seed=0, kinds=("reset", "429", "500"))
    with AthenaFake([table], faults=faults, fault_operations=("StartQueryExecution",)) as fake:
        run = run_cur(athena_config(fake, uri, table))
        starts = fake.operations("StartQueryExecution")
        assert [r.fault for r in starts] == ["reset", None, "429", "500", None]
    assert run.returncode == 0, run.stderr
    assert_matches(run.records(STREAM), items)
    # A start whose answer was lost is sent again with the same token: still one query.
    assert len(fake.started()) == 2 < len(starts)
    assert len({r.json()["ClientRequestToken"] for r in starts}) == 2


def test_a_retryable_athena_failure_starts_the_query_again(run_cur, cur2):
    uri, table = cur2
    with AthenaFake([table]) as fake:
        fake.script = ["fail_retryable"]
        run = run_cur(athena_config(fake, uri, table))
        started = fake.started()
    assert run.returncode == 0, run.stderr
    assert [e.state for e in started] == ["FAILED", "SUCCEEDED", "SUCCEEDED"]
    assert started[0].token != started[1].token  # a new attempt, a new token
    assert "retryable system error" in run.stderr
    assert {r["billing_period"] for r in run.records(STREAM)} == {"2026-01", "2026-02"}


def test_a_query_past_its_deadline_is_cancelled(run_cur, legacy):
    uri, table = legacy
    with AthenaFake([table]) as fake:
        fake.script = ["hang"]
        run = run_cur(athena_config(fake, uri, table, athena_query_timeout_minutes=0.01))
        (execution,) = fake.started()
    line = one_error_line(run)
    assert "still RUNNING after athena_query_timeout_minutes" in line
    assert execution.stopped and execution.state == "CANCELLED"


def test_max_run_minutes_cancels_the_running_query_and_keeps_the_state(run_cur, legacy):
    uri, table = legacy
    with AthenaFake([table]) as fake:
        fake.script = ["hang"]
        run = run_cur(athena_config(fake, uri, table, max_run_minutes=0.06))
        (execution,) = fake.started()
    line = one_error_line(run)
    assert "max_run_minutes (0.06) passed" in line
    assert execution.stopped and execution.state == "CANCELLED"
    assert run.records(STREAM) == []


def test_a_query_scanning_more_than_the_cap_is_stopped(run_cur, legacy):
    uri, table = legacy
    with AthenaFake([table], running_polls=3) as fake:
        run = run_cur(athena_config(fake, uri, table, athena_max_bytes_scanned_per_query=1000))
        (execution,) = fake.started()
    line = one_error_line(run)
    assert "more than athena_max_bytes_scanned_per_query (1,000)" in line
    assert execution.stopped and execution.state == "CANCELLED"


def test_sigterm_cancels_the_running_query(legacy, catalog, tmp_path):
    uri, table = legacy
    with AthenaFake([table]) as fake:
        fake.script = ["hang"]
        config = tmp_path / "config.json"
        config.write_text(json.dumps(athena_config(fake, uri, table)))
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        tap = Path(sys.executable).parent / "tap-aws-carbon"
        with subprocess.Popen(
            [str(tap), "--config", str(config), "--catalog", str(catalog)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**env, "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"},
        ) as process:
            deadline = time.monotonic() + 60
            while not fake.operations("GetQueryExecution") and time.monotonic() < deadline:
                time.sleep(0.05)
            process.send_signal(signal.SIGTERM)
            stdout, stderr = process.communicate(timeout=60)
        (execution,) = fake.started()
    CAPTURED_OUTPUT.extend((stdout, stderr))
    assert process.returncode != 0
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and "stopped by SIGTERM" in errors[0], stderr
    assert execution.stopped and execution.state == "CANCELLED"


def test_the_fake_checks_what_it_is_sent_as_athena_does(legacy):
    """Botocore checks neither GetQueryResults' MaxResults cap nor how parameters are quoted;
    the fake refuses what Athena refuses, so the tap's requests are checked against them."""
    _, table = legacy
    with AthenaFake([table], queued_polls=0, running_polls=0) as fake:
        client = boto3.client(
            "athena",
            endpoint_url=fake.url,
            region_name="eu-west-1",
            aws_access_key_id="AKIDATHENATEST000001",
            aws_secret_access_key="athena-test-secret",
        )
        request = {
            "QueryString": 'SELECT count(*) AS n FROM "daily" WHERE "year" = ?',
            "QueryExecutionContext": {"Database": table.database},
            "ResultConfiguration": {"OutputLocation": RESULTS},
            "ClientRequestToken": "t" * 32,
        }

        def state(query_id: str) -> str:
            answer = client.get_query_execution(QueryExecutionId=query_id)
            return answer["QueryExecution"]["Status"]["State"]

        query_id = client.start_query_execution(**request, ExecutionParameters=["'2026'"])[
            "QueryExecutionId"
        ]
        assert state(query_id) == "SUCCEEDED"
        with pytest.raises(client.exceptions.InvalidRequestException, match="1000"):
            client.get_query_results(QueryExecutionId=query_id, MaxResults=1001)
        rows = client.get_query_results(QueryExecutionId=query_id)["ResultSet"]["Rows"]
        assert rows == [{"Data": [{"VarCharValue": "n"}]}, {"Data": [{"VarCharValue": "500"}]}]
        # The same token with other parameters is refused; with the same, it is the same query.
        with pytest.raises(client.exceptions.InvalidRequestException, match="Idempotent"):
            client.start_query_execution(**request, ExecutionParameters=["'2025'"])
        again = client.start_query_execution(**request, ExecutionParameters=["'2026'"])
        assert again["QueryExecutionId"] == query_id
        # A string partition compared with an unquoted value fails as a type mismatch.
        request["ClientRequestToken"] = "u" * 32
        unquoted = client.start_query_execution(**request, ExecutionParameters=["2026"])
        failed = client.get_query_execution(QueryExecutionId=unquoted["QueryExecutionId"])
        status = failed["QueryExecution"]["Status"]
        assert status["State"] == "FAILED" and "TYPE_MISMATCH" in status["StateChangeReason"]
        assert status["AthenaError"]["ErrorCategory"] == 2
        # An unsigned call is refused before anything runs.
        unsigned = requests.post(
            fake.url,
            data=json.dumps({"QueryExecutionId": query_id}),
            headers={"X-Amz-Target": "AmazonAthena.GetQueryExecution"},
            timeout=10,
        )
        assert unsigned.status_code == 400
        assert unsigned.json()["__type"] == "MissingAuthenticationTokenException"
        unsigned = requests.get(f"{fake.url}/query-executions/{query_id}", timeout=10)
        assert unsigned.status_code == 400
        assert unsigned.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"


SIGNED = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDATHENATEST000001/20261201/eu-west-1/"
    "athena/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
}
REST_ROUTES = {
    "StartQueryExecution": ("POST", "/query-executions"),
    "GetQueryExecution": ("GET", "/query-executions/{}"),
    "GetQueryResults": ("GET", "/query-executions/{}/results"),
    "StopQueryExecution": ("POST", "/query-executions/{}/stop"),
}


def send(fake: AthenaFake, protocol: str, operation: str, **members: Any) -> requests.Response:
    """An Athena call laid out as botocore lays it out in `protocol` (json 1.1 or rest-json)."""
    if protocol == "json":
        headers = {"X-Amz-Target": f"AmazonAthena.{operation}"}
        return requests.post(
            fake.url, data=json.dumps(members), headers={**SIGNED, **headers}, timeout=10
        )
    method, path = REST_ROUTES[operation]
    execution = quote(members.pop("QueryExecutionId", ""), safe="")
    query = {k: members.pop(k) for k in ("NextToken", "MaxResults") if k in members}
    return requests.request(
        method,
        fake.url + path.format(execution),
        params=query,
        data=json.dumps(members) if method == "POST" else None,
        headers=SIGNED,
        timeout=10,
    )


def as_botocore_reads(protocol: str, operation: str, response: requests.Response) -> Any:
    """What a botocore client returns (or raises ClientError with) for the answer: the
    protocol's parser, then the modeled error's members, as botocore's endpoint adds them."""
    model = botocore.session.get_session().get_service_model("athena")
    parser = create_parser(protocol)
    answer = {
        "status_code": response.status_code,
        "headers": response.headers,
        "body": response.content,
    }
    parsed = parser.parse(answer, model.operation_model(operation).output_shape)
    code = parsed.get("Error", {}).get("Code")
    shape = model.shape_for_error_code(code) if code else None
    if shape is not None:
        parsed.update(parser.parse(answer, shape))
    parsed.pop("ResponseMetadata", None)
    return parsed


def test_both_protocols_reach_the_same_athena_and_botocore_reads_the_same_answers(legacy):
    """Older botocore calls Athena in json 1.1, newer in rest-json: each call made both ways
    reaches the same query, and each answer, success or error, parses to the same result."""
    _, table = legacy

    def both(fake: AthenaFake, operation: str, **members: Any) -> Any:
        answers = []
        for protocol in ("json", "rest-json"):
            response = send(fake, protocol, operation, **members)
            if response.status_code >= 300:  # each protocol's own error shape
                in_header = "x-amzn-ErrorType" in response.headers
                in_body = "__type" in response.json()
                assert (in_body, in_header) == (
                    (True, False) if protocol == "json" else (False, True)
                )
            answers.append(as_botocore_reads(protocol, operation, response))
        assert answers[0] == answers[1]
        return answers[0]

    with AthenaFake([table], queued_polls=0, running_polls=0) as fake:
        started = both(
            fake,
            "StartQueryExecution",
            QueryString='SELECT "line_item_usage_account_id" AS a FROM "daily" LIMIT 2',
            QueryExecutionContext={"Database": table.database},
            ResultConfiguration={"OutputLocation": RESULTS},
            ClientRequestToken="p" * 32,
        )
        query_id = started["QueryExecutionId"]
        assert len(fake.started()) == 1  # the same token in either protocol: one query
        status = both(fake, "GetQueryExecution", QueryExecutionId=query_id)
        assert status["QueryExecution"]["Status"]["State"] == "SUCCEEDED"
        first = both(fake, "GetQueryResults", QueryExecutionId=query_id, MaxResults=2)
        rest = both(
            fake, "GetQueryResults", QueryExecutionId=query_id, NextToken=first["NextToken"]
        )
        assert len(first["ResultSet"]["Rows"]) == 2 and len(rest["ResultSet"]["Rows"]) == 1
        assert both(fake, "StopQueryExecution", QueryExecutionId=query_id) == {}
        too_many = both(fake, "GetQueryResults", QueryExecutionId=query_id, MaxResults=1001)
        assert too_many["Error"]["Code"] == "InvalidRequestException"
        assert too_many["AthenaErrorCode"] == "INVALID_INPUT" and "1000" in too_many["Message"]
        unknown = both(fake, "GetQueryExecution", QueryExecutionId="no-such-query")
        assert unknown["Error"] == {
            "Code": "InvalidRequestException",
            "Message": "QueryExecution no-such-query was not found",
        }
        # The rest-json path and query members reach the handlers as the json 1.1 body does.
        pages = fake.operations("GetQueryResults")
        maxima = [fake.arguments(r).get("MaxResults") for r in pages]
        assert maxima == [2, 2, None, None, 1001, 1001]
        assert fake.protocols() == {"athena": {"json", "rest-json"}}
    throttled = Faults(rate=1.0, kinds=("429",))
    with AthenaFake([table], faults=throttled, fault_operations=("StartQueryExecution",)) as fake:
        refused = both(fake, "StartQueryExecution", QueryString="SELECT 1")
        assert refused["Error"]["Code"] == "TooManyRequestsException"
        assert refused["Reason"] == "CONCURRENT_QUERY_LIMIT_EXCEEDED"
    with AthenaFake([table], faults=Faults(rate=1.0, kinds=("500",))) as fake:
        failed = both(fake, "GetQueryExecution", QueryExecutionId=query_id)
        assert failed["Error"] == {"Code": "InternalServerException", "Message": "Internal error"}
