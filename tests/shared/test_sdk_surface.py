"""The taps use singer-sdk's public surface; the few private members they still touch are listed
here with the reason, and each is checked against the installed SDK, so an SDK release that
renames or reshapes one fails this file instead of breaking a tap in silence.

Run on the lowest and the newest singer-sdk the distributions allow (scripts/test.sh).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest
from singer_sdk import Stream, Tap
from singer_sdk.plugin_base import PluginBase

PACKAGES = ("carbon_taps_shared", "tap_aws_carbon", "tap_azure_emissions", "tap_gcp_carbon")

# Private singer-sdk members our classes may define, and why no public hook does the job.
ALLOWED_OVERRIDES = {
    # Config errors must not echo secret values, and misspelt settings must be refused; the SDK
    # validates in PluginBase.__init__ through this method and offers no public hook before it.
    "_validate_config": "SecretSafeConfigMixin",
}


def _modules() -> list[ModuleType]:
    found = []
    for name in PACKAGES:
        package = importlib.import_module(name)
        found.append(package)
        found.extend(
            importlib.import_module(info.name)
            for info in pkgutil.walk_packages(package.__path__, f"{name}.")
        )
    return found


def _our_classes(base: type) -> list[type]:
    return [
        obj
        for module in _modules()
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and obj.__module__ == module.__name__
        and issubclass(obj, base)
        and obj is not base
    ]


def _private_sdk_names(base: type) -> set[str]:
    return {
        name
        for klass in base.__mro__
        if klass.__module__.startswith("singer_sdk")
        for name in vars(klass)
        if name.startswith("_") and not name.startswith("__") and name != "_abc_impl"
    }


@pytest.mark.parametrize("base", [Stream, Tap], ids=["streams", "taps"])
def test_no_class_of_ours_overrides_a_private_sdk_member(base: type) -> None:
    """Records go out through the SDK's own RECORD path (msgspec writer, conformance NONE);
    the removed DirectEmitMixin replaced `_write_record_message` and wrote `_stream_version`,
    `_tap` and the state manager's flag from outside."""
    private = _private_sdk_names(base)
    classes = _our_classes(base)
    assert classes, f"no {base.__name__} subclasses found in {PACKAGES}"
    overrides = set()
    for klass in classes:
        for ours in klass.__mro__:
            if ours.__module__.split(".")[0] not in PACKAGES:
                continue
            for name in set(vars(ours)) & private:
                if ALLOWED_OVERRIDES.get(name) != ours.__name__:
                    overrides.add(f"{ours.__module__}.{ours.__name__}.{name}")
    assert not overrides, f"private singer-sdk members overridden: {sorted(overrides)}"


def test_config_validation_hook_is_still_where_the_override_expects_it() -> None:
    """SecretSafeConfigMixin._validate_config replaces the SDK's: same signature, and the SDK
    still calls it from PluginBase.__init__ with raise_errors as a keyword."""
    sdk = inspect.signature(PluginBase._validate_config)
    assert list(sdk.parameters) == ["self", "raise_errors"], sdk
    assert sdk.parameters["raise_errors"].kind is inspect.Parameter.KEYWORD_ONLY
    assert sdk.parameters["raise_errors"].default is True
    assert "self._validate_config(raise_errors=" in inspect.getsource(PluginBase.__init__)
    from carbon_taps_shared.config import SecretSafeConfigMixin

    ours = inspect.signature(SecretSafeConfigMixin._validate_config)
    assert list(ours.parameters) == list(sdk.parameters)
    # It reads the merged settings from the attribute the SDK fills before calling it.
    init = inspect.getsource(PluginBase.__init__)
    assert init.index("self._config = ") < init.index("self._validate_config(")


def test_private_members_the_streams_read_still_exist() -> None:
    """`_tap` (streams reach their tap's shared clients; the SDK has no public accessor) and
    `_write_state_message()` (file-based streams flush state after each finished file, so an
    interrupted run resumes there; the SDK only writes state at its own checkpoints)."""
    assert "self._tap = tap" in inspect.getsource(Stream.__init__)
    write_state = inspect.signature(Stream._write_state_message)
    assert list(write_state.parameters) == ["self"], write_state


def test_public_names_the_taps_import_exist() -> None:
    """The public singer-sdk names the emit path depends on."""
    from carbon_taps_shared.tapbase import CarbonTap
    from singer_sdk.contrib.msgspec import MsgSpecWriter
    from singer_sdk.helpers.conform import TypeConformanceLevel

    # The tap picks its writer through the SDK's public class attribute.
    assert hasattr(Tap, "message_writer_class")
    assert CarbonTap.message_writer_class is MsgSpecWriter
    assert callable(MsgSpecWriter.write_message)
    assert TypeConformanceLevel.NONE in TypeConformanceLevel
