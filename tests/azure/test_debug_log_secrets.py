"""Debug logs never show an Entra access token (first or refreshed) or an environment secret.

The client secret comes from AZURE_CLIENT_SECRET (DefaultAzureCredential), so no config setting
names it; the log lines are JSON (singer-sdk's structured format), which prints extra fields.
"""

from __future__ import annotations

import json

from tests.azure.conftest import CLIENT_ID, EXECUTABLE, TENANT, make_fake, tap_config
from tests.conftest import TEST_SECRETS, assert_no_secrets
from tests.gcp.test_debug_log_secrets import debug_env


def test_tokens_and_environment_secret_never_reach_structured_debug_logs(tap_runner, tmp_path):
    with make_fake(1, token_lifetime=1) as fake:
        config = tap_config(fake, start_month="2026-01-01", max_requests_per_second=4)
        for name in ("tenant_id", "client_id", "client_secret", "authority_host"):
            del config[name]
        env = {
            **debug_env(tmp_path, "TAP_AZURE_EMISSIONS"),
            "AZURE_TENANT_ID": TENANT,
            "AZURE_CLIENT_ID": CLIENT_ID,
            "AZURE_CLIENT_SECRET": TEST_SECRETS["azure_client_secret"],
            "AZURE_AUTHORITY_HOST": fake.url,
        }
        run = tap_runner(EXECUTABLE, config, env=env)
        assert run.returncode == 0, run.stderr[-3000:]
        assert any(
            json.loads(line).get("level") == "debug"
            for line in run.stderr.splitlines()
            if line.startswith("{")
        ), "debug logging must really be on"
        assert len(fake.token_requests()) >= 2, "the run must outlast its first token"
        assert_no_secrets(run.stdout, run.stderr)
        for token in fake.tokens:
            assert token not in run.stderr
