"""The direct record route gives what singer-sdk's generic path gives, and yields to it when
selection, stream maps or flattening would change a record."""

from __future__ import annotations

import json
import re

from tests.aws.conftest import tap_config

STREAM = "carbon_emissions"


def _catalog(fake, tap_runner, tmp_path, deselect: tuple[str, ...] = ()) -> str:
    catalog = json.loads(
        tap_runner("tap-aws-carbon", tap_config(fake), args=("--discover",)).stdout
    )
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            crumb = item["breadcrumb"]
            if crumb == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] == STREAM
            elif crumb[-1] in deselect:
                item["metadata"]["selected"] = False
    path = tmp_path / f"catalog-{len(deselect)}.json"
    path.write_text(json.dumps(catalog))
    return str(path)


def _record_lines(stdout: str) -> list[str]:
    """RECORD lines as written, each extraction time replaced by a placeholder."""
    lines = [line for line in stdout.splitlines() if line.startswith('{"type":"RECORD"')]
    stamp = re.compile(r'"time_extracted":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z"')
    assert all(len(stamp.findall(line)) == 1 for line in lines), lines[:1]
    return [stamp.sub('"time_extracted":"T"', line) for line in lines]


def test_direct_messages_are_the_generic_paths_bytes(fake, tap_runner, tmp_path):
    """Same records and state; on the wire, the same keys in the same order, the same number
    formatting and one UTC timestamp per line."""
    catalog = _catalog(fake, tap_runner, tmp_path)
    direct = tap_runner("tap-aws-carbon", tap_config(fake), args=("--catalog", catalog))
    # Flattening a flat record changes nothing, but it sends records down the generic path.
    generic = tap_runner(
        "tap-aws-carbon",
        tap_config(fake, flattening_enabled=True, flattening_max_depth=1),
        args=("--catalog", catalog),
    )
    assert direct.returncode == 0 and generic.returncode == 0, direct.stderr + generic.stderr
    assert direct.records(STREAM) and direct.records(STREAM) == generic.records(STREAM)
    assert direct.final_state == generic.final_state
    lines = _record_lines(direct.stdout)
    assert lines and lines == _record_lines(generic.stdout)


def test_a_deselected_property_is_still_left_out(fake, tap_runner, tmp_path):
    catalog = _catalog(fake, tap_runner, tmp_path, deselect=("model_version",))
    run = tap_runner("tap-aws-carbon", tap_config(fake), args=("--catalog", catalog))
    assert run.returncode == 0, run.stderr
    records = run.records(STREAM)
    assert records and all("model_version" not in r for r in records)
    assert all("usage_account_id" in r for r in records)


def test_stream_maps_still_apply(fake, tap_runner, tmp_path):
    catalog = _catalog(fake, tap_runner, tmp_path)
    maps = {STREAM: {"account": "usage_account_id", "__else__": None, "__key_properties__": []}}
    run = tap_runner(
        "tap-aws-carbon", tap_config(fake, stream_maps=maps), args=("--catalog", catalog)
    )
    assert run.returncode == 0, run.stderr
    records = run.records(STREAM)
    assert records and all(set(r) == {"account"} for r in records)
