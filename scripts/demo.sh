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

echo "==> serving the Azure sample data locally (Entra ID and ARM, over HTTPS)"
azure_log="$(mktemp)"; azure_ca="$(mktemp --suffix=.pem)"
uv run --frozen python -m tests.fakes.azure_arm --data sample_data/azure --port 0 \
  --ca-file "$azure_ca" >"$azure_log" 2>&1 &
azure_pid=$!
for _ in $(seq 1 50); do grep -q '^http' "$azure_log" && break; sleep 0.2; done
azure_url="$(grep -m1 '^http' "$azure_log")"
export AZURE_ARM_ENDPOINT="$azure_url" AZURE_AUTHORITY_HOST="$azure_url" AZURE_CA_BUNDLE="$azure_ca"

echo "==> serving the GCP sample data locally (BigQuery and its token endpoint)"
gcp_log="$(mktemp)"; export GCP_FAKE_CREDENTIALS_PATH="$(mktemp --suffix=.json)"
uv run --frozen python -m tests.fakes.gcp_bigquery --data sample_data/gcp/bigquery --port 0 \
  --key-out "$GCP_FAKE_CREDENTIALS_PATH" >"$gcp_log" 2>&1 &
gcp_pid=$!
trap 'kill "$fake_pid" "$azure_pid" "$gcp_pid" 2>/dev/null || true; rm -f "$fake_log" "$azure_log" "$azure_ca" "$gcp_log" "$GCP_FAKE_CREDENTIALS_PATH"' EXIT
for _ in $(seq 1 50); do grep -q '^http' "$gcp_log" && break; sleep 0.2; done
export GCP_BIGQUERY_ENDPOINT_URL="$(grep -m1 '^http' "$gcp_log")"

echo "==> meltano run: three taps -> target-warehouse, then dbt-warehouse:build"
uv run --frozen meltano --environment=dev run tap-aws-carbon target-warehouse \
  tap-azure-emissions target-warehouse tap-gcp-carbon target-warehouse dbt-warehouse:build \
  >"$ROOT/.demo-run.log" 2>&1 || { tail -n 40 "$ROOT/.demo-run.log"; exit 1; }

uv run --frozen python scripts/summary.py
echo "Full log: .demo-run.log · warehouse: $(uv run --frozen python scripts/warehouse.py url)"
