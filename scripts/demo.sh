#!/usr/bin/env bash
# The README's main command: the whole pipeline on bundled sample data, on this machine alone.
# Serves the sample data through the local Sustainability fake, loads it with Meltano into the
# embedded warehouse, builds the dbt project and prints a summary. Safe to run again.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/bootstrap.sh"
cd "$ROOT"

echo "==> starting the embedded warehouse"
uv run --frozen python scripts/warehouse.py start >/dev/null

echo "==> serving the AWS sample data locally"
fake_log="$(mktemp)"
uv run --frozen python -m tests.fakes.aws_sustainability \
  --data sample_data/aws/carbon_emissions.jsonl \
  --water-data sample_data/aws/water_allocation.jsonl >"$fake_log" 2>&1 &
fake_pid=$!
trap 'kill "$fake_pid" 2>/dev/null || true; rm -f "$fake_log"' EXIT
for _ in $(seq 1 50); do grep -q '^http' "$fake_log" && break; sleep 0.2; done
export AWS_SUSTAINABILITY_ENDPOINT_URL="$(grep -m1 '^http' "$fake_log")"

echo "==> meltano run tap-aws-carbon target-warehouse dbt-warehouse:build"
uv run --frozen meltano --environment=dev run tap-aws-carbon target-warehouse dbt-warehouse:build \
  >"$ROOT/.demo-run.log" 2>&1 || { tail -n 40 "$ROOT/.demo-run.log"; exit 1; }

uv run --frozen python scripts/summary.py
echo "Full log: .demo-run.log · warehouse: $(uv run --frozen python scripts/warehouse.py url)"
