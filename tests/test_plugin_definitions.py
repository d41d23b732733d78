"""The plugin definitions (plugins/extractors/*.yml and meltano.yml) agree with each tap's
`--about`: the same settings, kinds, descriptions and secrecy, so a user pasting them gets what
the tap takes."""

from __future__ import annotations

import copy
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from singer_sdk.exceptions import ConfigValidationError

from tests.conftest import ROOT

_spec = importlib.util.spec_from_file_location(
    "plugin_definitions", ROOT / "scripts" / "plugin_definitions.py"
)
assert _spec and _spec.loader
defs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(defs)


def drift(tap: str, declared: list[dict[str, Any]]) -> list[str]:
    """What differs between the tap's --about settings and a list of setting definitions."""
    props = defs.about(tap)["settings"]["properties"]
    by_name = {s["name"]: s for s in declared}
    problems = [f"{name}: not declared" for name in props if name not in by_name]
    problems += [f"{name}: not a setting of {tap}" for name in by_name if name not in props]
    for name, prop in props.items():
        if name not in by_name:
            continue
        entry = by_name[name]
        secret = bool(prop.get("secret"))
        if entry.get("kind") != defs.kind_of(prop):
            problems.append(f"{name}: kind {entry.get('kind')}, expected {defs.kind_of(prop)}")
        if bool(entry.get("sensitive")) != secret or (entry.get("kind") == "password") != secret:
            problems.append(f"{name}: secrecy differs (sensitive/password vs secret={secret})")
        want = " ".join(str(prop.get("description") or "").split())
        if not want or entry.get("description") != want:
            problems.append(f"{name}: description differs or is empty")
    return problems


def _meltano_settings(tap: str) -> list[dict[str, Any]]:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    (plugin,) = [p for p in project["plugins"]["extractors"] if p["name"] == tap]
    return plugin["settings"]


def _hub(tap: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "plugins" / "extractors" / f"{tap}.yml").read_text())


@pytest.mark.parametrize("tap", defs.TAPS)
def test_definitions_match_about(tap: str) -> None:
    hub = _hub(tap)
    assert drift(tap, hub["settings"]) == []
    assert drift(tap, _meltano_settings(tap)) == []
    info = defs.about(tap)
    assert hub["name"] == hub["executable"] == tap
    assert hub["namespace"] == tap.replace("-", "_")
    assert hub["pip_url"] == f"{tap}=={info['version']}"
    assert hub["capabilities"] == info["capabilities"]
    assert all(s.get("label") for s in hub["settings"])


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda s: s.update(kind="integer"), "kind integer"),
        (lambda s: s.update(description="Something else."), "description differs"),
        (lambda s: s.pop("sensitive"), "secrecy differs"),
        (lambda s: s.update(name="misspelt"), "not declared"),
    ],
    ids=["kind", "description", "secrecy", "name"],
)
def test_drift_is_reported(change, expected: str) -> None:
    declared = copy.deepcopy(_meltano_settings("tap-aws-carbon"))
    (secret,) = [s for s in declared if s["name"] == "aws_secret_access_key"]
    change(secret)
    assert any(expected in p for p in drift("tap-aws-carbon", declared))


def test_generated_files_are_current_and_regenerating_changes_nothing() -> None:
    """`--check` passes, and a meltano.yml whose settings drifted is put back by the generator
    with nothing else in the file touched."""
    check = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "plugin_definitions.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    current = (ROOT / "meltano.yml").read_text()
    assert defs.render_meltano(current) == current
    drifted = current.replace(
        "name: aws_session_token, kind: password", "name: aws_session_token, kind: string", 1
    )
    assert drifted != current and defs.render_meltano(drifted) == current


def test_a_decimal_setting_given_as_text_is_read_as_the_number() -> None:
    """What Meltano hands the tap for `…_MAX_REQUESTS_PER_SECOND=0.5` (kind string)."""
    from tap_aws_carbon.tap import TapAwsCarbon

    tap = TapAwsCarbon(config={"max_requests_per_second": "0.5"}, parse_env_config=False)
    assert tap.config["max_requests_per_second"] == 0.5
    with pytest.raises(ConfigValidationError):
        TapAwsCarbon(config={"max_requests_per_second": "fast"}, parse_env_config=False)


@pytest.mark.meltano
def test_meltano_prints_a_decimal_setting_set_in_the_environment(tmp_path: Path) -> None:
    """`TAP_AWS_CARBON_MAX_REQUESTS_PER_SECOND=0.5 meltano config print` failed under the old
    `kind: integer` and fails under `kind: decimal` (Decimal is not JSON serializable)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_", "MELTANO_"))}
    env |= {
        "TAP_AWS_CARBON_MAX_REQUESTS_PER_SECOND": "0.5",
        "MELTANO_SYS_DIR_ROOT": str(tmp_path / "meltano-sys"),
    }
    meltano = str(Path(sys.executable).parent / "meltano")
    done = subprocess.run(
        [meltano, "--environment=prod", "config", "print", "tap-aws-carbon"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert '"max_requests_per_second": "0.5"' in done.stdout
