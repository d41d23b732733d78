"""Config validation whose messages are safe to print, and secret registration."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

from carbon_taps_shared.redaction import (
    Redactor,
    default_redactor,
    install_log_redaction,
    register_environment_secrets,
)


def secret_keys(config_schema: Mapping[str, Any]) -> set[str]:
    """Names of settings flagged ``"secret": true``, at any nesting depth."""
    found: set[str] = set()

    def walk(schema: Any) -> None:
        if isinstance(schema, Mapping):
            for name, sub in (schema.get("properties") or {}).items():
                if isinstance(sub, Mapping) and sub.get("secret") is True:
                    found.add(name)
                walk(sub)
            for key in ("items", "additionalProperties"):
                walk(schema.get(key))
            for key in ("anyOf", "oneOf", "allOf"):
                for sub in schema.get(key) or []:
                    walk(sub)
        elif isinstance(schema, list):
            for sub in schema:
                walk(sub)

    walk(config_schema)
    return found


def secret_values(config: Any, keys: set[str]) -> Iterable[str]:
    """Values stored under ``keys`` anywhere in ``config``."""
    if isinstance(config, Mapping):
        for key, value in config.items():
            if key in keys and isinstance(value, str | int | float) and not isinstance(value, bool):
                yield str(value)
            else:
                yield from secret_values(value, keys)
    elif isinstance(config, list):
        for item in config:
            yield from secret_values(item, keys)


def _location(error: ValidationError) -> str:
    return "config" + "".join(f"[{part!r}]" for part in error.absolute_path)


def _describe(error: ValidationError) -> str:
    """Rebuilt from the schema and the path only, so no config value can leak.

    jsonschema's own messages quote the offending instance, which for a
    mistyped secret is the secret itself.
    """
    if error.context:
        return _describe(best_match(error.context))
    where = _location(error)
    rule, instance = error.validator, error.instance
    expected: Any = error.validator_value  # the schema's own value for the rule: any JSON
    if rule == "required":
        present = instance if isinstance(instance, Mapping) else {}
        missing = [name for name in expected if name not in present]
        # jsonschema yields one error per missing name, quoting it in the message.
        name = next(
            (n for n in missing if repr(n) in error.message), missing[0] if missing else "?"
        )
        prefix = f"{where}: " if error.absolute_path else ""
        return f"{prefix}missing required setting {name!r}"
    if rule == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        # "or null" only means the setting is optional; it does not help fix the value.
        kinds = [k for k in kinds if k != "null"] or kinds
        return f"{where}: must be of type {' or '.join(map(str, kinds))}"
    if rule == "format":
        return f"{where}: does not match format {expected}"
    if rule == "enum":
        return f"{where}: is not one of {list(expected)!r}"
    if rule == "const":
        return f"{where}: must be {expected!r}"
    if rule == "pattern":
        return f"{where}: does not match pattern {expected!r}"
    if rule == "minLength":
        return f"{where}: must be at least {expected} characters long"
    if rule == "maxLength":
        return f"{where}: must be at most {expected} characters long"
    if rule in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        op = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
        return f"{where}: must be {op[rule]} {expected}"
    if rule in ("minItems", "maxItems"):
        return (
            f"{where}: must have {'at least' if rule == 'minItems' else 'at most'} {expected} items"
        )
    if rule == "additionalProperties" and isinstance(instance, Mapping):
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        known = set(schema.get("properties") or {})
        extra = sorted(str(k) for k in instance if k not in known)
        return (
            f"{where}: unknown setting(s) {', '.join(map(repr, extra))} (check the spelling; "
            "--about lists every setting)"
        )
    return f"{where}: does not satisfy the schema rule {rule!r}"


def safe_config_errors(
    schema: Mapping[str, Any],
    config: Mapping[str, Any],
    *,
    validator_cls: type | None = None,
) -> list[str]:
    """Validation messages that never include a config value, secret or not.

    ``validator_cls`` lets the SDK's default-filling validator be used so
    validating still applies schema defaults to ``config``.
    """
    cls: Any = validator_cls or jsonschema.Draft202012Validator
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path])
    messages: list[str] = []
    for error in errors:
        message = _describe(error)
        if message not in messages:
            messages.append(message)
    return messages


def endpoint_problem(
    name: str, value: Any, schemes: tuple[str, ...] = ("http", "https")
) -> str | None:
    """Why `value` cannot be the endpoint URL setting `name` names; None when it can.

    Checked with the settings, so a typo fails before any request instead of deep inside a
    client library.
    """
    if not isinstance(value, str) or not value:
        return None  # the schema reports a wrong type; empty means unset
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in schemes
        or not parts.hostname
        or any(c.isspace() for c in value)
    ):
        kinds = " or ".join(f"{scheme}://" for scheme in schemes)
        return f"{name} must be an {kinds} URL with a host name (e.g. {schemes[-1]}://host)"
    return None


def register_secrets(
    schema: Mapping[str, Any], config: Mapping[str, Any], redactor: Redactor = default_redactor
) -> None:
    """Hand every secret setting's value to the redactor before anything can log it."""
    for value in secret_values(config, secret_keys(schema)):
        redactor.add(value)


def numbers_from_text(schema: dict[str, Any], config: dict[str, Any]) -> None:
    """Read a number setting given as text ("0.5") as the number.

    Meltano 4 hands a setting set from the environment or `meltano config set` to the tap as
    text unless its kind converts it, and its `decimal` kind fails to write the tap's config
    ("Decimal is not JSON serializable"), so the plugin definitions declare decimal settings as
    `kind: string` (scripts/plugin_definitions.py). Text that is not a finite number is left for
    validation to refuse.
    """
    for key, value in config.items():
        types = (schema.get("properties", {}).get(key) or {}).get("type")
        types = [types] if isinstance(types, str) else (types or [])
        if not isinstance(value, str) or "number" not in types or "string" in types:
            continue
        try:
            number = float(value.strip())
        except ValueError:
            continue
        if math.isfinite(number):
            config[key] = number


class SecretSafeConfigMixin:
    """Put first in the bases of a singer-sdk ``Tap``.

    Runs before anything else reads the config: registers the secrets for
    redaction, installs log redaction and reports invalid settings without
    echoing their values (the SDK's messages quote them).
    """

    _config: dict[str, Any]

    # A private singer-sdk method: PluginBase.__init__ validates through it and offers no public
    # hook that runs first. tests/shared/test_sdk_surface.py fails if the SDK changes under it.
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        from singer_sdk.exceptions import ConfigValidationError
        from singer_sdk.plugin_base import JSONSchemaValidator

        plugin: Any = self
        schema = plugin.config_jsonschema
        plugin.append_builtin_config(schema)
        register_secrets(schema, self._config)
        register_environment_secrets()
        install_log_redaction(default_redactor, plugin.logger)
        # null means "not set": the setting's default applies, as when the key is absent.
        for key in [k for k, v in self._config.items() if v is None]:
            del self._config[key]
        numbers_from_text(schema, self._config)
        errors: list[str] = []
        if schema:
            # A misspelt setting would otherwise be ignored and its default used in silence.
            closed = {**schema, "additionalProperties": False}
            errors = safe_config_errors(closed, self._config, validator_cls=JSONSchemaValidator)
        if errors:
            summary = "Config validation failed"
            if raise_errors:
                raise ConfigValidationError(summary, errors=errors, schema=schema)
            plugin.logger.warning("%s: %s", summary, "; ".join(errors))
        return errors
