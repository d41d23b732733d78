#!/usr/bin/env bash
# Installs everything the project needs from PyPI into .venv and Meltano's plugin venvs.
# Sourced by demo.sh and test.sh so both work on a fresh machine with only python3 >= 3.11.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if ! command -v uv >/dev/null 2>&1; then
  echo "==> installing uv from PyPI"
  python3 -m pip install --quiet --disable-pip-version-check uv
  hash -r
fi
command -v uv >/dev/null 2>&1 || export PATH="$HOME/.local/bin:$PATH"

echo "==> syncing the workspace (uv.lock)"
uv sync --frozen --quiet

echo "==> installing Meltano plugins"
uv run --frozen meltano install tap-aws-carbon tap-azure-emissions tap-gcp-carbon target-postgres target-warehouse dbt-postgres dbt-warehouse dbt-snowflake \
  >"$ROOT/.meltano-install.log" 2>&1 || { cat "$ROOT/.meltano-install.log"; exit 1; }
