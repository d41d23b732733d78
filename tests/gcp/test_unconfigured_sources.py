"""Issue 13 item 5: a GCP stream with no table or folder set is skipped in one line.

With only `carbon_footprint_uri` (exported files) the run needs no Google credentials; with
nothing set at all it fails in one line naming the settings.
"""

from __future__ import annotations

from tests.aws.test_unconfigured_sources import skip_lines
from tests.conftest import ROOT
from tests.test_discovery_without_config import hermetic_env


def test_only_files_set_reads_them_without_credentials(tap_runner, tmp_path):
    config = {"carbon_footprint_uri": str(ROOT / "sample_data/gcp/carbon_footprint")}
    run = tap_runner("tap-gcp-carbon", config, env=hermetic_env(tmp_path))
    assert run.returncode == 0, run.stderr
    assert run.error_lines == []
    assert run.records("carbon_footprint")
    assert {m["stream"] for m in run.messages if m["type"] == "SCHEMA"} == {"carbon_footprint"}
    skipped = skip_lines(run.stderr)
    assert set(skipped) == {"billing_usage_daily"}
    assert "billing_export_table" in skipped["billing_usage_daily"]


def test_nothing_set_fails_in_one_line_naming_the_settings(tap_runner, tmp_path):
    run = tap_runner("tap-gcp-carbon", {}, env=hermetic_env(tmp_path))
    assert run.returncode == 1
    assert len(run.error_lines) == 1, run.stderr
    line = run.error_lines[0]
    for setting in ("carbon_footprint_dataset", "carbon_footprint_uri", "billing_export_table"):
        assert setting in line
    assert "Traceback" not in run.stderr
