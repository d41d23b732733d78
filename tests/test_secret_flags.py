"""Every tap's secrets are flagged secret in --about and sensitive in meltano.yml, and the flag
is what keeps a secret out of an error message.

The flag is not decoration: the taps register the values of `secret` settings with the log
redactor. Dropping it from one setting leaves every other test green unless that setting's value
really reaches an output, which the last test arranges for the Azure client secret.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import yaml

from tests.azure.conftest import CLIENT_ID, EXECUTABLE, make_fake, tap_config
from tests.conftest import ROOT, TapRun, run_tap
from tests.fakes._http import Reply, Request
from tests.fakes.azure_arm import AzureFake

# Written out by hand: a test that derived this from the schema could not notice a lost flag.
SECRETS = {
    "tap-aws-carbon": {
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "external_id",
    },
    "tap-azure-emissions": {"client_secret", "client_certificate_password"},
    "tap-gcp-carbon": {"credentials_json"},
}


def about(executable: str, tmp_path: Path) -> dict[str, Any]:
    run = run_tap(executable, {}, tmp_path, args=("--about", "--format", "json"))
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.mark.parametrize("executable", sorted(SECRETS))
def test_about_flags_exactly_the_secret_settings(executable: str, tmp_path: Path) -> None:
    properties = about(executable, tmp_path)["settings"]["properties"]
    assert SECRETS[executable] <= set(properties)
    assert {name for name, p in properties.items() if p.get("secret")} == SECRETS[executable]


@pytest.mark.parametrize("executable", sorted(SECRETS))
def test_meltano_yml_marks_exactly_the_secret_settings_sensitive(executable: str) -> None:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    plugin = next(p for p in project["plugins"]["extractors"] if p["name"] == executable)
    sensitive = {s["name"] for s in plugin["settings"] if s.get("sensitive")}
    assert sensitive == SECRETS[executable]


class EchoingEntra(AzureFake):
    """Entra ID that quotes the client secret it was sent in its refusal.

    Real Entra does not, but proxies, gateways and older identity servers do; the tap prints the
    service's error description in its one error line, so only the `secret` flag (which registers
    the value with the redactor) stands between such an answer and the user's terminal and logs.
    """

    def _token(self, request: Request) -> Reply:
        sent = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if sent.get("client_secret") != self.clients.get(sent.get("client_id", "")):
            refusal = (
                f"AADSTS7000215: Invalid client secret provided: '{sent.get('client_secret')}' "
                "is not the secret of this application."
            )
            return Reply(401, {"error": "invalid_client", "error_description": refusal})
        return super()._token(request)


def test_a_client_secret_quoted_back_by_the_service_is_masked(tmp_path: Path) -> None:
    wrong = "Qx8~wrongButStillSecret.Value-5150"  # no credential shape the redactor knows
    fake = make_fake(1)
    echoing = EchoingEntra(
        fake.carbon_rows,
        fake.cost_rows,
        subscriptions=fake.subscriptions,
        tenant=fake.tenant,
        clients=fake.clients,
    )
    with echoing:
        run: TapRun = run_tap(
            EXECUTABLE,
            tap_config(echoing, client_secret=wrong, client_id=CLIENT_ID),
            tmp_path,
            env={"TAP_AZURE_EMISSIONS_LOGLEVEL": "DEBUG", "LOGLEVEL": "DEBUG"},
        )
        sent = echoing.token_requests()[0].body.decode()
    assert wrong.replace("~", "%7E") in sent or wrong in sent, "the secret must reach the service"
    assert run.returncode == 1
    assert "AADSTS7000215" in run.error_lines[-1], run.stderr[-2000:]
    assert "Invalid client secret provided: '***'" in run.error_lines[-1]
    assert wrong not in run.stdout + run.stderr
