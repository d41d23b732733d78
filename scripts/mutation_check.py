"""Mutation check: break key code on purpose and see whether the tests notice.

Run it before changing the shared package or a stream's key or state code (not part of CI; a full
run of all 26 takes about eight minutes on two cores):

    uv run python scripts/mutation_check.py            # every mutation, on the working tree
    uv run python scripts/mutation_check.py --head     # on the last commit instead
    uv run python scripts/mutation_check.py --only gcp-location-key-region,policy-attempt-cap
    uv run python scripts/mutation_check.py --list
    uv run python scripts/mutation_check.py --only policy-attempt-cap --tests tests/shared

Each mutation is a named, plausible breakage: one exact text replacement in one file, and the
tests that should catch it. Nothing is changed in your checkout: the project is copied to a
temporary folder, each mutation is applied there in turn, and the chosen tests run from the copy
with the copy's packages first on PYTHONPATH (the workspace venv's editable installs point at
the checkout, and PYTHONPATH wins over them, also in the taps' console scripts the tests spawn).
Other people can keep editing and testing the checkout meanwhile.

A mutation is `killed` when its tests fail, `survived` when they pass, `stale` when its text is
no longer in the file (update the entry). The unmutated copy must pass the same tests first, or
the run stops: a red baseline would count every mutation as killed.

Why not mutmut: it rewrites the code in place with trampolines that only the test process sees,
while most of these tests run the taps as console scripts in child processes, and its thousands
of generated mutants would take hours here. A short list of meaningful breakages is cheaper and
says what each surviving mutant means. Survivors and why they are accepted: README, "Testing".
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("shared/src", "tap-aws-carbon", "tap-azure-emissions", "tap-gcp-carbon")
SKIP = {".git", ".venv", ".meltano", ".warehouse", "output", "target", "dbt_packages", "logs"}


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]
    what: str


SHARED = "shared/src/carbon_taps_shared"
AWS = "tap-aws-carbon/tap_aws_carbon"
AZURE = "tap-azure-emissions/tap_azure_emissions"
GCP = "tap-gcp-carbon/tap_gcp_carbon"
AWS_API = "tests/aws/test_carbon_emissions.py"
RETRY_TESTS = (
    "tests/shared/test_retry.py",
    "tests/shared/test_google_retry.py",
    "tests/shared/test_rest_mixin.py",
    "tests/shared/test_botocore_hook.py",
    "tests/shared/test_steps.py",
)

MUTATIONS = (
    # --- shared package -------------------------------------------------------------------------
    Mutation(
        "policy-retry-after-ignored",
        f"{SHARED}/policy.py",
        "wait = max(0.0, classification.retry_after)",
        "wait = self.backoff(attempt)",
        (*RETRY_TESTS, "tests/gcp/test_retry_after.py"),
        "a server's Retry-After is replaced by our own backoff",
    ),
    Mutation(
        "policy-attempt-cap",
        f"{SHARED}/policy.py",
        "if attempt >= self.max_attempts:",
        "if attempt > self.max_attempts:",
        RETRY_TESTS,
        "one attempt more than max_attempts",
    ),
    Mutation(
        "policy-max-elapsed-ignored",
        f"{SHARED}/policy.py",
        "if elapsed + wait > self.max_elapsed:",
        "if False:",
        RETRY_TESTS,
        "max_retry_seconds no longer ends a retry loop",
    ),
    Mutation(
        "steps-pacing-skips-retries",
        f"{SHARED}/steps.py",
        "if self.limiter is not None:\n            self.limiter.acquire()",
        "if self.limiter is not None and attempt.number <= 1:\n            self.limiter.acquire()",
        (*RETRY_TESTS, "tests/aws/test_s3_pacing.py"),
        "retries are sent without waiting for the pacer",
    ),
    Mutation(
        "steps-deadline-unchecked",
        f"{SHARED}/steps.py",
        "            attempt.started = self.policy.clock()\n        self.policy.check_deadline()",
        "            attempt.started = self.policy.clock()",
        (*RETRY_TESTS, "tests/reliability/test_run_deadline.py"),
        "a try starts after the run's max_run_minutes deadline",
    ),
    Mutation(
        "retry-after-shortest-wins",
        f"{SHARED}/retry_after.py",
        "return max(found) if found else None",
        "return min(found) if found else None",
        ("tests/shared/test_retry.py", "tests/shared/test_errors.py"),
        "of several throttling headers the shortest wait is obeyed",
    ),
    Mutation(
        "retry-after-ms-as-seconds",
        f"{SHARED}/retry_after.py",
        "seconds = _seconds(value, scale=0.001)",
        "seconds = _seconds(value)",
        ("tests/shared/test_retry.py", "tests/shared/test_errors.py"),
        "millisecond headers (x-amz-retry-after, retry-after-ms) read as seconds",
    ),
    Mutation(
        "ratelimit-burst-uncapped",
        f"{SHARED}/ratelimit.py",
        "self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)",
        "self._tokens = self._tokens + elapsed * self.rate",
        ("tests/shared/test_ratelimit.py",),
        "an idle bucket saves up unlimited tokens, so a burst exceeds the rate",
    ),
    Mutation(
        "redactor-shortest-secret-first",
        f"{SHARED}/redaction.py",
        "ordered = sorted(self._secrets, key=len, reverse=True)",
        "ordered = sorted(self._secrets, key=len)",
        ("tests/shared/test_redact.py", "tests/shared/test_redact_overlap.py"),
        "a secret containing another is masked piecewise, leaving part of it readable",
    ),
    Mutation(
        "secret-keys-top-level-only",
        f"{SHARED}/config.py",
        '                walk(sub)\n            for key in ("items"',
        '            for key in ("items"',
        ("tests/shared/test_redact.py",),
        "secrets nested inside an object setting are not registered",
    ),
    Mutation(
        "google-rate-limit-reason-ignored",
        f"{SHARED}/google.py",
        "if reason in _THROTTLE_REASONS:",
        "if False:",
        ("tests/shared/test_google_retry.py",),
        "a 403 rateLimitExceeded is treated as a permission error",
    ),
    Mutation(
        "periods-add-months-december",
        f"{SHARED}/periods.py",
        "return date(index // 12, index % 12 + 1, 1)",
        "return date(index // 12, max(1, index % 12), 1)",
        (f"{AWS_API}::test_requests_follow_the_api_contract_one_month_each",),
        "month arithmetic is wrong around the turn of the year",
    ),
    # --- keys ---------------------------------------------------------------------------------
    Mutation(
        "gcp-location-key-region",
        f"{GCP}/carbon.py",
        'record["location_key"] = record["location"] or record["region"] or ""',
        'record["location_key"] = record["location"] or ""',
        ("tests/gcp/test_location_key.py",),
        "carbon rows without a location no longer keyed by region (issue 19, gap 1)",
    ),
    Mutation(
        "gcp-billing-location-key-region",
        f"{GCP}/streams.py",
        'record["location_key"] = record.get("location") or record.get("region") or ""',
        'record["location_key"] = record.get("location") or ""',
        (
            "tests/gcp/test_location_key.py::test_billing_rows_without_a_location_are_keyed_by_region",
        ),
        "billing rows without a location no longer keyed by region",
    ),
    Mutation(
        "gcp-project-key-number",
        f"{GCP}/carbon.py",
        'record["project_key"] = record["project_number"] or record["project_id"] or ""',
        'record["project_key"] = record["project_id"] or ""',
        (
            "tests/gcp/test_carbon_footprint.py::test_null_rules_are_kept_and_the_key_still_has_no_null_part",
        ),
        "deleted projects (no id, a number) all share one key",
    ),
    Mutation(
        "azure-item-key-without-scope",
        f"{AZURE}/streams.py",
        'keys = ("month", "scope", *cls.identity)',
        'keys = ("month", *cls.identity)',
        (
            "tests/azure/test_emissions.py::test_every_category_totals_match_the_data_per_month_and_scope",
        ),
        "Scope 1, 2 and 3 rows of one item share a key (one overwrites the others)",
    ),
    Mutation(
        "aws-api-key-without-service",
        f"{AWS}/streams.py",
        'primary_keys = ("usage_period_start", "usage_account_id", "region", "service")',
        'primary_keys = ("usage_period_start", "usage_account_id", "region")',
        ("tests/test_stream_keys.py",),
        "rows of one account and region but different services share a key",
    ),
    # --- sums ---------------------------------------------------------------------------------
    Mutation(
        "aws-cur-units-unchecked",
        f"{AWS}/cur_engine.py",
        'exact = f"(abs({column}) < {UNITS_LIMIT} AND {units} / {scale} = {column})"',
        'exact = f"(abs({column}) < {UNITS_LIMIT})"',
        ("tests/aws/test_cur_double_units.py",),
        "Parquet doubles with more than 10 decimals are rounded to 10 instead of summed exactly",
    ),
    Mutation(
        "aws-cur-units-limit",
        f"{AWS}/cur_engine.py",
        "UNITS_LIMIT = 2**19",
        "UNITS_LIMIT = 2**40",
        ("tests/aws/test_cur_double_units.py",),
        "large Parquet doubles take the units route, where 10 decimals no longer name one double",
    ),
    # --- state --------------------------------------------------------------------------------
    Mutation(
        "aws-export-state-before-rows",
        f"{AWS}/export_stream.py",
        "        for file in todo:\n            with open_rows(source, file) as (columns, rows):",
        "        for file in todo:\n            done[file.info.key] = file.bookmark\n"
        "            with open_rows(source, file) as (columns, rows):",
        ("tests/aws/test_state_order.py::test_export_state_names_a_file_only_after_all_its_rows",),
        "a file is marked done before its rows are sent (issue 19, gap 3)",
    ),
    Mutation(
        "aws-cur-state-before-rows",
        f"{AWS}/cur_stream.py",
        "        for delivery in todo:\n            yield from self.services.telemetry.counted(",
        "        for delivery in todo:\n"
        "            done[delivery.billing_period] = delivery.bookmark\n"
        "            yield from self.services.telemetry.counted(",
        (
            "tests/aws/test_state_order.py::"
            "test_cur_state_names_a_period_only_after_all_its_line_items",
        ),
        "a billing period is marked done before its rows are sent (issue 19, gap 3)",
    ),
    Mutation(
        "aws-api-lookback-ignored",
        f"{AWS}/streams.py",
        "            self.config[self.lookback_setting],\n            align=self._align,",
        "            0,\n            align=self._align,",
        (f"{AWS_API}::test_bookmark_is_the_last_emitted_month_and_rerun_reads_only_the_lookback",),
        "restated months before the bookmark are never read again",
    ),
    Mutation(
        "azure-lookback-ignored",
        f"{AZURE}/window.py",
        "first = look_back(first, bookmark, lookback)",
        "first = look_back(first, bookmark, 0)",
        (
            "tests/azure/test_emissions.py::test_bookmark_is_the_last_month_and_a_rerun_reads_only_the_lookback",
        ),
        "restated Azure months before the bookmark are never read again",
    ),
    Mutation(
        "gcp-lookback-ignored",
        f"{GCP}/streams.py",
        'self._start_month(), self._bookmark(context), self.config["lookback_months"]',
        "self._start_month(), self._bookmark(context), 0",
        (
            "tests/gcp/test_carbon_footprint.py::test_a_rerun_reads_only_the_lookback_window_and_sees_a_backfilled_month",
        ),
        "backfilled Google months before the bookmark are never read again",
    ),
    # --- secrets and access -------------------------------------------------------------------
    Mutation(
        "azure-client-secret-not-flagged",
        f"{AZURE}/settings.py",
        '        secret=True,\n        description="Client secret of the service',
        '        description="Client secret of the service',
        ("tests/test_secret_flags.py", "tests/azure/test_config.py"),
        "the Azure client secret is no longer registered with the redactor (issue 19, gap 2)",
    ),
    Mutation(
        "azure-denied-not-skipped",
        f"{AZURE}/streams.py",
        "            if subscription in denied:\n                continue",
        "            if False:\n                continue",
        ("tests/azure/test_emissions.py::test_denied_subscriptions_are_warned_about_and_recorded",),
        "emissions_monthly asks for a denied subscription alone",
    ),
)


def copy_tree(destination: Path, *, head: bool) -> None:
    """The project as committed (`--head`) or as in the working tree, without build outputs."""
    if head:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", "HEAD"], cwd=ROOT, capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(destination)], input=archive.stdout, check=True)
        return
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        if set(Path(name).parts) & SKIP:
            continue
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def run_tests(copy: Path, tests: tuple[str, ...], log: Path) -> tuple[int, float]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(str(copy / p) for p in PACKAGES)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    began = time.monotonic()
    with log.open("w") as out:
        done = subprocess.run(
            command, cwd=copy, env=env, stdout=out, stderr=subprocess.STDOUT, check=False
        )
    return done.returncode, time.monotonic() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--head", action="store_true", help="mutate the last commit, not the tree")
    parser.add_argument("--only", default="", help="comma-separated mutation names")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument(
        "--tests", nargs="+", help="run these tests against each mutation instead of its own"
    )
    args = parser.parse_args()
    chosen = [m for m in MUTATIONS if not args.only or m.name in args.only.split(",")]
    if args.tests:
        chosen = [replace(m, tests=tuple(args.tests)) for m in chosen]
    if args.list or not chosen:
        for m in MUTATIONS:
            print(f"{m.name:34} {m.path}: {m.what}")
        return 0 if chosen else 2
    with tempfile.TemporaryDirectory(prefix="mutation-check-") as folder:
        copy, logs = Path(folder) / "project", Path(folder) / "logs"
        copy.mkdir()
        logs.mkdir()
        copy_tree(copy, head=args.head)
        baseline = tuple(dict.fromkeys(t for m in chosen for t in m.tests))
        code, seconds = run_tests(copy, baseline, logs / "baseline.txt")
        if code != 0:
            print((logs / "baseline.txt").read_text()[-4000:])
            print(f"baseline: the unmutated tests fail (exit {code}); fix them first")
            return 2
        print(f"baseline: {len(baseline)} test files pass unmutated ({seconds:.0f} s)")
        outcome: dict[str, str] = {}
        for m in chosen:
            path = copy / m.path
            original = path.read_text()
            if original.count(m.old) != 1:
                outcome[m.name] = "stale"
                print(f"{'stale':9} {m.name}: the text to replace is not in {m.path} exactly once")
                continue
            path.write_text(original.replace(m.old, m.new))
            try:
                code, seconds = run_tests(copy, m.tests, logs / f"{m.name}.txt")
            finally:
                path.write_text(original)
            # pytest: 1 = tests failed; anything else (2 interrupted, 4 usage, 5 none ran) is odd.
            status = {0: "survived", 1: "killed"}.get(code, f"error {code}")
            outcome[m.name] = status
            print(f"{status:9} {m.name} ({seconds:.0f} s): {m.what}", flush=True)
            if status.startswith("error"):
                print((logs / f"{m.name}.txt").read_text()[-2000:])
        survivors = [n for n, s in outcome.items() if s != "killed"]
        killed = len(outcome) - len(survivors)
        print(f"\n{killed} of {len(outcome)} mutations killed; not killed: {survivors or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
