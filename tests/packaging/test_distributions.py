"""The built distributions are what a user can install anywhere: license, ranges, one version;
and each tap installs alone, with plain pip, from dist/ (third parties from a wheelhouse), then
answers --about, --discover and syncs against the local fakes."""

from __future__ import annotations

import json
import re
import tarfile
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from tests.conftest import ROOT, assert_no_secrets
from tests.fakes.sample_services import sample_services
from tests.packaging.conftest import TAPS, clean_env, dev_config, new_venv, run

VERSION = (ROOT / "VERSION").read_text().strip()
DISTRIBUTIONS = ("carbon_taps_shared", *(t.replace("-", "_") for t in TAPS))
# The stream each tap's sync must deliver from the sample fakes.
MAIN_STREAM = {
    "tap-aws-carbon": "carbon_emissions",
    "tap-azure-emissions": "emissions_monthly",
    "tap-gcp-carbon": "carbon_footprint",
}


def _metadata(wheel: Path) -> tuple[dict[str, list[str]], list[str]]:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (meta,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        parsed = HeaderParser().parsestr(archive.read(meta).decode())
    fields: dict[str, list[str]] = {}
    for key, value in parsed.items():
        fields.setdefault(key, []).append(value)
    return fields, names


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_wheel_and_sdist_carry_license_version_and_ranges(dist: Path, name: str) -> None:
    wheel = dist / f"{name}-{VERSION}-py3-none-any.whl"
    sdist = dist / f"{name}-{VERSION}.tar.gz"
    fields, names = _metadata(wheel)
    assert fields["License-Expression"] == ["Apache-2.0"]
    license_text = (ROOT / "LICENSE").read_bytes()
    with zipfile.ZipFile(wheel) as archive:
        (lic,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
        assert archive.read(lic) == license_text
    with tarfile.open(sdist) as archive:
        member = archive.extractfile(f"{name}-{VERSION}/LICENSE")
        assert member is not None and member.read() == license_text
    assert fields["Version"] == [VERSION]
    assert fields.get("Project-URL") and fields.get("Classifier")
    for line in fields["Requires-Dist"]:
        requirement = Requirement(line)
        assert requirement.specifier, f"{line}: no version range"
        assert all(s.operator not in ("==", "===") for s in requirement.specifier), line
        if requirement.name == "carbon-taps-shared":
            assert Version(VERSION) in requirement.specifier, line
    classified = {
        c.rsplit(" ", 1)[1] for c in fields["Classifier"] if re.fullmatch(r".*:: 3\.\d+", c)
    }
    (python,) = fields["Requires-Python"]
    assert classified and all(f"{v}.0" in Requirement(f"x{python}").specifier for v in classified)


@pytest.mark.meltano
@pytest.mark.parametrize("tap", TAPS)
def test_each_tap_installs_alone_from_dist_and_runs(
    tap: str, dist: Path, wheelhouse: Path, tmp_path: Path
) -> None:
    bin_dir = new_venv(tmp_path / "venv")
    run(
        [
            bin_dir / "pip",
            "install",
            "--no-index",
            "--find-links",
            dist,
            "--find-links",
            wheelhouse,
            tap,
        ],
        cwd=tmp_path,
    )
    installed = {
        p["name"]: p["version"]
        for p in json.loads(run([bin_dir / "pip", "list", "--format=json"], cwd=tmp_path).stdout)
    }
    assert installed[tap] == installed["carbon-taps-shared"] == VERSION
    assert not {t for t in TAPS if t != tap} & set(installed), "another tap came along"
    wheel_fields, _ = _metadata(dist / f"{tap.replace('-', '_')}-{VERSION}-py3-none-any.whl")
    about = json.loads(run([bin_dir / tap, "--about", "--format", "json"], cwd=tmp_path).stdout)
    assert about["version"] == VERSION
    (python,) = wheel_fields["Requires-Python"]
    assert all(
        f"{v}.0" in Requirement(f"x{python}").specifier for v in about["supported_python_versions"]
    )

    with sample_services() as fakes:
        config = tmp_path / "config.json"
        config.write_text(json.dumps(dev_config(tap, fakes)))
        catalog = run([bin_dir / tap, "--config", config, "--discover"], cwd=tmp_path).stdout
        streams = {s["tap_stream_id"] for s in json.loads(catalog)["streams"]}
        assert MAIN_STREAM[tap] in streams
        sync = run([bin_dir / tap, "--config", config], cwd=tmp_path, env=clean_env())
    records = [
        json.loads(line) for line in sync.stdout.splitlines() if line.startswith('{"type":"RECORD"')
    ]
    assert any(r["stream"] == MAIN_STREAM[tap] for r in records), sync.stderr[-2000:]
    assert '"type":"STATE"' in sync.stdout
    assert_no_secrets(sync.stdout, sync.stderr)
