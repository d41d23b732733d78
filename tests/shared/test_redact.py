"""Secrets never reach log handlers, error messages or config validation output."""

from __future__ import annotations

import io
import logging
import uuid

import pytest
from carbon_taps_shared.config import SecretSafeConfigMixin, safe_config_errors, secret_keys
from carbon_taps_shared.redaction import Redactor, default_redactor, install_log_redaction
from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError

PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAn0tAsecretkeymaterial\n"
    "aGVsbG8gd29ybGQ=\n-----END RSA PRIVATE KEY-----"
)


@pytest.mark.parametrize(
    ("text", "leaked"),
    [
        ("token is s3cr3t-value!", "s3cr3t-value!"),
        ("url-encoded s3cr3t-value%21 too", "s3cr3t-value%21"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-part_x", "eyJhbGci"),
        (
            "headers={'Authorization': b'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250301'}",
            "AKIDEXAMPLE",
        ),
        ("sent bearer abcDEF123456789+/= to api", "abcDEF123456789"),
        (
            "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            "&X-Amz-Credential=ASIAEXAMPLE%2F20250301%2Fus-east-1&X-Amz-Signature=3f9a0bc4e1d2"
            "&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE%2B%2F",
            "3f9a0bc4e1d2",
        ),
        ("X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE&x=1", "IQoJb3JpZ2luX2VjEXAMPLE"),
        ("X-Amz-Credential=ASIAEXAMPLE/20250301/us-east-1/s3", "ASIAEXAMPLE"),
        ("Credential=AKID/..., SignedHeaders=host, Signature=deadbeef0123abcd", "deadbeef0123abcd"),
        (
            "https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sp=r&sig=AbC%2Bdef%3D&se=2025",
            "AbC%2Bdef%3D",
        ),
        ('{"access_token": "ya29.a0AfH6SMBexample", "expires_in": 3599}', "ya29.a0AfH6SMBexample"),
        ("grant_type=client_credentials&client_secret=Zx8~secretvalue&scope=x", "Zx8~secretvalue"),
        ('{"private_key": "' + PEM.replace("\n", "\\n") + '\\n", "a": 1}', "secretkeymaterial"),
        ("loaded key\n" + PEM + "\nok", "secretkeymaterial"),
        ("key id AKIAIOSFODNN7EXAMPLE in use", "IOSFODNN7EXAMPLE"),
    ],
)
def test_redactor_masks(text: str, leaked: str) -> None:
    redactor = Redactor(["s3cr3t-value!", "", None, "abc"])  # type: ignore[list-item]
    redacted = redactor.redact(text)
    assert leaked not in redacted
    assert "***" in redacted


def test_redactor_leaves_ordinary_text_and_short_values_alone() -> None:
    redactor = Redactor(["on", "abc"])
    text = "region us-east-1 month 2025-03 service abc is on"
    assert redactor.redact(text) == text
    assert redactor.redact('{"expires_in": 3599, "a": "b"}') == '{"expires_in": 3599, "a": "b"}'


def _capture(logger: logging.Logger) -> io.StringIO:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger.addHandler(handler)
    return stream


def test_log_output_is_redacted_including_late_handlers_and_tracebacks() -> None:
    logger = logging.getLogger(f"test.redact.{uuid.uuid4().hex}")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    early = _capture(logger)
    redactor = Redactor(["my-client-secret-123"])
    install_log_redaction(redactor, logger)
    late = _capture(logger)  # added after install: still covered

    logger.info("client secret is %s", "my-client-secret-123")
    logger.warning("GET https://x/b?sv=1&sig=SASSIGVALUE&se=2 Authorization: Bearer tok.en-value")
    logger.debug("signed: X-Amz-Signature=abcdef0123456789")
    try:
        raise RuntimeError("failed with my-client-secret-123")
    except RuntimeError:
        logger.exception("request failed")

    for output in (early.getvalue(), late.getvalue()):
        for leaked in ("my-client-secret-123", "SASSIGVALUE", "tok.en-value", "abcdef0123456789"):
            assert leaked not in output
        assert "client secret is ***" in output
        assert "RuntimeError: failed with ***" in output
        assert "request failed" in output


def test_filter_also_covers_records_built_outside_loggers() -> None:
    redactor = Redactor(["outside-secret-value"])
    logger = logging.getLogger(f"test.redact.{uuid.uuid4().hex}")
    logger.propagate = False
    stream = _capture(logger)
    install_log_redaction(redactor, logger)
    record = logging.makeLogRecord(
        {"msg": "got %s", "args": ("outside-secret-value",), "levelno": 20, "levelname": "INFO"}
    )
    logger.handle(record)
    assert stream.getvalue().strip() == "INFO got ***"


def test_secret_keys_recurses_into_nested_objects() -> None:
    schema = th.PropertiesList(
        th.Property("client_id", th.StringType),
        th.Property("client_secret", th.StringType, secret=True),
        th.Property(
            "auth",
            th.ObjectType(
                th.Property("private_key", th.StringType, secret=True),
                th.Property("user", th.StringType),
            ),
        ),
    ).to_dict()
    assert secret_keys(schema) == {"client_secret", "private_key"}


SCHEMA = th.PropertiesList(
    th.Property("aws_region", th.StringType, required=True),
    th.Property("client_secret", th.StringType, secret=True),
    th.Property("start_date", th.DateType),
    th.Property("granularity", th.StringType, allowed_values=["MONTHLY", "QUARTERLY"]),
    th.Property("max_requests_per_second", th.NumberType(minimum=0), default=2),
).to_dict()


def test_safe_config_errors_never_show_values() -> None:
    config = {
        "client_secret": 987654321,
        "start_date": "not-a-date-XYZ",
        "granularity": "WEEKLY-XYZ",
        "max_requests_per_second": -17,
    }
    errors = safe_config_errors(SCHEMA, config)
    assert errors == [
        "missing required setting 'aws_region'",
        "config['client_secret']: must be of type string",
        "config['granularity']: is not one of ['MONTHLY', 'QUARTERLY']",
        "config['max_requests_per_second']: must be >= 0",
        "config['start_date']: does not match format date",
    ]
    joined = " ".join(errors)
    for value in ("987654321", "XYZ", "-17"):
        assert value not in joined


def test_safe_config_errors_empty_for_valid_config() -> None:
    assert safe_config_errors(SCHEMA, {"aws_region": "us-east-1", "start_date": "2025-01-01"}) == []


class _Empty(Stream):
    name = "empty"
    schema = th.PropertiesList(th.Property("id", th.IntegerType)).to_dict()

    def get_records(self, context):
        return iter(())


class PlainTap(Tap):
    name = "tap-plain"
    config_jsonschema = SCHEMA

    def discover_streams(self):
        return [_Empty(self)]


class SafeTap(SecretSafeConfigMixin, PlainTap):
    name = "tap-safe"


def test_sdk_alone_would_echo_the_secret() -> None:
    """Shows what the mixin is for: without it the value is in the error."""
    with pytest.raises(ConfigValidationError) as caught:
        PlainTap(config={"aws_region": "us-east-1", "client_secret": 12345})
    assert any("12345" in e for e in caught.value.errors)


def test_mixin_reports_without_values_and_keeps_logs_clean(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConfigValidationError) as caught:
        SafeTap(config={"aws_region": "us-east-1", "client_secret": 12345})
    assert caught.value.errors == ["config['client_secret']: must be of type string"]
    assert "12345" not in str(caught.value)
    assert caught.value.schema is not None
    SafeTap.logger.info("the secret was %s", 12345)
    assert "the secret was ***" in caplog.text
    assert "12345" not in caplog.text


def test_mixin_registers_secrets_and_applies_defaults() -> None:
    tap = SafeTap(config={"aws_region": "eu-west-1", "client_secret": "valid-secret-zz9"})
    assert tap.config["max_requests_per_second"] == 2
    assert default_redactor.redact("x valid-secret-zz9 y") == "x *** y"


def test_mixin_can_warn_instead_of_raising(caplog) -> None:
    caplog.set_level(logging.WARNING)
    SafeTap(config={"client_secret": "another-secret-1"}, validate_config=False)
    assert "missing required setting 'aws_region'" in caplog.text
    assert "another-secret-1" not in caplog.text


@pytest.mark.parametrize(
    ("text", "leaked"),
    [
        # botocore's debug lines (auth, endpoint, parsers), values no config names.
        ("x-amz-date:20250301T000000Z\nx-amz-security-token:IQoJb3JpZ2luEXAMPLEtok\n", "IQoJb3J"),
        ("headers={'X-Amz-Security-Token': b'IQoJb3JpZ2luEXAMPLEtok', 'a': b'1'}", "IQoJb3J"),
        ("Signature:\n5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f", "5d672d79"),
        (
            "Response body:\nb'<Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId>"
            "<SecretAccessKey>wJalrXUtnFEMI/K7MDENG</SecretAccessKey>"
            "<SessionToken>FQoGZXIvYXdzEXAMPLE</SessionToken></Credentials>'",
            "wJalrXUtnFEMI",
        ),
        ("<SessionToken>FQoGZXIvYXdzEXAMPLE</SessionToken>", "FQoGZXIvYXdzEXAMPLE"),
        ('{"roleCredentials": {"secretAccessKey": "wJalrXUtnFEMI", "x": 1}}', "wJalrXUtnFEMI"),
        ('{"AccessKeyId": "A", "Token": "FQoGZXIvYXdzEXAMPLE"}', "FQoGZXIvYXdzEXAMPLE"),
        ("assertion=eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln&grant_type=jwt", "eyJhbGci"),
    ],
)
def test_redactor_masks_credentials_from_outside_the_config(text: str, leaked: str) -> None:
    assert leaked not in Redactor().redact(text)


def test_extra_fields_of_a_record_are_redacted() -> None:
    """google-auth logs request headers and bodies as `extra=`; JSON formatters print them."""
    token = "ya29.unit-" + uuid.uuid4().hex
    redactor = Redactor([token])
    stream = io.StringIO()
    logger = logging.getLogger(f"test.extra.{uuid.uuid4().hex}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s %(httpRequest)s"))
    logger.addHandler(handler)
    install_log_redaction(redactor, logger)
    logger.debug(
        "Making request...",
        extra={
            "httpRequest": {
                "headers": {"Authorization": "Bearer abcdefgh", "X-Other": f"carries {token}"},
                "body": {"assertion": "eyJh.eyJp.sig", "grant_type": "jwt-bearer"},
            }
        },
    )
    output = stream.getvalue()
    assert "Making request..." in output and "jwt-bearer" in output
    for leaked in ("abcdefgh", token, "eyJh.eyJp.sig"):
        assert leaked not in output


def test_environment_credentials_are_found_by_name_not_by_config() -> None:
    from carbon_taps_shared.redaction import environment_secrets

    env = {
        "AWS_SESSION_TOKEN": "FQoGZXIvYXdzEXAMPLE",
        "AZURE_CLIENT_SECRET": "az~secret-value",
        "TAP_X_API_KEY": "k3y-value-long",
        "GOOGLE_APPLICATION_CREDENTIALS_FILE": "/home/me/key.json",
        "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token",
        "SOME_TOKEN_ENABLED": "true",
        "HOME": "/home/me",
    }
    assert sorted(environment_secrets(env)) == sorted(
        ["FQoGZXIvYXdzEXAMPLE", "az~secret-value", "k3y-value-long"]
    )
