"""The three taps keep one shape: a services object per run handed to every stream, and no
stream module reaching back into its tap."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest
from carbon_taps_shared.services import RunServices, ServiceStream
from tap_aws_carbon.tap import TapAwsCarbon
from tap_azure_emissions.tap import TapAzureEmissions
from tap_gcp_carbon.tap import TapGcpCarbon

ROOT = Path(__file__).resolve().parents[1]
TAPS = {
    "tap_aws_carbon": TapAwsCarbon,
    "tap_azure_emissions": TapAzureEmissions,
    "tap_gcp_carbon": TapGcpCarbon,
}


def _package_dir(package: str) -> Path:
    return ROOT / package.replace("_", "-") / package


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth (TYPE_CHECKING blocks included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("package", sorted(TAPS))
def test_no_module_imports_its_tap(package: str) -> None:
    modules = sorted(_package_dir(package).glob("*.py"))
    assert len(modules) > 3
    offenders = [
        path.name
        for path in modules
        if path.name != "tap.py" and f"{package}.tap" in _imports(path)
    ]
    assert offenders == []


@pytest.mark.parametrize("package", sorted(TAPS))
def test_no_method_cache_on_the_tap(package: str) -> None:
    tap_class = TAPS[package]
    cached = [
        name
        for klass in tap_class.__mro__
        for name, value in vars(klass).items()
        if isinstance(value, functools._lru_cache_wrapper)  # what @cache and @lru_cache make
    ]
    assert cached == []


@pytest.mark.parametrize("package", sorted(TAPS))
def test_every_stream_gets_the_runs_one_services_object(package: str) -> None:
    tap = TAPS[package](config={}, parse_env_config=False, validate_config=False)
    streams = list(tap.streams.values())
    assert len(streams) >= 2
    assert isinstance(tap.services, RunServices)
    for stream in streams:
        assert isinstance(stream, ServiceStream), stream.name
        assert stream.services is tap.services, stream.name
