"""Resilience shared by the cloud carbon taps: errors, retries, pacing, telemetry, redaction."""

from carbon_taps_shared.config import SecretSafeConfigMixin, safe_config_errors, secret_keys
from carbon_taps_shared.errors import (
    Classification,
    ErrorClass,
    ProviderError,
    classify,
    classify_status,
)
from carbon_taps_shared.ratelimit import TokenBucket
from carbon_taps_shared.redaction import (
    RedactingFilter,
    Redactor,
    default_redactor,
    install_log_redaction,
)
from carbon_taps_shared.retry import (
    BotocoreRetryHook,
    RetryingRESTMixin,
    RetryPolicy,
    install_botocore_policy,
    retry_after_seconds,
)
from carbon_taps_shared.telemetry import Telemetry, configure_from_env

__all__ = [
    "BotocoreRetryHook",
    "Classification",
    "ErrorClass",
    "ProviderError",
    "RedactingFilter",
    "Redactor",
    "RetryPolicy",
    "RetryingRESTMixin",
    "SecretSafeConfigMixin",
    "Telemetry",
    "TokenBucket",
    "classify",
    "classify_status",
    "configure_from_env",
    "default_redactor",
    "install_botocore_policy",
    "install_log_redaction",
    "retry_after_seconds",
    "safe_config_errors",
    "secret_keys",
]
