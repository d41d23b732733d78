"""Credentials through google-auth only: a service-account key, else ADC; optional impersonation.

google-auth signs the JWT, talks to the key's `token_uri` and refreshes the token before it
expires; the tap never handles a token itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import google.auth
from carbon_taps_shared.redaction import default_redactor
from carbon_taps_shared.tapbase import TapUserError
from google.auth import impersonated_credentials
from google.auth.exceptions import DefaultCredentialsError
from google.oauth2 import service_account

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)


def _key_info(config: Mapping[str, Any]) -> dict[str, Any] | None:
    """The service-account key as a dict, from credentials_json or credentials_path."""
    if config.get("credentials_json"):
        try:
            info = json.loads(config["credentials_json"])
        except ValueError:
            raise TapUserError(
                "credentials_json is not valid JSON; paste the whole service-account key file"
            ) from None
        where = "credentials_json"
    elif config.get("credentials_path"):
        path = Path(config["credentials_path"]).expanduser()
        try:
            info = json.loads(path.read_text())
        except OSError:
            raise TapUserError(
                f"credentials_path {path} cannot be read; point it at a service-account key file"
            ) from None
        except ValueError:
            raise TapUserError(f"credentials_path {path} is not a JSON key file") from None
        where = f"credentials_path {path}"
    else:
        return None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise TapUserError(
            f"{where}: not a service-account key (type must be 'service_account'); create one "
            "with `gcloud iam service-accounts keys create` or use Application Default Credentials"
        )
    missing = [k for k in ("client_email", "private_key", "token_uri") if not info.get(k)]
    if missing:
        raise TapUserError(f"{where}: the key lacks {', '.join(missing)}; download it again")
    return info


def make_credentials(config: Mapping[str, Any]) -> tuple[Any, str | None]:
    """(credentials, the project they name) for the BigQuery client."""
    info = _key_info(config)
    if info is not None:
        try:
            credentials = service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
        except ValueError:
            # The library's message may quote the key; say only what to fix.
            raise TapUserError(
                "the service-account key's private_key cannot be loaded; download the key again"
            ) from None
        project = info.get("project_id")
    else:
        try:
            credentials, project = google.auth.default(scopes=SCOPES)
        except DefaultCredentialsError:
            raise TapUserError(
                "no Google credentials: set credentials_path or credentials_json, or configure "
                "Application Default Credentials (`gcloud auth application-default login`, "
                "GOOGLE_APPLICATION_CREDENTIALS, or an attached service account)"
            ) from None
    _mask_tokens(credentials)  # an impersonation's source token is a credential too
    target = config.get("impersonate_service_account")
    if target:
        credentials = impersonated_credentials.Credentials(
            source_credentials=credentials,
            target_principal=target,
            target_scopes=list(SCOPES),
        )
    _mask_tokens(credentials)
    return credentials, project


def _mask_tokens(credentials: Any) -> None:
    """Register every access token google-auth obtains (first and refreshed) for redaction.

    google-auth fetches and refreshes tokens itself; wrapping `refresh` on the instance is the
    one place each new token passes through before any request carries it.
    """
    refresh = getattr(credentials, "refresh", None)
    if refresh is None or getattr(refresh, "_carbon_taps_masks", False):
        return

    def masked_refresh(request: Any) -> None:
        refresh(request)
        default_redactor.add(getattr(credentials, "token", None))

    masked_refresh._carbon_taps_masks = True  # type: ignore[attr-defined]  # marker on a function
    credentials.refresh = masked_refresh
