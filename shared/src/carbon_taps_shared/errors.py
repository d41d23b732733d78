"""One vocabulary for failures, whatever library raised them.

Retry decisions, telemetry and the message a user finally reads all depend on
the same question (is this our fault, theirs, or just bad timing?), so it is
answered once here.
"""

from __future__ import annotations

import json
import re
import ssl
import sys
from dataclasses import dataclass
from enum import Enum
from typing import Any

import requests

from carbon_taps_shared.redaction import default_redactor
from carbon_taps_shared.retry_after import retry_after_seconds

_MAX_MESSAGE = 300


class ErrorClass(str, Enum):  # noqa: UP042 - str mixin keeps json/format output plain
    """The six kinds of failure; each decides whether a retry can help."""

    TRANSIENT = "transient"
    THROTTLED = "throttled"
    AUTH = "auth"
    BAD_REQUEST = "bad_request"
    NOT_FOUND = "not_found"
    FATAL = "fatal"

    @property
    def retryable(self) -> bool:
        """Only waiting can fix these; retrying anything else repeats the failure."""
        return self in (ErrorClass.TRANSIENT, ErrorClass.THROTTLED)


@dataclass(frozen=True)
class Classification:
    """What a failed call was: its class, HTTP status, provider code and message."""

    error_class: ErrorClass
    status: int | None = None
    code: str | None = None
    message: str = ""
    retry_after: float | None = None


DEFAULT_HINTS: dict[ErrorClass, str] = {
    ErrorClass.AUTH: "check the credentials and the permissions of the identity the tap runs as",
    ErrorClass.THROTTLED: "lower max_requests_per_second or retry later",
    ErrorClass.TRANSIENT: "the provider is failing; retry later",
    ErrorClass.BAD_REQUEST: "check the tap settings (dates, ids) against the provider's limits",
    ErrorClass.NOT_FOUND: "check that the resource, endpoint and region in the settings exist",
    ErrorClass.FATAL: "report this as a bug with the debug log",
}

# Failures whose cause is known well enough to say exactly what to change.
CODE_HINTS: dict[str, str] = {
    "CertificateNotTrusted": "the server's TLS certificate is not trusted; point "
    "REQUESTS_CA_BUNDLE, SSL_CERT_FILE or AWS_CA_BUNDLE at your organisation's CA bundle",
}

_TRANSIENT_STATUSES = frozenset({408, 425})

AWS_CODES: dict[str, ErrorClass] = {
    **dict.fromkeys(
        (
            "ThrottlingException",
            "Throttling",
            "ThrottledException",
            "RequestLimitExceeded",
            "TooManyRequestsException",
            "SlowDown",
            "ProvisionedThroughputExceededException",
        ),
        ErrorClass.THROTTLED,
    ),
    **dict.fromkeys(
        (
            "AccessDeniedException",
            "AccessDenied",
            "UnauthorizedOperation",
            "UnrecognizedClientException",
            "InvalidClientTokenId",
            "SignatureDoesNotMatch",
            "ExpiredToken",
            "ExpiredTokenException",
            "InvalidAccessKeyId",
        ),
        ErrorClass.AUTH,
    ),
    **dict.fromkeys(
        ("ValidationException", "InvalidParameterValue", "SerializationException"),
        ErrorClass.BAD_REQUEST,
    ),
    **dict.fromkeys(
        ("ResourceNotFoundException", "NoSuchKey", "NoSuchBucket"), ErrorClass.NOT_FOUND
    ),
    **dict.fromkeys(
        ("InternalServerException", "InternalFailure", "ServiceUnavailable", "InternalError"),
        ErrorClass.TRANSIENT,
    ),
}

_BOTOCORE_BY_NAME: dict[str, ErrorClass] = {
    **dict.fromkeys(
        (
            "EndpointConnectionError",
            "ConnectTimeoutError",
            "ReadTimeoutError",
            "ConnectionClosedError",
        ),
        ErrorClass.TRANSIENT,
    ),
    **dict.fromkeys(
        ("NoCredentialsError", "PartialCredentialsError", "ProfileNotFound"), ErrorClass.AUTH
    ),
    **dict.fromkeys(
        ("NoRegionError", "InvalidRegionError", "ParamValidationError"), ErrorClass.BAD_REQUEST
    ),
}

_GOOGLE_BY_NAME: dict[str, ErrorClass] = {
    **dict.fromkeys(("TooManyRequests", "ResourceExhausted"), ErrorClass.THROTTLED),
    **dict.fromkeys(("Forbidden", "Unauthorized", "PermissionDenied"), ErrorClass.AUTH),
    "NotFound": ErrorClass.NOT_FOUND,
    "BadRequest": ErrorClass.BAD_REQUEST,
    **dict.fromkeys(
        ("ServiceUnavailable", "InternalServerError", "BadGateway", "GatewayTimeout"),
        ErrorClass.TRANSIENT,
    ),
}

_AZURE_BY_NAME: dict[str, ErrorClass] = {
    "ClientAuthenticationError": ErrorClass.AUTH,
    "ServiceRequestError": ErrorClass.TRANSIENT,
    "ServiceResponseError": ErrorClass.TRANSIENT,
}

