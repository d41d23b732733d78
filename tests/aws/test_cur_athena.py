"""cur_engine athena: the same records and state as the local engine, from Athena and Glue.

The tap runs as Meltano runs it (its console script); boto3 talks over real HTTP to the Athena
fake (tests/fakes/aws_athena.py), which runs the tap's Trino SQL in DuckDB over the same
generated CUR files the local engine reads.
"""

from __future__ import annotations

import json
import ssl
from datetime import date
from pathlib import Path
from typing import Any

import botocore.session
import pytest
import trustme

from tests.aws.test_cur_usage_daily import STREAM, assert_matches, cur_config
from tests.conftest import TapRun, assert_no_secrets, run_tap
from tests.fakes.aws_athena import AthenaFake, Table, write_legacy_athena_cur, write_status_table
from tests.fakes.aws_cur import LineItem, line_items, write_cur2

RESULTS = "s3://athena-results/cur/"


@pytest.fixture(scope="module")
def catalog(tmp_path_factory, tap_runner_module) -> Path:
    """The catalog with only cur_usage_daily selected, discovered once for the module."""
    found = json.loads(
        tap_runner_module("tap-aws-carbon", cur_config("/nowhere"), args=("--discover",)).stdout
    )
    for entry in found["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] == STREAM
    path = tmp_path_factory.mktemp("catalog") / "catalog.json"
    path.write_text(json.dumps(found))
    return path


@pytest.fixture(scope="module")
def tap_runner_module(tmp_path_factory):
    """tap_runner for module-scoped fixtures."""
    folder = tmp_path_factory.mktemp("runs")

    def _run(executable: str, config: dict[str, Any], **kwargs: Any) -> TapRun:
        return run_tap(executable, config, folder, **kwargs)

    return _run


@pytest.fixture
def run_cur(catalog, tap_runner):
    """Run the tap on cur_usage_daily alone (the catalog is discovered once per module)."""

    def _run(config: dict[str, Any], state: dict[str, Any] | None = None, **kwargs: Any) -> TapRun:
        return tap_runner(
            "tap-aws-carbon", config, state=state, args=("--catalog", str(catalog)), **kwargs
        )

    return _run


@pytest.fixture(scope="module")
def items() -> list[LineItem]:
    """Two billing periods of line items (small: the SQL's grain, not volume, is under test)."""
    return line_items(date(2026, 1, 1), 300, seed=31) + line_items(date(2026, 2, 1), 200, seed=32)


@pytest.fixture(scope="module")
def legacy(tmp_path_factory, items) -> tuple[Path, Table]:
    """A legacy CUR as the Athena integration delivers it (Parquet, year=/month=)."""
    root = tmp_path_factory.mktemp("legacy")
    location = write_legacy_athena_cur(root, items, assembly_id="asm-7")
    return root / "cur" / "daily", Table("athenacurcfn_daily", "daily", location, ("year", "month"))


@pytest.fixture(scope="module")
def cur2(tmp_path_factory, items) -> tuple[Path, Table]:
    """A CUR 2.0 export (Parquet, BILLING_PERIOD=, product and resource_tags maps)."""
    root = tmp_path_factory.mktemp("cur2")
    write_cur2(root, items, fmt="parquet", execution_id="exec-7")
    return root, Table("cur_exports", "cur2", root / "data", ("billing_period",))


def athena_config(fake: AthenaFake, uri: Path, table: Table, **overrides: Any) -> dict[str, Any]:
    """Settings for the Athena engine against `fake`; an override of None leaves it unset."""
    settings: dict[str, Any] = {
        "cur_engine": "athena",
        "athena_database": table.database,
        "athena_table": table.name,
        "athena_output_location": RESULTS,
        "athena_endpoint_url": fake.url,
        "glue_endpoint_url": fake.url,
        "athena_region": "eu-west-1",
    }
    settings.update(overrides)
    return cur_config(str(uri), **{k: v for k, v in settings.items() if v is not None})


def athena_protocol() -> str:
    """The protocol the installed botocore describes Athena with: `json` 1.1 in older releases
    (1.44.8, the range's floor), `rest-json` in newer ones (1.44.18). The tap's range allows
    both and the fake serves both."""
    protocol = botocore.session.get_session().get_service_model("athena").protocol
    assert protocol in ("json", "rest-json")
    return str(protocol)


def bytes_counted(stderr: str) -> int:
    """The carbon_taps.athena.bytes_scanned total in OpenTelemetry's console metric export."""
    total = 0
    decoder = json.JSONDecoder()
    text = stderr
    while (start := text.find('{\n    "resource_metrics"')) >= 0:
        document, end = decoder.raw_decode(text[start:])
        text = text[start + end :]
        for resource in document["resource_metrics"]:
            for scope in resource["scope_metrics"]:
                for metric in scope["metrics"]:
                    if metric["name"] == "carbon_taps.athena.bytes_scanned":
                        total += sum(p["value"] for p in metric["data"]["data_points"])
    return total


@pytest.mark.parametrize(
    ("generation", "tags"), [("legacy", []), ("legacy", ["user:team"]), ("cur2", ["user:team"])]
)
def test_athena_and_local_engines_emit_identical_records_and_state(
    run_cur, request, tmp_path, generation, tags
):
    uri, table = request.getfixturevalue(generation)
    local = run_cur(cur_config(str(uri), cur_include_tags=tags))
    assert local.returncode == 0, local.stderr
    tables = [table]
    if generation == "legacy":  # the integration's status table, saying the report is READY
        tables.append(write_status_table(tmp_path, table.database, "READY"))
    with AthenaFake(tables) as fake:
        athena = run_cur(athena_config(fake, uri, table, cur_include_tags=tags))
        assert athena.returncode == 0, athena.stderr
        assert athena.records(STREAM) == local.records(STREAM)
        assert athena.final_state == local.final_state
        # Athena was called in the protocol of the botocore installed, Glue in json 1.1.
        assert fake.protocols() == {"athena": {athena_protocol()}, "glue": {"json"}}
        # One query per billing period, each pruned to its partition with typed parameters.
        status, started = [], []
        for execution in fake.started():
            is_status = "cost_and_usage_data_status" in execution.request["QueryString"]
            (status if is_status else started).append(execution)
        assert len(status) == (1 if generation == "legacy" else 0)
        assert len(started) == 2
        parameters = [e.request["ExecutionParameters"] for e in started]
        if generation == "legacy":
            assert parameters == [["'2026'", "'1'"], ["'2026'", "'2'"]]
        else:
            assert parameters == [["'2026-01'"], ["'2026-02'"]]
        assert all(0 < e.scanned < table.size / 2 for e in started)
    records = athena.records(STREAM)
    assert len(records) > 100
    if tags:
        assert {r["resource_tags"]["user:team"] for r in records} == {"platform"}
    scanned = [line for line in athena.stderr.splitlines() if "scanned" in line]
    assert len(scanned) == 2 + len(status) and all("bytes" in line for line in scanned)
    assert_no_secrets(athena.stdout, athena.stderr)


def test_an_unchanged_period_is_not_queried_again_and_a_restated_one_is(
    run_cur, tmp_path_factory, items
):
    root = tmp_path_factory.mktemp("restated")
    location = write_legacy_athena_cur(root, items, assembly_id="asm-1")
    table = Table("athenacurcfn_daily", "daily", location, ("year", "month"))
    uri = root / "cur" / "daily"
    with AthenaFake([table], queued_polls=1, running_polls=2) as fake:
        config = athena_config(fake, uri, table)
        first = run_cur(config, env={"OTEL_METRICS_EXPORTER": "console"})
        assert first.returncode == 0, first.stderr
        assert_matches(first.records(STREAM), items)
        # The bytes each query scanned are counted in a metric (here printed to stderr).
        assert bytes_counted(first.stderr) == sum(e.scanned for e in fake.started()) > 0
        again = run_cur(config, state=first.final_state)
        assert again.returncode == 0, again.stderr
        assert again.records(STREAM) == []
        assert len(fake.started()) == 2  # the second run started no query
        restated = line_items(date(2026, 1, 1), 120, seed=77)
        write_legacy_athena_cur(root, restated, assembly_id="asm-2")
        third = run_cur(config, state=again.final_state)
    assert third.returncode == 0, third.stderr
    records = third.records(STREAM)
    assert {(r["billing_period"], r["delivery_id"]) for r in records} == {("2026-01", "asm-2")}
    assert_matches(records, restated)
    assert len(fake.started()) == 3


def test_athena_and_glue_go_through_the_ca_bundle_of_the_environment(run_cur, cur2, tmp_path):
    """Built like the tap's other botocore clients, they trust AWS_CA_BUNDLE (a TLS-inspecting
    proxy's CA) and nothing else."""
    uri, table = cur2
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "corporate-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    fake = AthenaFake([table]).start(tls=context)
    try:
        assert fake.url.startswith("https://")
        config = athena_config(fake, uri, table, max_attempts=1)
        trusted = run_cur(config, env={"AWS_CA_BUNDLE": str(ca_file)})
        untrusted = run_cur(config)
    finally:
        fake.stop()
    assert trusted.returncode == 0, trusted.stderr
    assert {r["billing_period"] for r in trusted.records(STREAM)} == {"2026-01", "2026-02"}
    assert untrusted.returncode == 1
    assert any("AWS_CA_BUNDLE" in line for line in untrusted.error_lines), untrusted.stderr
