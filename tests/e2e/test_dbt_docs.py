"""Every dbt model, seed and column is documented, and the docs match the columns that exist.

The static test reads transform/'s YAML and SQL files. The warehouse test creates every raw
table the three taps can load, empty, exactly as target-postgres creates them (from each tap's
discovered catalog, SCHEMA messages only), builds the whole project with every switch on, and
compares dbt's catalog (the columns that really exist) with the manifest (the documented ones).
"""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, run_tap
from tests.e2e.conftest import PG_DATABASE, PG_HOST, PG_PORT, private_sys_dir, run_meltano

TRANSFORM = ROOT / "transform"
TARGET_POSTGRES = (
    ROOT / ".meltano" / "loaders" / "target-postgres" / "venv" / "bin" / "target-postgres"
)
# Settings that make each tap list every stream it has; discovery reads nothing from them.
DISCOVERY_CONFIG: dict[str, dict[str, Any]] = {
    "tap-aws-carbon": {"carbon_export_uri": "/nonexistent", "cur_uri": "/nonexistent"},
    "tap-azure-emissions": {},
    "tap-gcp-carbon": {"billing_export_table": "billing.export", "carbon_footprint_uri": "/none"},
}


def _properties(kind: str) -> dict[str, dict[str, Any]]:
    """Every `kind` entry (models, seeds) of transform/'s YAML files, by name."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(TRANSFORM.glob("*/**/*.yml")):
        if "target" in path.parts or "dbt_packages" in path.parts:
            continue
        for entry in (yaml.safe_load(path.read_text()) or {}).get(kind) or []:
            assert entry["name"] not in found, f"{entry['name']} is described twice ({path})"
            found[entry["name"]] = {**entry, "_file": path.relative_to(ROOT)}
    return found


def _blank(entry: dict[str, Any]) -> bool:
    return not str(entry.get("description") or "").strip()


def test_every_model_and_seed_file_has_a_description_and_every_listed_column_one():
    models = _properties("models")
    seeds = _properties("seeds")
    sql = {p.stem: p for p in (TRANSFORM / "models").rglob("*.sql")}
    csvs = {p.stem: p for p in (TRANSFORM / "seeds").glob("*.csv")}
    assert sql and csvs

    problems = [f"model {name} ({path}) has no YAML entry" for name, path in sql.items()]
    problems = [problem for name, problem in zip(sql, problems, strict=True) if name not in models]
    problems += [f"{name} is described but has no SQL file" for name in models if name not in sql]
    problems += [f"seed {name} has no YAML entry" for name in csvs if name not in seeds]
    for name, entry in {**models, **seeds}.items():
        if _blank(entry):
            problems.append(f"{name} ({entry['_file']}) has no description")
        if not entry.get("columns"):
            problems.append(f"{name} ({entry['_file']}) lists no columns")
        for column in entry.get("columns") or []:
            if _blank(column):
                problems.append(f"{name}.{column['name']} has no description")
    for name, path in csvs.items():
        with path.open() as handle:
            header = next(csv.reader(handle))
        listed = {c["name"] for c in seeds.get(name, {}).get("columns") or []}
        problems += [f"seed column {name}.{c} is not described" for c in header if c not in listed]
    for path in sorted(TRANSFORM.glob("models/**/_*sources.yml")):
        for source in yaml.safe_load(path.read_text())["sources"]:
            problems += [
                f"source {source['name']}.{table['name']} has no description"
                for table in [source, *source["tables"]]
                if _blank(table)
            ]
    assert not problems, "\n".join(problems)


def create_raw_tables(tmp_path: Path, schema: str, taps: tuple[str, ...] = tuple(DISCOVERY_CONFIG)):
    """Every table `taps` can load, empty, in `schema`, created by target-postgres itself.

    Each tap's discovered catalog becomes SCHEMA messages without records: the loader creates
    the tables (types, keys, `_sdc_*` columns) exactly as a real load would.
    """
    lines = []
    for tap in taps:
        done = run_tap(tap, DISCOVERY_CONFIG[tap], tmp_path, args=("--discover",))
        assert done.returncode == 0, done.stderr[-2000:]
        for stream in json.loads(done.stdout)["streams"]:
            message = {
                "type": "SCHEMA",
                "stream": stream["tap_stream_id"],
                "schema": stream["schema"],
                "key_properties": stream.get("key_properties") or [],
            }
            lines.append(json.dumps(message))
    load_messages("\n".join(lines) + "\n", schema, tmp_path)


def load_messages(messages: str, schema: str, tmp_path: Path) -> None:
    """Singer messages upserted into `schema` by the real target-postgres."""
    config = tmp_path / "target-postgres.json"
    config.write_text(
        json.dumps(
            {
                "host": PG_HOST,
                "port": PG_PORT,
                "user": "postgres",
                "password": "local-trust-auth",
                "database": PG_DATABASE,
                "default_target_schema": schema,
                "load_method": "upsert",
            }
        )
    )
    loaded = subprocess.run(
        [str(TARGET_POSTGRES), "--config", str(config)],
        input=messages,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr[-3000:]


def dbt_env(tmp_path: Path, raw_schema: str, analytics_schema: str) -> dict[str, str]:
    """Settings for the dbt-postgres utility against the `test` database's two schemas."""
    return {
        "MELTANO_SYS_DIR_ROOT": str(private_sys_dir(tmp_path)),
        "DBT_POSTGRES_DBNAME": PG_DATABASE,
        "DBT_POSTGRES_SCHEMA": analytics_schema,
        "DBT_POSTGRES_SOURCE_SCHEMA": raw_schema,
        "DBT_TARGET_PATH": str(tmp_path / "dbt-target"),
        "DBT_LOG_PATH": str(tmp_path / "dbt-logs"),
    }


@pytest.mark.postgres
@pytest.mark.meltano
def test_the_built_warehouse_has_exactly_the_documented_columns(
    tmp_path, test_db, raw_schema, analytics_schema
):
    create_raw_tables(tmp_path, raw_schema)
    tables = {
        t
        for (t,) in test_db.rows(
            "select table_name from information_schema.tables where table_schema = %s",
            (raw_schema,),
        )
    }
    assert {"cur_usage_daily", "emissions_monthly", "subscription_access"} <= tables

    target = tmp_path / "dbt-target"
    env = {**dbt_env(tmp_path, raw_schema, analytics_schema), "DBT_POSTGRES_AWS_CUR": "true"}
    run_meltano("invoke", "dbt-postgres", "build", env=env, timeout=600).check()
    run_meltano("invoke", "dbt-postgres", "docs", "generate", env=env, timeout=600).check()

    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())
    built = {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed") and node["config"].get("enabled", True)
    }
    assert any(n["name"] == "stg_aws__cur_usage_daily" for n in built.values())
    problems = []
    for uid, node in sorted(built.items()):
        if not node["description"].strip():
            problems.append(f"{node['name']}: no description")
        assert uid in catalog["nodes"], f"{node['name']} was not built"
        real = {c.lower() for c in catalog["nodes"][uid]["columns"]}
        documented = {c.lower() for c, d in node["columns"].items() if d["description"].strip()}
        problems += [f"{node['name']}.{c}: not documented" for c in sorted(real - documented)]
        problems += [
            f"{node['name']}.{c}: documented, not built" for c in sorted(documented - real)
        ]
    assert not problems, "\n".join(problems)
