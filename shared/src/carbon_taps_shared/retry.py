"""Everything about retrying in one import; each piece lives in its own module."""

from carbon_taps_shared.botocore_hook import BotocoreRetryHook, install_botocore_policy
from carbon_taps_shared.policy import RetryPolicy
from carbon_taps_shared.rest import RetryingRESTMixin
from carbon_taps_shared.retry_after import retry_after_seconds

__all__ = [
    "BotocoreRetryHook",
    "RetryPolicy",
    "RetryingRESTMixin",
    "install_botocore_policy",
    "retry_after_seconds",
]
