"""Fixtures for installing the built distributions the way a user does, outside the repository.

`dist` is what `scripts/build.sh` builds (once per session). `wheelhouse` holds the third-party
wheels the lock pins, downloaded once from PyPI into a cache folder, so the installs themselves
run with `--no-index`: our packages can come only from dist/, never from the workspace.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT
from tests.e2e.conftest import postgres, raw_schema, test_db  # noqa: F401 (fixtures)

TAPS = ("tap-aws-carbon", "tap-azure-emissions", "tap-gcp-carbon")
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cloud-carbon-taps"


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without pip's site configuration (extra indexes, find-links, constraints)
    or any tap setting from the developer's shell."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "UV_", "TAP_", "MELTANO_", "VIRTUAL_ENV", "AWS_", "AZURE_"))
    }
    env |= {"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    return env | extra


def run(args: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600):
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env or clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{args} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(["bash", ROOT / "scripts" / "build.sh", out], cwd=ROOT, env=dict(os.environ))
    return out


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Third-party wheels of the lock's runtime dependencies, cached by their pins."""
    requirements = run(
        [
            "uv",
            "export",
            "--frozen",
            "--no-dev",
            "--no-hashes",
            "--no-emit-workspace",
            "--no-header",
            "--no-annotate",
        ],
        cwd=ROOT,
        env=dict(os.environ),
    ).stdout
    key = hashlib.sha256(f"{sys.version_info[:2]}{requirements}".encode()).hexdigest()[:16]
    house = CACHE / f"wheelhouse-{key}"
    if not (house / ".complete").exists():
        partial = tmp_path_factory.mktemp("wheelhouse")
        (partial / "requirements.txt").write_text(requirements)
        env = clean_env()
        env.pop("PIP_CONFIG_FILE")  # PyPI as configured on this machine, for the download only
        run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--only-binary=:all:",
                "--no-deps",
                "-r",
                partial / "requirements.txt",
                "-d",
                partial / "wheels",
            ],
            cwd=partial,
            env=env,
        )
        (partial / "wheels" / ".complete").touch()
        house.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(house, ignore_errors=True)
        shutil.move(partial / "wheels", house)
    return house


def new_venv(path: Path) -> Path:
    """A plain venv with pip, outside the repository; returns its bin folder."""
    base = Path(getattr(sys, "_base_executable", sys.executable))
    run([base, "-m", "venv", path], cwd=path.parent)
    return path / "bin"


def dev_config(tap: str, fakes: dict[str, str]) -> dict[str, Any]:
    """The tap's settings in meltano.yml's `dev` environment, pointing at the sample fakes."""
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    (dev,) = [e for e in project["environments"] if e["name"] == "dev"]
    (entry,) = [p for p in dev["config"]["plugins"]["extractors"] if p["name"] == tap]
    values = {**fakes, "MELTANO_PROJECT_ROOT": str(ROOT)}

    def expand(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: values[m.group(1) or m.group(2)], value)

    return {key: expand(value) for key, value in entry["config"].items()}
