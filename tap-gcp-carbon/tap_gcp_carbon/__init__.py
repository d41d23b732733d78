"""Singer tap for Google Cloud carbon footprint and billing exports."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tap-gcp-carbon")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"