_REQUESTS_TRANSIENT = (
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    ConnectionError,  # builtin: ConnectionResetError, BrokenPipeError, ...
    TimeoutError,
)

_SINGER_STATUS = re.compile(r"^\s*(\d{3}) (?:Client|Server) Error")


def classify_status(status: int) -> ErrorClass:
    """The error class of an HTTP status when the provider gave no code it documents."""
    if status == 429:
        return ErrorClass.THROTTLED
    if status in _TRANSIENT_STATUSES or status >= 500:
        return ErrorClass.TRANSIENT
    if status in (401, 403):
        return ErrorClass.AUTH
    if status in (404, 410):
        return ErrorClass.NOT_FOUND
    if 400 <= status < 500:
        return ErrorClass.BAD_REQUEST
    return ErrorClass.FATAL


def _clean(message: object) -> str:
    """Redacted, single-line and short: it ends up in one line of user output."""
    text = " ".join(str(message or "").split())
    text = default_redactor.redact(text)
    if len(text) > _MAX_MESSAGE:
        text = text[: _MAX_MESSAGE - 3] + "..."
    return text


def classify_aws_error(
    code: str | None,
    status: int | None,
    message: str | None,
    headers: Any = None,
) -> Classification:
    """Shared by ``classify`` and the botocore hook, which sees parsed responses only."""
    if code and code in AWS_CODES:
        error_class = AWS_CODES[code]
    elif status is not None:
        error_class = classify_status(status)
    else:
        error_class = ErrorClass.FATAL
    return Classification(
        error_class=error_class,
        status=status,
        code=code or None,
        message=_clean(message),
        retry_after=retry_after_seconds(headers or {}),
    )


def _is_instance_of(exc: BaseException, module_name: str, class_name: str) -> bool:
    """Guarded check: a library that was never imported cannot have raised."""
    module = sys.modules.get(module_name)
    cls = getattr(module, class_name, None) if module is not None else None
    return isinstance(cls, type) and isinstance(exc, cls)


def _first_match(
    exc: BaseException, module_name: str, table: dict[str, ErrorClass]
) -> ErrorClass | None:
    for name, error_class in table.items():
        if _is_instance_of(exc, module_name, name):
            return error_class
    return None


def _json_error(response: requests.Response) -> tuple[str | None, str | None]:
    """(code, message) from the common JSON error shapes, if the body is JSON."""
    try:
        body = json.loads(response.content or b"")
    except (ValueError, UnicodeDecodeError):
        return None, None
    if not isinstance(body, dict):
        return None, None
    error = body.get("error")
    if isinstance(error, dict):
        code = error.get("code") or error.get("status")
        message = error.get("message")
        return (str(code) if code else None), (str(message) if message else None)
    code = body.get("code") or body.get("__type") or body.get("errorCode")
    message = (
        body.get("message")
        or body.get("Message")
        or body.get("error_description")
        or (error if isinstance(error, str) else None)
    )
    errors = body.get("errors")
    if not message and isinstance(errors, list) and errors and isinstance(errors[0], dict):
        message = errors[0].get("message")
    return (str(code) if code else None), (str(message) if message else None)


def classify_response(response: requests.Response) -> Classification:
    """Classify a failed HTTP answer from its status, provider code and headers."""
    status = response.status_code
    code, message = _json_error(response)
    amz_type = response.headers.get("x-amzn-ErrorType")
    if amz_type:
        code = amz_type.split(":", 1)[0]
    if code and "#" in code:
        code = code.rsplit("#", 1)[1]
    if message is None:
        content_type = response.headers.get("Content-Type", "")
        message = response.text if "html" not in content_type else ""
        message = message or response.reason or ""
    known = AWS_CODES.get(code) if code is not None else None
    error_class = known if known is not None else classify_status(status)
    return Classification(
        error_class=error_class,
        status=status,
        code=code,
        message=_clean(message),
        retry_after=retry_after_seconds(response.headers),
    )


def _classify_botocore(exc: BaseException) -> Classification | None:
    if _is_instance_of(exc, "botocore.exceptions", "ClientError"):
        payload: dict[str, Any] = getattr(exc, "response", None) or {}
        error = payload.get("Error") or {}
        metadata = payload.get("ResponseMetadata") or {}
        return classify_aws_error(
            error.get("Code"),
            metadata.get("HTTPStatusCode"),
            error.get("Message") or payload.get("message"),
            metadata.get("HTTPHeaders"),
        )
    error_class = _first_match(exc, "botocore.exceptions", _BOTOCORE_BY_NAME)
    if error_class is None:
        return None
    # The class names the failure (ReadTimeoutError, NoRegionError) where no status exists.
    return Classification(error_class=error_class, code=type(exc).__name__, message=_clean(exc))


