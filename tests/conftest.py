"""Fixtures every test folder shares: running a tap's real CLI and reading its Singer output."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.aws_sustainability import ROLE_SECRET_MARKER, ROLE_TOKEN_MARKER
from tests.fakes.azure_arm import ACCESS_TOKEN_PREFIX as AZURE_TOKEN_MARKER
from tests.fakes.gcp_bigquery import ACCESS_TOKEN_PREFIX as GCP_TOKEN_MARKER
from tests.fakes.gcp_key import SECRET_MARKER as GCP_KEY_MARKER
from tests.reliability.figures import TAPS as FIGURE_TAPS
from tests.reliability.figures import table as reliability_table

ROOT = Path(__file__).resolve().parents[1]

# Secret-looking values the tests hand to the taps; no log, error or state may ever show them.
TEST_SECRETS = {
    "aws_secret_access_key": "tEsT/SeCrEt+AwsKey0123456789abcdefghijKL",
    "aws_session_token": "FQoGZXIvYXdzEXAMPLEtestSessionTokenValue0123456789",
    "azure_client_secret": "az~TeSt.Secret_0123456789-AzureClientSecretValue",
    # A line of the session's generated GCP service-account private key (tests/fakes/gcp_key.py).
    "gcp_private_key": GCP_KEY_MARKER,
    # Credentials the fakes issue at run time (STS role keys, Entra and Google access tokens):
    # each carries a fixed marker, so a leak of any of them, first or refreshed, is caught.
    "aws_role_secret_access_key": ROLE_SECRET_MARKER,
    "aws_role_session_token": ROLE_TOKEN_MARKER,
    "azure_access_token": AZURE_TOKEN_MARKER,
    "gcp_access_token": GCP_TOKEN_MARKER,
}


# Settings singer-sdk adds to every tap; meltano.yml need not declare them.
SDK_BUILTIN = {
    "stream_maps",
    "stream_map_config",
    "faker_config",
    "flattening_enabled",
    "flattening_max_depth",
    "flattening_max_key_length",
    "flattening_separator",
    "batch_config",
}

# Everything the taps and Meltano printed during the session, scanned for secrets at the end.
CAPTURED_OUTPUT: list[str] = []


@dataclass
class TapRun:
    returncode: int
    stdout: str
    stderr: str
    messages: list[dict[str, Any]] = field(default_factory=list)

    def records(self, stream: str) -> list[dict[str, Any]]:
        return [
            m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream
        ]

    @property
    def final_state(self) -> dict[str, Any] | None:
        states = [m["value"] for m in self.messages if m["type"] == "STATE"]
        return states[-1] if states else None

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if "ERROR" in line or "CRITICAL" in line]


def run_tap(
    executable: str,
    config: dict[str, Any],
    tmp_path: Path,
    *,
    state: dict[str, Any] | None = None,
    args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> TapRun:
    """Run the installed console script, exactly as Meltano would, and parse what it prints."""
    config_file = tmp_path / f"config-{os.urandom(4).hex()}.json"
    config_file.write_text(json.dumps(config))
    command = [str(Path(sys.executable).parent / executable), "--config", str(config_file)]
    if state is not None:
        state_file = tmp_path / f"state-{os.urandom(4).hex()}.json"
        state_file.write_text(json.dumps(state))
        command += ["--state", str(state_file)]
    command += list(args)
    hermetic = ("AWS_", "OTEL_", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_")
    run_env = {k: v for k, v in os.environ.items() if not k.startswith(hermetic)}
    run_env.update({"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
    run_env.update(env or {})
    done = subprocess.run(
        command, capture_output=True, text=True, env=run_env, timeout=timeout, check=False
    )
    CAPTURED_OUTPUT.extend((done.stdout, done.stderr))
    messages = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"type"')]
    return TapRun(done.returncode, done.stdout, done.stderr, messages)


def assert_no_secrets(*texts: str) -> None:
    for text in texts:
        for name, secret in TEST_SECRETS.items():
            assert secret not in text, f"the {name} test secret leaked"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def moto_endpoint():
    """Moto in server mode (real HTTP, AWS wire formats) for S3 and STS, one per test session."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def tap_runner(tmp_path: Path):
    def _run(executable: str, config: dict[str, Any], **kwargs: Any) -> TapRun:
        return run_tap(executable, config, tmp_path, **kwargs)

    return _run


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any captured output of any test shows a test secret."""
    hits = [
        name for text in CAPTURED_OUTPUT for name, secret in TEST_SECRETS.items() if secret in text
    ]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(
            f"\nsecret scan: {len(CAPTURED_OUTPUT)} captured outputs, {len(hits)} secret hits"
        )
        by_tap = {tap: sum(1 for name in hits if name.startswith(tap)) for tap in FIGURE_TAPS}
        figures = reliability_table(by_tap)
        if figures:
            reporter.write_line("\nreliability figures (tests/reliability):\n" + figures)
    if hits:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
