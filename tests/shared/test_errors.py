"""Classification of every library's failures, and the one-line user error."""

from __future__ import annotations

import sys
import types

import pytest
import requests
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ProfileNotFound,
    ReadTimeoutError,
)
from carbon_taps_shared.errors import (
    Classification,
    ErrorClass,
    ProviderError,
    classify,
    classify_status,
)
from carbon_taps_shared.redaction import default_redactor
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (408, ErrorClass.TRANSIENT),
        (425, ErrorClass.TRANSIENT),
        (500, ErrorClass.TRANSIENT),
        (502, ErrorClass.TRANSIENT),
        (503, ErrorClass.TRANSIENT),
        (504, ErrorClass.TRANSIENT),
        (599, ErrorClass.TRANSIENT),
        (429, ErrorClass.THROTTLED),
        (401, ErrorClass.AUTH),
        (403, ErrorClass.AUTH),
        (404, ErrorClass.NOT_FOUND),
        (410, ErrorClass.NOT_FOUND),
        (400, ErrorClass.BAD_REQUEST),
        (409, ErrorClass.BAD_REQUEST),
        (412, ErrorClass.BAD_REQUEST),
        (413, ErrorClass.BAD_REQUEST),
        (422, ErrorClass.BAD_REQUEST),
        (418, ErrorClass.BAD_REQUEST),
    ],
)
def test_classify_status(status: int, expected: ErrorClass) -> None:
    assert classify_status(status) is expected


def test_only_transient_and_throttled_are_retryable() -> None:
    assert {c for c in ErrorClass if c.retryable} == {ErrorClass.TRANSIENT, ErrorClass.THROTTLED}


def _http_error(server, status: int, headers: dict[str, str], body) -> requests.HTTPError:
    server.add(status, headers, body)
    response = requests.get(server.url + "/x", timeout=5)
    try:
        response.raise_for_status()
    except requests.HTTPError as exc:
        return exc
    raise AssertionError("expected an HTTP error")


def test_requests_http_error_uses_status_body_and_retry_after(server) -> None:
    exc = _http_error(
        server,
        429,
        {"Retry-After": "7"},
        {"error": {"code": "rateLimitExceeded", "message": "Slow down please"}},
    )
    c = classify(exc)
    assert c == Classification(
        ErrorClass.THROTTLED, 429, "rateLimitExceeded", "Slow down please", 7.0
    )


def test_amz_error_type_header_wins_over_status(server) -> None:
    exc = _http_error(
        server,
        400,
        {"x-amzn-ErrorType": "ThrottlingException:http://internal.amazon.com/"},
        {"message": "Rate exceeded"},
    )
    c = classify(exc)
    assert (c.error_class, c.code, c.message) == (
        ErrorClass.THROTTLED,
        "ThrottlingException",
        "Rate exceeded",
    )


def test_message_from_response_is_redacted_and_single_line(server) -> None:
    default_redactor.add("echoed-secret-value-91")
    exc = _http_error(server, 401, {}, "bad token echoed-secret-value-91\nsecond line")
    c = classify(exc)
    assert c.error_class is ErrorClass.AUTH
    assert c.message == "bad token *** second line"


def test_connection_failures_are_transient() -> None:
    with pytest.raises(requests.ConnectionError) as caught:
        requests.get("http://127.0.0.1:9/", timeout=2)  # discard port: refused
    assert classify(caught.value).error_class is ErrorClass.TRANSIENT
    for exc in (
        ConnectionResetError("reset"),
        TimeoutError("slow"),
        requests.exceptions.ReadTimeout("read timed out"),
        requests.exceptions.ChunkedEncodingError("cut"),
        requests.exceptions.ContentDecodingError("bad gzip"),
    ):
        assert classify(exc).error_class is ErrorClass.TRANSIENT, exc


def test_singer_sdk_errors(server) -> None:
    server.add(503)
    response = requests.get(server.url, timeout=5)
    retriable = classify(RetriableAPIError("503 Server Error", response))
    assert (retriable.error_class, retriable.status) == (ErrorClass.TRANSIENT, 503)
    assert classify(RetriableAPIError("flaky")).error_class is ErrorClass.TRANSIENT
    fatal = classify(FatalAPIError("404 Client Error: Not Found for path: /v1/x"))
    assert (fatal.error_class, fatal.status) == (ErrorClass.NOT_FOUND, 404)
    assert classify(FatalAPIError("something odd")).error_class is ErrorClass.FATAL


