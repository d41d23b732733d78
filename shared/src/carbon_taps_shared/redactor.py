"""Secret scrubbing for any text that may reach a user, a log or a trace."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import quote

MASK = "***"
_MIN_SECRET_LENGTH = 4

# Field names whose values are credentials wherever they show up (JSON, forms, queries).
_SECRET_FIELDS = (
    r"access_token|refresh_token|id_token|client_secret|private_key|password|passwd"
    r"|api_key|apikey|secret_access_key|aws_secret_access_key|session_token"
    r"|aws_session_token|sas_token|account_key|shared_key|client_assertion"
    # botocore's credential answers (STS XML, SSO/container JSON) and google-auth's JWT grant.
    r"|secretaccesskey|sessiontoken|securitytoken|x-amz-security-token|token|assertion"
)

# Ordered: whole PEM blocks first so the field patterns never see half a key.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?-----END \1PRIVATE KEY-----",
            re.DOTALL,
        ),
        r"-----BEGIN \1PRIVATE KEY-----" + MASK + r"-----END \1PRIVATE KEY-----",
    ),
    # A key cut off before its END line (truncated logs) is still a key.
    (
        re.compile(r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[^\"']*"),
        r"-----BEGIN \1PRIVATE KEY-----" + MASK,
    ),
    (
        re.compile(
            r"""(["']?\b(?:""" + _SECRET_FIELDS + r""")["']?\s*:\s*b?["'])(?:\\.|[^"'\\])*(["'])""",
            re.IGNORECASE,
        ),
        r"\1" + MASK + r"\2",
    ),
    (
        re.compile(r"\b((?:" + _SECRET_FIELDS + r")=)[^&\s'\"]+", re.IGNORECASE),
        r"\1" + MASK,
    ),
    (
        re.compile(
            r"""(["']?\b(?:proxy-)?authorization["']?\s*[:=]\s*b?["']?)[^\r\n'"]+""",
            re.IGNORECASE,
        ),
        r"\1" + MASK,
    ),
    (re.compile(r"\b(Bearer)\s+[A-Za-z0-9\-._~+/]+=*", re.IGNORECASE), r"\1 " + MASK),
    (
        re.compile(r"\b((?:X-Amz-)?Signature=)[0-9a-fA-F]+", re.IGNORECASE),
        r"\1" + MASK,
    ),
    (
        re.compile(r"\b(X-Amz-(?:Security-Token|Credential)=)[^&\s'\"]+", re.IGNORECASE),
        r"\1" + MASK,
    ),
    (re.compile(r"\b(sig=)[^&\s'\"]+", re.IGNORECASE), r"\1" + MASK),
    # botocore's debug lines: the session token as a canonical-request or HTTP header line
    # (`x-amz-security-token:…`), and the SigV4 signature printed after "Signature:" and a newline.
    (
        re.compile(r"\b(x-amz-security-token\s*[:=]\s*)[^\s'\"&,}]+", re.IGNORECASE),
        r"\1" + MASK,
    ),
    (re.compile(r"\b(Signature:\s*)[0-9a-fA-F]{16,}"), r"\1" + MASK),
    # XML credential answers (STS AssumeRole*, GetSessionToken, GetFederationToken).
    (
        re.compile(
            r"(<(SecretAccessKey|SessionToken|SecurityToken|Token|AccessToken|ClientSecret"
            r"|Password)>)[^<]*(</\2>)",
            re.IGNORECASE,
        ),
        r"\1" + MASK + r"\3",
    ),
    # Long-term and temporary AWS access key ids identify the credential being used.
    (re.compile(r"\b((?:AKIA|ASIA)[A-Z0-9]{4})[A-Z0-9]{12}\b"), r"\1" + MASK),
)


class Redactor:
    """Masks configured secret values plus credential shapes no config knows about.

    Mutable because secrets are only known once each tap has read its config,
    while loggers and error formatting are wired up before that.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._literal: re.Pattern[str] | None = None
        for secret in secrets:
            self.add(secret)

    def add(self, value: object) -> None:
        """Short values are skipped: masking 'a' or 'on' would shred every message."""
        if value is None or isinstance(value, bool):
            return
        text = str(value)
        if len(text) < _MIN_SECRET_LENGTH:
            return
        variants = {text, quote(text, safe=""), quote(text)}
        with self._lock:
            if variants <= self._secrets:
                return
            self._secrets |= variants
            # Longest first so a secret containing another one is masked whole.
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._literal = re.compile("|".join(re.escape(s) for s in ordered))

    def redact(self, text: str) -> str:
        if not text:
            return text
        literal = self._literal
        if literal is not None:
            text = literal.sub(MASK, text)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


# Environment variables whose values are credentials: the ones the provider libraries read, plus
# any name that says so (a CI token, a Meltano-injected TAP_*_CLIENT_SECRET). Names of files,
# paths, ids and endpoints are not secrets even when they mention one.
ENV_SECRET_NAMES = frozenset(
    {
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AZURE_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PASSWORD",
        "AZURE_PASSWORD",
    }
)
_ENV_SECRET_SHAPE = re.compile(
    r"SECRET|TOKEN|PASSWORD|PASSWD|PRIVATE_KEY|CREDENTIALS_JSON|ACCOUNT_KEY|API_KEY"
)
_ENV_NOT_SECRET = re.compile(
    r"_(?:FILE|PATH|DIR|URL|URI|ENDPOINT|HOST|ID|NAME|TYPE|ENABLED|TTL|EXPIRY|EXPIRATION)$"
)
# A generic name with a very short value ("1", "true") is a flag, and masking it would shred logs.
_ENV_MIN_GENERIC_LENGTH = 8


def environment_secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values of the environment's credential variables, whatever the config names."""
    env = os.environ if environ is None else environ
    found = []
    for name, value in env.items():
        upper = name.upper()
        if upper in ENV_SECRET_NAMES or (
            _ENV_SECRET_SHAPE.search(upper)
            and not _ENV_NOT_SECRET.search(upper)
            and len(value) >= _ENV_MIN_GENERIC_LENGTH
        ):
            found.append(value)
    return found


default_redactor = Redactor()


def register_environment_secrets(
    redactor: Redactor = default_redactor, environ: Mapping[str, str] | None = None
) -> None:
    """Mask the environment's credentials: botocore and azure-identity read them, not the config."""
    for value in environment_secrets(environ):
        redactor.add(value)
