"""Corporate networks: CA bundles and proxies from the standard environment variables.

botocore reads `AWS_CA_BUNDLE` and the proxy variables itself but not `REQUESTS_CA_BUNDLE` or
`SSL_CERT_FILE`; a requests session's `send()` (singer-sdk's prepared-request path) applies the
proxy variables but no CA variable at all. These helpers close both gaps.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import requests

# First match wins: the AWS-specific one, then the generic ones in requests' own order.
CA_BUNDLE_VARIABLES = ("AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")


def ca_bundle_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """The CA bundle the environment names, or None to keep the library's default store."""
    env = os.environ if environ is None else environ
    for name in CA_BUNDLE_VARIABLES:
        value = env.get(name)
        if value:
            if not os.path.isfile(value):
                raise FileNotFoundError(f"{name} names {value!r}, which is not a readable file")
            return value
    return None


def apply_environment(session: requests.Session) -> requests.Session:
    """Make `session.send()` verify with the environment's CA bundle (proxies it already reads)."""
    bundle = ca_bundle_from_env()
    if bundle:
        session.verify = bundle
    session.trust_env = True
    return session