def _classify_google(exc: BaseException) -> Classification | None:
    module = "google.api_core.exceptions"
    if not _is_instance_of(exc, module, "GoogleAPICallError"):
        return None
    raw_code = getattr(exc, "code", None)
    status = raw_code if isinstance(raw_code, int) else None
    error_class = _first_match(exc, module, _GOOGLE_BY_NAME)
    if error_class is None:
        error_class = classify_status(status) if status is not None else ErrorClass.FATAL
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    reason = getattr(exc, "reason", None)
    return Classification(
        error_class=error_class,
        status=status,
        code=str(reason) if reason else type(exc).__name__,
        message=_clean(getattr(exc, "message", None) or exc),
        retry_after=retry_after_seconds(headers or {}),
    )


def _classify_azure(exc: BaseException) -> Classification | None:
    module = "azure.core.exceptions"
    error_class = _first_match(exc, module, _AZURE_BY_NAME)
    is_http = _is_instance_of(exc, module, "HttpResponseError")
    if error_class is None and not is_http:
        return None
    raw_status = getattr(exc, "status_code", None)
    status = raw_status if isinstance(raw_status, int) else None
    if error_class is None:
        error_class = classify_status(status) if status is not None else ErrorClass.FATAL
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    odata = getattr(exc, "error", None)
    code = getattr(odata, "code", None)
    message = getattr(odata, "message", None) or getattr(exc, "message", None) or exc
    return Classification(
        error_class=error_class,
        status=status,
        code=str(code) if code else None,
        message=_clean(message),
        retry_after=retry_after_seconds(headers or {}),
    )


def _classify_singer(exc: BaseException) -> Classification | None:
    """The SDK's own errors, recognised by name so this module need not import it."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "RetriableAPIError" in names:
        return Classification(error_class=ErrorClass.TRANSIENT, message=_clean(exc))
    if "FatalAPIError" in names:
        match = _SINGER_STATUS.match(str(exc))
        if match:
            status = int(match.group(1))
            return Classification(
                error_class=classify_status(status), status=status, message=_clean(exc)
            )
        return Classification(error_class=ErrorClass.FATAL, message=_clean(exc))
    return None


def _is_certificate_error(exc: BaseException) -> bool:
    """TLS trust failures, however the client library wraps them; retrying cannot fix them."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(
            current
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


def classify(exc: BaseException) -> Classification:
    """Classify any exception the three client families raise."""
    if isinstance(exc, ProviderError):
        return exc.classification
    if _is_certificate_error(exc):
        return Classification(
            error_class=ErrorClass.FATAL, code="CertificateNotTrusted", message=_clean(exc)
        )
    for specific in (_classify_botocore, _classify_google, _classify_azure):
        found = specific(exc)
        if found is not None:
            return found
    response = getattr(exc, "response", None)
    if isinstance(response, requests.Response):
        return classify_response(response)
    if isinstance(exc, requests.exceptions.JSONDecodeError):
        # A success whose body was cut short on the way (client libraries parse it late).
        return Classification(
            error_class=ErrorClass.TRANSIENT,
            code="MalformedResponse",
            message="the response body is not valid JSON",
        )
    if isinstance(exc, _REQUESTS_TRANSIENT):
        return Classification(
            error_class=ErrorClass.TRANSIENT, code=type(exc).__name__, message=_clean(exc)
        )
    singer = _classify_singer(exc)
    if singer is not None:
        return singer
    return Classification(
        error_class=ErrorClass.FATAL, code=type(exc).__name__, message=_clean(exc)
    )


def _code_hint(code: str | None, provider: str) -> str | None:
    """The hint for a known failure; a certificate one names the variable this provider reads."""
    if code == "CertificateNotTrusted":
        from carbon_taps_shared.network import certificate_hint

        return certificate_hint(provider)
    return CODE_HINTS.get(code or "")


class ProviderError(Exception):
    """The single error a user sees: what failed, why, and what to do about it."""

    def __init__(
        self,
        classification: Classification,
        *,
        provider: str,
        operation: str,
        hint: str | None = None,
    ) -> None:
        self.classification = classification
        self.provider = provider
        self.operation = operation
        self.hint = hint
        super().__init__(str(self))

    @classmethod
    def from_exception(
        cls,
        exc: BaseException,
        *,
        provider: str,
        operation: str,
        hint: str | None = None,
    ) -> ProviderError:
        """The one-line error for an exception a client library raised."""
        return cls(classify(exc), provider=provider, operation=operation, hint=hint)

    @property
    def error_class(self) -> ErrorClass:
        """The class of the failure, for retry decisions and telemetry."""
        return self.classification.error_class

    def __str__(self) -> str:
        c = self.classification
        detail = " ".join(str(part) for part in (c.status, c.code) if part)
        reason = c.error_class.value + (f", {detail}" if detail else "")
        message = c.message.strip().rstrip(".")
        hint = self.hint or _code_hint(c.code, self.provider) or DEFAULT_HINTS[c.error_class]
        hint = hint.strip().rstrip(".")
        text = f"{self.provider} {self.operation} failed ({reason})"
        if message:
            text += f": {message}"
        text += f". What to do: {hint}."
        # Redact again: hints and operations are caller-supplied text too.
        return default_redactor.redact(" ".join(text.split()))
