"""Corporate networks: CA bundles and proxies from the standard environment variables.

botocore reads `AWS_CA_BUNDLE` and the proxy variables itself but not `REQUESTS_CA_BUNDLE` or
`SSL_CERT_FILE`; a requests session's `send()` (singer-sdk's prepared-request path) applies the
proxy variables but no CA variable at all. These helpers close both gaps.

Precedence: an explicit setting (Azure's `ca_bundle`) wins over every variable; then each
provider's own variable (`AWS_CA_BUNDLE` for AWS only); then the generic ones in requests' own
order. A machine-wide `AWS_CA_BUNDLE` therefore never decides whom the Azure or GCP tap trusts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import requests

# The variables requests itself reads (REQUESTS_CA_BUNDLE, then CURL_CA_BUNDLE), then OpenSSL's.
GENERIC_CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")
PROVIDER_CA_VARIABLES: dict[str, tuple[str, ...]] = {
    "aws": ("AWS_CA_BUNDLE", *GENERIC_CA_VARIABLES),
}
# Settings that name a CA bundle explicitly, per provider.
CA_SETTINGS: dict[str, str] = {"azure": "ca_bundle"}

# Kept for callers that list every variable any tap may read.
CA_BUNDLE_VARIABLES = ("AWS_CA_BUNDLE", *GENERIC_CA_VARIABLES)


@dataclass(frozen=True)
class CABundle:
    """A CA bundle in use and what named it (a variable, or a setting)."""

    path: str
    source: str


# The bundle each provider's tap resolved last, so a certificate error can name it.
_IN_USE: dict[str, CABundle] = {}


def ca_variables(provider: str) -> tuple[str, ...]:
    """The variables `provider`'s tap reads, first match wins."""
    return PROVIDER_CA_VARIABLES.get(provider, GENERIC_CA_VARIABLES)


def find_ca_bundle(
    provider: str,
    *,
    setting: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> CABundle | None:
    """The bundle `provider`'s clients must verify with, or None for the library's default store."""
    if setting:
        found = CABundle(setting, f"the {CA_SETTINGS.get(provider, 'ca_bundle')} setting")
        _IN_USE[provider] = found
        return found
    env = os.environ if environ is None else environ
    for name in ca_variables(provider):
        value = env.get(name)
        if value:
            if not os.path.isfile(value):
                raise FileNotFoundError(f"{name} names {value!r}, which is not a readable file")
            found = CABundle(value, name)
            if environ is None:
                _IN_USE[provider] = found
            return found
    return None


def ca_bundle_from_env(
    environ: Mapping[str, str] | None = None, *, provider: str = "http"
) -> str | None:
    """The CA bundle the environment names for `provider`, or None to keep the default store."""
    found = find_ca_bundle(provider, environ=environ)
    return found.path if found else None


def certificate_hint(provider: str) -> str:
    """What to do when `provider`'s server certificate is not trusted, naming the right variable."""
    names = ca_variables(provider)
    setting = CA_SETTINGS.get(provider)
    try:
        in_use = _IN_USE.get(provider) or find_ca_bundle(provider, environ=dict(os.environ))
    except FileNotFoundError:
        in_use = None
    if in_use is not None:
        return (
            f"the server's TLS certificate is not signed by a CA in {in_use.path} (named by "
            f"{in_use.source}); add your organisation's CA certificate to that file or point "
            f"{in_use.source} at a bundle that has it"
        )
    first, rest = names[0], " / ".join(n for n in names[1:] if n != "CURL_CA_BUNDLE")
    where = f"{first} (or {rest})" if rest else first
    if setting:
        where = f"the {setting} setting or {where}"
    return (
        f"the server's TLS certificate is not trusted; point {where} at your organisation's "
        "CA bundle"
    )


def apply_environment(session: requests.Session, *, provider: str = "http") -> requests.Session:
    """Make `session.send()` verify with the environment's CA bundle (proxies it already reads)."""
    bundle = ca_bundle_from_env(provider=provider)
    if bundle:
        session.verify = bundle
    session.trust_env = True
    return session
