"""Faults on the wire: each provider fake's fault mode against each tap's real client and policy.

For every tap: with faults at 20% (all kinds, seeded) the run emits exactly the records and
state of the fault-free run, retrying only after a failure and never past `max_attempts`,
giving up on a silent server at its own read timeout, and carrying on with renewed
credentials when its tokens expire mid-run. An authentication or permission failure stops
after one attempt with one line saying what to fix. An endpoint that always answers 503 ends
the run within `max_retry_seconds` with one clear line, and the state written before it lets
a fault-free run complete the data with no record missing or duplicated.

Figures (tests/reliability/figures.py): `fault_cases` counts the faults the fakes injected,
`fault_runs` the tap runs made with faults on, `outputs_identical` the faulty runs whose
output matched the fault-free run (for a permanent failure: once the next run resumed).
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.aws.conftest import ACCESS_KEY
from tests.aws.conftest import tap_config as aws_config
from tests.azure.conftest import make_fake as make_azure
from tests.azure.conftest import tap_config as azure_config
from tests.conftest import TEST_SECRETS, TapRun, run_tap
from tests.fakes._http import FAULT_KINDS, REFUSALS, Faults, JsonFake, Reply, Request
from tests.fakes.aws_data import synthetic_rows, synthetic_water_rows
from tests.fakes.aws_sustainability import SustainabilityFake
from tests.fakes.gcp_bigquery import BigQueryFake
from tests.gcp.conftest import BILLING, gcp_config
from tests.gcp.conftest import make_fake as make_gcp
from tests.reliability.figures import record, trials

ROOT = Path(__file__).resolve().parents[2]
RATE = 0.2
SEEDS = (7, 19, 31, 43, 57)[: trials(1, 5)]
TIMEOUT = 1  # request_timeout_seconds: small, so read-timeout faults cost a second each
SLACK = 1.8  # scheduling on a busy machine, on top of a time the policy bounds (< hold)
# Eight attempts make a run at 20% faults fail only when one request meets eight in a row.
POLICY = {
    "max_attempts": 8,
    "max_retry_seconds": 120,
    "request_timeout_seconds": TIMEOUT,
    "max_requests_per_second": 0,
}
# Fields that say when a run happened, not what it read: `subscription_access.checked_at` is
# the start of the run that asked (its snapshots are keyed by it). Compared as one value.
RUN_TIME_FIELDS = frozenset({"checked_at"})
# Every kind but `slow` is a failed attempt the client must retry.
FAILING = frozenset(FAULT_KINDS) - {"slow"}


def fault_mode(seed: int, **overrides: Any) -> Faults:
    settings: dict[str, Any] = {
        "rate": RATE,
        "seed": seed,
        "hold_seconds": 3 * TIMEOUT,
        "slow_seconds": 0.3,
        "retry_after_seconds": 0.5,
    }
    settings.update(overrides)
    return Faults(**settings)


# --- the three taps against their fakes ------------------------------------------------------


@dataclass(frozen=True)
class TapCase:
    key: str  # figures.py name
    executable: str
    start: Callable[[Faults | None], tuple[JsonFake, dict[str, Any]]]  # started fake, config
    credentials_used: Callable[[JsonFake], int]  # distinct credentials the API calls carried
    deny: Callable[[JsonFake, dict[str, Any]], str]  # refuse a permission; the hint expected
    bad_credentials: Callable[[JsonFake, dict[str, Any]], str]  # break the credentials; hint
    failing_path: str  # the endpoint that fails for good, reached after `first_stream`
    first_stream: str
    # Requests whose read timeout is the client library's, not `request_timeout_seconds`.
    library_timeout_paths: tuple[str, ...] = ()


def _aws(faults: Faults | None) -> tuple[JsonFake, dict[str, Any]]:
    fake = SustainabilityFake(
        synthetic_rows(date(2024, 1, 1), 16),
        water_rows=synthetic_water_rows(2024, 2),
        page_size_cap=10,
        credentials={ACCESS_KEY: TEST_SECRETS["aws_secret_access_key"]},
        faults=faults,
    ).start()
    # Through an assumed role, so the fake's STS can hand out credentials that must be renewed.
    config = aws_config(
        fake,
        role_arn="arn:aws:iam::123456789012:role/carbon-reader",
        sts_endpoint_url=fake.url,
        end_date="2025-05-01",
        **POLICY,
    )
    return fake, config


def _aws_keys(fake: JsonFake) -> int:
    keys = {
        (r.header("Authorization") or "").split("Credential=")[-1].split("/")[0]
        for r in fake.requests
        if fake.eligible(r)
    }
    return len(keys)


def _aws_deny(fake: JsonFake, config: dict[str, Any]) -> str:
    assert isinstance(fake, SustainabilityFake)
    fake.faults.deny_access = True
    return "grant sustainability:GetEstimatedCarbonEmissions"


def _aws_bad_key(fake: JsonFake, config: dict[str, Any]) -> str:
    config["aws_secret_access_key"] = "not-the-secret-for-this-access-key-id0000"
    return "check aws_access_key_id / aws_profile / role_arn"


def _azure(faults: Faults | None) -> tuple[JsonFake, dict[str, Any]]:
    fake = make_azure(2, item_page_cap=4, cost_page_size=7, faults=faults).start_tls()
    return fake, azure_config(fake, start_month="2026-01-01", **POLICY)


def _azure_tokens(fake: JsonFake) -> int:
    return len(fake.bearer_tokens())  # type: ignore[attr-defined]


def _azure_deny(fake: JsonFake, config: dict[str, Any]) -> str:
    fake.faults.cost_forbidden = True  # type: ignore[attr-defined]
    return "grant the Cost Management Reader role"


def _azure_bad_secret(fake: JsonFake, config: dict[str, Any]) -> str:
    config["client_secret"] = "wrong~secret.0123456789-NotTheRegisteredOne"
    return "check tenant_id, client_id and client_secret"


def _gcp(faults: Faults | None) -> tuple[JsonFake, dict[str, Any]]:
    fake, key = make_gcp(page_rows=25, faults=faults)
    return fake, gcp_config(fake, key, **POLICY)


def _gcp_tokens(fake: JsonFake) -> int:
    return len({r.header("Authorization") for r in fake.requests if fake.eligible(r)})


def _gcp_deny(fake: JsonFake, config: dict[str, Any]) -> str:
    assert isinstance(fake, BigQueryFake)
    fake.denied = {BILLING.split(".")[0]}
    return "grant BigQuery Data Viewer"


def _gcp_unknown_key(fake: JsonFake, config: dict[str, Any]) -> str:
    assert isinstance(fake, BigQueryFake)
    fake.service_accounts.clear()  # the key's account no longer exists: invalid_grant
    return "check credentials_path / credentials_json"


TAPS = {
    "aws": TapCase(
        "aws",
        "tap-aws-carbon",
        _aws,
        _aws_keys,
        _aws_deny,
        _aws_bad_key,
        failing_path=r"^/v1/estimated-water-allocation$",
        first_stream="carbon_emissions",
    ),
    "azure": TapCase(
        "azure",
        "tap-azure-emissions",
        _azure,
        _azure_tokens,
        _azure_deny,
        _azure_bad_secret,
        failing_path=r"/Microsoft\.Carbon/carbonEmissionReports$",
        first_stream="cost_daily",
    ),
    "gcp": TapCase(
        "gcp",
        "tap-gcp-carbon",
        _gcp,
        _gcp_tokens,
        _gcp_deny,
        _gcp_unknown_key,
        failing_path=r"/tables/carbon_footprint$",
        first_stream="billing_usage_daily",
        # jobs.getQueryResults long-polls for the job, so google-cloud-bigquery gives it at
        # least 120 s whatever timeout the tap passes; the fake's hold ends first.
        library_timeout_paths=("/queries/",),
    ),
}


@contextmanager
def running(case: TapCase, faults: Faults | None) -> Iterator[tuple[JsonFake, dict[str, Any]]]:
    fake, config = case.start(faults)
    try:
        yield fake, config
    finally:
        fake.stop()


@pytest.fixture(scope="module")
def clean_runs(tmp_path_factory: pytest.TempPathFactory) -> Callable[[TapCase], TapRun]:
    """The fault-free run of each tap, made once per module."""
    done: dict[str, TapRun] = {}

    def clean(case: TapCase) -> TapRun:
        if case.key not in done:
            with running(case, None) as (_, config):
                run = run_tap(case.executable, config, tmp_path_factory.mktemp(case.key))
            assert run.returncode == 0, run.stderr[-3000:]
            assert sum(len(v) for v in outputs(run).values()) > 0
            done[case.key] = run
        return done[case.key]

    return clean


# --- what a run emitted, and what the fake saw ------------------------------------------------


def schemas(run: TapRun) -> dict[str, dict[str, Any]]:
    return {m["stream"]: m for m in run.messages if m["type"] == "SCHEMA"}


def records(run: TapRun, stream: str) -> list[dict[str, Any]]:
    """The stream's records with the run-time fields set to one value."""
    return [
        {k: ("<run start>" if k in RUN_TIME_FIELDS else v) for k, v in r.items()}
        for r in run.records(stream)
    ]


