#!/usr/bin/env bash
# The README's test command: installs everything, makes sure PostgreSQL and chromium are there,
# runs every test.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/bootstrap.sh"
bash "$ROOT/scripts/ensure_postgres.sh"
bash "$ROOT/scripts/ensure_chromium.sh"
cd "$ROOT"
echo "==> ruff"
uv run --frozen ruff check .
uv run --frozen ruff format --check .
echo "==> mypy"
uv run --frozen mypy
echo "==> pytest"
CARBON_TAPS_REQUIRE_POSTGRES=1 uv run --frozen pytest "$@"
echo "==> the taps on the lowest singer-sdk the range allows"
bash "$ROOT/scripts/test_sdk_lowest.sh"