def _client_error(code: str, status: int, headers: dict[str, str] | None = None) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": f"{code} happened"},
            "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": headers or {}},
        },
        "GetEstimatedCarbonEmissions",
    )


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ThrottlingException", 400, ErrorClass.THROTTLED),
        ("Throttling", 400, ErrorClass.THROTTLED),
        ("RequestLimitExceeded", 503, ErrorClass.THROTTLED),
        ("SlowDown", 503, ErrorClass.THROTTLED),
        ("ProvisionedThroughputExceededException", 400, ErrorClass.THROTTLED),
        ("AccessDeniedException", 403, ErrorClass.AUTH),
        ("UnrecognizedClientException", 400, ErrorClass.AUTH),
        ("ExpiredToken", 400, ErrorClass.AUTH),
        ("SignatureDoesNotMatch", 403, ErrorClass.AUTH),
        ("ValidationException", 400, ErrorClass.BAD_REQUEST),
        ("SerializationException", 400, ErrorClass.BAD_REQUEST),
        ("ResourceNotFoundException", 400, ErrorClass.NOT_FOUND),
        ("NoSuchBucket", 404, ErrorClass.NOT_FOUND),
        ("InternalServerException", 500, ErrorClass.TRANSIENT),
        ("InternalFailure", 500, ErrorClass.TRANSIENT),
        ("SomethingNew", 503, ErrorClass.TRANSIENT),
        ("SomethingElse", 409, ErrorClass.BAD_REQUEST),
    ],
)
def test_botocore_client_error_codes(code: str, status: int, expected: ErrorClass) -> None:
    c = classify(_client_error(code, status))
    assert (c.error_class, c.status, c.code, c.message) == (
        expected,
        status,
        code,
        f"{code} happened",
    )


def test_botocore_retry_after_header_in_milliseconds() -> None:
    c = classify(_client_error("ThrottlingException", 429, {"x-amz-retry-after": "1500"}))
    assert c.retry_after == pytest.approx(1.5)


def test_botocore_non_client_errors() -> None:
    assert classify(EndpointConnectionError(endpoint_url="https://x")).error_class is (
        ErrorClass.TRANSIENT
    )
    assert classify(ReadTimeoutError(endpoint_url="https://x")).error_class is (
        ErrorClass.TRANSIENT
    )
    assert classify(NoCredentialsError()).error_class is ErrorClass.AUTH
    assert classify(ProfileNotFound(profile="nope")).error_class is ErrorClass.AUTH
    assert classify(NoRegionError()).error_class is ErrorClass.BAD_REQUEST


def test_unknown_exceptions_are_fatal() -> None:
    c = classify(ValueError("boom"))
    assert (c.error_class, c.code, c.message) == (ErrorClass.FATAL, "ValueError", "boom")


def _google_module() -> types.ModuleType:
    """Stand-in with google-api-core's class hierarchy (the library is not a dependency)."""
    mod = types.ModuleType("google.api_core.exceptions")

    class GoogleAPICallError(Exception):
        code: int | None = None

        def __init__(self, message: str, response=None) -> None:
            super().__init__(message)
            self.message = message
            self.response = response

    class ClientError(GoogleAPICallError):
        pass

    class BadRequest(ClientError):
        code = 400

    class Forbidden(ClientError):
        code = 403

    class TooManyRequests(ClientError):
        code = 429

    class Conflict(ClientError):
        code = 409

    class ServerError(GoogleAPICallError):
        pass

    class ServiceUnavailable(ServerError):
        code = 503

    for cls in (
        GoogleAPICallError,
        ClientError,
        BadRequest,
        Forbidden,
        TooManyRequests,
        Conflict,
        ServerError,
        ServiceUnavailable,
    ):
        setattr(mod, cls.__name__, cls)
    return mod