def outputs(run: TapRun) -> dict[str, list[str]]:
    """Every stream's records, each as canonical JSON, sorted."""
    return {s: sorted(json.dumps(r, sort_keys=True) for r in records(run, s)) for s in schemas(run)}


def keyed(*runs: TapRun) -> dict[str, dict[tuple, str]]:
    """Records by primary key per stream, later runs replacing earlier ones (an upsert)."""
    merged: dict[str, dict[tuple, str]] = {}
    for run in runs:
        for stream, schema in schemas(run).items():
            for rec in records(run, stream):
                key = tuple(rec.get(k) for k in schema["key_properties"])
                merged.setdefault(stream, {})[key] = json.dumps(rec, sort_keys=True)
    return merged


def duplicates(run: TapRun) -> int:
    """Records a single run emitted more than once for the same primary key."""
    extra = 0
    for stream, schema in schemas(run).items():
        keys = [tuple(r.get(k) for k in schema["key_properties"]) for r in records(run, stream)]
        extra += len(keys) - len(set(keys))
    return extra


def bookmark_values(entry: Any) -> Iterator[str]:
    if isinstance(entry, dict):
        for name, value in entry.items():
            if name == "replication_key_value":
                yield str(value)
            else:
                yield from bookmark_values(value)
    elif isinstance(entry, list):
        for item in entry:
            yield from bookmark_values(item)


