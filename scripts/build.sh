#!/usr/bin/env bash
# Builds the wheel and sdist of the four distributions (shared and the three taps) into dist/
# (or the folder given as $1) and checks them with twine. The version is the VERSION file's.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$(mkdir -p "${1:-$ROOT/dist}" && cd "${1:-$ROOT/dist}" && pwd)"
cd "$ROOT"
for package in shared tap-aws-carbon tap-azure-emissions tap-gcp-carbon; do
  # uv builds the sdist, then the wheel from that sdist: the wheel proves the sdist is complete.
  uv build --quiet --package "$(sed -n 's/^name = "\(.*\)"$/\1/p' "$package/pyproject.toml")" \
    --out-dir "$OUT"
done
uv run --frozen twine check --strict "$OUT"/*.whl "$OUT"/*.tar.gz
