"""Keeping secrets out of output: a scrubber for any text that may reach a user, a log or a
trace, and a log filter that applies it to every handler, including ones configured later.

Settings-side registration (`SecretSafeConfigMixin`, `secret_keys`) lives in `config`, which
feeds the secrets it finds to `default_redactor` here.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import traceback
from collections.abc import Iterable, Mapping
from typing import Any
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
        """``text`` with every registered secret (and its encodings) masked."""
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


# Log redaction: keep secrets out of every log handler, including ones configured after us.
_install_lock = threading.Lock()


def _format_exception(exc_info: Any) -> str:
    return "".join(traceback.format_exception(*exc_info)).rstrip("\n")


def redact_record(record: logging.LogRecord, redactors: list[Redactor]) -> None:
    """Freeze the record's text in redacted form.

    Arguments are merged into the message first because a secret may sit in an
    argument, and exception text is rendered now because handlers would otherwise
    format the raw traceback themselves. ``exc_info`` is cleared for that reason:
    the redacted traceback lives on in ``exc_text``, which formatters print.
    Idempotent, so a record seen by both the factory and a filter is just
    checked twice; no "already done" mark that later edits could slip past.
    """

    def scrub(text: str) -> str:
        for redactor in redactors:
            text = redactor.redact(text)
        return text

    try:
        message = record.getMessage()
    except Exception:  # a broken format string must not break logging
        message = f"{record.msg!s} {record.args!r}"
    record.msg = scrub(message)
    record.args = None
    if record.exc_info and record.exc_info != (None, None, None):
        record.exc_text = scrub(_format_exception(record.exc_info))
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = scrub(record.exc_text)
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)
    # `extra=` fields: google-auth logs each request's headers and body there at DEBUG, and a
    # structured (JSON) formatter prints them all.
    for name in [n for n in record.__dict__ if n not in _STANDARD_ATTRIBUTES]:
        record.__dict__[name] = _scrub_value(record.__dict__[name], scrub)


# Everything a LogRecord has without `extra=`; the rest came from the caller.
_STANDARD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
_SECRET_KEY = re.compile(
    r"(?:^|[-_])(?:authorization|secret|token|password|passwd|assertion|private_key|"
    r"client_secret|access_key|signature|credential)s?$|(?:secretaccesskey|sessiontoken|"
    r"accesstoken|refreshtoken|idtoken)$",
    re.IGNORECASE,
)


def _scrub_value(value: Any, scrub: Any, depth: int = 0) -> Any:
    """A redacted copy: text scrubbed, values under credential-named keys masked outright."""
    if depth > 20:
        return MASK
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, bytes):
        return scrub(value.decode("utf-8", "replace"))
    if isinstance(value, Mapping):
        return {
            key: MASK
            if isinstance(key, str) and _SECRET_KEY.search(key) and value[key] not in (None, "")
            else _scrub_value(value[key], scrub, depth + 1)
            for key in value
        }
    if isinstance(value, list | tuple | set):
        return [_scrub_value(item, scrub, depth + 1) for item in value]
    return value


class RedactingFilter(logging.Filter):
    """Handler filter that rewrites records instead of dropping them."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask secrets in the record's message and arguments; never drop the record."""
        redact_record(record, [self.redactor])
        return True


class _RedactingRecordFactory:
    """Wraps the process-wide record factory so every record is born redacted."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.redactors: list[Redactor] = []

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.inner(*args, **kwargs)
        redact_record(record, self.redactors)
        return record


def install_log_redaction(redactor: Redactor, logger: logging.Logger | None = None) -> None:
    """Redact every log record in the process with ``redactor``.

    Two layers, because each alone has a gap. The record factory catches every
    record created through ``Logger.makeRecord`` no matter which handler (present
    or added later, e.g. by the SDK's logging config) ends up emitting it. The
    handler filters on the root logger and ``logger`` catch records built by
    other means (``logging.makeLogRecord``, records shipped between processes).
    Calling this again with the same redactor changes nothing.
    """
    with _install_lock:
        factory = logging.getLogRecordFactory()
        if not isinstance(factory, _RedactingRecordFactory):
            factory = _RedactingRecordFactory(factory)
            logging.setLogRecordFactory(factory)
        if redactor not in factory.redactors:
            factory.redactors.append(redactor)

        loggers = [logging.getLogger()]
        if logger is not None and logger not in loggers:
            loggers.append(logger)
        for each in loggers:
            for handler in each.handlers:
                already = any(
                    isinstance(f, RedactingFilter) and f.redactor is redactor
                    for f in handler.filters
                )
                if not already:
                    handler.addFilter(RedactingFilter(redactor))