def assert_state_not_ahead(run: TapRun) -> None:
    """A run started without state may bookmark only what it emitted."""
    for stream, entry in ((run.final_state or {}).get("bookmarks") or {}).items():
        values = list(bookmark_values(entry))
        if not values:
            continue
        replication_key = schemas(run)[stream]["bookmark_properties"][0]
        emitted = [str(r[replication_key]) for r in run.records(stream)]
        assert emitted, f"{stream}: bookmark {values} with no record emitted"
        assert max(values) <= max(emitted), f"{stream}: bookmark passes the records emitted"


def logical_requests(fake: JsonFake) -> list[list[Request]]:
    """API requests grouped into runs of identical ones: a call and its retries."""
    groups: list[list[Request]] = []
    for request in fake.requests:
        if not fake.eligible(request):
            continue  # token endpoints: the credential libraries' own business
        key = (request.method, request.path, request.query, request.body)
        last = groups[-1][0] if groups else None
        if last is not None and (last.method, last.path, last.query, last.body) == key:
            groups[-1].append(request)
        else:
            groups.append([request])
    return groups


def distinct_calls(requests: list[Request]) -> set[tuple[str, str, str, bytes]]:
    return {(r.method, r.path, r.query, r.body) for r in requests}


def assert_within_policy(fake: JsonFake, max_attempts: int) -> None:
    """Retries follow failures only, and no call is tried more than `max_attempts` times.

    A revoked-token refusal is not an attempt of the policy: google-auth fetches a new token
    and sends the request again inside the same attempt.
    """
    for group in logical_requests(fake):
        *retried, last = group
        where = f"{last.method} {last.path}?{last.query}"
        assert all(r.fault in FAILING for r in retried), f"{where} repeated without a failure"
        assert last.fault in (None, "slow"), f"{where}: the tap went on after a failed attempt"
        attempts = [r for r in group if r.fault != "expired_token"]
        assert len(attempts) <= max_attempts, f"{where}: {len(attempts)} attempts"


def error_lines_with(run: TapRun, text: str) -> list[str]:
    return [line for line in run.error_lines if text in line]


