"""Everything about keeping secrets out of output in one import."""

from carbon_taps_shared.config import (
    SecretSafeConfigMixin,
    register_secrets,
    safe_config_errors,
    secret_keys,
)
from carbon_taps_shared.logredact import RedactingFilter, install_log_redaction
from carbon_taps_shared.redactor import (
    Redactor,
    default_redactor,
    environment_secrets,
    register_environment_secrets,
)

__all__ = [
    "RedactingFilter",
    "Redactor",
    "SecretSafeConfigMixin",
    "default_redactor",
    "environment_secrets",
    "install_log_redaction",
    "register_environment_secrets",
    "register_secrets",
    "safe_config_errors",
    "secret_keys",
]
