#!/usr/bin/env bash
# The taps' core tests on the lowest singer-sdk release the distributions allow (the lock, and so
# the main test run, has the newest). A separate venv: the workspace as locked, then singer-sdk
# replaced by the range's lower bound. Run by scripts/test.sh; about two minutes on two cores.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LOWEST="$(uv run --frozen python - <<'PY'
import tomllib
from packaging.requirements import Requirement

deps = tomllib.load(open("shared/pyproject.toml", "rb"))["project"]["dependencies"]
(sdk,) = [Requirement(d) for d in deps if Requirement(d).name == "singer-sdk"]
(floor,) = [s.version for s in sdk.specifier if s.operator in (">=", "~=")]
print(floor)
PY
)"
VENV="$ROOT/.venv-sdk-lowest"
echo "==> singer-sdk $LOWEST (lowest allowed) in $VENV"
UV_PROJECT_ENVIRONMENT="$VENV" uv sync --frozen --quiet
uv pip install --quiet --python "$VENV/bin/python" "singer-sdk[msgspec,testing]==$LOWEST"
"$VENV/bin/python" -c "
import importlib.metadata as m, sys
sys.exit(0 if m.version('singer-sdk') == '$LOWEST' else 'singer-sdk is not $LOWEST')"
# The SDK surface the taps rely on, singer-sdk's standard tap tests, and one sync per tap.
"$VENV/bin/python" -m pytest -q -p no:cacheprovider \
  tests/shared/test_sdk_surface.py \
  tests/aws/test_standard_suite.py tests/azure/test_standard_suite.py \
  tests/gcp/test_standard_suite.py \
  "tests/aws/test_carbon_emissions.py::test_bookmark_is_the_last_emitted_month_and_rerun_reads_only_the_lookback" \
  "tests/azure/test_emissions.py::test_every_category_totals_match_the_data_per_month_and_scope" \
  "tests/gcp/test_carbon_footprint.py::test_results_are_read_page_by_page" \
  tests/test_plugin_definitions.py::test_a_decimal_setting_given_as_text_is_read_as_the_number