# --- the fault mode itself --------------------------------------------------------------------


def test_the_same_seed_injects_the_same_faults_and_another_seed_others() -> None:
    first = [Faults(rate=RATE, seed=5).kind_for(n) for n in range(400)]
    again = [Faults(rate=RATE, seed=5).kind_for(n) for n in range(400)]
    other = [Faults(rate=RATE, seed=6).kind_for(n) for n in range(400)]
    assert first == again
    assert first != other
    assert sum(kind is not None for kind in first) == RATE * 400, "the rate is exact"


def test_every_kind_comes_up_once_in_each_round_of_faults() -> None:
    faults = Faults(rate=0.5, seed=3)
    dealt = [k for k in (faults.kind_for(n) for n in range(300)) if k is not None]
    size = len(FAULT_KINDS)
    rounds = [dealt[i : i + size] for i in range(0, len(dealt) - size + 1, size)]
    assert len(rounds) >= 3
    for one in rounds:
        assert sorted(one) == sorted(FAULT_KINDS)
    assert rounds[0] != rounds[1], "each round is shuffled anew"


def test_fault_settings_parse_from_the_command_line_form() -> None:
    parsed = Faults.parse("rate=0.25,seed=9,kinds=429+reset,paths=^/v1/+/token$")
    assert parsed == Faults(rate=0.25, seed=9, kinds=("429", "reset"), paths=("^/v1/", "/token$"))
    with pytest.raises(ValueError, match="unknown fault kind"):
        Faults.parse("kinds=teapot")
    with pytest.raises(ValueError, match="unknown fault setting"):
        Faults.parse("ratio=0.2")


class _Items(JsonFake):
    def handle(self, request: Request) -> Reply:
        return Reply(200, {"items": list(range(200))})


@contextmanager
def _one_kind(kind: str) -> Iterator[tuple[_Items, http.client.HTTPConnection]]:
    fake = _Items(Faults(rate=1.0, kinds=(kind,), hold_seconds=5)).start()
    host, port = fake.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=0.5)
    try:
        connection.request("GET", "/items")
        yield fake, connection
    finally:
        connection.close()
        fake.stop()


@pytest.mark.parametrize("kind", REFUSALS)
def test_refusals_answer_at_once_with_their_status(kind: str) -> None:
    with _one_kind(kind) as (fake, connection):
        response = connection.getresponse()
        assert response.status == int(kind[:3])
        assert (response.getheader("Retry-After") is not None) == (kind == "429_retry_after")
        json.loads(response.read())
    assert fake.requests[0].fault == kind and fake.requests[0].status == response.status


def test_a_reset_closes_the_connection_without_an_answer() -> None:
    with _one_kind("reset") as (fake, connection), pytest.raises(ConnectionError):
        connection.getresponse()
    assert fake.requests[0].status is None


def test_a_truncated_body_is_shorter_than_its_content_length() -> None:
    with _one_kind("truncated") as (_, connection):
        response = connection.getresponse()
        assert response.status == 200
        with pytest.raises(http.client.IncompleteRead) as cut:
            response.read()
    promised = int(response.getheader("Content-Length"))
    assert 0 < len(cut.value.partial) < promised


def test_malformed_json_is_a_complete_answer_that_does_not_parse() -> None:
    with _one_kind("malformed_json") as (_, connection):
        response = connection.getresponse()
        body = response.read()
    assert response.status == 200 and len(body) == int(response.getheader("Content-Length"))
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)


def test_a_read_timeout_answers_nothing_until_the_client_hangs_up() -> None:
    with _one_kind("read_timeout") as (fake, connection), pytest.raises(TimeoutError):
        connection.getresponse()
    deadline = time.monotonic() + 5
    while fake.requests[0].waited is None and time.monotonic() < deadline:
        time.sleep(0.05)  # the fake notices the hang-up on its own thread
    waited = fake.requests[0].waited
    assert waited is not None and waited < 5, "the fake held until the client gave up"
    assert fake.requests[0].status is None


def test_a_slow_answer_is_whole() -> None:
    with _one_kind("slow") as (fake, connection):
        response = connection.getresponse()
        assert json.loads(response.read()) == {"items": list(range(200))}
    assert fake.requests[0].fault == "slow"