def test_google_api_core_errors(monkeypatch, server) -> None:
    mod = _google_module()
    monkeypatch.setitem(sys.modules, "google.api_core.exceptions", mod)
    server.add(429, {"Retry-After": "4"})
    response = requests.get(server.url, timeout=5)
    throttled = classify(mod.TooManyRequests("quota exceeded", response=response))
    assert (throttled.error_class, throttled.status, throttled.retry_after) == (
        ErrorClass.THROTTLED,
        429,
        4.0,
    )
    assert classify(mod.Forbidden("no")).error_class is ErrorClass.AUTH
    assert classify(mod.BadRequest("bad")).error_class is ErrorClass.BAD_REQUEST
    assert classify(mod.ServiceUnavailable("down")).error_class is ErrorClass.TRANSIENT
    assert classify(mod.Conflict("by status")).error_class is ErrorClass.BAD_REQUEST


def test_google_like_names_are_not_matched_when_library_absent(monkeypatch) -> None:
    monkeypatch.delitem(sys.modules, "google.api_core.exceptions", raising=False)
    mod = _google_module()
    assert classify(mod.TooManyRequests("x")).error_class is ErrorClass.FATAL


def test_azure_core_errors(monkeypatch) -> None:
    mod = types.ModuleType("azure.core.exceptions")

    class AzureError(Exception):
        def __init__(self, message: str, **kwargs) -> None:
            super().__init__(message)
            self.message = message

    class HttpResponseError(AzureError):
        def __init__(self, message: str, response=None, status_code=None) -> None:
            super().__init__(message)
            self.response = response
            self.status_code = status_code

    class ClientAuthenticationError(HttpResponseError):
        pass

    class ServiceRequestError(AzureError):
        pass

    for cls in (AzureError, HttpResponseError, ClientAuthenticationError, ServiceRequestError):
        setattr(mod, cls.__name__, cls)
    monkeypatch.setitem(sys.modules, "azure.core.exceptions", mod)

    response = types.SimpleNamespace(
        headers={
            "x-ms-ratelimit-microsoft.costmanagement-qpu-retry-after": "12",
            "x-ms-ratelimit-microsoft.costmanagement-entity-retry-after": "30",
        }
    )
    c = classify(HttpResponseError("Too many requests", response=response, status_code=429))
    assert (c.error_class, c.status, c.retry_after) == (ErrorClass.THROTTLED, 429, 30.0)
    assert classify(ClientAuthenticationError("expired", status_code=401)).error_class is (
        ErrorClass.AUTH
    )
    assert classify(ServiceRequestError("dns")).error_class is ErrorClass.TRANSIENT


def test_provider_error_is_one_actionable_line() -> None:
    c = classify(_client_error("AccessDeniedException", 403))
    c = Classification(c.error_class, c.status, c.code, "User is not authorized.", None)
    err = ProviderError(
        c,
        provider="aws",
        operation="GetEstimatedCarbonEmissions",
        hint="grant sustainability:GetEstimatedCarbonEmissions to the identity the tap runs as",
    )
    assert str(err) == (
        "aws GetEstimatedCarbonEmissions failed (auth, 403 AccessDeniedException): "
        "User is not authorized. What to do: grant sustainability:GetEstimatedCarbonEmissions "
        "to the identity the tap runs as."
    )
    assert (err.provider, err.operation, err.classification) == (
        "aws",
        "GetEstimatedCarbonEmissions",
        c,
    )


@pytest.mark.parametrize(
    ("error_class", "hint"),
    [
        (ErrorClass.AUTH, "check the credentials and the permissions of the identity"),
        (ErrorClass.THROTTLED, "lower max_requests_per_second or retry later"),
        (ErrorClass.TRANSIENT, "the provider is failing; retry later"),
        (ErrorClass.BAD_REQUEST, "check the tap settings (dates, ids)"),
        (ErrorClass.NOT_FOUND, "check that the resource, endpoint and region"),
        (ErrorClass.FATAL, "report this as a bug with the debug log"),
    ],
)
def test_provider_error_default_hints(error_class: ErrorClass, hint: str) -> None:
    text = str(
        ProviderError(
            Classification(error_class, None, None, "", None), provider="p", operation="op"
        )
    )
    assert text.startswith(f"p op failed ({error_class.value}). What to do: {hint}")
    assert "\n" not in text


def test_provider_error_never_shows_secrets() -> None:
    default_redactor.add("hunter2-super-secret")
    err = ProviderError.from_exception(
        ValueError("login with hunter2-super-secret\nAuthorization: Bearer abc.def"),
        provider="http",
        operation="things",
    )
    text = str(err)
    assert "hunter2-super-secret" not in text
    assert "abc.def" not in text
    assert "\n" not in text
    assert classify(err) is err.classification
