"""Issue 13 item 6: every shell command in the READMEs and docs/ works with this Meltano.

Each fenced bash/sh/crontab block becomes one script, run with bash -eu in a temporary copy of
the project (so `meltano config set` writes there), against moto's S3 for the state backend:
- `meltano run …` runs with `--dry-run --no-install`: Meltano parses and validates every block,
  job and plugin name, and touches no provider;
- `meltano install …` is checked against the declared plugins (installing is PyPI's business);
- `meltano config set <plugin> <setting> <value>` must land in the `prod` environment of the
  copy (or in its `.env`, for a secret);
- `NAME=value` lines must name a setting Meltano or a plugin reads;
- everything else runs as written, except the few commands in NOT_RUN, each with its reason.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
import yaml

from tests.conftest import CAPTURED_OUTPUT, ROOT, TEST_SECRETS, assert_no_secrets
from tests.e2e.conftest import private_sys_dir

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DOCS += sorted(ROOT.glob("tap-*/README.md"))
LANGS = {"bash", "sh", "shell", "crontab"}
MOTO_KEY, MOTO_SECRET = "AKIDMOTODOCS00000001", "moto-docs-not-a-secret"

# Commands that cannot run here, each with why and where the same thing is tested instead.
NOT_RUN = {
    r"^bash scripts/demo\.sh$": "the whole demo; tests/e2e/test_demo.py runs it",
    r"^bash scripts/test\.sh$": "the whole suite; CI (.ci/run) runs exactly this command",
    r"^cd /srv/": "a folder on the production runner",
    r"^bq extract ": "Google's bq CLI against a real project",
    r"^gcloud storage cp ": "Google's gcloud CLI against a real bucket",
    r"^python -m tests\.fakes\.azure_arm ": "serves until stopped; the demo starts this fake",
    r"^tap-[a-z-]+ --config config\.json --state state\.json$": (
        "a sync of the user's own account; tests/{aws,gcp} sync through the same CLI"
    ),
    r"^bash scripts/build\.sh$": "builds the release; tests/packaging/ builds and installs it",
    r"^uv run python scripts/mutation_check\.py": (
        "runs chosen tests once per mutation (minutes each, about 8 in all): a developer's check "
        "before changing the code it covers, kept out of CI"
    ),
    r"^bash orchestrate/dagster/install\.sh$": (
        "installs Dagster from PyPI; tests/e2e/test_orchestrator_dagster.py runs it (cached venv)"
    ),
    r"^\.venv-dagster/bin/dagster job execute ": (
        "a job through Dagster; tests/e2e/test_orchestrator_dagster.py runs it against the fakes"
    ),
    r"^meltano (add .* --from-ref /path/to/|install --plugin-type extractor$|select tap-)": (
        "a user's own project; tests/packaging/ runs these in a fresh `meltano init` project"
    ),
}


@dataclass(frozen=True)
class Block:
    doc: str
    line: int
    lang: str
    commands: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.doc}:{self.line}"


def blocks() -> list[Block]:
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for match in re.finditer(r"^```(\w+)\n(.*?)^```", text, re.S | re.M):
            if match.group(1) not in LANGS:
                continue
            body = match.group(2).replace("\\\n", " ")
            commands: list[str] = []
            for raw in body.splitlines():
                line = raw.strip()
                if not line or line.startswith("#"):
                    continue
                if match.group(1) == "crontab":
                    line = line.split(None, 5)[5]
                commands += [part.strip() for part in line.split(" && ")]
            where = text[: match.start()].count("\n") + 1
            found.append(Block(str(doc.relative_to(ROOT)), where, match.group(1), tuple(commands)))
    return found


def words(command: str) -> list[str]:
    tokens = shlex.split(command, comments=True)
    return tokens[2:] if tokens[:2] == ["uv", "run"] else tokens


def not_run(command: str) -> str | None:
    bare = " ".join(shlex.split(command, comments=True))
    return next((why for pattern, why in NOT_RUN.items() if re.search(pattern, bare)), None)


def project() -> dict:
    return yaml.safe_load((ROOT / "meltano.yml").read_text())


def plugins() -> dict[str, dict]:
    return {p["name"]: p for kind in project()["plugins"].values() for p in kind}


def plugin_env_names() -> set[str]:
    """`<PLUGIN>_<SETTING>` for every declared setting (inherited ones too), plus the variables
    meltano.yml itself expands."""
    declared = plugins()
    names = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", (ROOT / "meltano.yml").read_text()))
    for name, plugin in declared.items():
        source = plugin
        while "settings" not in source and source.get("inherit_from"):
            source = declared[source["inherit_from"]]
        prefix = name.upper().replace("-", "_")
        for setting in source.get("settings", []):
            names.add(f"{prefix}_{setting['name'].upper()}")
    return names


def env_for(sys_dir: Path, moto: str) -> dict[str, str]:
    scrubbed = ("TAP_", "TARGET_", "DBT_", "MELTANO_", "AWS_", "AZURE_", "GOOGLE_", "CARBON_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(scrubbed)}
    env.update(
        {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            "MELTANO_SYS_DIR_ROOT": str(sys_dir),
            "MELTANO_STATE_BACKEND_S3_ENDPOINT_URL": moto,
            "MELTANO_STATE_BACKEND_S3_AWS_ACCESS_KEY_ID": MOTO_KEY,
            "MELTANO_STATE_BACKEND_S3_AWS_SECRET_ACCESS_KEY": MOTO_SECRET,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
            # What a user's shell would hold; a test secret, so the session scan catches a leak.
            "AZURE_CLIENT_SECRET": TEST_SECRETS["azure_client_secret"],
        }
    )
    return env


def script_for(block: Block) -> tuple[str, list[list[str]]]:
    """The block as a bash script, and the `config set` commands to check afterwards."""
    lines, config_sets = [], []
    declared = plugins()
    for command in block.commands:
        reason = not_run(command)
        if reason:
            lines.append(f": not run: {shlex.quote(reason)}")
            continue
        args = words(command)
        if args and args[0] == "meltano":
            verbs = [a for a in args[1:] if not a.startswith("-")]
            if verbs[:1] == ["run"]:
                at = args.index("run") + 1
                args = [*args[:at], "--dry-run", "--no-install", *args[at:]]
                lines.append(shlex.join(args))
                continue
            if verbs[:1] == ["install"]:
                unknown = [p for p in verbs[1:] if p not in declared]
                assert not unknown, f"{block}: `{command}` installs undeclared {unknown}"
                lines.append(shlex.join(["meltano", "install", "--help"]) + " > /dev/null")
                continue
            if verbs[:2] == ["config", "set"]:
                config_sets.append(args)
        lines.append(command)
    return "set -eu\n" + "\n".join(lines) + "\n", config_sets


def check_config_set(args: list[str], copy: Path) -> None:
    """`meltano [--environment=E] config set P S V` put V for P's S where Meltano will read it."""
    environment = next((a.split("=", 1)[1] for a in args if a.startswith("--environment=")), None)
    plugin, setting, value = [a for a in args if not a.startswith("-")][3:6]
    dotenv = (copy / ".env").read_text() if (copy / ".env").exists() else ""
    env_name = f"{plugin.upper().replace('-', '_')}_{setting.upper()}="
    if any(line.startswith(env_name) for line in dotenv.splitlines()):
        return  # a secret: Meltano keeps it in .env, never in meltano.yml
    data = yaml.safe_load((copy / "meltano.yml").read_text())
    if environment:
        env = next(e for e in data["environments"] if e["name"] == environment)
        kinds = env["config"]["plugins"].values()
    else:
        kinds = data["plugins"].values()
    found = [
        p.get("config", {}).get(setting) for kind in kinds for p in kind if p["name"] == plugin
    ]
    assert found and str(found[0]).lower() == value.lower(), (args, found)


