"""cur_engine athena: the same records and state as the local engine, from Athena and Glue.

The tap runs as Meltano runs it (its console script); boto3 talks over real HTTP to the Athena
fake (tests/fakes/aws_athena.py), which runs the tap's Trino SQL in DuckDB over the same
generated CUR files the local engine reads.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.aws.test_cur_usage_daily import STREAM, assert_matches, cur_config, run_cur
from tests.conftest import assert_no_secrets
from tests.fakes.aws_athena import AthenaFake, Table, write_legacy_athena_cur
from tests.fakes.aws_cur import LineItem, line_items, write_cur2

RESULTS = "s3://athena-results/cur/"


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
    return cur_config(
        str(uri),
        cur_engine="athena",
        athena_database=table.database,
        athena_table=table.name,
        athena_output_location=RESULTS,
        athena_endpoint_url=fake.url,
        glue_endpoint_url=fake.url,
        athena_region="eu-west-1",
        **overrides,
    )


@pytest.mark.parametrize("generation", ["legacy", "cur2"])
@pytest.mark.parametrize("tags", [[], ["user:team"]])
def test_athena_and_local_engines_emit_identical_records_and_state(
    tap_runner, tmp_path, request, generation, tags
):
    uri, table = request.getfixturevalue(generation)
    local = run_cur(tmp_path, tap_runner, cur_config(str(uri), cur_include_tags=tags))
    assert local.returncode == 0, local.stderr
    with AthenaFake([table]) as fake:
        athena = run_cur(
            tmp_path, tap_runner, athena_config(fake, uri, table, cur_include_tags=tags)
        )
        assert athena.returncode == 0, athena.stderr
        assert athena.records(STREAM) == local.records(STREAM)
        assert athena.final_state == local.final_state
        # One query per billing period, each pruned to its partition with typed parameters.
        started = fake.started()
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
    assert len(scanned) == 2 and all("bytes" in line for line in scanned)
    assert_no_secrets(athena.stdout, athena.stderr)


def test_the_totals_from_athena_equal_the_line_items(tap_runner, tmp_path, legacy, items):
    uri, table = legacy
    with AthenaFake([table], queued_polls=2, running_polls=2) as fake:
        run = run_cur(tmp_path, tap_runner, athena_config(fake, uri, table))
    assert run.returncode == 0, run.stderr
    assert_matches(run.records(STREAM), items)


def test_an_unchanged_period_is_not_queried_again_and_a_restated_one_is(
    tap_runner, tmp_path_factory, tmp_path, items
):
    root = tmp_path_factory.mktemp("restated")
    location = write_legacy_athena_cur(root, items, assembly_id="asm-1")
    table = Table("athenacurcfn_daily", "daily", location, ("year", "month"))
    uri = root / "cur" / "daily"
    with AthenaFake([table]) as fake:
        config = athena_config(fake, uri, table)
        first = run_cur(tmp_path, tap_runner, config)
        assert first.returncode == 0, first.stderr
        again = run_cur(tmp_path, tap_runner, config, state=first.final_state)
        assert again.returncode == 0, again.stderr
        assert again.records(STREAM) == []
        assert len(fake.started()) == 2  # the second run started no query
        restated = line_items(date(2026, 1, 1), 120, seed=77)
        write_legacy_athena_cur(root, restated, assembly_id="asm-2")
        third = run_cur(tmp_path, tap_runner, config, state=again.final_state)
    assert third.returncode == 0, third.stderr
    records = third.records(STREAM)
    assert {(r["billing_period"], r["delivery_id"]) for r in records} == {("2026-01", "asm-2")}
    assert_matches(records, restated)
    assert len(fake.started()) == 3
