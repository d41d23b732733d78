"""Copies each tap's settings table from `--about --format=markdown` into the README.

The README keeps the table between marker comments; `--check` fails when it is out of date
(the test suite runs it, so the README cannot drift from the code).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TAPS = ["tap-aws-carbon", "tap-azure-emissions", "tap-gcp-carbon"]
SDK_BUILTIN = re.compile(
    r"^\| (stream_maps|stream_map_config|faker_config|flattening_|batch_config)"
)


def settings_table(tap: str) -> str:
    about = subprocess.run(
        [str(Path(sys.executable).parent / tap), "--about", "--format=markdown"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    section = about.split("## Settings", 1)[1]
    lines = [line for line in section.strip().splitlines() if line.startswith("|")]
    return "\n".join(line for line in lines if not SDK_BUILTIN.match(line))


def render(text: str) -> str:
    for tap in TAPS:
        text = _replace_block(text, tap, settings_table(tap))
    return text


def _replace_block(text: str, tap: str, table: str) -> str:
    """Replace what stands between the tap's markers; the table is inserted as is, not as a
    regex template (it holds backslashes)."""
    start, end = f"<!-- settings:{tap}:start -->", f"<!-- settings:{tap}:end -->"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    return pattern.sub(lambda _match: f"{start}\n{table}\n{end}", text)


def main() -> int:
    readme = ROOT / "README.md"
    current = readme.read_text()
    rendered = render(current)
    if "--check" in sys.argv:
        if rendered != current:
            print(
                "README settings tables are stale: run `uv run python scripts/render_settings.py`"
            )
            return 1
        return 0
    readme.write_text(rendered)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
