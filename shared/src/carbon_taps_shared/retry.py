"""Everything about retrying in one import; each piece lives in its own module."""

from carbon_taps_shared.botocore_hook import BotocoreRetryHook, install_botocore_policy
from carbon_taps_shared.policy import RetryPolicy
from carbon_taps_shared.rest import RetryingRESTMixin
from carbon_taps_shared.retry_after import retry_after_seconds
from carbon_taps_shared.steps import (
    Attempt,
    PacingStep,
    Pipeline,
    RetryStep,
    Step,
    TelemetryStep,
    resilience_pipeline,
)

__all__ = [
    "Attempt",
    "BotocoreRetryHook",
    "PacingStep",
    "Pipeline",
    "RetryPolicy",
    "RetryStep",
    "RetryingRESTMixin",
    "Step",
    "TelemetryStep",
    "install_botocore_policy",
    "resilience_pipeline",
    "retry_after_seconds",
]
