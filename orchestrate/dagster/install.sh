#!/usr/bin/env bash
# Creates the Dagster virtualenv (default: .venv-dagster) from requirements.txt. Its own venv, so
# Dagster's pins never meet the workspace lock. Safe to run twice at once: the second waits, then
# finds it installed. DAGSTER_PYTHON picks the interpreter (dagster-meltano needs Python < 3.13).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${1:-$(cd "$HERE/../.." && pwd)/.venv-dagster}"
PYTHON="${DAGSTER_PYTHON:->=3.11,<3.13}"
mkdir -p "$(dirname "$VENV")"
exec 9>"$VENV.lock"
flock 9
if [[ -f "$VENV/.installed" ]] && cmp -s "$VENV/.installed" "$HERE/requirements.txt"; then
  exit 0
fi
rm -rf "$VENV"
"${UV:-uv}" venv --quiet --python "$PYTHON" "$VENV"
"${UV:-uv}" pip install --quiet --python "$VENV/bin/python" -r "$HERE/requirements.txt"
cp "$HERE/requirements.txt" "$VENV/.installed"
echo "Dagster installed in $VENV"
