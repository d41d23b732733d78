"""boto3 sessions from the tap's settings; credentials, refresh and signing stay botocore's job."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import partial
from typing import Any

import boto3
import botocore.session
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    CredentialProvider,
    DeferredRefreshableCredentials,
)
from carbon_taps_shared.network import ca_bundle_from_env
from carbon_taps_shared.redaction import default_redactor


class _TracebackToDebug(logging.Filter):
    """botocore logs a failed role refresh at WARNING with its traceback; the tap then fails
    with one line saying what to fix, so the traceback is kept for debug logging only."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.DEBUG and not _CREDENTIALS_LOG.isEnabledFor(logging.DEBUG):
            record.exc_info = None
            record.exc_text = None
        return True


_CREDENTIALS_LOG = logging.getLogger("botocore.credentials")
_CREDENTIALS_LOG.addFilter(_TracebackToDebug())


class _AssumedRoleProvider(CredentialProvider):
    """Puts refreshable assume-role credentials first in botocore's own resolver chain."""

    METHOD = "tap-assume-role"
    CANONICAL_NAME = "TapAssumeRole"

    def __init__(self, credentials: DeferredRefreshableCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> DeferredRefreshableCredentials:
        return self._credentials


def _mask(values: Mapping[str, Any]) -> None:
    for name in ("secret_key", "token", "secret_access_key", "session_token"):
        default_redactor.add(values.get(name))


def _mask_before_signing(session: botocore.session.Session) -> None:
    """Register the credentials each request is signed with, before botocore logs the signing.

    `get_frozen_credentials` is what the signer calls next: it refreshes expiring credentials
    (assumed role, SSO, instance or container role), so refreshed values are masked too, whatever
    source botocore resolved them from.
    """

    def before_sign(**_: Any) -> None:
        credentials = session.get_credentials()
        if credentials is not None:
            frozen = credentials.get_frozen_credentials()
            _mask({"secret_key": frozen.secret_key, "token": frozen.token})

    session.register("before-sign", before_sign, unique_id="carbon-taps-mask-credentials")


def make_session(config: Mapping[str, Any]) -> boto3.Session:
    """Explicit keys, else a named profile, else the default chain; then `role_arn` on top."""
    source = botocore.session.Session(profile=config.get("aws_profile"))
    _mask_before_signing(source)
    if config.get("aws_access_key_id"):
        source.set_credentials(
            config["aws_access_key_id"],
            config.get("aws_secret_access_key"),
            config.get("aws_session_token"),
        )
    role_arn = config.get("role_arn")
    if not role_arn:
        return boto3.Session(botocore_session=source, region_name=config.get("aws_region"))

    extra_args: dict[str, Any] = {"RoleSessionName": config.get("role_session_name")}
    if config.get("external_id"):
        extra_args["ExternalId"] = config["external_id"]
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=partial(
            source.create_client,
            region_name=config.get("aws_region"),
            endpoint_url=config.get("sts_endpoint_url") or None,
            verify=ca_bundle_from_env(provider="aws"),
        ),
        source_credentials=source.get_credentials(),
        role_arn=role_arn,
        extra_args=extra_args,
    )

    def fetch_and_mask() -> dict[str, Any]:
        fetched = fetcher.fetch_credentials()
        _mask(fetched)
        return fetched

    assumed = botocore.session.Session()
    _mask_before_signing(assumed)
    assumed.get_component("credential_provider").insert_before(
        "env",
        _AssumedRoleProvider(
            DeferredRefreshableCredentials(refresh_using=fetch_and_mask, method="assume-role")
        ),
    )
    return boto3.Session(botocore_session=assumed, region_name=config.get("aws_region"))
