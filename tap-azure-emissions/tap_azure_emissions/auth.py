"""azure-identity credentials from the tap's settings, and the bearer-token authenticator.

Token acquisition, caching and refresh stay azure-identity's job: the authenticator asks the
credential for a token on every request, which is a cache hit until the token nears expiry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import requests
from azure.core.credentials import TokenCredential
from carbon_taps_shared.errors import CODE_HINTS, ProviderError, classify
from carbon_taps_shared.network import find_ca_bundle
from carbon_taps_shared.redaction import default_redactor
from carbon_taps_shared.tapbase import TapUserError
from singer_sdk.authenticators import APIAuthenticatorBase

ARM_SCOPE = "https://management.azure.com/.default"
TOKEN_HINT = (
    "check tenant_id, client_id and client_secret / client_certificate_path (with neither: the "
    "managed identity, workload identity or Azure CLI login) and authority_host"
)


def make_credential(config: Mapping[str, Any]) -> TokenCredential:
    """Service principal secret, else certificate, else DefaultAzureCredential's chain."""
    from azure.identity import (
        CertificateCredential,
        ClientSecretCredential,
        DefaultAzureCredential,
    )

    kwargs: dict[str, Any] = {}
    if config.get("authority_host"):  # empty = azure-identity's default
        kwargs["authority"] = config["authority_host"]
    if config.get("disable_instance_discovery"):
        kwargs["disable_instance_discovery"] = True
    # The setting, else REQUESTS_CA_BUNDLE / SSL_CERT_FILE (never AWS_CA_BUNDLE): azure-core's
    # transport reads REQUESTS_CA_BUNDLE itself but not SSL_CERT_FILE.
    bundle = find_ca_bundle("azure", setting=config.get("ca_bundle"))
    if bundle:
        kwargs["connection_verify"] = bundle.path
    if config.get("client_secret"):
        return ClientSecretCredential(
            config["tenant_id"], config["client_id"], config["client_secret"], **kwargs
        )
    if config.get("client_certificate_path"):
        return CertificateCredential(
            config["tenant_id"],
            config["client_id"],
            certificate_path=config["client_certificate_path"],
            password=config.get("client_certificate_password") or None,
            **kwargs,
        )
    if config.get("tenant_id"):
        kwargs["tenant_id"] = config["tenant_id"]
    if config.get("client_id"):
        kwargs["managed_identity_client_id"] = config["client_id"]
        kwargs["workload_identity_client_id"] = config["client_id"]
    return DefaultAzureCredential(**kwargs)


class AzureIdentityAuthenticator(APIAuthenticatorBase):
    """Sets `Authorization: Bearer …` from an azure-identity credential on each request."""

    def __init__(
        self,
        credential: TokenCredential,
        scope: str = ARM_SCOPE,
        renew: Callable[[], TokenCredential] | None = None,
    ) -> None:
        super().__init__()
        self.credential = credential
        self.scope = scope
        self._renew = renew

    def renew(self) -> bool:
        """Drop the cached token: a new credential asks Entra ID for a fresh one.

        azure-identity hands out its cached token until it nears expiry by this machine's
        clock; a clock behind ARM's makes ARM refuse it as expired first. There is no public
        way to bypass the cache, so the credential is built again.
        """
        if self._renew is None:
            return False
        self.credential = self._renew()
        return True

    def authenticate_request(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Add the bearer token of the run's credential."""
        try:
            token = self.credential.get_token(self.scope)
        except Exception as exc:  # azure-identity's errors; it already retried transient ones
            failure = classify(exc)
            raise ProviderError(
                failure,
                provider="azure",
                operation="token request (Microsoft Entra ID)",
                hint=None if failure.code in CODE_HINTS else TOKEN_HINT,
            ) from None
        default_redactor.add(token.token)  # a cache hit returns the same text: no new pattern
        request.headers["Authorization"] = f"Bearer {token.token}"
        return request


def build_authenticator(config: Mapping[str, Any]) -> AzureIdentityAuthenticator:
    """The run's one authenticator, so azure-identity's token cache is shared by every stream.

    A credential that cannot be built (an unreadable or non-RSA certificate) ends the run in
    one line naming the settings.
    """
    try:
        credential = make_credential(config)
    except (ValueError, OSError) as exc:
        raise TapUserError(
            f"cannot build the Azure credential: {exc}; check client_certificate_path (an RSA "
            "key and its certificate, PEM or PKCS12) and client_certificate_password"
        ) from None
    return AzureIdentityAuthenticator(
        credential, config["token_scope"], renew=lambda: make_credential(config)
    )
