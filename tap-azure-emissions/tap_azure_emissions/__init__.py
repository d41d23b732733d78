"""Singer tap for Azure provider-reported carbon emissions (Carbon Optimization) and daily cost."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tap-azure-emissions")
except PackageNotFoundError:  # pragma: no cover - source checkout without install
    __version__ = "0.0.0"
