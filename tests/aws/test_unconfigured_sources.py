"""Issue 13 item 5: a selected stream whose source is not set is skipped in one line.

Meltano selects every stream by default, so with only `carbon_export_uri` set (the air-gapped use)
the run must read the export without any AWS identity instead of failing on the API streams.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tests.aws.conftest import tap_config
from tests.conftest import assert_no_secrets
from tests.fakes.aws_data import synthetic_rows
from tests.fakes.aws_export import write_export
from tests.test_discovery_without_config import hermetic_env

API_STREAMS = ("carbon_emissions", "water_allocation")


def skip_lines(stderr: str) -> dict[str, str]:
    """Stream name -> its 'skipped' line."""
    lines = {}
    for line in stderr.splitlines():
        if "Stream " in line and " skipped: " in line:
            name = line.split("Stream ", 1)[1].split(" ", 1)[0]
            assert name not in lines, f"two skip lines for {name}"
            lines[name] = line
    return lines


def test_only_the_export_set_reads_it_without_credentials(tap_runner, tmp_path: Path):
    write_export(tmp_path / "export", synthetic_rows(date(2025, 1, 1), 3, seed=5))
    config = {"carbon_export_uri": str(tmp_path / "export")}
    run = tap_runner("tap-aws-carbon", config, env=hermetic_env(tmp_path))
    assert run.returncode == 0, run.stderr
    assert run.error_lines == []
    assert run.records("carbon_emissions_export")
    streams = {m["stream"] for m in run.messages if m["type"] in ("SCHEMA", "RECORD")}
    assert streams == {"carbon_emissions_export"}
    skipped = skip_lines(run.stderr)
    assert set(skipped) == {*API_STREAMS, "cur_usage_daily"}
    assert "cur_uri" in skipped["cur_usage_daily"]
    for stream in API_STREAMS:
        assert "aws_profile" in skipped[stream] and "role_arn" in skipped[stream]


def test_credentials_and_the_export_read_every_configured_stream(fake, tap_runner, tmp_path):
    write_export(tmp_path / "export", synthetic_rows(date(2025, 1, 1), 3, seed=5))
    config = tap_config(fake, carbon_export_uri=str(tmp_path / "export"))
    run = tap_runner("tap-aws-carbon", config, env=hermetic_env(tmp_path))
    assert run.returncode == 0, run.stderr
    assert run.records("carbon_emissions") and run.records("carbon_emissions_export")
    assert set(skip_lines(run.stderr)) == {"cur_usage_daily"}
    assert_no_secrets(run.stdout, run.stderr)


def test_api_only_config_skips_the_file_streams_by_name(fake, tap_runner, tmp_path):
    run = tap_runner("tap-aws-carbon", tap_config(fake), env=hermetic_env(tmp_path))
    assert run.returncode == 0, run.stderr
    skipped = skip_lines(run.stderr)
    assert set(skipped) == {"carbon_emissions_export", "cur_usage_daily"}
    assert "carbon_export_uri" in skipped["carbon_emissions_export"]


def test_no_source_and_no_credentials_still_fails_in_one_line(tap_runner, tmp_path):
    """With no file source the API streams are the run: a missing identity is an error."""
    run = tap_runner("tap-aws-carbon", {}, env=hermetic_env(tmp_path))
    assert run.returncode == 1
    assert len(run.error_lines) == 1, run.stderr
    assert "credentials" in run.error_lines[0].lower()
    assert "Traceback" not in run.stderr


def test_connection_test_with_only_the_export_set_passes(tap_runner, tmp_path):
    """`--test` syncs streams directly (not through sync_all): it must skip the same ones."""
    write_export(tmp_path / "export", synthetic_rows(date(2025, 1, 1), 1, seed=5))
    config = {"carbon_export_uri": str(tmp_path / "export")}
    run = tap_runner("tap-aws-carbon", config, args=("--test",), env=hermetic_env(tmp_path))
    assert run.returncode == 0, run.stderr  # (the SDK logs its record-limit abort as an error)
    assert "Traceback" not in run.stderr
    assert set(skip_lines(run.stderr)) == {*API_STREAMS, "cur_usage_daily"}
