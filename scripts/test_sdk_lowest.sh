#!/usr/bin/env bash
# The taps' core tests on the lowest singer-sdk and boto3 releases the distributions allow (the
# lock, and so the main test run, has the newest). A separate venv: the workspace as locked, then
# singer-sdk and boto3 replaced by their ranges' lower bounds, with the lowest botocore that boto3
# release and the shared package accept. That botocore describes Athena in the `json` 1.1
# protocol where the locked one uses `rest-json`, so the Athena tests here take the other path
# through the fake. Run by scripts/test.sh; about two minutes on two cores.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
read -r LOWEST BOTO3 <<<"$(uv run --frozen python - <<'PY'
import tomllib
from packaging.requirements import Requirement


def floor(pyproject: str, name: str) -> str:
    deps = tomllib.load(open(pyproject, "rb"))["project"]["dependencies"]
    (req,) = [Requirement(d) for d in deps if Requirement(d).name == name]
    (version,) = [s.version for s in req.specifier if s.operator in (">=", "~=")]
    return version


print(floor("shared/pyproject.toml", "singer-sdk"), floor("tap-aws-carbon/pyproject.toml", "boto3"))
PY
)"
VENV="$ROOT/.venv-sdk-lowest"
echo "==> singer-sdk $LOWEST and boto3 $BOTO3 (lowest allowed) in $VENV"
UV_PROJECT_ENVIRONMENT="$VENV" uv sync --frozen --quiet
uv pip install --quiet --python "$VENV/bin/python" \
  "singer-sdk[msgspec,testing]==$LOWEST" "boto3==$BOTO3"
# boto3 accepts a range of botocore releases and the install kept the locked (newest) one: take
# the lowest that both this boto3 and the shared package's `aws` extra accept.
BOTOCORE="$("$VENV/bin/python" - <<'PY'
import importlib.metadata
import tomllib
from packaging.requirements import Requirement
from packaging.version import Version

extra = tomllib.load(open("shared/pyproject.toml", "rb"))["project"]["optional-dependencies"]
wanted = [Requirement(r) for r in importlib.metadata.requires("boto3") or []] + [
    Requirement(r) for r in extra["aws"]
]
floors = [
    Version(s.version)
    for r in wanted
    if r.name == "botocore" and r.marker is None
    for s in r.specifier
    if s.operator in (">=", "~=")
]
print(max(floors))
PY
)"
uv pip install --quiet --python "$VENV/bin/python" "botocore==$BOTOCORE"
"$VENV/bin/python" -c "
import importlib.metadata as m, sys
found = {p: m.version(p) for p in ('singer-sdk', 'boto3', 'botocore')}
wanted = {'singer-sdk': '$LOWEST', 'boto3': '$BOTO3', 'botocore': '$BOTOCORE'}
sys.exit(0 if found == wanted else f'installed {found}, wanted {wanted}')"
PROTOCOL="$("$VENV/bin/python" -c "
import botocore.session
print(botocore.session.get_session().get_service_model('athena').protocol)")"
echo "==> botocore $BOTOCORE: Athena over $PROTOCOL"
# The SDK surface the taps rely on, singer-sdk's standard tap tests, one sync per tap, and the
# Athena engine against its fake (records and state as the local engine's, and Athena's own
# refusal of a start) in this botocore's protocol.
"$VENV/bin/python" -m pytest -q -p no:cacheprovider \
  tests/shared/test_sdk_surface.py \
  tests/aws/test_standard_suite.py tests/azure/test_standard_suite.py \
  tests/gcp/test_standard_suite.py \
  "tests/aws/test_carbon_emissions.py::test_bookmark_is_the_last_emitted_month_and_rerun_reads_only_the_lookback" \
  "tests/azure/test_emissions.py::test_every_category_totals_match_the_data_per_month_and_scope" \
  "tests/gcp/test_carbon_footprint.py::test_results_are_read_page_by_page" \
  tests/test_plugin_definitions.py::test_a_decimal_setting_given_as_text_is_read_as_the_number \
  "tests/aws/test_cur_athena.py::test_athena_and_local_engines_emit_identical_records_and_state[legacy-tags0]" \
  tests/aws/test_cur_athena_failures.py::test_no_output_location_anywhere_is_athena_s_own_refusal_in_one_line
