"""Debug logs never show a Google access token or the signed JWT that obtains one.

google-auth logs each request's headers (`Authorization: Bearer …`) and the token request's body
(the JWT `assertion`) in the log record's extra fields at DEBUG; a structured (JSON) log format,
which singer-sdk offers through SINGER_SDK_LOG_CONFIG, prints them.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

from tests.conftest import assert_no_secrets
from tests.gcp.conftest import gcp_config

STRUCTURED_DEBUG_LOGS = """\
version: 1
disable_existing_loggers: false
formatters:
  structured:
    (): singer_sdk.logging.StructuredFormatter
handlers:
  json:
    class: logging.StreamHandler
    formatter: structured
    stream: ext://sys.stderr
root:
  level: DEBUG
  handlers: [json]
loggers:
  google:
    level: DEBUG
"""


def debug_env(tmp_path: Path, prefix: str) -> dict[str, str]:
    """Debug level with JSON log lines that print every record's extra fields."""
    config = tmp_path / "logging.yml"
    config.write_text(STRUCTURED_DEBUG_LOGS)
    return {f"{prefix}_LOGLEVEL": "DEBUG", "SINGER_SDK_LOG_CONFIG": str(config)}


def test_access_tokens_and_jwt_grants_never_reach_structured_debug_logs(
    fake_and_key, tap_runner, tmp_path
):
    fake, key = fake_and_key
    config = gcp_config(fake, key, tmp_path, billing_export_table=None, start_month="2025-01-01")
    run = tap_runner("tap-gcp-carbon", config, env=debug_env(tmp_path, "TAP_GCP_CARBON"))
    assert run.returncode == 0, run.stderr[-3000:]
    lines = [json.loads(line) for line in run.stderr.splitlines() if line.startswith("{")]
    logged = [
        line["extra"]["httpRequest"] for line in lines if "httpRequest" in line.get("extra", {})
    ]
    assert any(r["url"].endswith("/token") for r in logged), "google-auth's request log must be on"
    assert_no_secrets(run.stdout, run.stderr)
    assert fake.tokens
    for token in fake.tokens:
        assert token not in run.stderr
    grants = [r for r in fake.requests if r.path == "/token"]
    assert grants
    for grant in grants:
        assertion = parse_qs(grant.body.decode())["assertion"][0]
        assert assertion not in run.stderr and assertion.split(".")[2] not in run.stderr