def _serve_cli(module: str, *args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", module, *args], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    assert line.startswith("http"), f"{module} did not start"
    return process, line


def _post(url: str, path: str, ca_file: str | None = None) -> http.client.HTTPResponse:
    scheme, _, hostport = url.partition("://")
    host, port = hostport.split(":")
    if scheme == "https":
        context = ssl.create_default_context(cafile=ca_file)
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, int(port), context=context, timeout=10
        )
    else:
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("POST", path, body=b"{}", headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_each_fake_starts_with_faults_from_its_command_line(tmp_path: Path) -> None:
    """The demo's and benchmarks' way to start the fakes, with the providers' 429 headers."""
    spec = ("--faults", "rate=1,kinds=429_retry_after,retry_after_seconds=2")
    aws_data = ROOT / "sample_data/aws/carbon_emissions.jsonl"
    ca_file, key_file = tmp_path / "ca.pem", tmp_path / "key.json"
    started = [
        _serve_cli("tests.fakes.aws_sustainability", "--data", str(aws_data), *spec),
        _serve_cli(
            "tests.fakes.azure_arm",
            "--data",
            str(ROOT / "sample_data/azure"),
            "--ca-file",
            str(ca_file),
            *spec,
        ),
        _serve_cli(
            "tests.fakes.gcp_bigquery",
            "--data",
            str(ROOT / "sample_data/gcp/bigquery"),
            "--key-out",
            str(key_file),
            *spec,
        ),
    ]
    try:
        (_, aws), (_, azure), (_, gcp) = started
        answer = _post(aws, "/v1/estimated-carbon-emissions")
        assert answer.status == 429 and answer.getheader("x-amz-retry-after") == "2000"
        assert answer.getheader("x-amzn-ErrorType") == "ThrottlingException"
        carbon = "/providers/Microsoft.Carbon/carbonEmissionReports?api-version=2025-04-01"
        answer = _post(azure, carbon, str(ca_file))
        assert answer.status == 429 and answer.getheader("Retry-After") == "2"
        cost = "/subscriptions/x/providers/Microsoft.CostManagement/query?api-version=2025-03-01"
        answer = _post(azure, cost, str(ca_file))
        assert answer.status == 429
        assert answer.getheader("x-ms-ratelimit-microsoft.costmanagement-qpu-retry-after") == "2"
        answer = _post(gcp, "/bigquery/v2/projects/carbon-demo-project/jobs")
        assert answer.status == 429 and answer.getheader("Retry-After") == "2"
        token = _post(gcp, "/token")
        assert token.status != 429, "token endpoints are not hit unless `paths` says so"
    finally:
        for process, _ in started:
            process.terminate()
            process.wait(10)


# --- the taps under faults ----------------------------------------------------------------------
# Permission refusals hit each tap's first stream, credential refusals its first token request.


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("tap", list(TAPS))
def test_with_faults_at_20_percent_the_run_equals_the_fault_free_run(
    tap: str, seed: int, clean_runs: Callable[[TapCase], TapRun], tmp_path: Path
) -> None:
    case = TAPS[tap]
    clean = clean_runs(case)
    with running(case, fault_mode(seed)) as (fake, config):
        run = run_tap(case.executable, config, tmp_path, timeout=300)
    injected = fake.injected()
    identical = run.returncode == 0 and outputs(run) == outputs(clean)
    identical = identical and run.final_state == clean.final_state
    record(tap, fault_cases=sum(injected.values()), fault_runs=1, outputs_identical=int(identical))

    assert run.returncode == 0, run.stderr[-3000:]
    assert set(injected) == set(fake.per_request_kinds), f"not every kind was hit: {injected}"
    assert outputs(run) == outputs(clean)
    assert run.final_state == clean.final_state
    assert_within_policy(fake, POLICY["max_attempts"])
    for request in fake.requests:
        if request.fault == "read_timeout" and not any(
            p in request.path for p in case.library_timeout_paths
        ):
            assert request.waited is not None, f"{request.path}: the client never timed out"
            assert request.waited < TIMEOUT + SLACK, f"{request.path}: waited {request.waited}"
    # Tokens expired during the run: the tap carried on with renewed ones, never a stale one.
    assert case.credentials_used(fake) >= 2
    stale = [r for r in fake.requests if r.status in (401, 403) and r.fault is None]
    assert not stale, f"{len(stale)} requests carried an expired or unknown credential"


@pytest.mark.parametrize("failure", ["permission", "credentials"])
@pytest.mark.parametrize("tap", list(TAPS))
def test_an_auth_failure_stops_after_one_attempt_with_one_actionable_line(
    tap: str, failure: str, tmp_path: Path
) -> None:
    """Transient faults stay on: only the auth refusal itself must not be retried."""
    case = TAPS[tap]
    with running(case, fault_mode(SEEDS[0])) as (fake, config):
        hint = (case.deny if failure == "permission" else case.bad_credentials)(fake, config)
        run = run_tap(case.executable, config, tmp_path)
    refused = [r for r in fake.requests if r.fault is None and r.status in (400, 401, 403)]
    record(tap, fault_cases=sum(fake.injected().values()) + len(refused), fault_runs=1)

    assert run.returncode != 0
    assert len(refused) == 1, [(r.path, r.status) for r in refused]
    assert refused[0] is fake.requests[-1], "nothing may be sent after an auth refusal"
    lines = error_lines_with(run, hint)
    assert len(lines) == 1, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    if failure == "credentials":
        assert not [m for m in run.messages if m["type"] == "RECORD"], "no data without a login"


@pytest.mark.parametrize("tap", list(TAPS))
def test_a_permanently_failing_endpoint_ends_the_run_and_the_next_run_resumes(
    tap: str, clean_runs: Callable[[TapCase], TapRun], tmp_path: Path
) -> None:
    case = TAPS[tap]
    clean = clean_runs(case)
    budget = 2.0
    always = Faults(rate=1.0, kinds=("503",), paths=(case.failing_path,))
    with running(case, always) as (fake, config):
        config.update(max_attempts=20, max_retry_seconds=budget)
        failed = run_tap(case.executable, config, tmp_path)
    refused = [r for r in fake.requests if r.fault == "503"]

    with running(case, None) as (_, config):
        resumed = run_tap(case.executable, config, tmp_path, state=failed.final_state)
    union, expected = keyed(failed, resumed), keyed(clean)
    identical = resumed.returncode == 0 and union == expected
    identical = identical and duplicates(failed) == duplicates(resumed) == 0
    record(tap, fault_cases=len(refused), fault_runs=1, outputs_identical=int(identical))

    assert failed.returncode == 1
    lines = error_lines_with(failed, "failed (transient, 503")
    assert len(lines) == 1 and "What to do" in lines[0], failed.stderr[-3000:]
    assert "Traceback" not in failed.stderr
    # One call, retried until the time budget ran out (not the 20 attempts): bounded.
    assert len(distinct_calls(refused)) == 1
    assert 2 <= len(refused) < 20
    assert refused[-1].at - refused[0].at <= budget + SLACK
    # What was written before the failure holds, and holds only what was emitted.
    assert_state_not_ahead(failed)
    assert failed.records(case.first_stream), "the first stream finished before the failure"
    assert case.first_stream in failed.final_state["bookmarks"]

    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert union == expected, "the two runs together must hold exactly the fault-free records"
    assert duplicates(failed) == duplicates(resumed) == 0
    assert resumed.final_state == clean.final_state
    # The finished stream resumed from its bookmark instead of starting over.
    assert len(resumed.records(case.first_stream)) < len(clean.records(case.first_stream))


def test_a_server_that_never_answers_is_abandoned_at_the_client_timeout() -> None:
    """The fake's read-timeout hold is what a client without a timeout would sit through."""
    fake = _Items(Faults(rate=1.0, kinds=("read_timeout",), hold_seconds=2)).start()
    host, port = fake.url.removeprefix("http://").split(":")
    try:
        with socket.create_connection((host, int(port))) as raw:
            raw.sendall(b"GET /items HTTP/1.1\r\nHost: x\r\n\r\n")
            raw.settimeout(5)
            try:
                answer = raw.recv(1)
            except ConnectionResetError:
                answer = b""
            assert answer == b"", "the fake closes after its hold, never answering"
    finally:
        fake.stop()
    assert fake.requests[0].waited is None, "the client did not hang up; the hold ran out"
