"""A user's own Meltano project, outside the repository: `meltano init`, the three taps added
from plugins/extractors/*.yml pointing at the built wheels, installed with each venv backend,
`meltano select --list` with no config, and `meltano run` into PostgreSQL against the fakes."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, assert_no_secrets
from tests.e2e.conftest import PG_DATABASE, PG_HOST, PG_PORT
from tests.fakes.sample_services import sample_services
from tests.packaging.conftest import TAPS, clean_env, dev_config, run

pytestmark = [pytest.mark.postgres, pytest.mark.meltano]

MELTANO = Path(sys.executable).parent / "meltano"
VERSION = (ROOT / "VERSION").read_text().strip()
TABLES = {
    "tap-aws-carbon": "carbon_emissions",
    "tap-azure-emissions": "emissions_monthly",
    "tap-gcp-carbon": "carbon_footprint",
}


def _env_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return value if isinstance(value, str) else json.dumps(value)


def _settings_env(fakes: dict[str, str]) -> dict[str, str]:
    """Each tap's dev settings as a user's environment would set them: all text."""
    return {
        f"{tap.replace('-', '_').upper()}_{key.upper()}": _env_value(value)
        for tap in TAPS
        for key, value in dev_config(tap, fakes).items()
    }


def _definition(path: Path, body: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path


@pytest.mark.parametrize("backend", ["uv", "virtualenv"])
def test_a_fresh_user_project_installs_and_runs_the_taps(
    backend: str, dist: Path, wheelhouse: Path, tmp_path: Path, test_db, raw_schema: str
) -> None:
    env = clean_env(MELTANO_VENV_BACKEND=backend, MELTANO_SEND_ANONYMOUS_USAGE_STATS="false")
    run([MELTANO, "init", "project", "--no-usage-stats"], cwd=tmp_path, env=env)
    project = tmp_path / "project"
    assert not project.resolve().is_relative_to(ROOT)
    for tap in TAPS:
        hub = yaml.safe_load((ROOT / "plugins" / "extractors" / f"{tap}.yml").read_text())
        # As the README says: the released version, with pip pointed at the built wheels (and,
        # here, at a wheelhouse for third parties, so nothing comes from the workspace).
        hub["pip_url"] = (
            f"{tap}=={VERSION} --no-index --find-links {dist} --find-links {wheelhouse}"
        )
        ref = _definition(tmp_path / f"{tap}.yml", hub)
        run(
            [MELTANO, "add", "--plugin-type", "extractor", tap, "--from-ref", ref, "--no-install"],
            cwd=project,
            env=env,
        )
    # target-postgres as this repository defines it, using the venv already installed here.
    ours = yaml.safe_load((ROOT / "meltano.yml").read_text())
    (loader,) = [p for p in ours["plugins"]["loaders"] if p["name"] == "target-postgres"]
    loader.pop("config", None)
    ref = _definition(tmp_path / "target-postgres.yml", loader)
    run(
        [
            MELTANO,
            "add",
            "--plugin-type",
            "loader",
            "target-postgres",
            "--from-ref",
            ref,
            "--no-install",
        ],
        cwd=project,
        env=env,
    )
    loaders = project / ".meltano" / "loaders"
    loaders.parent.mkdir(exist_ok=True)
    loaders.symlink_to(ROOT / ".meltano" / "loaders", target_is_directory=True)

    run([MELTANO, "install", "--plugin-type", "extractor"], cwd=project, env=env, timeout=900)
    for tap in TAPS:
        venv = project / ".meltano" / "extractors" / tap / "venv"
        assert f"{backend} =" in (venv / "pyvenv.cfg").read_text(), "other venv backend used"
        listed = run([MELTANO, "select", tap, "--list", "--all"], cwd=project, env=env).stdout
        assert TABLES[tap] in listed, listed[-2000:]

    with sample_services() as fakes:
        run_env = env | _settings_env(fakes)
        run_env |= {
            "TARGET_POSTGRES_HOST": PG_HOST,
            "TARGET_POSTGRES_PORT": str(PG_PORT),
            "TARGET_POSTGRES_USER": "postgres",
            "TARGET_POSTGRES_PASSWORD": "local-trust-auth",
            "TARGET_POSTGRES_DATABASE": PG_DATABASE,
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": raw_schema,
            "TARGET_POSTGRES_LOAD_METHOD": "upsert",
        }
        pipeline = [item for tap in TAPS for item in (tap, "target-postgres")]
        done = run([MELTANO, "run", *pipeline], cwd=project, env=run_env, timeout=900)
    for table in TABLES.values():
        assert test_db.one(f'select count(*) from "{raw_schema}"."{table}"') > 0, table
    assert_no_secrets(done.stdout, done.stderr)
    assert not os.path.exists(ROOT / "project")
