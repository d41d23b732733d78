"""Writes each tap's Meltano plugin definition from its `--about --format json`.

`plugins/extractors/<tap>.yml` is in Meltano Hub's format, to paste into any project (or to add
with `meltano add --from-ref`); the same settings, as flow-style lines, replace each tap's
`settings:` and `capabilities:` in this repository's meltano.yml. The tap's config schema is the
one source: a setting's kind comes from its JSON type (a secret is `password` + `sensitive`, an
enum is `options`, a number is `string`: see kind_of), its description and default from the
schema.

    uv run python scripts/plugin_definitions.py           # rewrite the files
    uv run python scripts/plugin_definitions.py --check   # exit 1 if any file is stale

Running it twice changes nothing (tests/test_plugin_definitions.py checks both directions).
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
TAPS = ("tap-aws-carbon", "tap-azure-emissions", "tap-gcp-carbon")
VARIANT = "cloud-carbon-taps"
REPO = "https://github.com/cloud-carbon-taps/cloud-carbon-taps"
LABELS = {
    "tap-aws-carbon": "AWS Carbon Emissions",
    "tap-azure-emissions": "Azure Carbon Emissions",
    "tap-gcp-carbon": "Google Cloud Carbon Footprint",
}
# Sets of settings of which at least one must be set for the tap to have anything to read.
# AWS and Azure can authenticate and read with nothing set (credential chains, managed identity).
GROUPS: dict[str, list[list[str]]] = {
    "tap-gcp-carbon": [
        ["carbon_footprint_uri"],
        ["carbon_footprint_dataset"],
        ["billing_export_table"],
    ],
}
# Words whose capitalisation a label keeps.
_UPPER = {
    "json",
    "aws",
    "arn",
    "id",
    "ids",
    "uri",
    "url",
    "sts",
    "s3",
    "cur",
    "mb",
    "arm",
    "ca",
    "api",
}


@cache
def about(tap: str) -> dict[str, Any]:
    executable = Path(sys.executable).parent / tap
    out = subprocess.run(
        [str(executable), "--about", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


def _label(name: str, prop: dict[str, Any]) -> str:
    if prop.get("title"):
        return str(prop["title"])
    words = name.split("_")
    return " ".join(w.upper() if w in _UPPER else w.capitalize() for w in words)


def kind_of(prop: dict[str, Any]) -> str:
    """Meltano's setting kind for a JSON-schema property (Meltano 4's SettingKind)."""
    if prop.get("secret"):
        return "password"
    if "enum" in prop:
        return "options"
    types = prop.get("type", "string")
    types = [t for t in ([types] if isinstance(types, str) else types) if t != "null"]
    kind = types[0] if types else "string"
    if kind == "string" and prop.get("format") in {"date", "date-time"}:
        return "date_iso8601"
    # Not `decimal`: Meltano 4.4.1 turns a decimal set as text (environment, `meltano config
    # set`) into a Decimal it then cannot write to the tap's config file. As `string` it reaches
    # the tap as text, which the tap reads as the number (carbon_taps_shared.config).
    return {"integer": "integer", "boolean": "boolean"}.get(
        kind, kind if kind in {"array", "object"} else "string"
    )


def setting(name: str, prop: dict[str, Any], *, label: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name}
    if label:
        entry["label"] = _label(name, prop)
    entry["kind"] = kind_of(prop)
    if entry["kind"] == "options":
        entry["options"] = [{"label": str(v), "value": v} for v in prop["enum"] if v is not None]
    default = prop.get("default")
    if default not in (None, [], {}):
        entry["value"] = default
    if prop.get("secret"):
        entry["sensitive"] = True
    entry["description"] = " ".join(str(prop.get("description") or "").split())
    return entry


def settings(tap: str, *, label: bool) -> list[dict[str, Any]]:
    props = about(tap)["settings"]["properties"]
    return [setting(name, prop, label=label) for name, prop in props.items()]


def capabilities(tap: str) -> list[str]:
    return list(about(tap)["capabilities"])


def hub_definition(tap: str) -> dict[str, Any]:
    info = about(tap)
    definition: dict[str, Any] = {
        "name": tap,
        "namespace": tap.replace("-", "_"),
        "variant": VARIANT,
        "label": LABELS[tap],
        "description": info["description"],
        "repo": REPO,
        "pip_url": f"{tap}=={info['version']}",
        "executable": tap,
        "capabilities": capabilities(tap),
        "keywords": ["meltano_sdk"],
        "maintenance_status": "active",
        "settings": settings(tap, label=True),
    }
    if tap in GROUPS:
        definition["settings_group_validation"] = GROUPS[tap]
    return definition


def render_hub(tap: str) -> str:
    body = yaml.safe_dump(hub_definition(tap), sort_keys=False, allow_unicode=True, width=100)
    return (
        f"# Generated by scripts/plugin_definitions.py from `{tap} --about`; do not edit.\n{body}"
    )


def _flow(value: Any) -> str:
    return yaml.safe_dump(
        value, default_flow_style=True, sort_keys=False, width=10_000, allow_unicode=True
    ).strip()


def render_meltano(text: str) -> str:
    """meltano.yml with each tap's capabilities and settings lines regenerated.

    Line by line, so comments and everything else in the file stay as they are: within the
    tap's plugin entry, the `capabilities:` line and the `settings:` list are replaced.
    """
    lines = text.splitlines(keepends=True)
    for tap in TAPS:
        try:
            start = lines.index(f"  - name: {tap}\n")
        except ValueError:
            raise SystemExit(f"meltano.yml: no plugin entry `- name: {tap}`") from None
        end = start + 1
        while end < len(lines) and lines[end].startswith("    "):
            end += 1
        entry = lines[start:end]
        out: list[str] = []
        skipping = False
        for line in entry:
            if skipping and line.startswith("    - "):
                continue
            skipping = False
            if line.startswith("    capabilities:"):
                out.append(f"    capabilities: {_flow(capabilities(tap))}\n")
            elif line == "    settings:\n":
                out.append(line)
                out.extend(f"    - {_flow(s)}\n" for s in settings(tap, label=False))
                skipping = True
            else:
                out.append(line)
        if out == entry and not any(line == "    settings:\n" for line in entry):
            raise SystemExit(f"meltano.yml: {tap} has no `settings:` list")
        lines[start:end] = out
    return "".join(lines)


def outputs() -> dict[Path, str]:
    files = {ROOT / "plugins" / "extractors" / f"{tap}.yml": render_hub(tap) for tap in TAPS}
    meltano = ROOT / "meltano.yml"
    files[meltano] = render_meltano(meltano.read_text())
    return files


def main() -> int:
    stale = []
    for path, content in outputs().items():
        current = path.read_text() if path.exists() else None
        if current == content:
            continue
        stale.append(path.relative_to(ROOT))
        if "--check" not in sys.argv:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
    if stale and "--check" in sys.argv:
        print(
            f"stale plugin definitions: {', '.join(map(str, stale))}; run "
            "`uv run python scripts/plugin_definitions.py`"
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