@pytest.fixture(scope="module")
def meltano_env_names() -> set[str]:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "meltano"), "config", "list", "meltano", "--all"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(re.findall(r"\[env: ([A-Z0-9_]+)\]", done.stdout))


ALL_BLOCKS = blocks()


@pytest.mark.meltano
@pytest.mark.parametrize("block", ALL_BLOCKS, ids=str)
def test_doc_block_runs(block: Block, tmp_path: Path, moto_endpoint: str, meltano_env_names):
    known = plugin_env_names() | meltano_env_names
    for command in block.commands:
        tokens = words(command)
        if tokens and tokens[0] == "export":
            tokens = tokens[1:]
        if tokens and all(re.fullmatch(r"[A-Z][A-Z0-9_]*=.*", t) for t in tokens):
            unknown = [t.split("=", 1)[0] for t in tokens if t.split("=", 1)[0] not in known]
            assert not unknown, f"{block}: no setting is read from {unknown}"
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id=MOTO_KEY,
        aws_secret_access_key=MOTO_SECRET,
    )
    s3.create_bucket(Bucket="carbon-meltano-state")
    copy = tmp_path / "project"
    copy.mkdir()
    shutil.copy(ROOT / "meltano.yml", copy)
    if (ROOT / "plugins").is_dir():
        shutil.copytree(ROOT / "plugins", copy / "plugins")
    (copy / "config.json").write_text("{}")
    script, config_sets = script_for(block)
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=copy,
        env=env_for(private_sys_dir(tmp_path), moto_endpoint),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    CAPTURED_OUTPUT.extend((done.stdout, done.stderr))
    assert done.returncode == 0, f"{block}:\n{script}\n{done.stderr[-4000:]}"
    assert "Traceback" not in done.stderr, f"{block}:\n{done.stderr[-4000:]}"
    assert_no_secrets(done.stdout, done.stderr)
    for args in config_sets:
        check_config_set(args, copy)


def test_every_not_run_entry_is_still_in_the_docs():
    commands = [c for block in ALL_BLOCKS for c in block.commands]
    for pattern in NOT_RUN:
        assert any(re.search(pattern, " ".join(shlex.split(c, comments=True))) for c in commands), (
            f"{pattern} matches no command"
        )


def test_the_old_config_syntax_is_gone_and_fails_on_this_meltano(tmp_path: Path):
    """`meltano config <plugin> set` is the pre-Meltano-4 form: "No such command"."""
    for doc in DOCS:
        assert not re.search(r"meltano\b[^\n]*\bconfig (tap|target|dbt)-\S+ set", doc.read_text())
    shutil.copy(ROOT / "meltano.yml", tmp_path)
    old = subprocess.run(
        [
            *(str(Path(sys.executable).parent / "meltano"), "--environment=prod", "config"),
            *("tap-aws-carbon", "set", "role_arn", "arn:aws:iam::123456789012:role/x"),
        ],
        cwd=tmp_path,
        env={**os.environ, "MELTANO_SYS_DIR_ROOT": str(tmp_path / "sys")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert old.returncode != 0 and "No such command" in old.stderr
