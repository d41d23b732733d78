#!/usr/bin/env bash
# The README's main command: the whole pipeline on bundled sample data, on this machine alone.
# Serves the sample data through the local fakes of the AWS, Azure and Google Cloud APIs, loads it
# with Meltano into the embedded warehouse, builds the dbt project, prints a summary and writes a
# chart. Safe to run again.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/bootstrap.sh"
cd "$ROOT"

echo "==> starting the embedded warehouse"
uv run --frozen python scripts/warehouse.py start >/dev/null

echo "==> serving the sample data through the local fakes of the three providers' APIs"
env_file="$(mktemp -u)"
uv run --frozen python -m tests.fakes.sample_services --env-file "$env_file" &
fakes_pid=$!
trap 'kill "$fakes_pid" 2>/dev/null || true; wait "$fakes_pid" 2>/dev/null || true; rm -f "$env_file"' EXIT
for _ in $(seq 1 150); do [ -f "$env_file" ] && break; sleep 0.2; done
[ -f "$env_file" ] || { echo "the local fakes did not start" >&2; exit 1; }
source "$env_file"

echo "==> meltano run: three taps -> target-warehouse, then dbt-warehouse:build"
uv run --frozen meltano --environment=dev run tap-aws-carbon target-warehouse \
  tap-azure-emissions target-warehouse tap-gcp-carbon target-warehouse dbt-warehouse:build \
  >"$ROOT/.demo-run.log" 2>&1 || { tail -n 40 "$ROOT/.demo-run.log"; exit 1; }

uv run --frozen python scripts/summary.py
echo "Full log: .demo-run.log · warehouse: $(uv run --frozen python scripts/warehouse.py url)"
